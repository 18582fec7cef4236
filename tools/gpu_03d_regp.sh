# 03d's 05:57 UTC probe call (issue 15): the register-P and asynchronous-P@V variants beside the then default (now the
# "04:09 default"), 03, 03c and FlashMLA, to decide the default; it found "async scores + register P first", today's default. GPU correctness (all 7 cases) of each new variant in its own process (that also compiles it),
# the bench at 64 x 8k and 4 x 128k h128 in one process, memcheck of the new code paths, the compile report under the box's Triton.
source tools/gpu_lib.sh
export PYTHONPATH=$PWD TRITON_INTERPRET=0
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt
P='from infinitecontext.kernels_gluon import *; from infinitecontext.kernels_gluon import GLUON_SHAPES
NEW = {k: GLUON_VARIANTS[k] for k in ("04:09 default (sync scores, smem P)", "1 + register P", "1 + register P issued first", "1 + async t-1 product", "1 + async t-1 + register P first")}
NEW.update({"3 + register P first": dict(order=3, sync_qk=True, reg_p=2), "async scores + register P first": dict(order=1, sync_qk=False, reg_p=2)})'
date -u +%H:%M:%S; for i in 0 1 2 3 4 5 6; do timeout 130 python -c "$P
n = list(NEW)[$i]; print(n, '-> correct:', gpu_check_gluon(variants={n: NEW[n]}))" > $OUT/check_$i.txt 2>&1 & done
timeout 100 python -c "$P
for n, kw in NEW.items(): print(n, gluon_report(**kw))" > $OUT/report.txt 2>&1 &
wait; cat $OUT/check_*.txt | grep -v -E "nanobind|leaked|refleaks|skipped"; grep -v -E "nanobind|leaked|refleaks|skipped" $OUT/report.txt
date -u +%H:%M:%S; flashmla_wait 60 1
timeout 120 python -c "$P
ok = [l.split(' -> correct: True')[0] for i in range(7) for l in open(f'$OUT/check_{i}.txt') if ' -> correct: True' in l]
print('correct on the GPU, so timed:', ok)
rows = bench_gluon(GLUON_SHAPES[:2], out_dir='$OUT', flashmla_dir='.flashmla', variants={k: v for k, v in NEW.items() if v and k in ok}, extra=False)" > $OUT/cell_bench.txt 2>&1; grep -v -E "nanobind|leaked|refleaks|skipped" $OUT/cell_bench.txt | head -40
date -u +%H:%M:%S
for i in 2 4; do timeout 100 compute-sanitizer --tool memcheck python -c "$P
n = list(NEW)[$i]; print(n, 'memcheck probe ok:', gpu_check_gluon(small=True, variants={n: NEW[n]}))" 2>&1 | tail -c 1200 > $OUT/memcheck_$i.txt & done; wait
tail -n 3 $OUT/memcheck_*.txt; date -u +%H:%M:%S

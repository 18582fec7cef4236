# 03d's 06:4x UTC call (issue 15, helper gluon6): the stored `#| gpu` outputs come from $OUT/cell_*.txt. FlashMLA's JIT build in
# the background; Triton's kernel cache warmed by one process per variant; GPU correctness of every variant in GLUON_VARIANTS
# (old and new: own half first, scores under tile t-1's product in order 3, one-wave splits) against 03's oracle on all 7 cases;
# the bench in one process beside FlashMLA, 03 and 03c; GPU pytest beside memcheck; the compile report of the new variants.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv | tee $OUT/gpu.txt
date -u +%H:%M:%S; N=$(python -c "from infinitecontext.kernels_gluon import GLUON_VARIANTS; print(len(GLUON_VARIANTS))")
for i in $(seq 0 $((N - 1))); do timeout 170 python -c "from infinitecontext.kernels_gluon import *; n = list(GLUON_VARIANTS)[$i]; gpu_check_gluon(variants={n: GLUON_VARIANTS[n]})" > $OUT/warm_$i.txt 2>&1 & done
timeout 170 python -c "from infinitecontext.kernels_gluon import *
for v in ('the default', 'default, own half first', '3 + scores under t-1', '3 + scores under t-1 + own half', 'default, order 3'):
    for d in (True, False): print(v, 'direct' if d else 'split', gluon_report(d, **GLUON_VARIANTS[v]))" > $OUT/report_raw.txt 2>&1 &
wait; grep -l -E "Error|error" $OUT/warm_*.txt | head; grep triton $OUT/report_raw.txt > $OUT/cell_report.txt; cat $OUT/cell_report.txt
date -u +%H:%M:%S; timeout 200 python -m infinitecontext.kernels_gluon --check > $OUT/cell_check.txt 2>&1; grep -v -E "nanobind|leaked|refleaks|skipped" $OUT/cell_check.txt | tail -14
date -u +%H:%M:%S; flashmla_wait 60
FLASHMLA_DIR=$PWD/.flashmla timeout 170 python -m infinitecontext.kernels_gluon > $OUT/cell_bench.txt 2>&1; grep -v -E "nanobind|leaked|refleaks|skipped" $OUT/cell_bench.txt | head -70
date -u +%H:%M:%S; timeout 170 python -m pytest -q -p no:cacheprovider tests/test_kernels_gluon.py > $OUT/pytest_gpu.txt 2>&1 &
timeout 170 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_gluon --memcheck 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt; wait
tail -2 $OUT/pytest_gpu.txt; tail -3 $OUT/cell_memcheck.txt; date -u +%H:%M:%S

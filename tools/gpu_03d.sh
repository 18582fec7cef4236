# 03d's full GPU call (the stored `#| gpu` outputs come from $OUT/cell_*.txt): FlashMLA JIT build in the background,
# first which register split the default uses (if a second tree ../gpu-src-gluon5b with the default at 240 registers per math
# thread is there: its variant must be correct on all 7 cases and >= 1% faster at 64 x 8k than 232, else this tree runs),
# then GPU correctness of every variant in GLUON_VARIANTS vs 03's oracle, the bench in one process, pytest, memcheck, compile report
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 ROOT=$PWD
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv
if [ -d ../gpu-src-gluon5b ]; then date -u +%H:%M:%S; PYTHONPATH=$PWD timeout 150 python -c "
from infinitecontext.kernels_gluon import *; from infinitecontext.kernels_gluon import GLUON_SHAPES
v = {'default, 240 registers': GLUON_VARIANTS['default, 240 registers']}
ok = gpu_check_gluon(variants=v); print('240 registers correct:', ok)
ms = {r['provider']: r['ms'] for r in bench_gluon(GLUON_SHAPES[:1], variants=v, extra=False)}
print('DEFAULT', 240 if ok and ms['03d default, 240 registers'] < 0.99 * ms['03d gluon'] else 232)" > $OUT/choose.txt 2>&1
  grep -v -E "nanobind|leaked|refleaks|skipped" $OUT/choose.txt | tail -12; grep -q "DEFAULT 240" $OUT/choose.txt && cd ../gpu-src-gluon5b; fi
export PYTHONPATH=$PWD; echo "the suite runs in $PWD" | tee $OUT/tree.txt
# warm Triton's on-disk kernel cache with one process per variant in parallel (compiles dominate the check), outputs discarded
date -u +%H:%M:%S; N=$(python -c "from infinitecontext.kernels_gluon import GLUON_VARIANTS; print(len(GLUON_VARIANTS))")
for i in $(seq 0 $((N - 1))); do timeout 170 python -c "from infinitecontext.kernels_gluon import *; n = list(GLUON_VARIANTS)[$i]; gpu_check_gluon(variants={n: GLUON_VARIANTS[n]})" > $OUT/warm_$i.txt 2>&1 & done; wait
date -u +%H:%M:%S; timeout 200 python -m infinitecontext.kernels_gluon --check > $OUT/cell_check.txt 2>&1; tail -12 $OUT/cell_check.txt
date -u +%H:%M:%S; flashmla_wait 60
FLASHMLA_DIR=$ROOT/.flashmla timeout 170 python -m infinitecontext.kernels_gluon > $OUT/cell_bench.txt 2>&1; head -60 $OUT/cell_bench.txt
date -u +%H:%M:%S; timeout 150 python -m pytest -q -p no:cacheprovider tests/test_kernels_gluon.py > $OUT/pytest_gpu.txt 2>&1 &
timeout 150 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_gluon --memcheck 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt; wait
tail -2 $OUT/pytest_gpu.txt; tail -3 $OUT/cell_memcheck.txt
for v in "the default" "04:09 default (sync scores, smem P)"; do timeout 60 python -c "from infinitecontext.kernels_gluon import *; print('$v', gluon_report(**GLUON_VARIANTS['$v']))" 2>&1 | grep triton; done > $OUT/cell_report.txt; cat $OUT/cell_report.txt; date -u +%H:%M:%S

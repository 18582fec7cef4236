# 03d's full GPU call (the stored `#| gpu` outputs come from $OUT/cell_*.txt): FlashMLA JIT build in the background,
# GPU correctness of every variant in GLUON_VARIANTS vs 03's oracle, the bench in one process, pytest, memcheck, compile report
export PYTHONPATH=$PWD TRITON_INTERPRET=0
tar -xJf flashmla.tar.xz
(python -c "import sys, time; sys.path.insert(0, '.flashmla'); from build import flashmla; t = time.time(); flashmla(); print('built', round(time.time() - t))" > $OUT/flashmla_build.txt 2>&1 &)
nvidia-smi --query-gpu=name,driver_version --format=csv
# warm Triton's on-disk kernel cache with one process per variant in parallel (compiles dominate the check), outputs discarded
date -u +%H:%M:%S; N=$(python -c "from infinitecontext.kernels_gluon import GLUON_VARIANTS; print(len(GLUON_VARIANTS))")
for i in $(seq 0 $((N - 1))); do timeout 170 python -c "from infinitecontext.kernels_gluon import *; n = list(GLUON_VARIANTS)[$i]; gpu_check_gluon(variants={n: GLUON_VARIANTS[n]})" > $OUT/warm_$i.txt 2>&1 & done; wait
date -u +%H:%M:%S; timeout 200 python -m infinitecontext.kernels_gluon --check > $OUT/cell_check.txt 2>&1; tail -12 $OUT/cell_check.txt
date -u +%H:%M:%S; for i in $(seq 60); do grep -q built $OUT/flashmla_build.txt 2>/dev/null && break; sleep 2; done; tail -2 $OUT/flashmla_build.txt
FLASHMLA_DIR=.flashmla timeout 170 python -m infinitecontext.kernels_gluon > $OUT/cell_bench.txt 2>&1; head -45 $OUT/cell_bench.txt
date -u +%H:%M:%S; timeout 90 python -m pytest -q -p no:cacheprovider tests/test_kernels_gluon.py > $OUT/pytest_gpu.txt 2>&1; tail -2 $OUT/pytest_gpu.txt
date -u +%H:%M:%S; timeout 90 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_gluon --memcheck 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt; tail -3 $OUT/cell_memcheck.txt
for a in 1 0; do timeout 30 python -c "from infinitecontext.kernels_gluon import gluon_report; print(gluon_report(order=$a))"; done > $OUT/cell_report.txt 2>&1; date -u +%H:%M:%S

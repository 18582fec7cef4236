# 03e's GPU call (the stored `#| gpu` outputs come from $OUT/cell_*.txt): FlashMLA JIT build in the background, a smoke test of the
# warp-specialised kernel (if it fails, the rest measures the first version only), the check against 03b's FP8 oracle, the bench
# beside 03 (bf16), 03b (FP8) and FlashMLA in one process, the GPU tests, memcheck, the compile report
export PYTHONPATH=$PWD TRITON_INTERPRET=0
tar -xJf flashmla.tar.xz
(python -c "import sys, time; sys.path.insert(0, '.flashmla'); from build import flashmla; t = time.time(); flashmla(); print('built', round(time.time() - t))" > $OUT/flashmla_build.txt 2>&1 &)
nvidia-smi --query-gpu=name,driver_version --format=csv
date -u +%H:%M:%S; timeout 60 python -m infinitecontext.kernels_fp8_gluon --smoke > $OUT/smoke.txt 2>&1 || export FP8G_V1_ONLY=1; tail -3 $OUT/smoke.txt
date -u +%H:%M:%S; timeout 180 python -m infinitecontext.kernels_fp8_gluon --check > $OUT/cell_check.txt 2>&1; tail -12 $OUT/cell_check.txt
date -u +%H:%M:%S; for i in $(seq 45); do grep -q built $OUT/flashmla_build.txt 2>/dev/null && break; sleep 2; done; tail -2 $OUT/flashmla_build.txt
FLASHMLA_DIR=.flashmla timeout 200 python -m infinitecontext.kernels_fp8_gluon > $OUT/cell_bench.txt 2>&1; head -60 $OUT/cell_bench.txt
date -u +%H:%M:%S; timeout 60 python -m pytest -q -p no:cacheprovider tests/test_kernels_fp8_gluon.py > $OUT/pytest_gpu.txt 2>&1; tail -2 $OUT/pytest_gpu.txt
date -u +%H:%M:%S; timeout 90 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_fp8_gluon --memcheck 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt; tail -3 $OUT/cell_memcheck.txt
date -u +%H:%M:%S

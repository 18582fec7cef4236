# 03e's GPU call (the stored `#| gpu` outputs come from $OUT/cell_*.txt): a smoke test of the default (byte-shift) kernel (if it
# fails, the rest measures the older variants only), every variant against 03b's FP8 oracle, the bench beside 03 (bf16) and
# 03b (FP8) in one process (eager and CUDA-graph times) and its summary, memcheck of the default and two others, the GPU tests
export PYTHONPATH=$PWD TRITON_INTERPRET=0
nvidia-smi --query-gpu=name,driver_version --format=csv
date -u +%H:%M:%S; timeout 45 python -m infinitecontext.kernels_fp8_gluon --smoke > $OUT/smoke.txt 2>&1 || export FP8G_OLD_ONLY=1; tail -3 $OUT/smoke.txt
date -u +%H:%M:%S; timeout 90 python -m infinitecontext.kernels_fp8_gluon --check > $OUT/cell_check.txt 2>&1; tail -12 $OUT/cell_check.txt
date -u +%H:%M:%S; timeout 110 python -m infinitecontext.kernels_fp8_gluon > $OUT/cell_bench.txt 2>&1; head -60 $OUT/cell_bench.txt
python -c "import json; rows = json.load(open('$OUT/bench_fp8_gluon.json'))['rows']; exec(open('tools/gpu_03e_summary.py').read())" > $OUT/cell_summary.txt 2>&1; cat $OUT/cell_summary.txt
date -u +%H:%M:%S; timeout 70 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_fp8_gluon --memcheck 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt; tail -4 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; timeout 50 python -m pytest -q -p no:cacheprovider tests/test_kernels_fp8_gluon.py > $OUT/pytest_gpu.txt 2>&1; tail -2 $OUT/pytest_gpu.txt
date -u +%H:%M:%S

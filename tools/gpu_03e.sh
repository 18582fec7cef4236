# 03e's GPU call (the stored `#| gpu` outputs come from $OUT/cell_*.txt): smoke tests of the default (byte shifts) and of the
# two asynchronous math schedules, each in its own process (a variant that fails is left out of the rest: FP8G_OLD_ONLY,
# FP8G_SKIP_MATH), every variant against 03b's FP8 oracle, the bench beside 03 (bf16) and 03b (FP8) in one process (eager and
# CUDA-graph times) and its summary, memcheck of the default, the math schedules and two others, the GPU tests
export PYTHONPATH=$PWD TRITON_INTERPRET=0
nvidia-smi --query-gpu=name,driver_version --format=csv
date -u +%H:%M:%S
for m in 0 1 2; do (timeout 40 python -m infinitecontext.kernels_fp8_gluon --smoke $m > $OUT/smoke$m.txt 2>&1; echo $? > $OUT/smoke$m.rc) & done; wait
[ "$(cat $OUT/smoke0.rc)" = 0 ] || export FP8G_OLD_ONLY=1
skip=""; for m in 1 2; do [ "$(cat $OUT/smoke$m.rc)" = 0 ] || skip="$skip$m,"; done
export FP8G_SKIP_MATH=$skip; echo "old only: ${FP8G_OLD_ONLY:-no}, skipped math: ${skip:-none}"; tail -n 1 $OUT/smoke?.txt | cut -c1-240
date -u +%H:%M:%S; timeout 110 python -m infinitecontext.kernels_fp8_gluon --check > $OUT/cell_check.txt 2>&1; tail -12 $OUT/cell_check.txt
date -u +%H:%M:%S; timeout 160 python -m infinitecontext.kernels_fp8_gluon > $OUT/cell_bench.txt 2>&1; head -80 $OUT/cell_bench.txt
python -c "import json; rows = json.load(open('$OUT/bench_fp8_gluon.json'))['rows']; exec(open('tools/gpu_03e_summary.py').read())" > $OUT/cell_summary.txt 2>&1; cat $OUT/cell_summary.txt
date -u +%H:%M:%S; timeout 100 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_fp8_gluon --memcheck 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt; tail -4 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; timeout 70 python -m pytest -q -p no:cacheprovider tests/test_kernels_fp8_gluon.py > $OUT/pytest_gpu.txt 2>&1; tail -2 $OUT/pytest_gpu.txt
date -u +%H:%M:%S

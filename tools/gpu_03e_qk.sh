# 03e's third GPU call (the scores on the FP8 tensor cores straight from the raw e4m3 tile: qk=e4m3x2 with math=0 or 2,
# qk=e4m3): smoke tests of the default and the three, each in its own process (one that fails is left out of the rest); the
# default and the two-term variants against 03b's FP8 oracle on the 8 cases; the bench of all beside 03 (bf16) and 03b (FP8)
# in one process (eager and CUDA-graph times, each e4m3-score variant's error against 03 and the oracle; at 64 x 8k the
# no-dequantisation ablations) and its summary; memcheck on the small cases; the GPU tests (math=3 and qk included)
export PYTHONPATH=$PWD TRITON_INTERPRET=0
only="03e shifts (dq=3)|03e no dequant (WRONG)"
nvidia-smi --query-gpu=name,driver_version --format=csv
date -u +%H:%M:%S
for m in 0 e4m3x2 e4m3x2:2 e4m3; do (timeout 60 python -m infinitecontext.kernels_fp8_gluon --smoke $m > $OUT/smoke_${m/:/_m}.txt 2>&1; echo $? > $OUT/smoke_${m/:/_m}.rc) & done; wait
tail -n 3 $OUT/smoke_*.txt | cut -c1-300
[ "$(cat $OUT/smoke_e4m3x2.rc)" = 0 ] && only="$only|03e e4m3 scores (qk=e4m3x2)|03e e4m3x2, no dequant (WRONG)"
[ "$(cat $OUT/smoke_e4m3x2_m2.rc)" = 0 ] && only="$only|03e e4m3 scores, async (math=2)|03e e4m3x2 math=2, no dequant (WRONG)"
[ "$(cat $OUT/smoke_e4m3.rc)" = 0 ] && only="$only|03e e4m3 scores, 1 term (qk=e4m3)"
export FP8G_ONLY="$only"; echo "variants: $FP8G_ONLY"
date -u +%H:%M:%S; timeout 100 python -m infinitecontext.kernels_fp8_gluon --check > $OUT/cell_check.txt 2>&1; tail -12 $OUT/cell_check.txt
date -u +%H:%M:%S; timeout 150 python -m infinitecontext.kernels_fp8_gluon > $OUT/cell_bench.txt 2>&1; head -70 $OUT/cell_bench.txt
python -c "import json; rows = json.load(open('$OUT/bench_fp8_gluon.json'))['rows']; exec(open('tools/gpu_03e_summary.py').read())" > $OUT/cell_summary.txt 2>&1; cat $OUT/cell_summary.txt
date -u +%H:%M:%S; timeout 90 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_fp8_gluon --memcheck 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt; tail -4 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; timeout 150 python -m pytest -q -p no:cacheprovider tests/test_kernels_fp8_gluon.py > $OUT/pytest_gpu.txt 2>&1; tail -5 $OUT/pytest_gpu.txt
date -u +%H:%M:%S

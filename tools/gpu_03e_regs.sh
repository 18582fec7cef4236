# 03e's second GPU call (S^T from the dequantising warpgroup's registers, math=3): smoke tests of the default and of math=3,
# each in its own process; both against 03b's FP8 oracle on the 8 cases; the bench of both beside 03 (bf16) and 03b (FP8) in
# one process (eager and CUDA-graph times) and its summary; memcheck of both on the small cases (FP8G_ONLY picks the variants)
export PYTHONPATH=$PWD TRITON_INTERPRET=0
export FP8G_ONLY="03e shifts (dq=3)|03e S from registers (math=3)"
nvidia-smi --query-gpu=name,driver_version --format=csv
date -u +%H:%M:%S
for m in 0 3; do (timeout 40 python -m infinitecontext.kernels_fp8_gluon --smoke $m > $OUT/smoke$m.txt 2>&1; echo $? > $OUT/smoke$m.rc) & done; wait
[ "$(cat $OUT/smoke3.rc)" = 0 ] || export FP8G_SKIP_MATH=3
echo "skipped math: ${FP8G_SKIP_MATH:-none}"; tail -n 1 $OUT/smoke?.txt | cut -c1-240
date -u +%H:%M:%S; timeout 60 python -m infinitecontext.kernels_fp8_gluon --check > $OUT/cell_check.txt 2>&1; tail -12 $OUT/cell_check.txt
date -u +%H:%M:%S; timeout 100 python -m infinitecontext.kernels_fp8_gluon > $OUT/cell_bench.txt 2>&1; head -40 $OUT/cell_bench.txt
python -c "import json; rows = json.load(open('$OUT/bench_fp8_gluon.json'))['rows']; exec(open('tools/gpu_03e_summary.py').read())" > $OUT/cell_summary.txt 2>&1; cat $OUT/cell_summary.txt
date -u +%H:%M:%S; timeout 60 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_fp8_gluon --memcheck 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt; tail -4 $OUT/cell_memcheck.txt
date -u +%H:%M:%S

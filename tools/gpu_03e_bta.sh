# 03e's fourth GPU call: the producer warp's block-table entry loaded one tile ahead (bt_ahead=1) for the default and for
# qk=e4m3x2, and a deeper raw ring (4 half-tiles; only qk=e4m3's smaller Q leaves room) with and without it, each beside the
# default, qk=e4m3x2 and qk=e4m3 in one process: smoke tests (one process each; one that fails is left out), the 8 cases
# against 03b's FP8 oracle, the bench and its summary, memcheck on the small cases, the GPU tests of the new paths
export PYTHONPATH=$PWD TRITON_INTERPRET=0
base="03e shifts (dq=3)|03e e4m3 scores (qk=e4m3x2)|03e e4m3 scores, 1 term (qk=e4m3)"
nvidia-smi --query-gpu=name,driver_version --format=csv
date -u +%H:%M:%S
i=0; for m in "03e shifts, table ahead (bt_ahead=1)" "03e e4m3x2, table ahead" "03e e4m3, ring of 4" "03e e4m3, ring of 4, table ahead"; do
  i=$((i+1)); echo "$m" > $OUT/smoke$i.name
  (timeout 60 python -m infinitecontext.kernels_fp8_gluon --smoke "$m" > $OUT/smoke$i.txt 2>&1; echo $? > $OUT/smoke$i.rc) &
done; wait
for i in 1 2 3 4; do [ "$(cat $OUT/smoke$i.rc)" = 0 ] && base="$base|$(cat $OUT/smoke$i.name)"; tail -n 1 $OUT/smoke$i.txt | cut -c1-250; done
export FP8G_ONLY="$base"; echo "variants: $FP8G_ONLY"
date -u +%H:%M:%S; timeout 100 python -m infinitecontext.kernels_fp8_gluon --check > $OUT/cell_check.txt 2>&1; tail -12 $OUT/cell_check.txt
date -u +%H:%M:%S; timeout 150 python -m infinitecontext.kernels_fp8_gluon > $OUT/cell_bench.txt 2>&1; head -70 $OUT/cell_bench.txt
python -c "import json; rows = json.load(open('$OUT/bench_fp8_gluon.json'))['rows']; exec(open('tools/gpu_03e_summary.py').read())" > $OUT/cell_summary.txt 2>&1; cat $OUT/cell_summary.txt
date -u +%H:%M:%S; timeout 90 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_fp8_gluon --memcheck 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt; tail -4 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; timeout 100 python -m pytest -q -p no:cacheprovider tests/test_kernels_fp8_gluon.py -k "bt-ahead or bt_ahead or ring4 or clear" > $OUT/pytest_gpu.txt 2>&1; tail -3 $OUT/pytest_gpu.txt
date -u +%H:%M:%S

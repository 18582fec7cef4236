# 03e's sixth GPU call: the streaming probe with one tile in flight per program and with twice the programs (two an SM
# where shared memory allows), for 03e's interleaved rows, the page-planar layout and 03's bf16 rows; then the bench of
# the default, the page-planar kernel and both with e4m3x2 scores, a second sample of the planar-vs-default difference
export PYTHONPATH=$PWD TRITON_INTERPRET=0
nvidia-smi --query-gpu=name,driver_version --format=csv
date -u +%H:%M:%S; timeout 120 python -m infinitecontext.kernels_fp8_gluon --probe 2 > $OUT/cell_probe2.txt 2>&1; cat $OUT/cell_probe2.txt
export FP8G_ONLY="03e shifts (dq=3)|03e page-planar (layout=planar)|03e e4m3 scores (qk=e4m3x2)|03e page-planar, e4m3x2 scores"
date -u +%H:%M:%S; timeout 150 python -m infinitecontext.kernels_fp8_gluon > $OUT/cell_bench2.txt 2>&1; head -60 $OUT/cell_bench2.txt
python -c "import json; rows = json.load(open('$OUT/bench_fp8_gluon.json'))['rows']; exec(open('tools/gpu_03e_summary.py').read())" > $OUT/cell_summary2.txt 2>&1; cat $OUT/cell_summary2.txt
date -u +%H:%M:%S

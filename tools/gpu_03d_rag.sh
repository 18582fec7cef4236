# 03d's token-balanced plan (issue 15, helper ragged): the stored `#| gpu` outputs of "Ragged batches: a token-balanced
# plan" come from $OUT/cell_*.txt. FlashMLA's JIT build in the background; Triton's cache warmed by one process per bench
# shape (every provider once); side by side: the planned kernel against the oracle (gpu_check_planned), the new GPU tests,
# compute-sanitizer memcheck of the planned path; then, alone on the GPU, bench_gluon_ragged (3 alternating rounds).
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv | tee $OUT/gpu.txt
date -u +%H:%M:%S; mkdir -p /tmp/warm
for j in 0 1 2 3; do timeout 150 python -c "from infinitecontext.kernels_gluon import *; from infinitecontext.kernels_fp8 import _bench_inputs, _bench_shape, mla_decode_balanced, mla_decode_plan; import torch
label, lens, h = _bench_shape(RAGGED_SHAPES[$j]); kv, _, bt, sl, q = _bench_inputs(lens, h, 64)
mla_decode_gluon(q, kv, bt, sl, 192 ** -0.5, max_seqlen=max(lens), validate=False); mla_decode_balanced(q, kv, bt, sl, 192 ** -0.5, plan=mla_decode_plan(lens, h, 1, 'cuda'), validate=False)
for kw in PLANNERS.values(): mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=gluon_plan(lens, h, 1, 'cuda', **kw))
torch.cuda.synchronize(); print('warm', label)" > /tmp/warm/bench_$j.txt 2>&1 & done
timeout 150 python -c "from infinitecontext.kernels_gluon import *; print('correct:', gpu_check_planned())" > $OUT/cell_check.txt 2>&1 &
timeout 170 python -m pytest -q -p no:cacheprovider --rootdir=$PWD tests/test_kernels_gluon.py -k "plan" > $OUT/cell_pytest.txt 2>&1 &
timeout 170 compute-sanitizer --tool memcheck python -c "from infinitecontext.kernels_gluon import *; print('memcheck probe ok:', gpu_check_planned(small=True))" 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt &
wait; echo "warm logs with errors:"; grep -l -E "Error|error" /tmp/warm/*.txt | head; tail -qn1 /tmp/warm/bench_*.txt; grep -h -B2 -A12 Traceback /tmp/warm/*.txt | head -40
quiet $OUT/cell_check.txt | tail -12; tail -n1 $OUT/cell_pytest.txt; grep -h -E "FAILED|Error" $OUT/cell_pytest.txt | head -5; tail -3 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; flashmla_wait 60
FLASHMLA_DIR=$PWD/.flashmla timeout ${BENCH_S:-150} python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon_ragged(rounds=3, out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'])" > $OUT/cell_bench.txt 2>&1
quiet $OUT/cell_bench.txt | head -60
date -u +%H:%M:%S

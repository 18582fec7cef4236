# 03d's multi-segment ('range') plan (issue 15, helper ragged2): the stored `#| gpu` outputs of "Several segments a
# program" come from $OUT/cell_*.txt. FlashMLA's JIT build in the background; a smoke check of the new kernel first
# (a hang or a failure stops here: no bench); then side by side: Triton's cache warmed per bench shape, the range plan
# against 03's oracle on every gpu_check_planned case, the new GPU tests, compute-sanitizer memcheck; then, alone on
# the GPU, bench_gluon_ragged (3 alternating rounds): FlashMLA, 03b, 03d's default, planned 'lpt' and 'range'.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
RANGE='{"range": dict(planner="range")}'
flashmla_build
gpu_header
timeout ${SMOKE_S:-60} python -c "from infinitecontext.kernels_gluon import *; import torch
from infinitecontext.kernels import make_paged_cache, mla_decode_ref, compare
kv, bt, sl = make_paged_cache([70, 200, 64, 1, 3000], 64, 576, torch.bfloat16, 'cuda'); q = torch.randn(5, 1, 16, 576, device='cuda', dtype=torch.bfloat16)
for p in (1, 2, 5):
    e = compare(*mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=gluon_plan(sl, 16, 1, 'cuda', 'range', programs=p)), *mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)); print('smoke', p, e)
    assert e['cos'] > 0.9999" > $OUT/cell_smoke.txt 2>&1; rc=$?
quiet $OUT/cell_smoke.txt | tail -8
if [ $rc != 0 ]; then echo "SMOKE FAILED rc=$rc: no bench"; exit 1; fi
date -u +%H:%M:%S; mkdir -p /tmp/warm
for j in 0 1 2; do timeout 100 python -c "from infinitecontext.kernels_gluon import *; from infinitecontext.kernels_fp8 import _bench_inputs, _bench_shape, mla_decode_balanced, mla_decode_plan; import torch
label, lens, h = _bench_shape(RAGGED_SHAPES[$j]); kv, _, bt, sl, q = _bench_inputs(lens, h, 64)
mla_decode_gluon(q, kv, bt, sl, 192 ** -0.5, max_seqlen=max(lens), validate=False); mla_decode_balanced(q, kv, bt, sl, 192 ** -0.5, plan=mla_decode_plan(lens, h, 1, 'cuda'), validate=False)
for kw in ({}, dict(planner='range')): mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=gluon_plan(lens, h, 1, 'cuda', **kw))
torch.cuda.synchronize(); print('warm', label)" > /tmp/warm/bench_$j.txt 2>&1 & done
timeout 100 python -c "from infinitecontext.kernels_gluon import *; print('correct:', gpu_check_planned(planners=$RANGE))" > $OUT/cell_check.txt 2>&1 &
timeout 110 python -m pytest -q -p no:cacheprovider --rootdir=$PWD tests/test_kernels_gluon.py -k "range" > $OUT/cell_pytest.txt 2>&1 &
timeout 110 compute-sanitizer --tool memcheck python -c "from infinitecontext.kernels_gluon import *; print('memcheck probe ok:', gpu_check_planned(small=True, planners=$RANGE))" 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt &
wait; echo "warm logs with errors:"; grep -l -E "Error|error" /tmp/warm/*.txt | head; tail -qn1 /tmp/warm/bench_*.txt; grep -h -B2 -A12 Traceback /tmp/warm/*.txt | head -40
quiet $OUT/cell_check.txt | tail -12; tail -n1 $OUT/cell_pytest.txt; grep -h -E "FAILED|Error" $OUT/cell_pytest.txt | head -5; tail -3 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; flashmla_wait 60
FLASHMLA_DIR=$PWD/.flashmla timeout ${BENCH_S:-100} python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon_ragged(shapes=RAGGED_SHAPES[:3], planners=RANGE_PLANNERS, sweep=RANGE_SWEEP, rounds=int(os.environ.get('ROUNDS', 3)), out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'])" > $OUT/cell_bench.txt 2>&1
quiet $OUT/cell_bench.txt | head -60
date -u +%H:%M:%S

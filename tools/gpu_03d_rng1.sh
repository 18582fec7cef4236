# 03d's 'range' kernel, trimmed (issue 15, helper rangepdl, call 1 of at most 2): the stored `#| gpu` outputs of "Trimming what a
# segment costs" come from $OUT/cell_*.txt. Run from a copy of branch rangepdl with flashmla.tar.xz beside it. FlashMLA's JIT build
# in the background; a smoke check of every new switch first (a failure stops here: no bench); then side by side: Triton's cache
# warmed per bench shape, gpu_check_planned's ten cases under every switch, the GPU tests for range and planned, compute-sanitizer
# memcheck over the new code paths; then, alone on the GPU, bench_gluon_ragged: 5 shapes x (FlashMLA, 03b, 03d default, lpt, range
# and each switch), 3 alternating rounds.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
TRIMS='{k: v for k, v in RANGE_TRIMS.items() if k != "lpt"}'
NEW='{"range, pdl 1, whole": dict(planner="range", pdl=1, whole=True), "range, pdl 2, min 4": dict(planner="range", pdl=2, min_tiles=4)}'
flashmla_build
gpu_header
timeout ${SMOKE_S:-60} python -c "from infinitecontext.kernels_gluon import *; import torch
from infinitecontext.kernels import make_paged_cache, mla_decode_ref, compare
kv, bt, sl = make_paged_cache([70, 200, 64, 1, 3000], 64, 576, torch.bfloat16, 'cuda'); q = torch.randn(5, 1, 16, 576, device='cuda', dtype=torch.bfloat16)
ref = mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)
for p in (1, 2, 5):
    plan = gluon_plan(sl, 16, 1, 'cuda', 'range', programs=p); o, l = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan)
    for kw in (dict(pdl=1), dict(pdl=2), dict(whole=True), dict(pdl=1, whole=True)):
        o2, l2 = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan, **kw); e = compare(o2, l2, *ref)
        print('smoke', p, kw, 'bit-identical to plain:', torch.equal(o, o2) and torch.equal(l, l2), e); assert e['cos'] > 0.9999
    e = compare(*mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=gluon_plan(sl, 16, 1, 'cuda', 'range', programs=p, min_tiles=4)), *ref); print('smoke min 4', p, e); assert e['cos'] > 0.9999
" > $OUT/cell_smoke.txt 2>&1; rc=$?
quiet $OUT/cell_smoke.txt | tail -16
if [ $rc != 0 ]; then echo "SMOKE FAILED rc=$rc: no bench"; exit 1; fi
date -u +%H:%M:%S; mkdir -p /tmp/warm
for j in 0 1 2 3 4; do timeout 110 python -c "from infinitecontext.kernels_gluon import *; from infinitecontext.kernels_gluon import _split_kw; from infinitecontext.kernels_fp8 import _bench_inputs, _bench_shape, mla_decode_balanced, mla_decode_plan; import torch
label, lens, h = _bench_shape(RANGE_SHAPES[$j]); kv, _, bt, sl, q = _bench_inputs(lens, h, 64)
mla_decode_gluon(q, kv, bt, sl, 192 ** -0.5, max_seqlen=max(lens), validate=False); mla_decode_balanced(q, kv, bt, sl, 192 ** -0.5, plan=mla_decode_plan(lens, h, 1, 'cuda'), validate=False)
for kw in RANGE_TRIMS.values(): pk, ck = _split_kw(kw); mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=gluon_plan(lens, h, 1, 'cuda', **pk), **ck)
torch.cuda.synchronize(); print('warm', label)" > /tmp/warm/bench_$j.txt 2>&1 & done
timeout 130 python -c "from infinitecontext.kernels_gluon import *; print('correct:', gpu_check_planned(planners=$TRIMS))" > $OUT/cell_check.txt 2>&1 &
timeout 140 python -m pytest -q -p no:cacheprovider --rootdir=$PWD tests/test_kernels_gluon.py -k "range or planned" > $OUT/cell_pytest.txt 2>&1 &
timeout 140 compute-sanitizer --tool memcheck python -c "from infinitecontext.kernels_gluon import *; print('memcheck probe ok:', gpu_check_planned(small=True, planners=$NEW))" 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt &
wait; echo "warm logs with errors:"; grep -l -E "Error|error" /tmp/warm/*.txt | head; tail -qn1 /tmp/warm/bench_*.txt; grep -h -B2 -A12 Traceback /tmp/warm/*.txt | head -40
quiet $OUT/cell_check.txt | tail -12; tail -n1 $OUT/cell_pytest.txt; grep -h -E "FAILED|Error" $OUT/cell_pytest.txt | head -5; tail -3 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; flashmla_wait 60
FLASHMLA_DIR=$PWD/.flashmla timeout ${BENCH_S:-190} python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon_ragged(shapes=RANGE_SHAPES, planners=RANGE_TRIMS, sweep={}, rounds=int(os.environ.get('ROUNDS', 3)), out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'])" > $OUT/cell_bench.txt 2>&1
quiet $OUT/cell_bench.txt | head -80
date -u +%H:%M:%S

# 03d's 'range' kernel with PDL as its default (issue 15, helper rangepdl, call 2 of 2: the confirmation). Run from a copy of branch
# rangepdl with flashmla.tar.xz beside it. mla_decode_gluon_planned(pdl=None) now launches the combine with PDL (trigger at the
# program's start at <= 64 query rows, at its end above): smoke, gpu_check_planned's ten cases under the default, the GPU tests for
# range, memcheck (small); then, alone on the GPU, 5 shapes x (FlashMLA, 03b, 03d default, lpt, range plain, range default),
# 3 alternating rounds. Outputs in $OUT/cell_*.txt.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
DEF='{"range (default: PDL)": dict(planner="range")}'
flashmla_build
gpu_header
timeout ${SMOKE_S:-50} python -c "from infinitecontext.kernels_gluon import *; import torch
from infinitecontext.kernels import make_paged_cache, mla_decode_ref, compare
kv, bt, sl = make_paged_cache([70, 200, 64, 1, 3000], 64, 576, torch.bfloat16, 'cuda'); q = torch.randn(5, 1, 16, 576, device='cuda', dtype=torch.bfloat16)
for p in (1, 2, 5):
    plan = gluon_plan(sl, 16, 1, 'cuda', 'range', programs=p); o, l = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan)
    o0, l0 = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan, pdl=0); e = compare(o, l, *mla_decode_ref(q, kv, bt, sl, 192 ** -0.5))
    print('smoke', p, 'default bit-identical to the plain launch:', torch.equal(o, o0) and torch.equal(l, l0), e); assert e['cos'] > 0.9999" > $OUT/cell_smoke.txt 2>&1; rc=$?
quiet $OUT/cell_smoke.txt | tail -5
if [ $rc != 0 ]; then echo "SMOKE FAILED rc=$rc: no bench"; exit 1; fi
date -u +%H:%M:%S
timeout 90 python -c "from infinitecontext.kernels_gluon import *; print('correct:', gpu_check_planned(planners=$DEF))" > $OUT/cell_check.txt 2>&1 &
timeout 110 python -m pytest -q -p no:cacheprovider --rootdir=$PWD tests/test_kernels_gluon.py -k "range" > $OUT/cell_pytest.txt 2>&1 &
timeout 110 compute-sanitizer --tool memcheck python -c "from infinitecontext.kernels_gluon import *; print('memcheck probe ok:', gpu_check_planned(small=True, planners=$DEF))" 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt &
wait
quiet $OUT/cell_check.txt | tail -12; tail -n1 $OUT/cell_pytest.txt; grep -h -E "FAILED|Error" $OUT/cell_pytest.txt | head -5; tail -3 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; flashmla_wait 40
FLASHMLA_DIR=$PWD/.flashmla timeout ${BENCH_S:-130} python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon_ragged(shapes=RANGE_SHAPES, planners=RANGE_CONFIRM, sweep={}, rounds=3, out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'])" > $OUT/cell_bench.txt 2>&1
quiet $OUT/cell_bench.txt | head -60
date -u +%H:%M:%S

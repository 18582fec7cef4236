# One short call (integrator, end of session 7): branch segs2's 'range' kernel (descriptors rebuilt per tile, desc=2):
# smoke, gpu_check_planned under 'range', memcheck (small), then bench_gluon_ragged on the ragged batch and its twin:
# FlashMLA, 03b, 03d default, planned 'lpt' and 'range' (3 alternating rounds). Outputs in $OUT/cell_*.txt.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
RANGE='{"range": dict(planner="range")}'
flashmla_build
gpu_header
timeout 45 python -c "from infinitecontext.kernels_gluon import *; import torch
from infinitecontext.kernels import make_paged_cache, mla_decode_ref, compare
kv, bt, sl = make_paged_cache([70, 200, 64, 1, 3000], 64, 576, torch.bfloat16, 'cuda'); q = torch.randn(5, 1, 16, 576, device='cuda', dtype=torch.bfloat16)
for p in (1, 2, 5):
    e = compare(*mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=gluon_plan(sl, 16, 1, 'cuda', 'range', programs=p)), *mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)); print('smoke', p, e)
    assert e['cos'] > 0.9999" > $OUT/cell_smoke.txt 2>&1; rc=$?
quiet $OUT/cell_smoke.txt | tail -5
if [ $rc != 0 ]; then echo "SMOKE FAILED rc=$rc: no bench"; exit 1; fi
date -u +%H:%M:%S
timeout 60 python -c "from infinitecontext.kernels_gluon import *; print('correct:', gpu_check_planned(planners=$RANGE))" > $OUT/cell_check.txt 2>&1 &
timeout 70 compute-sanitizer --tool memcheck python -c "from infinitecontext.kernels_gluon import *; print('memcheck probe ok:', gpu_check_planned(small=True, planners=$RANGE))" 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt &
wait
quiet $OUT/cell_check.txt | tail -12; tail -3 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; flashmla_wait 40
FLASHMLA_DIR=$PWD/.flashmla timeout 75 python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon_ragged(shapes=RAGGED_SHAPES[:2], planners=RANGE_PLANNERS, sweep={}, rounds=3, out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'])" > $OUT/cell_bench.txt 2>&1
quiet $OUT/cell_bench.txt | head -30
date -u +%H:%M:%S

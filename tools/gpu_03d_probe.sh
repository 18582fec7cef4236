# the 04:01 UTC follow-up call (then the default was order 1 with async scores): the first version's synchronous score products (order 0 and 1) beside the default, 03, 03c and FlashMLA
source tools/gpu_lib.sh
export PYTHONPATH=$PWD TRITON_INTERPRET=0
flashmla_build
P='from infinitecontext.kernels_gluon import *; from infinitecontext.kernels_gluon import GLUON_SHAPES; flashmla_dir = ".flashmla"
SYNC = {"sync scores, order 1": dict(order=1, sync_qk=True), "sync scores, order 0 (the first version)": dict(order=0, sync_qk=True)}'
date -u +%H:%M:%S; timeout 120 python -c "$P
print(\"correct:\", gpu_check_gluon(small=True, variants=SYNC))" > $OUT/cell_probe.txt 2>&1; cat $OUT/cell_probe.txt
date -u +%H:%M:%S; flashmla_wait 60 1
timeout 100 python -c "$P
probe = bench_gluon(GLUON_SHAPES[:2], flashmla_dir=flashmla_dir, variants=SYNC, extra=False)" >> $OUT/cell_probe.txt 2>&1; tail -25 $OUT/cell_probe.txt; date -u +%H:%M:%S

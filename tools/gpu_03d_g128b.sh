# 03d's 128-head tile call 2 (issue 15, helper g128), on the new default (named-barrier hand-offs): the variants whose
# meaning the new default changes against 03's oracle (7 cases, one process each), the GPU tests that select them (3
# shards), compute-sanitizer over the new default; FlashMLA's JIT build in the background; then, alone on the GPU, three
# alternating rounds of FlashMLA, the new default and the 09:37 default (mbarrier hand-offs) at five shapes.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv | tee $OUT/gpu.txt
date -u +%H:%M:%S; mkdir -p /tmp/warm
SHAPES=${SHAPES:-"[(64, 8192, 128), (4, 131072, 128), (1, 1048576, 128), (8, 65536, 128), (64, 8192, 16)]"}
RV=${RV:-'("the default", "09:37 default (mbarrier hand-offs)")'}
CV='("the default", "default, one-wave splits (order 3)", "default, 03c'"'"'s fill splits", "default, 96% fill splits", "09:37 default (mbarrier hand-offs)")'
for i in 0 1 2 3 4; do timeout 200 python -c "from infinitecontext.kernels_gluon import *; n = $CV[$i]; print(n); print('correct:', gpu_check_gluon(variants={n: GLUON_VARIANTS[n]}))" > $OUT/check_$i.txt 2>&1 & done
for j in 0 1 2 3 4; do timeout 200 python -c "from infinitecontext.kernels_gluon import *; from infinitecontext.kernels_wide import _wide_inputs; import torch
b, s, h = $SHAPES[$j]; kv, bt, sl, q = _wide_inputs(b, s, h, 64)
for k in $RV: mla_decode_gluon(q, kv, bt, sl, 192 ** -0.5, max_seqlen=s, validate=False, **GLUON_VARIANTS[k])
torch.cuda.synchronize(); print('warm', b, s, h)" > /tmp/warm/bench_$j.txt 2>&1 & done
python -m pytest -q -p no:cacheprovider --rootdir=$PWD --collect-only tests/test_kernels_gluon.py 2>/dev/null | grep "::" | grep -v -E "test_gluon_kernel_on_gpu\[" > /tmp/ids.txt
python -m pytest -q -p no:cacheprovider --rootdir=$PWD --collect-only tests/test_kernels_gluon.py 2>/dev/null | grep -E "test_gluon_kernel_on_gpu\[.*-(the default|default, one-wave splits \(order 3\)|default, 96% fill splits|default, named.*|09:37 default.*|default, 03c.s fill splits)\]$" >> /tmp/ids.txt; wc -l < /tmp/ids.txt
for k in 0 1 2; do awk "NR % 3 == $k" /tmp/ids.txt > /tmp/ids_$k.txt; (mapfile -t A < /tmp/ids_$k.txt; timeout 200 python -m pytest -q -p no:cacheprovider --rootdir=$PWD "${A[@]}") > $OUT/cell_pytest_$k.txt 2>&1 & done
timeout 200 compute-sanitizer --tool memcheck python -c "from infinitecontext.kernels_gluon import *; print('memcheck probe ok:', gpu_check_gluon(small=True, variants={k: GLUON_VARIANTS[k] for k in $CV}))" 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt &
wait; date -u +%H:%M:%S
for i in 0 1 2 3 4; do quiet $OUT/check_$i.txt | tail -9; done > $OUT/cell_check.txt; cat $OUT/cell_check.txt
tail -qn1 $OUT/cell_pytest_*.txt; grep -h -E "FAILED|Error" $OUT/cell_pytest_*.txt | head -5; tail -3 $OUT/cell_memcheck.txt; tail -qn1 /tmp/warm/bench_*.txt
flashmla_wait 90
FLASHMLA_DIR=$PWD/.flashmla timeout ${BENCH_S:-150} python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon_launch(shapes=$SHAPES, variants=$RV, rounds=3, rebuilt=False, out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'])" > $OUT/cell_bench.txt 2>&1
quiet $OUT/cell_bench.txt | head -40
date -u +%H:%M:%S

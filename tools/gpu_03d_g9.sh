# 03d's split-rule call (issue 15, helper gluon9), on the default (q_pe in shared memory, order 3): the stored `#| gpu`
# outputs of "Which split rule" come from $OUT/cell_*.txt. FlashMLA's JIT build in the background; Triton's kernel cache
# warmed by one process per variant (each one the oracle check of its variant, logs kept off $OUT) and one per bench shape;
# then the full check (every variant, 7 cases), the full GPU pytest (3 shards) and memcheck of the default under each
# split rule; then, alone on the GPU, 3 alternating rounds of FlashMLA and the default under 'fill', 'fill96' and 'wave'.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv | tee $OUT/gpu.txt
date -u +%H:%M:%S; mkdir -p /tmp/warm
SHAPES=${SHAPES:-"[(64, 8192, 128), (4, 131072, 128), (1, 1048576, 128), (8, 65536, 128), (64, 8192, 16)]"}
RULES='("default, 03c'"'"'s fill splits", "default, 96% fill splits", "default, one-wave splits (order 3)")'
N=$(python -c "from infinitecontext.kernels_gluon import GLUON_VARIANTS as G; print(len(G))")
for i in $(seq 0 $((N - 1))); do timeout 170 python -c "from infinitecontext.kernels_gluon import *; n = list(GLUON_VARIANTS)[$i]; gpu_check_gluon(variants={n: GLUON_VARIANTS[n]})" > /tmp/warm/warm_$i.txt 2>&1 & done
for j in 0 1 2 3 4; do timeout 170 python -c "from infinitecontext.kernels_gluon import *; from infinitecontext.kernels_wide import _wide_inputs; import torch
b, s, h = $SHAPES[$j]; kv, bt, sl, q = _wide_inputs(b, s, h, 64)
for k in $RULES: mla_decode_gluon(q, kv, bt, sl, 192 ** -0.5, max_seqlen=s, validate=False, **GLUON_VARIANTS[k])
torch.cuda.synchronize(); print('warm', b, s, h)" > /tmp/warm/bench_$j.txt 2>&1 & done
wait; echo "warm logs with errors:"; grep -l -E "Error|error|FAIL" /tmp/warm/*.txt | head; tail -qn1 /tmp/warm/bench_*.txt
date -u +%H:%M:%S
timeout 150 python -c "from infinitecontext.kernels_gluon import *; print('correct:', gpu_check_gluon())" > $OUT/cell_check.txt 2>&1 &
python -m pytest -q -p no:cacheprovider --rootdir=$PWD --collect-only tests/test_kernels_gluon.py 2>/dev/null | grep "::" > /tmp/ids.txt; wc -l < /tmp/ids.txt
for k in 0 1 2; do awk "NR % 3 == $k" /tmp/ids.txt > /tmp/ids_$k.txt; (mapfile -t A < /tmp/ids_$k.txt; timeout 170 python -m pytest -q -p no:cacheprovider --rootdir=$PWD "${A[@]}") > $OUT/cell_pytest_$k.txt 2>&1 & done
timeout 170 compute-sanitizer --tool memcheck python -c "from infinitecontext.kernels_gluon import *; print('memcheck probe ok:', gpu_check_gluon(small=True, variants={k: GLUON_VARIANTS[k] for k in ('the default',) + $RULES}))" 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt &
wait; quiet $OUT/cell_check.txt | tail -9; tail -qn1 $OUT/cell_pytest_*.txt; grep -h -E "FAILED|Error" $OUT/cell_pytest_*.txt | head -5; tail -3 $OUT/cell_memcheck.txt
date -u +%H:%M:%S; flashmla_wait 60
FLASHMLA_DIR=$PWD/.flashmla timeout ${BENCH_S:-130} python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon_launch(shapes=$SHAPES, variants=$RULES, rounds=3, rebuilt=False, out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'])" > $OUT/cell_bench.txt 2>&1
quiet $OUT/cell_bench.txt | head -40
date -u +%H:%M:%S

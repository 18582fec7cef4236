# 03d's 128-head tile, call 2 of helper g128m (issue 15), on the new default (mask_last=None: the mask only on a tile that
# needs it where the query rows fill the 64-row tile): the full gpu_check_gluon (every variant, 7 cases; one process per
# variant, at most 16 at a time, each variant's lines kept), the GPU tests of tests/test_kernels_gluon.py (4 shards),
# compute-sanitizer memcheck over the new default and the 12:20 default; FlashMLA's JIT build in the background; then,
# alone on the GPU, three alternating rounds of FlashMLA, the new default and the 12:20 default at five shapes.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv | tee $OUT/gpu.txt
date -u +%H:%M:%S; mkdir -p /tmp/chk
SHAPES=${SHAPES:-"[(64, 8192, 128), (4, 131072, 128), (1, 1048576, 128), (8, 65536, 128), (64, 8192, 16)]"}
RV=${RV:-'("the default", "12:20 default (mask on every tile)")'}
N=$(python -c "from infinitecontext.kernels_gluon import GLUON_VARIANTS as G; print(len(G))"); echo "variants: $N"
# the full check, one variant a process (first the two timed ones), 16 at a time
python -c "from infinitecontext.kernels_gluon import GLUON_VARIANTS as G; k = list(G); f = ['the default', '12:20 default (mask on every tile)']; print('\n'.join(str(k.index(n)) for n in f + [n for n in k if n not in f]))" > /tmp/chk/order.txt
xargs -P 16 -I{} sh -c "timeout ${CHECK_S:-150} python -c \"from infinitecontext.kernels_gluon import *; n = list(GLUON_VARIANTS)[{}]; print(n); print('correct:', gpu_check_gluon(variants={n: GLUON_VARIANTS[n]}))\" > /tmp/chk/check_{}.txt 2>&1" < /tmp/chk/order.txt
date -u +%H:%M:%S
for i in $(seq 0 $((N - 1))); do quiet /tmp/chk/check_$i.txt | tail -9; done > $OUT/cell_check.txt
echo "variants checked: $(grep -c '^correct:' $OUT/cell_check.txt) of $N, correct: $(grep -c '^correct: True' $OUT/cell_check.txt)" | tee -a $OUT/cell_check.txt
grep -B9 "correct: False" $OUT/cell_check.txt | head -20
python -m pytest -q -p no:cacheprovider --rootdir=$PWD --collect-only tests/test_kernels_gluon.py 2>/dev/null | grep "::" > /tmp/ids.txt; wc -l < /tmp/ids.txt
for k in 0 1 2 3; do awk "NR % 4 == $k" /tmp/ids.txt > /tmp/ids_$k.txt; (mapfile -t A < /tmp/ids_$k.txt; timeout ${PYTEST_S:-100} python -m pytest -q -p no:cacheprovider --rootdir=$PWD "${A[@]}") > $OUT/cell_pytest_$k.txt 2>&1 & done
timeout ${PYTEST_S:-100} compute-sanitizer --tool memcheck python -c "from infinitecontext.kernels_gluon import *; print('memcheck probe ok:', gpu_check_gluon(small=True, variants={k: GLUON_VARIANTS[k] for k in $RV}))" 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt &
wait; date -u +%H:%M:%S
tail -qn1 $OUT/cell_pytest_*.txt; grep -h -E "FAILED|Error" $OUT/cell_pytest_*.txt | head -5; tail -3 $OUT/cell_memcheck.txt
flashmla_wait 60
FLASHMLA_DIR=$PWD/.flashmla timeout ${BENCH_S:-90} python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon_launch(shapes=$SHAPES, variants=$RV, rounds=3, rebuilt=False, out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'])" > $OUT/cell_bench.txt 2>&1
quiet $OUT/cell_bench.txt | head -40
date -u +%H:%M:%S

# 03d's 128-head tile call 1 (issue 15, helper g128): the new switches of the per-tile work (the scale folded into exp2's
# FMA, the statistics stored with P, both, a lazy O rescale, FlashMLA's named-barrier hand-offs) against 03's oracle, their compile report on the box, then
# alone on the GPU three alternating rounds of FlashMLA, the default and each switch at 64 x 8k and 4 x 128k, h128.
# FlashMLA's JIT build runs in the background; each variant's kernels are compiled (and checked) by one process of its own;
# only the variants whose check passed are timed (a hung or wrong variant cannot take the rounds with it).
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
flashmla_build
gpu_header
VARS=${VARS:-'("the default", "default, scale folded into exp2", "default, stats stored with P", "default, folded scale + stats with P", "default, lazy rescale (tau 8)", "default, named-barrier hand-offs", "default, named barriers + folded scale")'}
SHAPES=${SHAPES:-"[(64, 8192, 128), (4, 131072, 128)]"}
N=$(python -c "print(len($VARS))")
for i in $(seq 0 $((N - 1))); do timeout 200 python -c "from infinitecontext.kernels_gluon import *; import torch; n = $VARS[$i]; print(n); ok = gpu_check_gluon(variants={n: GLUON_VARIANTS[n]}); print('correct:', ok)
from infinitecontext.kernels_wide import _wide_inputs
for b, s, h in $SHAPES:
    kv, bt, sl, q = _wide_inputs(b, s, h, 64); mla_decode_gluon(q, kv, bt, sl, 192 ** -0.5, max_seqlen=s, validate=False, **GLUON_VARIANTS[n]); torch.cuda.synchronize(); del kv, q" > $OUT/check_$i.txt 2>&1 & done
python -c "from infinitecontext.kernels_gluon import *
for n in $VARS: print(f'{n:>40}', gluon_report(**{k: v for k, v in GLUON_VARIANTS[n].items() if k != 'split_rule'}))" > $OUT/cell_report.txt 2>&1 &
wait; date -u +%H:%M:%S
for i in $(seq 0 $((N - 1))); do quiet $OUT/check_$i.txt | tail -9; done > $OUT/cell_check.txt; cat $OUT/cell_check.txt; cat $OUT/cell_report.txt
BV=$(python -c "import glob; from infinitecontext.kernels_gluon import GLUON_VARIANTS as G; print(tuple(next(l.strip() for l in open(f) if l.strip() in G) for f in sorted(glob.glob('$OUT/check_*.txt')) if 'correct: True' in open(f).read()))" 2>/dev/null)
echo "bench variants (checked correct): $BV"
flashmla_wait 90
FLASHMLA_DIR=$PWD/.flashmla timeout ${BENCH_S:-150} python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon_launch(shapes=$SHAPES, variants=$BV, rounds=3, rebuilt=False, out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'])" > $OUT/cell_bench.txt 2>&1
quiet $OUT/cell_bench.txt | head -40
date -u +%H:%M:%S

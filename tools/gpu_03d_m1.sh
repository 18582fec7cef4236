# 03d's 128-head tile, call 1 of helper g128m (issue 15): the per-tile switches of the softmax on the named-barrier
# default (the mask only on a tile that needs it, or as one row bound; the last-tile mask with the scale folded; P from
# packed bf16 exp2 with the row sum from that P; all three) against 03's oracle on the seven cases (one process each, worst error printed per case), their
# compile report under the box's Triton; FlashMLA's JIT build in the background; then, alone on the GPU, three
# alternating rounds of FlashMLA, the default and each switch at the five decision shapes (eager do_bench, CUDA graph).
# Same steps as tools/gpu_03d_g128.sh (VARS/SHAPES overridable).
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
tar -xJf flashmla.tar.xz
(python -c "import sys, time; sys.path.insert(0, '.flashmla'); from build import flashmla; t = time.time(); flashmla(); print('built', round(time.time() - t))" > $OUT/flashmla_build.txt 2>&1 &)
nvidia-smi --query-gpu=name,driver_version --format=csv | tee $OUT/gpu.txt
date -u +%H:%M:%S
VARS=${VARS:-'("the default", "default, mask on the last tile", "default, mask as a row bound", "default, last-tile mask + folded scale", "default, packed bf16 exp2", "default, last-tile mask + packed exp2 + folded scale")'}
SHAPES=${SHAPES:-"[(64, 8192, 128), (4, 131072, 128), (1, 1048576, 128), (8, 65536, 128), (64, 8192, 16)]"}
N=$(python -c "print(len($VARS))")
for i in $(seq 0 $((N - 1))); do timeout 200 python -c "from infinitecontext.kernels_gluon import *; import torch; n = $VARS[$i]; print(n); ok = gpu_check_gluon(variants={n: GLUON_VARIANTS[n]}); print('correct:', ok)
from infinitecontext.kernels_wide import _wide_inputs
for b, s, h in $SHAPES:
    kv, bt, sl, q = _wide_inputs(b, s, h, 64); mla_decode_gluon(q, kv, bt, sl, 192 ** -0.5, max_seqlen=s, validate=False, **GLUON_VARIANTS[n]); torch.cuda.synchronize(); del kv, q" > $OUT/check_$i.txt 2>&1 & done
python -c "from infinitecontext.kernels_gluon import *
for n in $VARS: print(f'{n:>40}', gluon_report(**{k: v for k, v in GLUON_VARIANTS[n].items() if k != 'split_rule'}))" > $OUT/cell_report.txt 2>&1 &
wait; date -u +%H:%M:%S
for i in $(seq 0 $((N - 1))); do grep -v -E "nanobind|leaked|refleaks" $OUT/check_$i.txt | tail -9; done > $OUT/cell_check.txt; cat $OUT/cell_check.txt; cat $OUT/cell_report.txt
BV=$(python -c "import glob; from infinitecontext.kernels_gluon import GLUON_VARIANTS as G; print(tuple(next(l.strip() for l in open(f) if l.strip() in G) for f in sorted(glob.glob('$OUT/check_*.txt')) if 'correct: True' in open(f).read()))" 2>/dev/null)
echo "bench variants (checked correct): $BV"
for i in $(seq 90); do grep -q built $OUT/flashmla_build.txt 2>/dev/null && break; sleep 2; done; tail -2 $OUT/flashmla_build.txt
FLASHMLA_DIR=$PWD/.flashmla timeout ${BENCH_S:-150} python -c "import os; from infinitecontext.kernels_gluon import *
rows = bench_gluon_launch(shapes=$SHAPES, variants=$BV, rounds=3, rebuilt=False, out_dir=os.environ['OUT'], flashmla_dir=os.environ['FLASHMLA_DIR'])" > $OUT/cell_bench.txt 2>&1
grep -v -E "nanobind|leaked|refleaks" $OUT/cell_bench.txt | head -40
date -u +%H:%M:%S

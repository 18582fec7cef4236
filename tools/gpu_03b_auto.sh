# One H100 call for 03b's automatic PDL rule (and, with ENGINE=1, 06a's FP8 route cells while FlashMLA builds):
# FlashMLA's JIT build and the .whl installs in the background; Triton's kernel cache warmed by one process per
# bench_pdl shape (timings stubbed out, outputs discarded); then tools/gpu_06a_route.sh alone on the GPU; then
# bench_pdl (plain / PDL / pdl=None's rule / plan variants on the ragged batch / FlashMLA; do_bench and CUDA graph,
# alternating rounds) in one process. The stored `#| gpu` outputs come from
#   python tools/adopt_outputs.py $OUT/cells_pdl.ipynb nbs/03b_decode_fp8.ipynb --only gpu
# Run from the repository root with flashmla.tar.xz (../shared/device/flashmla.sh's .flashmla/, packed) and .whl/ there.
source tools/gpu_lib.sh
export PYTHONPATH=$PWD TRITON_INTERPRET=0
tar -xJf flashmla.tar.xz
(python -c "import sys, time; sys.path.insert(0, '.flashmla'); from build import flashmla; t = time.time(); flashmla(); print('built', round(time.time() - t))" > $OUT/flashmla_build.txt 2>&1; touch $OUT/.fm_done) &
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv,noheader
pids=""
if [ "${ENGINE:-1}" = 1 ]; then python -m pip install -q --no-index --find-links .whl fastcore transformers==5.24.0 > $OUT/pip.txt 2>&1 & pids="$!"; fi
for i in 0 1 2 3 4 5 6; do
  timeout ${WARM_S:-100} python -c "
import triton.testing as tt; tt.do_bench = tt.do_bench_cudagraph = lambda fn, **k: (fn(), 1.0)[1]
from infinitecontext.kernels_fp8 import *; bench_pdl(shapes=[PDL_SHAPES[$i]], rounds=1)" > $OUT/warm_$i.txt 2>&1 &
  pids="$pids $!"
done
wait $pids; el "warm done: $(grep -L Traceback $OUT/warm_*.txt | wc -l)/7 without a traceback; pip: $(tail -1 $OUT/pip.txt 2>/dev/null)"
grep -h -A3 Traceback $OUT/warm_*.txt | head -20
if [ "${ENGINE:-1}" = 1 ]; then bash tools/gpu_06a_route.sh; el "06a done"; fi
for i in $(seq 90); do [ -e $OUT/.fm_done ] && break; sleep 2; done; el "flashmla: $(tail -1 $OUT/flashmla_build.txt)"
timeout ${BENCH_S:-150} python tools/gpu_03b_cells.py nbs/03b_decode_fp8.ipynb $OUT/cells_pdl.ipynb "pdl_rows = bench_pdl(" \
  -p out_dir=$OUT -p flashmla_dir=.flashmla > $OUT/cells_pdl.txt 2>&1
el "bench exit $?"; grep -v "^ *$" $OUT/cells_pdl.txt | tail -c 7000

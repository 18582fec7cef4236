# One H100 call, route lane (session 6, second helper): 03b's bench_pdl again with the final PDL rule (16-row head blocks)
# and the "longest first" plan variant, and 06a's check of the engine's Gluon route (tools/gpu_03b_cells.py runs the
# `#| gpu` cell that calls gluon_engine_check: the engine's decode calls against 03b's kernel and the oracle,
# compute-sanitizer memcheck over test_gluon_engine_on_gpu, GPU pytest of test_engine_fp8.py + test_kernels_fp8.py).
# FlashMLA's JIT build, the .whl installs then 06a's cell, and Triton's kernel cache warmed by one process per bench_pdl
# shape (timings stubbed out, outputs discarded) all run at once; bench_pdl then runs alone on the GPU. Stored outputs:
#   python tools/adopt_outputs.py $OUT/cells_pdl.ipynb nbs/03b_decode_fp8.ipynb --only gpu
#   python tools/adopt_outputs.py $OUT/cells_06a.ipynb nbs/06a_engine.ipynb --only gpu
# Its 09:25 UTC run stored 03b's output; 06a's cell ran out of GPU memory there (the engine sized its cache from free memory
# and the oracle dequantised all of it), so gluon_engine_check's engine takes num_blocks=16 and the stored 06a output
# is from the 06a part alone (pip install, then the gpu_03b_cells.py line below), run again at 09:29 on the warm machine.
# Run from the repository root with flashmla.tar.xz (../shared/device/flashmla.sh's .flashmla/, packed) and .whl/ there.
source tools/gpu_lib.sh
export PYTHONPATH=$PWD TRITON_INTERPRET=0
tar -xJf flashmla.tar.xz
(python -c "import sys, time; sys.path.insert(0, '.flashmla'); from build import flashmla; t = time.time(); flashmla(); print('built', round(time.time() - t))" > $OUT/flashmla_build.txt 2>&1; touch $OUT/.fm_done) &
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv,noheader; which compute-sanitizer
(python -m pip install -q --no-index --find-links .whl fastcore transformers==5.24.0 > $OUT/pip.txt 2>&1
 timeout ${CHECK_S:-300} python tools/gpu_03b_cells.py nbs/06a_engine.ipynb $OUT/cells_06a.ipynb "gluon_engine_check" \
   -p profile=gpu -p out_dir=$OUT > $OUT/cells_06a.txt 2>&1; echo "06a cell exit $?" >> $OUT/cells_06a.txt) &
pids="$!"
for i in 0 1 2 3 4 5 6; do
  timeout ${WARM_S:-120} python -c "
import triton.testing as tt; tt.do_bench = tt.do_bench_cudagraph = lambda fn, **k: (fn(), 1.0)[1]
from infinitecontext.kernels_fp8 import *; bench_pdl(shapes=[PDL_SHAPES[$i]], rounds=1)" > $OUT/warm_$i.txt 2>&1 &
  pids="$pids $!"
done
wait $pids; el "warm + 06a done: $(grep -L Traceback $OUT/warm_*.txt | wc -l)/7 warm runs without a traceback; pip: $(tail -1 $OUT/pip.txt 2>/dev/null)"
grep -h -A3 Traceback $OUT/warm_*.txt | head -20
grep -v "^ *$" $OUT/cells_06a.txt | tail -c 3000
for i in $(seq 60); do [ -e $OUT/.fm_done ] && break; sleep 2; done; el "flashmla: $(tail -1 $OUT/flashmla_build.txt)"
timeout ${BENCH_S:-200} python tools/gpu_03b_cells.py nbs/03b_decode_fp8.ipynb $OUT/cells_pdl.ipynb "pdl_rows = bench_pdl(" \
  -p out_dir=$OUT -p flashmla_dir=.flashmla > $OUT/cells_pdl.txt 2>&1
el "bench exit $?"; grep -v "^ *$" $OUT/cells_pdl.txt | tail -c 7500

# 03b's GPU call for the fused combine (one H100): FlashMLA's JIT build in the background; Triton's kernel cache warmed
# by one process per table shape (timings stubbed out, outputs discarded); then the table cells in one process:
# bench_fp8 (every 03b kernel, 03's bf16 kernel and FlashMLA; do_bench and CUDA graph), the goals read off it, and
# bench_ragged (combine launched vs fused vs FlashMLA); then, with CHECK=1 (the default), the memcheck + GPU-test cell,
# after the timings so that nothing else runs on the GPU while they are measured. The stored `#| gpu` outputs come from
#   python tools/adopt_outputs.py $OUT/cells_bench.ipynb nbs/03b_decode_fp8.ipynb --only gpu   (and cells_check.ipynb)
# Run from the repository root with flashmla.tar.xz there (../shared/device/flashmla.sh's .flashmla/, packed).
source tools/gpu_lib.sh
export PYTHONPATH=$PWD TRITON_INTERPRET=0
NB=nbs/03b_decode_fp8.ipynb
tar -xJf flashmla.tar.xz
(python -c "import sys, time; sys.path.insert(0, '.flashmla'); from build import flashmla; t = time.time(); flashmla(); print('built', round(time.time() - t))" > $OUT/flashmla_build.txt 2>&1; touch $OUT/.fm_done) &
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv,noheader
pids=""
for i in 0 1 2 3 4 5 6 7; do
  timeout 170 python -c "
import triton.testing as tt; tt.do_bench = tt.do_bench_cudagraph = lambda fn, **k: (fn(), 1.0)[1]
from infinitecontext.kernels_fp8 import *; bench_fp8(shapes=[FP8_SHAPES[$i]], more=True, graph=True)" > $OUT/warm_$i.txt 2>&1 &
  pids="$pids $!"
done
wait $pids; el "warm done: $(grep -L Traceback $OUT/warm_*.txt | wc -l)/8 without a traceback"; grep -h -A3 Traceback $OUT/warm_*.txt | head -20
for i in $(seq 90); do [ -e $OUT/.fm_done ] && break; sleep 2; done; el "flashmla: $(tail -1 $OUT/flashmla_build.txt)"
timeout 240 python tools/gpu_03b_cells.py $NB $OUT/cells_bench.ipynb "rows = bench_fp8(" 'tb = {(x["shape"]' "bench_ragged(" \
  -p out_dir=$OUT -p flashmla_dir=.flashmla > $OUT/cells_bench.txt 2>&1
el "bench exit $?"; grep -v "^ *$" $OUT/cells_bench.txt | tail -c 9000
if [ "${CHECK:-1}" = 1 ]; then
  timeout 200 python tools/gpu_03b_cells.py $NB $OUT/cells_check.ipynb "compute-sanitizer" > $OUT/cells_check.txt 2>&1
  el "check cell exit $?"; tail -c 1500 $OUT/cells_check.txt
fi

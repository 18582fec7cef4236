# r5fix, call 2 (session 8): 06a's decode-step table (cell 7a4e0011: each engine in a fresh process, tools/gpu_06a_step.py)
# and the one-process history check (cell r5fix001, tools/gpu_06a_r5fix_ab.py), with the setup cell, by tools/gpu_03b_cells.py.
# Store with: python tools/adopt_outputs.py $OUT/cells_06a.ipynb nbs/06a_engine.ipynb --only gpu (the setup cell's entry dropped first).
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")/.." || exit 1
export PYTHONPATH=$PWD
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv,noheader
python -c "import fastcore, transformers" 2>/dev/null || python -m pip install -q --no-index --find-links .whl fastcore transformers==5.24.0 > /tmp/pip.txt 2>&1
el deps; mkdir -p runs/o
timeout ${CELLS_S:-300} python tools/gpu_03b_cells.py nbs/06a_engine.ipynb $OUT/cells_06a.ipynb "measure_copy_bandwidth(2 << 30)" "def fresh_step(" \
  'gpu_06a_r5fix_ab.py"' --pre "from infinitecontext.mla import tiny, ic_1b" -p profile=gpu -p out_dir=$PWD/runs/o > $OUT/cells_06a.txt 2>&1
el "cells exit $?"; cp runs/o/ragged_steps_gpu.json $OUT/ 2>/dev/null
grep -v "^ *$" $OUT/cells_06a.txt | grep -v '^\[{\|^{' | tail -c 6000

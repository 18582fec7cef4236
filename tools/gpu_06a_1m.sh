# One H100 call, route lane (session 6, third helper): 06a's 1M-token FP8 run again with today's engine, whose FP8 decode
# goes through `fp8_decode_route` (pages of 64 = 03e's Gluon kernel on an H100; the 00:54 UTC run had 03b's on pages of
# 16). tools/gpu_03b_cells.py runs the setup cell (ic_1b in bf16, copy bandwidth) and the 1M FP8 cell in one process
# (prefill alone ~196 s). The stored `#| gpu` output of the 1M FP8 cell comes from
#   python tools/adopt_outputs.py $OUT/cells_06a.ipynb nbs/06a_engine.ipynb --only gpu
# with the setup cell's entry dropped from $OUT/cells_06a.ipynb first (the setup cell keeps the earlier run's output).
# Run from the repository root with .whl/ there (fastcore, transformers 5.24).
source tools/gpu_lib.sh
export PYTHONPATH=$PWD TRITON_INTERPRET=0
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv,noheader
python -m pip install -q --no-index --find-links .whl fastcore transformers==5.24.0 > $OUT/pip.txt 2>&1; el "pip $?"
timeout ${ENGINE_S:-290} python tools/gpu_03b_cells.py nbs/06a_engine.ipynb $OUT/cells_06a.ipynb "measure_copy_bandwidth(2 << 30)" \
  "P1m = 64 if fp8_decode_route(" --pre "from infinitecontext.mla import tiny, ic_1b" -p profile=gpu -p out_dir=$OUT > $OUT/cells_06a.txt 2>&1
el "06a cells exit $?"; grep -v "^ *$" $OUT/cells_06a.txt | grep -v "^{" | tail -c 5000

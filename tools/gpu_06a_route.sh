# 06a's GPU cells for the FP8 route (one H100): the setup cell (ic_1b in bf16, copy bandwidth) and the FP8 capacity +
# decode-step cell (fused CUDA-graph steps, bf16 and FP8, pages of 64 = FP8 by 03e's Gluon kernel and pages of 16 = by
# 03b's planned kernel, at 64 x 8k and 1 x 1M), in one process through tools/gpu_03b_cells.py (no papermill needed).
# The stored `#| gpu` output of the decode-step cell comes from
#   python tools/adopt_outputs.py $OUT/cells_06a.ipynb nbs/06a_engine.ipynb --only gpu    (then drop the setup cell's: it keeps the earlier run's)
# Run from the repository root, with fastcore/transformers available (tools/gpu_03b_auto.sh installs them from .whl).
export PYTHONPATH=$PWD TRITON_INTERPRET=0
timeout ${ENGINE_S:-200} python tools/gpu_03b_cells.py nbs/06a_engine.ipynb $OUT/cells_06a.ipynb "measure_copy_bandwidth(2 << 30)" \
  "def graph_step(" --pre "from infinitecontext.mla import tiny, ic_1b" -p profile=gpu -p out_dir=$OUT > $OUT/cells_06a.txt 2>&1
echo "06a cells exit $?"; grep -v "^ *$" $OUT/cells_06a.txt | grep -v "^{" | tail -c 5000

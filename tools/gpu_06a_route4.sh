# One H100 call, route4 lane (session 7): 06a's FP8 decode through 03e's schedule='plan' where `fp8_decode_schedule`
# picks it. tools/gpu_03b_cells.py runs, in one process, the setup cell (ic_1b in bf16, copy bandwidth; its stored
# output stays the earlier run's), the ragged decode-step table (`def ragged_graph_step(`: bf16 vs FP8 split grid vs FP8
# plan, CUDA graphs) and the engine check (`planned_step_check(`: plan vs splits vs oracle, eager and graphs; memcheck of
# one planned step; tests/test_engine_schedule.py on the GPU). Store the two new cells' outputs with
#   python tools/adopt_outputs.py $OUT/cells_06a.ipynb nbs/06a_engine.ipynb --only gpu    (drop the setup cell's entry first)
# Run from the repository root (fastcore/transformers from .whl/ if the box lacks them). Tested on CPU at tiny size with
# fake graphs first (runs/smoke_cells.py in the route4 worktree).
source tools/gpu_lib.sh
export PYTHONPATH=$PWD TRITON_INTERPRET=0
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv,noheader
whl_deps
el "deps $?"
timeout ${ENGINE_S:-230} python tools/gpu_03b_cells.py nbs/06a_engine.ipynb $OUT/cells_06a.ipynb "measure_copy_bandwidth(2 << 30)" \
  "def ragged_graph_step(" "planned_step_check(" --pre "from infinitecontext.mla import tiny, ic_1b" -p profile=gpu -p out_dir=$OUT > $OUT/cells_06a.txt 2>&1
el "06a cells exit $?"; grep -v "^ *$" $OUT/cells_06a.txt | grep -v "^\[{" | tail -c 6000

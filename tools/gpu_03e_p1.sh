# 03e fp8p, first GPU call (run 11:57 UTC: 40 s wall): where the fixed cost of a launch goes (time against tiles per program, programs against
# waves, per-program time stamps) for the streaming probe, the kernel and its skeleton (ablate=3); one process.
export PYTHONPATH=$PWD TRITON_INTERPRET=0 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
date -u +%H:%M:%S
timeout ${FIXED_S:-240} python tools/gpu_03b_cells.py nbs/03e_decode_fp8_gluon.ipynb $OUT/cells_fixed.ipynb "fixed = bench_fixed_cost(" \
  -p out_dir=$OUT > $OUT/cells_fixed.txt 2>&1; cat $OUT/cells_fixed.txt
date -u +%H:%M:%S

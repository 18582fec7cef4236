# 03b's GPU call for programmatic dependent launch (one H100): FlashMLA's JIT build in the background; the check cell
# first (compute-sanitizer memcheck over the fused combine and both PDL paths, then this lesson's GPU tests), while
# FlashMLA builds; then, alone on the GPU, bench_ragged (combine launched / fused, each with and without PDL, and
# FlashMLA; do_bench and CUDA graph) on the ragged batch, its uniform twin, 64 x 8k and 1 x 1M at 16 heads.
# The stored `#| gpu` outputs come from
#   python tools/adopt_outputs.py $OUT/cells_bench.ipynb nbs/03b_decode_fp8.ipynb --only gpu   (and cells_check.ipynb)
# Run from the repository root with flashmla.tar.xz there (../shared/device/flashmla.sh's .flashmla/, packed).
source tools/gpu_lib.sh
export PYTHONPATH=$PWD TRITON_INTERPRET=0
NB=nbs/03b_decode_fp8.ipynb
tar -xJf flashmla.tar.xz
(python -c "import sys, time; sys.path.insert(0, '.flashmla'); from build import flashmla; t = time.time(); flashmla(); print('built', round(time.time() - t))" > $OUT/flashmla_build.txt 2>&1; touch $OUT/.fm_done) &
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv,noheader
timeout ${CHECK_S:-200} python tools/gpu_03b_cells.py $NB $OUT/cells_check.ipynb "compute-sanitizer" > $OUT/cells_check.txt 2>&1
el "check cell exit $?"; tail -c 4000 $OUT/cells_check.txt
for i in $(seq 120); do [ -e $OUT/.fm_done ] && break; sleep 2; done; el "flashmla: $(tail -1 $OUT/flashmla_build.txt)"
timeout ${BENCH_S:-240} python tools/gpu_03b_cells.py $NB $OUT/cells_bench.ipynb "bench_ragged(" \
  -p out_dir=$OUT -p flashmla_dir=.flashmla > $OUT/cells_bench.txt 2>&1
el "bench exit $?"; grep -v "^ *$" $OUT/cells_bench.txt | tail -c 7000

# 03d, helper rng3 (issue 15, session 8): tuning the `range` plan on paired samples. Run from a copy of branch rng3 with
# flashmla.tar.xz beside it (fastcore from $WHL if the box lacks it). While FlashMLA builds, in parallel: the cells that
# re-check the default (gpu_check_planned's ten cases, the GPU tests of the planned and range kernels, compute-sanitizer);
# then the cell of "Tuning the `range` plan on paired samples" (bench_range_paired: 31 paired groups, eager and graph).
# Each cell's notebook lands in $OUT; store them with
#   for f in $OUT/cells_*.ipynb; do python tools/adopt_outputs.py $f nbs/03d_decode_gluon.ipynb --only gpu; done
# (call 1, 15:24 UTC, ran the sweep alone under the old labels, the checks of every variant on the command line.)
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
LOG=$(mktemp -d); NB=nbs/03d_decode_gluon.ipynb; P="-p profile=gpu -p out_dir=$LOG -p flashmla_dir=$PWD/.flashmla"
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u +%H:%M:%S
python -c "import fastcore" 2>/dev/null || python -m pip install -q --no-index --find-links ${WHL:-.whl} fastcore > /dev/null 2>&1
timeout ${CHECK_S:-110} python tools/gpu_03b_cells.py $NB $OUT/cells_check.ipynb 'print("correct:", gpu_check_planned(planners={"range (default: c 0)"' $P > $LOG/check.txt 2>&1 &
timeout ${PYTEST_S:-150} python tools/gpu_03b_cells.py $NB $OUT/cells_pytest.ipynb 'cwd=Path(__import__' $P > $LOG/pytest.txt 2>&1 &
timeout ${MEM_S:-110} python tools/gpu_03b_cells.py $NB $OUT/cells_mem.ipynb "planners={'range (default: c 0)'" $P > $LOG/mem.txt 2>&1 &
wait
for f in check pytest mem; do grep -v -E "nanobind|leaked|refleaks|^ *$" $LOG/$f.txt | tail -4; done
date -u +%H:%M:%S; flashmla_wait 60 1
timeout ${BENCH_S:-120} python tools/gpu_03b_cells.py $NB $OUT/cells_bench.ipynb "rows_rng3 = bench_range_paired(" \
  -p profile=gpu -p out_dir=$OUT -p flashmla_dir=$PWD/.flashmla > $LOG/bench.txt 2>&1
echo "03d cells exit $?"; grep -v -E "nanobind|leaked|refleaks|^ *$" $LOG/bench.txt | tail -c 9000
date -u +%H:%M:%S

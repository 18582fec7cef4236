# 03d, the integrator's second call of session 8 (issue 15): the `range` plan's segment cost c = 0 (the default) against
# c = 2 on 61 paired groups (bench_range_paired), after c = 2's plans are checked on the ten cases and under
# compute-sanitizer. Run from a copy of the repository with flashmla.tar.xz beside it (fastcore from $WHL if needed).
# Store with: for f in $OUT/cells_*.ipynb; do python tools/adopt_outputs.py $f nbs/03d_decode_gluon.ipynb --only gpu; done
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
LOG=$(mktemp -d); NB=nbs/03d_decode_gluon.ipynb
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u +%H:%M:%S
python -c "import fastcore" 2>/dev/null || python -m pip install -q --no-index --find-links ${WHL:-.whl} fastcore > /dev/null 2>&1
timeout ${CHECK_S:-150} python tools/gpu_03b_cells.py $NB $OUT/cells_check.ipynb 'print("correct:", gpu_check_planned(planners={"range, c 2"' \
  -p profile=gpu -p out_dir=$LOG > $LOG/check.txt 2>&1
grep -v -E "nanobind|leaked|refleaks|^ *$" $LOG/check.txt | tail -6
date -u +%H:%M:%S; flashmla_wait 60 1
timeout ${BENCH_S:-150} python tools/gpu_03b_cells.py $NB $OUT/cells_bench.ipynb "rows_c02 = bench_range_paired(" \
  -p profile=gpu -p out_dir=$LOG -p flashmla_dir=$PWD/.flashmla > $LOG/bench.txt 2>&1
echo "03d cells exit $?"; grep -v -E "nanobind|leaked|refleaks|^ *$" $LOG/bench.txt | tail -c 7000
date -u +%H:%M:%S

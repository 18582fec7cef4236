# 03d, the integrator's call of session 8 (issue 15): paired samples (`bench_paired`, `paired_times`) of the 128-head
# default against FlashMLA at five shapes, and of the ragged batch's planned paths against FlashMLA (eager and graph).
# Run from a copy of the repository with flashmla.tar.xz beside it; fastcore from $WHL if the box lacks it. $AB, if set,
# is a script run while FlashMLA builds (this call: 06a's decode-step cell from two commits, on the same card). Store with
#   python tools/adopt_outputs.py $OUT/cells_03d.ipynb nbs/03d_decode_gluon.ipynb --only gpu
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
flashmla_build
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt; date -u +%H:%M:%S
if [ -n "$AB" ]; then (bash "$AB"); date -u +%H:%M:%S; fi
python -c "import fastcore" 2>/dev/null || python -m pip install -q --no-index --find-links ${WHL:-.whl} fastcore > $OUT/pip03d.txt 2>&1
flashmla_wait 90
timeout ${PAIRED_S:-240} python tools/gpu_03b_cells.py nbs/03d_decode_gluon.ipynb $OUT/cells_03d.ipynb "rows_p = bench_paired(" "rows_pr = []" \
  --pre "SPLIT_SHAPES = [" -p profile=gpu -p out_dir=$OUT -p flashmla_dir=$PWD/.flashmla > $OUT/cells_03d.txt 2>&1
echo "03d cells exit $?"; grep -v -E "nanobind|leaked|refleaks|^ *$" $OUT/cells_03d.txt | tail -c 6000
date -u +%H:%M:%S

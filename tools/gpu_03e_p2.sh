# 03e fp8p, second GPU call (run 12:03-12:07 UTC, 228 s wall): the planned kernel (schedule='plan') against the FP8 oracle on the eight cases; the bench
# in alternating rounds (03 bf16, 03e default, page-planar, plan, plan + page-planar; the probe and the programs' time
# stamps at 64 x 8k); memcheck of the plan variants; this lesson's GPU tests. Cells run from nbs/, as in a notebook run:
#   python tools/adopt_outputs.py $OUT/cells_*.ipynb nbs/03e_decode_fp8_gluon.ipynb --only gpu   (then nbdev-clean)
source tools/gpu_lib.sh
export PYTHONPATH=$PWD TRITON_INTERPRET=0 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u +%H:%M:%S
cd nbs
NB=03e_decode_fp8_gluon.ipynb
nb_cells check ${CHECK_S:-90} 'gpu_check_fp8_gluon(variants=FP8G_PLAN)'
nb_cells bench ${BENCH_S:-200} 'rows_plan = bench_fp8_plan('
grep -v "^\[gpu_03b" $OUT/log.txt | tail -c 9000
nb_cells mc ${MC_S:-100} '"FP8G_ONLY": "|".join(FP8G_PLAN)'
nb_cells test ${TEST_S:-200} 'the planned kernel'"'"'s among them'
tail -c 2500 $OUT/log.txt; date -u +%H:%M:%S

# 03e work stealing, one GPU call: the stealing stream's coverage check (every tile once a launch, counter back at zero),
# memcheck over its small cases, then the paired benchmark (03 bf16, 03e default, the stream on 03e's grid and with
# work stealing) with time stamps. Cells run from nbs/, as in a notebook run:
#   python tools/adopt_outputs.py $OUT/cells_*.ipynb nbs/03e_decode_fp8_gluon.ipynb --only gpu   (then nbdev-clean)
source tools/gpu_lib.sh
export PYTHONPATH=$PWD TRITON_INTERPRET=0 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u +%H:%M:%S
cd nbs
NB=03e_decode_fp8_gluon.ipynb
nb_cells check ${CHECK_S:-90} 'print("every tile once a launch:", gpu_check_steal())'
nb_cells mc ${MC_S:-90} 'the claims, the page walk and the counter'
nb_cells bench ${BENCH_S:-300} 'rows_steal = bench_steal('
grep -v "^\[gpu_03b" $OUT/log.txt | tail -c 9000; date -u +%H:%M:%S

# 03d's 128-head tile, call 3 of helper g128m (issue 15): the GPU tests of tests/test_kernels_gluon.py that call 2's four
# shards did not reach in their 80 s (tools/gpu_03d_m3_ids.txt: the 244 test ids after the 236 that passed there), on
# the new default, in 16 shards (the time is the kernels' compiles).
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
nvidia-smi --query-gpu=name,driver_version --format=csv | tee $OUT/gpu.txt; date -u +%H:%M:%S
for k in $(seq 0 15); do awk "NR % 16 == $k" tools/gpu_03d_m3_ids.txt > /tmp/ids3_$k.txt; (mapfile -t A < /tmp/ids3_$k.txt; timeout ${PYTEST_S:-110} python -m pytest -q -p no:cacheprovider --rootdir=$PWD "${A[@]}") > $OUT/cell_pytest3_$k.txt 2>&1 & done
wait; date -u +%H:%M:%S
for k in $(seq 0 15); do quiet $OUT/cell_pytest3_$k.txt | tail -n1; done | tee $OUT/cell_pytest3.txt
grep -h -E "FAILED|Error" $OUT/cell_pytest3_*.txt | head -5

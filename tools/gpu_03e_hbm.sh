# 03e's fifth GPU call, the HBM side: the streaming probe (03e's producer alone over the interleaved rows with 7, 6 or 3
# copies a tile, the page-planar layout with 6 or 7, and 03's bf16 rows) beside a device copy; then the page-planar
# kernel (layout='planar') against the default: smoke test, the 8 cases against 03b's FP8 oracle, the bench with its
# summary, Nsight Compute's DRAM bytes and L2 sectors per kernel at 64 x 8k (if ncu is on the box), memcheck
export PYTHONPATH=$PWD TRITON_INTERPRET=0
P="03e page-planar (layout=planar)"
nvidia-smi --query-gpu=name,driver_version --format=csv
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu /opt/nvidia/nsight-compute*/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
echo "ncu: ${NCU:-absent}"
date -u +%H:%M:%S
(timeout 60 python -m infinitecontext.kernels_fp8_gluon --smoke "$P" > $OUT/smoke.txt 2>&1; echo $? > $OUT/smoke.rc) &
timeout 100 python -m infinitecontext.kernels_fp8_gluon --probe > $OUT/cell_probe.txt 2>&1; tail -30 $OUT/cell_probe.txt
wait; tail -n 1 $OUT/smoke.txt | cut -c1-250
export FP8G_ONLY="03e shifts (dq=3)|$P"
[ "$(cat $OUT/smoke.rc)" = 0 ] || export FP8G_ONLY="03e shifts (dq=3)"
echo "variants: $FP8G_ONLY"
date -u +%H:%M:%S; timeout 90 python -m infinitecontext.kernels_fp8_gluon --check > $OUT/cell_check.txt 2>&1; tail -10 $OUT/cell_check.txt
date -u +%H:%M:%S; timeout 120 python -m infinitecontext.kernels_fp8_gluon > $OUT/cell_bench.txt 2>&1; head -40 $OUT/cell_bench.txt
python -c "import json; rows = json.load(open('$OUT/bench_fp8_gluon.json'))['rows']; exec(open('tools/gpu_03e_summary.py').read())" > $OUT/cell_summary.txt 2>&1; cat $OUT/cell_summary.txt
date -u +%H:%M:%S
if [ -n "$NCU" ]; then
  M=dram__bytes_read.sum,lts__t_sectors_op_read.sum,lts__t_requests_srcunit_tex_op_read.sum,lts__t_sectors_srcunit_tex_op_read.sum,gpu__time_duration.sum
  timeout 90 $NCU --csv --kernel-name regex:"mla|probe" --metrics $M python -m infinitecontext.kernels_fp8_gluon --ncu > $OUT/ncu.csv 2> $OUT/ncu.err
  echo "ncu rc $?"; tail -3 $OUT/ncu.err
  python tools/gpu_03e_ncu.py $OUT/ncu.csv > $OUT/cell_ncu.txt 2>&1; cat $OUT/cell_ncu.txt
fi
date -u +%H:%M:%S; export FP8G_ONLY="$P"
timeout 80 compute-sanitizer --tool memcheck python -m infinitecontext.kernels_fp8_gluon --memcheck 2>&1 | tail -c 1500 > $OUT/cell_memcheck.txt; tail -4 $OUT/cell_memcheck.txt
date -u +%H:%M:%S
unset FP8G_ONLY; timeout 60 python -m pytest -q -p no:cacheprovider tests/test_kernels_fp8_gluon.py -k "planar" > $OUT/pytest_gpu.txt 2>&1; tail -3 $OUT/pytest_gpu.txt
date -u +%H:%M:%S

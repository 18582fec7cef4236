# 03d's launch-time call (issue 15, helper gluon7): the stored `#| gpu` outputs of the launch section come from
# $OUT/cell_*.txt. FlashMLA's JIT build in the background; the default and the 04:09 default compiled (direct and split
# launches) in parallel with GPU correctness of the default on all 7 cases; then, once the build is done (or skipped after
# ~85 s, so its compiler jobs never share the CPU with the host timing), bench_gluon_launch: each launch with descriptors,
# layouts and split count reused (the default) and rebuilt per call, do_bench and CUDA-graph time in 3 alternating rounds.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD; T0=$(date +%s)
tar -xJf flashmla.tar.xz
setsid python -c "import sys, time; sys.path.insert(0, '.flashmla'); from build import flashmla; t = time.time(); flashmla(); print('built', round(time.time() - t))" > $OUT/flashmla_build.txt 2>&1 & BPID=$!
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt; date -u +%H:%M:%S
timeout 100 python -c "
from infinitecontext.kernels_gluon import *; from infinitecontext.kernels_gluon import GLUON_VARIANTS
print('correct:', gpu_check_gluon(variants={'the default': {}, '04:09 default (sync scores, smem P)': GLUON_VARIANTS['04:09 default (sync scores, smem P)']}))" > $OUT/cell_check.txt 2>&1
quiet $OUT/cell_check.txt | tail -9; date -u +%H:%M:%S
while [ $(( $(date +%s) - T0 )) -lt 85 ] && ! grep -q built $OUT/flashmla_build.txt 2>/dev/null; do sleep 2; done
if grep -q built $OUT/flashmla_build.txt; then FM=$PWD/.flashmla; else FM=; kill -- -$BPID 2>/dev/null; echo "FlashMLA not built in time: skipped"; fi
tail -2 $OUT/flashmla_build.txt; date -u +%H:%M:%S
FLASHMLA_DIR=$FM timeout 60 python -m infinitecontext.kernels_gluon --launch > $OUT/cell_launch.txt 2>&1
quiet $OUT/cell_launch.txt | tail -30; date -u +%H:%M:%S

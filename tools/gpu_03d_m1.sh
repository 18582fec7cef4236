# 03d's 128-head tile, call 1 of helper g128m (issue 15): the per-tile switches of the softmax on the named-barrier
# default (the mask only on a tile that needs it, or as one row bound; the last-tile mask with the scale folded; P from
# packed bf16 exp2 with the row sum from that P; all three) against 03's oracle on the seven cases (one process each, worst error printed per case), their
# compile report under the box's Triton; FlashMLA's JIT build in the background; then, alone on the GPU, three
# alternating rounds of FlashMLA, the default and each switch at the five decision shapes (eager do_bench, CUDA graph).
# The steps are tools/gpu_03d_g128.sh's, run here with this call's switches and shapes (VARS/SHAPES overridable).
export VARS=${VARS:-'("the default", "default, mask on the last tile", "default, mask as a row bound", "default, last-tile mask + folded scale", "default, packed bf16 exp2", "default, last-tile mask + packed exp2 + folded scale")'}
export SHAPES=${SHAPES:-"[(64, 8192, 128), (4, 131072, 128), (1, 1048576, 128), (8, 65536, 128), (64, 8192, 16)]"}
exec bash tools/gpu_03d_g128.sh

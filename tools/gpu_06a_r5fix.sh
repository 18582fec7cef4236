# r5fix, call 1 (session 8): bisect the ragged FP8 graph step's +0.56 ms (fa7e07c -> b3ae180). Each tree (abold/ = fa7e07c,
# . = this branch) runs tools/gpu_06a_r5fix_ab.py with engines in the order fp8, auto (bf16), fp8: every captured graph's
# replay, the eager step and its kernels by name (profiler), layer 0's attention kernel on the engine's cache and on a
# fresh copy, where the cache lies and how much memory is held. Tested on CPU with --tiny first.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")/.." || exit 1
R=$PWD; nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv,noheader
python -c "import fastcore, transformers" 2>/dev/null || python -m pip install -q --no-index --find-links .whl fastcore transformers==5.24.0 > $OUT/pip.txt 2>&1
el deps
for v in ${VS:-new old}; do
  d=.; [ $v = old ] && d=abold
  (cd $d && PYTHONPATH=$PWD timeout ${AB_S:-110} python $R/tools/gpu_06a_r5fix_ab.py ${ORDER:-fp8,auto,fp8} $v $TINY) > $OUT/ab_$v.txt 2>&1
  el "$v exit $?"; grep -E "AB |code|Error|error" $OUT/ab_$v.txt | cut -c1-1500
done

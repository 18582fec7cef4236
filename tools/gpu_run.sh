#!/usr/bin/env bash
# Reproduce the GPU figures stored in the notebooks, on a GPU node with PyTorch + Triton (and no internet):
#   tools/gpu_run.sh check      kernel tests on the real GPU, compute-sanitizer, tile sweep  -> $OUT/
#   tools/gpu_run.sh notebooks  run the flagged cells of the lessons (IC_FLAGS=gpu by default, "multigpu" on a multi-GPU node) -> $OUT/run/
# then, here: python tools/adopt_outputs.py $OUT/run/NB.ipynb nbs/NB.ipynb --only gpu && nbdev-clean
# Packages the node lacks (papermill, nbdev, ipykernel) are installed from wheels in .whl/ if present
# (../shared/device/fetch_wheels.sh makes them).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/runs/gpu}; mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} TRITON_INTERPRET=0
if [ -d .whl ]; then python3 -m pip install -q --no-index --find-links .whl papermill nbdev ipykernel 2>&1 | tail -2; fi
python3 -c "import torch, triton; print(torch.__version__, triton.__version__, torch.cuda.get_device_name())"
case "${1:-check}" in
  check)
    python3 -m pytest -q -x tests/test_kernels.py 2>&1 | tail -3
    if command -v compute-sanitizer >/dev/null; then
      compute-sanitizer --tool memcheck --error-exitcode 9 python3 -c "
import torch; from infinitecontext.kernels import *
for sl, h, sq, pg in (([1, 63, 65, 300], 16, 1, 64), ([129, 2], 128, 2, 16), ([4096], 16, 1, 32)):
    kv, bt, s = make_paged_cache(sl, pg, 576, torch.bfloat16, 'cuda')
    q = torch.randn(len(sl), sq, h, 576, device='cuda', dtype=torch.bfloat16)
    o, l = mla_decode(q, kv, bt, s, 0.07, 512); torch.cuda.synchronize(); print('memcheck shape ok', sl, h, sq, pg)
" > "$OUT/memcheck.txt" 2>&1; echo "compute-sanitizer exit $?" | tee -a "$OUT/memcheck.txt"; tail -4 "$OUT/memcheck.txt"
    fi
    python3 -m infinitecontext.kernels --sweep 2>&1 | tee "$OUT/bench_sweep.txt" | tail -60 ;;
  notebooks)
    shift; IC_FLAGS=${IC_FLAGS:-gpu} python3 -m infinitecontext.runner --profile gpu --flags "${IC_FLAGS:-gpu}" --out "$OUT/run" "$@" 2>&1 | grep -v WARNING | tail -20 ;;
esac

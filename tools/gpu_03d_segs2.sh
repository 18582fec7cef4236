# 03d's multi-segment ('range') kernel with its descriptors rebuilt per tile (issue 15, helper segs2; offline only so
# far). Run from a copy of branch segs2 with flashmla.tar.xz beside it: first tools/gpu_03d_rag2.sh unchanged (smoke,
# gpu_check_planned under 'range', pytest -k range, memcheck, then bench_gluon_ragged: FlashMLA, 03b, 03d default,
# planned 'lpt' and 'range' (desc=2, the new default)); then an A/B on the same GPU: 'range' at desc=0 (the 13:00
# kernel's PTX) against desc=2, 3 alternating rounds of do_bench per shape -> $OUT/cell_desc_ab.txt.
source tools/gpu_lib.sh
export TRITON_INTERPRET=0 PYTHONPATH=$PWD
bash tools/gpu_03d_rag2.sh
date -u +%H:%M:%S
timeout ${AB_S:-150} python - > $OUT/cell_desc_ab.txt 2>&1 <<'PY'
import torch, triton
from infinitecontext.kernels_gluon import RAGGED_SHAPES, gluon_plan, mla_decode_gluon_planned
from infinitecontext.kernels_fp8 import _bench_inputs, _bench_shape
print(torch.cuda.get_device_name(), "| triton", triton.__version__, "| 'range' plan, desc 0 (13:00 kernel) vs 2 (rebuilt per tile)")
for key in RAGGED_SHAPES[:3]:
    label, lens, h = _bench_shape(key); kv, _, bt, sl, q = _bench_inputs(lens, h, 64)
    plan = gluon_plan(lens, h, 1, "cuda", "range")
    outs = {d: mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan, validate=False, desc=d) for d in (0, 2)}
    same = torch.equal(outs[0][0], outs[2][0]) and torch.equal(outs[0][1], outs[2][1])
    ms = {0: [], 2: []}
    for rnd in range(3):
        for d in ((0, 2) if rnd % 2 == 0 else (2, 0)):
            ms[d].append(triton.testing.do_bench(lambda: mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan, validate=False, desc=d)))
    print(f"{label:>28}: desc0 {' '.join(f'{x:.4f}' for x in ms[0])} ms | desc2 {' '.join(f'{x:.4f}' for x in ms[2])} ms | "
          f"speed-up {' '.join(f'{a / b:.3f}x' for a, b in zip(ms[0], ms[2]))} | outputs bit-identical: {same}")
PY
quiet $OUT/cell_desc_ab.txt | tail -6
date -u +%H:%M:%S

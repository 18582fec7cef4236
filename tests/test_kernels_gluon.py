"""03d's Gluon decode kernel (two ping-pong math warpgroups, TMA producer warp) and its torch schedule model.

CPU: the schedule model against 03's oracle (NaN in every unused slot, ragged lengths, shuffled pages, h 1/16/128,
s_q 1/2, one split and several), the timeline model, the clear errors, the reuse of launch setup (TMA descriptors, split
count), and the offline sm_90a compile of the real kernel.
GPU (sm_90): the kernel itself against the oracle, every code path of the schedule variants, forced splits.
"""
import pytest
import torch

from infinitecontext.kernels import compare, make_paged_cache, mla_decode_ref
from infinitecontext.kernels_gluon import gluon, gluon_schedule_model, mla_decode_gluon, schedule_timeline

HOPPER = torch.cuda.is_available() and torch.cuda.get_device_capability()[0] == 9
CASES = [([1000], 16, 1, 1), ([70, 200, 64, 1], 16, 1, 3), ([300, 129], 128, 1, 2), ([500, 64], 1, 2, 3),
         ([257, 90], 128, 2, 1), ([100, 400], 16, 2, 2), ([64, 2], 16, 2, 4)]


def _inputs(lens, h, s_q, dev="cpu", seed=0):
    kv, bt, sl = make_paged_cache(lens, 64, 576, torch.bfloat16, dev, seed=seed)  # unused slots are NaN
    q = torch.randn(len(lens), s_q, h, 576, generator=torch.Generator().manual_seed(seed + 1)).bfloat16().to(dev)
    return q, kv, bt, sl


@pytest.mark.parametrize("lens,h,s_q,splits", CASES)
def test_schedule_model_matches_oracle(lens, h, s_q, splits):
    torch.set_num_threads(1)
    q, kv, bt, sl = _inputs(lens, h, s_q)
    o, l = gluon_schedule_model(q, kv, bt, sl, 192 ** -0.5, num_splits=splits)
    assert o.shape == (len(lens), s_q, h, 512) and l.shape == (len(lens), h, s_q)
    assert not o.isnan().any() and not l.isnan().any(), "NaN leaked from an unused cache slot"
    e = compare(o, l, *mla_decode_ref(q, kv, bt, sl, 192 ** -0.5))
    assert e["cos"] > 0.9999 and e["lse"] < 1e-3, e


def test_model_split_invariance_and_sensitivity():
    "Split-KV + combine gives the same answer for any split count, and a wrong scale is caught by the comparison."
    q, kv, bt, sl = _inputs([700, 130], 128, 1)
    o1, l1 = gluon_schedule_model(q, kv, bt, sl, 192 ** -0.5, num_splits=1)
    o4, l4 = gluon_schedule_model(q, kv, bt, sl, 192 ** -0.5, num_splits=4)
    e = compare(o4, l4, o1, l1)
    assert e["cos"] > 0.99999 and e["lse"] < 1e-4, e
    ow, lw = gluon_schedule_model(q, kv, bt, sl, 0.9 * 192 ** -0.5, num_splits=4)
    assert compare(ow, lw, *mla_decode_ref(q, kv, bt, sl, 192 ** -0.5))["lse"] > 1e-2


def test_model_lazy_rescale():
    "A stale running max (kept until a tile's max exceeds it by more than tau) gives the oracle's output: the final divide uses the same max."
    q, kv, bt, sl = _inputs([3000, 130], 128, 1)
    ref = mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)
    for tau in (4.0, 8.0):
        e = compare(*gluon_schedule_model(q, kv, bt, sl, 192 ** -0.5, rescale_tau=tau), *ref)
        assert e["cos"] > 0.9999 and e["lse"] < 1e-3, (tau, e)


def test_timeline_overlaps_softmax():
    one, two = schedule_timeline(two_warpgroups=False), schedule_timeline()
    assert max(e for *_, e in two) < max(e for *_, e in one)
    # a softmax never starts before the previous tile's softmax (the max chain) has ended
    soft = sorted((t, s, e) for w, n, t, s, e in two if n == "softmax")
    assert all(b[1] >= a[2] for a, b in zip(soft, soft[1:]))


def test_timeline_release_point():
    "With two buffers, tile t lands only after tile t - 2 is released; releasing right after P V (order 1) finishes first."
    ev = {o: schedule_timeline(n_tiles=8, order=o, t_load=2.0) for o in (0, 1)}
    end = {o: max(e for w, n, t, s, e in ev[o] if n != "load") for o in ev}
    assert end[1] < end[0], end
    for o in ev:
        landed = {t: e for w, n, t, s, e in ev[o] if n == "load"}
        assert all(s >= landed[t] - 1e-9 for w, n, t, s, e in ev[o] if n == "QK"), o


def test_clear_errors():
    q, kv, bt, sl = _inputs([200], 16, 1)
    with pytest.raises(ValueError, match="impl must be"): mla_decode_gluon(q, kv, bt, sl, 0.07, impl="cuda")
    with pytest.raises(ValueError, match="last dim"): mla_decode_gluon(q[..., :500], kv, bt, sl, 0.07)
    if not HOPPER:
        with pytest.raises(RuntimeError, match="Hopper"): mla_decode_gluon(q, kv, bt, sl, 0.07, impl="gluon")
    with pytest.raises(ValueError, match="reg_p must be"): mla_decode_gluon(q, kv, bt, sl, 0.07, reg_p=3)
    with pytest.raises(ValueError, match="math_regs must be"): mla_decode_gluon(q, kv, bt, sl, 0.07, math_regs=236)
    with pytest.raises(ValueError, match="async_pv=True"): mla_decode_gluon(q, kv, bt, sl, 0.07, order=2, async_pv=True)
    with pytest.raises(ValueError, match="pass reg_p=0 or 1"): mla_decode_gluon(q, kv, bt, sl, 0.07, order=0, qpe_smem=False)
    with pytest.raises(ValueError, match="sync_qk=False"): mla_decode_gluon(q, kv, bt, sl, 0.07, sync_qk=True, chunked=True)
    with pytest.raises(ValueError, match="two halves"): mla_decode_gluon(q, kv, bt, sl, 0.07, order=3, async_pv=True, chunked=True)
    with pytest.raises(ValueError, match="own_first=True"): mla_decode_gluon(q, kv, bt, sl, 0.07, own_first=True, sync_qk=True)
    with pytest.raises(ValueError, match="split_rule must be"): mla_decode_gluon(q, kv, bt, sl, 0.07, split_rule="even")
    with pytest.raises(ValueError, match="one P buffer"): mla_decode_gluon(q, kv, bt, sl, 0.07, qpe_smem=True, reg_p=0, order=1)
    with pytest.raises(ValueError, match="one P buffer"): mla_decode_gluon(q, kv, bt, sl, 0.07, qpe_smem=True, reg_p=1, order=2)
    with pytest.raises(ValueError, match="producer=False"): mla_decode_gluon(q, kv, bt, sl, 0.07, producer=False, math_regs=240)
    with pytest.raises(ValueError, match="producer=True"): mla_decode_gluon(q, kv, bt, sl, 0.07, producer=False, own_first=True)
    with pytest.raises(ValueError, match="log2 units"): mla_decode_gluon(q, kv, bt, sl, 0.07, rescale_tau=-1.0)
    with pytest.raises(ValueError, match="default schedule"): mla_decode_gluon(q, kv, bt, sl, 0.07, rescale_tau=8.0, order=1)
    with pytest.raises(ValueError, match="needs reg_p=2"): mla_decode_gluon(q, kv, bt, sl, 0.07, late_stats=True, reg_p=1)
    with pytest.raises(ValueError, match="named_bars=True"): mla_decode_gluon(q, kv, bt, sl, 0.07, named_bars=True, producer=False)


def test_split_rules(monkeypatch):
    "'wave' never costs more tile-times than 'fill' and picks 16 splits (128 tiles each, one wave) at 4 x 128k, h128 on 132 SMs."
    import infinitecontext.kernels_gluon as kg
    monkeypatch.setattr(kg, "_num_sms", lambda device: 132)
    cost = lambda b, h, n, s: -(-b * (h // 64 or 1) * s // 132) * (-(-(n // 64) // s) + 4)
    assert kg._splits_for(4, 1, 128, 131072, "cpu") == 15 and kg._splits_for(4, 1, 128, 131072, "cpu", split_rule="wave") == 16
    assert kg._splits_for(1, 1, 128, 1 << 20, "cpu") == 60 and kg._splits_for(1, 1, 128, 1 << 20, "cpu", split_rule="fill96") == 64
    assert kg._splits_for(1, 1, 128, 1 << 20, "cpu", split_rule="wave") == 66       # 'fill96' lies between the two at 1 x 1M
    assert kg._splits_for(64, 1, 128, 8192, "cpu", split_rule="wave") == 1 and kg._splits_for(48, 1, 128, 16384, "cpu", split_rule="wave") == 4
    for b, h, n in ((4, 128, 131072), (64, 128, 8192), (1, 16, 1 << 20), (48, 128, 16384), (8, 16, 65536), (3, 16, 5000)):
        fill, wave = kg._splits_for(b, 1, h, n, "cpu"), kg._splits_for(b, 1, h, n, "cpu", split_rule="wave")
        assert cost(b, h, n, wave) <= cost(b, h, n, fill), (b, h, n, fill, wave)
    q, kv, bt, sl = _inputs([300, 129], 128, 1)                      # the model takes the rule too (same answer, any split)
    e = compare(*gluon_schedule_model(q, kv, bt, sl, 192 ** -0.5, split_rule="wave"), *mla_decode_ref(q, kv, bt, sl, 192 ** -0.5))
    assert e["cos"] > 0.9999 and e["lse"] < 1e-3, e


@pytest.mark.skipif(gluon is None, reason="this Triton has no Gluon")
def test_launch_setup_reuse():
    "Descriptors are reused per (address, shape, strides, block), rebuilt on any change, at most 8 kept, least recently used out."
    import infinitecontext.kernels_gluon as kg
    kg._GLUON_DESCS.clear()
    a, b = torch.zeros(128, 576, dtype=torch.bfloat16), torch.zeros(128, 576, dtype=torch.bfloat16)
    d = kg._gluon_desc(a, (64, 64))
    assert kg._gluon_desc(a, (64, 64)) is d and kg._gluon_desc(a, (64, 64), reuse=False) is not d
    assert kg._gluon_desc(b, (64, 64)) is not d and kg._gluon_desc(a, (64, 512)) is not d
    assert kg._gluon_desc(a[:64], (64, 64)) is not d and kg._gluon_desc(a[:64], (64, 64)).shape == [64, 576]
    assert d.base is a and d.block_shape == [64, 64] and d.layout == kg._bf16_layout((64, 64))
    others = [torch.zeros(64, 576, dtype=torch.bfloat16) for _ in range(6)]
    kg._gluon_desc(a, (64, 64))                                      # a hit: now the newest entry
    for t in others: kg._gluon_desc(t, (64, 64))
    assert len(kg._GLUON_DESCS) == 8 and kg._gluon_desc(a, (64, 64)) is d, "the entry used last must survive"
    assert kg._splits_cached(4, 1, 128, 131072, "cpu", None, "fill") == kg._splits_for(4, 1, 128, 131072, "cpu")
    kg._GLUON_DESCS.clear()


@pytest.mark.skipif(gluon is None, reason="this Triton has no Gluon")
def test_offline_compile_sm90a():
    from infinitecontext.kernels_gluon import gluon_report
    rep = gluon_report()
    assert rep["registers"] > 0 and rep["shared_kb"] <= 227, rep
    assert rep["wgmma"] > 0 and rep["tma_loads"] > 0 and rep["setmaxnreg"], rep
    nop = gluon_report(producer=False)                               # no producer warp: 8 warps, 255 registers, none handed down
    assert nop["registers"] == 255 and all(k == "inc" for k, _ in nop["setmaxnreg"]), nop
    assert nop["shared_kb"] <= 227 and nop["tma_loads"] > rep["tma_loads"], (nop, rep)   # refills issued by both warpgroups


def _variant_matches_oracle(lens, h, s_q, splits, variant):
    "One GLUON_VARIANTS entry on the GPU against 03's oracle: no NaN from the poisoned slots, cos > 0.9999, lse within 1e-2."
    from infinitecontext.kernels_gluon import GLUON_VARIANTS
    q, kv, bt, sl = _inputs(lens, h, s_q, "cuda")
    o, l = mla_decode_gluon(q, kv, bt, sl, 192 ** -0.5, num_splits=splits, **GLUON_VARIANTS[variant])
    assert not o.isnan().any() and not l.isnan().any()
    e = compare(o, l, *mla_decode_ref(q, kv, bt, sl, 192 ** -0.5))
    assert e["cos"] > 0.9999 and e["lse"] < 1e-2, e


@pytest.mark.skipif(not HOPPER, reason="the Gluon kernel needs an sm_90 GPU")
@pytest.mark.parametrize("variant", ["first version (order 0)", "the default", "04:09 default (sync scores, smem P)", "async scores (order 1)",
                                     "2 + async + chunks + self-refill", "1 + register P", "1 + async t-1 + register P first",
                                     "default, 240 registers", "default, own half first", "3 + scores under t-1",
                                     "3 + scores under t-1 + own half", "default, one-wave splits", "q_pe in shared memory",
                                     "q_pe in smem, order 3", "q_pe in smem + async t-1", "q_pe in smem, 3 + scores under t-1",
                                     "no producer", "no producer + q_pe in smem", "no producer + q_pe + async t-1",
                                     "no producer, order 3", "no producer + q_pe, 3 + scores under t-1",
                                     "06:16 default (q_pe in registers, order 1)", "default, chunk barriers", "no producer, q_pe, order 3",
                                     "default, one-wave splits (order 3)", "default, 96% fill splits", "default, scale folded into exp2",
                                     "default, stats stored with P", "default, folded scale + stats with P", "default, lazy rescale (tau 8)",
                                     "default, named-barrier hand-offs", "default, named barriers + folded scale",
                                     "09:37 default (mbarrier hand-offs)", "default, 03c's fill splits"])
@pytest.mark.parametrize("lens,h,s_q,splits", CASES + [([3000, 130, 777], 128, 1, None), ([4096, 1300], 128, 2, 1)])
def test_gluon_kernel_on_gpu(lens, h, s_q, splits, variant):
    _variant_matches_oracle(lens, h, s_q, splits, variant)


@pytest.mark.skipif(not HOPPER, reason="the Gluon kernel needs an sm_90 GPU")
@pytest.mark.parametrize("qpe_smem", [False, True])
def test_gluon_reuse_on_gpu(qpe_smem):
    "Reused launch setup: bit-identical to rebuilt, and two caches used in turn each read their own pages."
    (q, kv, bt, sl), (q2, kv2, bt2, sl2) = _inputs([3000, 130], 128, 1, "cuda"), _inputs([700, 2049], 128, 1, "cuda", seed=5)
    for _ in range(2):
        for qq, k, b, s_ in ((q, kv, bt, sl), (q2, kv2, bt2, sl2)):
            o, l = mla_decode_gluon(qq, k, b, s_, 192 ** -0.5, qpe_smem=qpe_smem)
            o0, l0 = mla_decode_gluon(qq, k, b, s_, 192 ** -0.5, reuse=False, qpe_smem=qpe_smem)
            assert torch.equal(o, o0) and torch.equal(l, l0)
            e = compare(o, l, *mla_decode_ref(qq, k, b, s_, 192 ** -0.5))
            assert e["cos"] > 0.9999 and e["lse"] < 1e-2, e


# ---- the planned kernel: a token-balanced plan for ragged batches ----
RAGGED = [([1000], 16, 1), ([70, 200, 64, 1], 16, 1), ([300, 129, 700], 128, 1), ([500, 64], 1, 2), ([257, 90], 128, 2),
          ([100, 400, 1300, 64], 16, 2), ([64, 2], 16, 2)]


def _check_plan_invariants(plan, lens):
    "Every token in exactly one segment, segments of whole tiles, one partial slot each, a sequence's slots contiguous in tile order."
    table, seq_ptr = plan.table.tolist(), plan.seq_ptr.tolist()
    assert seq_ptr[0] == 0 and seq_ptr[-1] == len(table) and sorted(s for *_, s in table) == list(range(len(table)))
    for i, n in enumerate(lens):
        segs = sorted((t0, end, slot) for seq, t0, end, slot in table if seq == i)
        assert segs and [s for *_, s in segs] == list(range(seq_ptr[i], seq_ptr[i + 1])), (i, segs)
        covered = 0
        for t0, end, _ in segs:
            assert t0 * 64 == covered and end > covered, (i, segs)   # starts on a tile, where the last one ended; never empty
            assert end == n or end % 64 == 0, (i, segs)              # ends on a tile boundary, or at the sequence's end
            covered = end
        assert covered == n, (i, covered, n)


@pytest.mark.parametrize("planner", ["lpt", "wave", "uniform"])
@pytest.mark.parametrize("programs", [1, 5, 132])
def test_plan_invariants(planner, programs):
    from infinitecontext.kernels_fp8 import _bench_shape
    from infinitecontext.kernels_gluon import gluon_plan
    for lens in ([1000], [70, 200, 64, 1], [16384, 512, 9000, 65, 64, 3000], _bench_shape(("ragged", 48, 16))[1]):
        plan = gluon_plan(lens, 16, 1, "cpu", planner, programs=programs)
        _check_plan_invariants(plan, lens)
        sizes = [-(-(end - t0 * 64) // 64) for _, t0, end, _ in plan.table.tolist()]
        if planner != "uniform": assert sizes == sorted(sizes, reverse=True), "launched longest first"
        if planner == "wave": assert len(sizes) <= max(programs, len(lens))


def test_plan_balance():
    "On 03b's ragged batch and 132 SMs: the modelled finish of 'lpt' <= one wave <= 03d's uniform split, within 15% of perfect balance."
    from infinitecontext.kernels_fp8 import _bench_shape
    from infinitecontext.kernels_gluon import gluon_plan
    lens = _bench_shape(("ragged", 48, 16))[1]
    m = {pl: gluon_plan(lens, 16, 1, "cpu", pl, programs=132).model for pl in ("lpt", "wave", "uniform")}
    ideal = sum(-(-n // 64) for n in lens) / 132 + 4
    assert m["lpt"] <= m["wave"] <= m["uniform"] and m["lpt"] < 1.15 * ideal, (m, ideal)


@pytest.mark.parametrize("planner", ["lpt", "wave", "uniform"])
@pytest.mark.parametrize("lens,h,s_q", RAGGED)
def test_planned_model_matches_oracle(lens, h, s_q, planner):
    from infinitecontext.kernels_gluon import gluon_plan, mla_decode_gluon_planned
    torch.set_num_threads(1)
    q, kv, bt, sl = _inputs(lens, h, s_q)
    plan = gluon_plan(sl, h, s_q, "cpu", planner, programs=5)       # several segments a sequence: the combine is exercised
    o, l = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan)
    assert o.shape == (len(lens), s_q, h, 512) and l.shape == (len(lens), h, s_q)
    assert not o.isnan().any() and not l.isnan().any(), "NaN leaked from an unused cache slot or an unwritten partial"
    e = compare(o, l, *mla_decode_ref(q, kv, bt, sl, 192 ** -0.5))
    assert e["cos"] > 0.9999 and e["lse"] < 1e-3, e


def test_planned_model_sensitivity():
    "A plan that drops a segment, or a wrong scale, is caught by the comparison (the check can fail)."
    from infinitecontext.kernels_gluon import GluonPlan, gluon_plan, gluon_planned_model
    q, kv, bt, sl = _inputs([700, 130], 16, 1)
    ref = mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)
    plan = gluon_plan(sl, 16, 1, "cpu", programs=5)
    assert compare(*gluon_planned_model(q, kv, bt, sl, 0.9 * 192 ** -0.5, plan=plan), *ref)["lse"] > 1e-2
    t = plan.table.clone(); t[0, 2] = t[0, 1] * 64 + 1                 # the first segment ends after one token
    bad = GluonPlan(t, plan.seq_ptr, plan.lens, 16, 1, plan.programs, "broken", plan.model)
    assert compare(*gluon_planned_model(q, kv, bt, sl, 192 ** -0.5, plan=bad), *ref)["lse"] > 1e-3


def test_planned_clear_errors():
    from infinitecontext.kernels_gluon import gluon_plan, mla_decode_gluon_planned
    q, kv, bt, sl = _inputs([200, 90], 16, 1)
    plan = gluon_plan(sl, 16, 1, "cpu")
    with pytest.raises(ValueError, match="b=2, h=16, s_q=1; this batch has b=1"): mla_decode_gluon_planned(q[:1], kv, bt[:1], sl[:1], 0.07, plan=plan)
    with pytest.raises(ValueError, match="h=128"): mla_decode_gluon_planned(q, kv, bt, sl, 0.07, plan=gluon_plan(sl, 128, 1, "cpu"))
    with pytest.raises(ValueError, match="other lengths"): mla_decode_gluon_planned(q, kv, bt, sl - 1, 0.07, plan=plan)
    mla_decode_gluon_planned(q, kv, bt, sl - 1, 0.07, plan=plan, validate=False)   # validate=False: the caller vouches for it
    with pytest.raises(TypeError, match="gluon_plan"): mla_decode_gluon_planned(q, kv, bt, sl, 0.07, plan="lpt")
    with pytest.raises(ValueError, match="planner must be"): gluon_plan(sl, 16, 1, "cpu", "greedy")
    with pytest.raises(ValueError, match="lengths >= 1"): gluon_plan([100, 0], 16, 1, "cpu")
    with pytest.raises(ValueError, match="impl must be"): mla_decode_gluon_planned(q, kv, bt, sl, 0.07, impl="cuda")
    kv32, bt32, sl32 = make_paged_cache([200, 90], 32, 576, torch.bfloat16, "cpu")
    with pytest.raises(ValueError, match="multiple of 64"): mla_decode_gluon_planned(q, kv32, bt32, sl32, 0.07)
    if not HOPPER:
        with pytest.raises(RuntimeError, match="Hopper"): mla_decode_gluon_planned(q, kv, bt, sl, 0.07, impl="gluon")


@pytest.mark.skipif(not HOPPER, reason="the Gluon kernel needs an sm_90 GPU")
@pytest.mark.parametrize("planner", ["lpt", "wave", "uniform", "uncut"])
@pytest.mark.parametrize("lens,h,s_q", RAGGED + [([3000, 130, 777], 128, 1), ([64, 16384, 513, 9000, 1, 4097], 16, 1)])
def test_planned_kernel_on_gpu(lens, h, s_q, planner):
    from infinitecontext.kernels_gluon import gluon_plan, mla_decode_gluon_planned
    q, kv, bt, sl = _inputs(lens, h, s_q, "cuda")
    ref = mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)
    kw = dict(planner="lpt", pieces=1) if planner == "uncut" else dict(planner=planner)   # uncut: one segment a sequence, no combine
    for programs in (None, 5):
        plan = gluon_plan(sl, h, s_q, "cuda", programs=programs, **kw)
        if planner == "uncut": assert plan.table.shape[0] == len(lens)   # the direct launch
        o, l = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan)
        assert not o.isnan().any() and not l.isnan().any()
        e = compare(o, l, *ref)
        assert e["cos"] > 0.9999 and e["lse"] < 1e-2, (programs, e)
        o2, l2 = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan, validate=False)   # the plan reused: same bits
        assert torch.equal(o, o2) and torch.equal(l, l2)


# ---- several segments a program: the 'range' plan and its kernel ----
@pytest.mark.parametrize("programs", [1, 3, 5, 132])
def test_range_plan_invariants(programs):
    "Each program one contiguous, non-empty range of the token line (sequences in order), its payload within one share."
    from infinitecontext.kernels_fp8 import _bench_shape
    from infinitecontext.kernels_gluon import gluon_plan
    for lens in ([1000], [70, 200, 64, 1], [16384, 512, 9000, 65, 64, 3000], _bench_shape(("ragged", 48, 16))[1]):
        plan = gluon_plan(lens, 16, 1, "cpu", "range", programs=programs)
        _check_plan_invariants(plan, lens)
        table, pp = plan.table.tolist(), plan.prog_ptr.tolist()
        assert pp[0] == 0 and pp[-1] == len(table) and all(a < z for a, z in zip(pp, pp[1:])), pp   # no empty program
        assert len(pp) - 1 <= programs
        assert [(s, t0) for s, t0, *_ in table] == sorted((s, t0) for s, t0, *_ in table), "the line in order"
        tiles = [-(-(end - t0 * 64) // 64) for _, t0, end, _ in table]
        share = -(-sum(-(-n // 64) + 4 for n in lens) // programs)   # a payload: the line (tiles + 4 a sequence) / programs, rounded up
        assert max(sum(tiles[a:z]) for a, z in zip(pp, pp[1:])) <= share
        assert plan.model <= share + 4 * max(z - a for a, z in zip(pp, pp[1:]))


def test_range_plan_balance():
    "On 03b's ragged batch and 132 SMs: one program an SM, the modelled finish within 10% of the line's even share."
    from infinitecontext.kernels_fp8 import _bench_shape
    from infinitecontext.kernels_gluon import gluon_plan
    lens = _bench_shape(("ragged", 48, 16))[1]
    plan = gluon_plan(lens, 16, 1, "cpu", "range", programs=132)
    assert plan.prog_ptr.shape[0] - 1 == 132
    ideal = sum(-(-n // 64) + 4 for n in lens) / 132
    assert plan.model < 1.1 * ideal + 4, (plan.model, ideal)


@pytest.mark.parametrize("lens,h,s_q", RAGGED)
def test_range_model_matches_oracle(lens, h, s_q):
    "The multi-segment schedule (buffers, Q reloads and barrier phases asserted inside) against the oracle, NaN slots, shuffled pages."
    from infinitecontext.kernels_gluon import gluon_plan, mla_decode_gluon_planned
    torch.set_num_threads(1)
    q, kv, bt, sl = _inputs(lens, h, s_q)
    ref = mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)
    for programs in (1, 2, 3):                                        # few programs: several segments each, sequences cut
        plan = gluon_plan(sl, h, s_q, "cpu", "range", programs=programs)
        o, l = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan)
        assert not o.isnan().any() and not l.isnan().any(), "NaN leaked from an unused slot, a stale buffer or Q"
        e = compare(o, l, *ref)
        assert e["cos"] > 0.9999 and e["lse"] < 1e-3, (programs, e)


def test_range_model_sensitivity():
    "A program whose segments are swapped (the wrong Q for a tile) or a dropped segment is caught (the check can fail)."
    from infinitecontext.kernels_gluon import GluonPlan, gluon_plan, gluon_segs_model
    q, kv, bt, sl = _inputs([700, 130, 300], 16, 1)
    ref = mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)
    plan = gluon_plan(sl, 16, 1, "cpu", "range", programs=1)
    assert compare(*gluon_segs_model(q, kv, bt, sl, 192 ** -0.5, plan=plan), *ref)["lse"] < 1e-3
    t = plan.table.clone(); t[1, 2] = t[1, 1] * 64 + 1                 # the second segment ends after one token
    bad = GluonPlan(t, plan.seq_ptr, plan.lens, 16, 1, plan.programs, "broken", plan.model, plan.prog_ptr)
    assert compare(*gluon_segs_model(q, kv, bt, sl, 192 ** -0.5, plan=bad), *ref)["lse"] > 1e-3
    with pytest.raises(ValueError, match="'range' plan"): gluon_segs_model(q, kv, bt, sl, 0.07, plan=gluon_plan(sl, 16, 1, "cpu"))


@pytest.mark.skipif(not HOPPER, reason="the Gluon kernel needs an sm_90 GPU")
@pytest.mark.parametrize("lens,h,s_q", RAGGED + [([3000, 130, 777], 128, 1), ([64, 16384, 513, 9000, 1, 4097], 16, 1)])
def test_range_kernel_on_gpu(lens, h, s_q):
    from infinitecontext.kernels_gluon import gluon_plan, mla_decode_gluon_planned
    q, kv, bt, sl = _inputs(lens, h, s_q, "cuda")
    ref = mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)
    for programs in (None, 1, 2, 5):
        plan = gluon_plan(sl, h, s_q, "cuda", "range", programs=programs)
        o, l = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan)
        assert not o.isnan().any() and not l.isnan().any()
        e = compare(o, l, *ref)
        assert e["cos"] > 0.9999 and e["lse"] < 1e-2, (programs, e)
        o2, l2 = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan, validate=False)
        assert torch.equal(o, o2) and torch.equal(l, l2)


@pytest.mark.skipif(gluon is None, reason="this Triton has no Gluon")
def test_range_kernel_offline_descriptors():
    "Offline sm_90a compile of the multi-segment kernel: descriptors rebuilt per tile (desc=2, the default) spill less than hoisted (desc=0)."
    from infinitecontext.kernels_gluon import gluon_planned_report
    new, old = gluon_planned_report(segs=True), gluon_planned_report(segs=True, desc=0)
    assert new["wgmma"] == old["wgmma"] == 88 and new["setmaxnreg"] == old["setmaxnreg"] and new["shared_kb"] <= 227, (new, old)
    assert 0 <= new["spill_bytes"] <= 16 < old["spill_bytes"], (new, old)   # Triton 3.9: 8 and 100 bytes; 3.6: 0 and 516


def test_range_desc_argument():
    "mla_decode_gluon_planned's `desc` (the 'range' kernel's descriptor placement, for A/B timing): a bad value is one clear error."
    from infinitecontext.kernels_gluon import mla_decode_gluon_planned
    q, kv, bt, sl = _inputs([70, 200], 16, 1)
    with pytest.raises(ValueError, match="desc must be 0, 1 or 2"):
        mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, impl="model", desc=3)


# --- g128m ---
# The per-tile softmax switches of the 128-head kernel: the mask only on a tile that needs it (mask_last, the default rule
# where the query rows fill the tile), one row bound, P from packed bf16 exp2.
G128M = ["the default", "12:20 default (mask on every tile)", "default, mask on the last tile", "default, mask as a row bound",
         "default, last-tile mask + folded scale", "default, packed bf16 exp2", "default, last-tile mask + packed exp2 + folded scale"]


def test_mask_rule_and_errors():
    from infinitecontext.kernels_gluon import _mask_rule
    assert [_mask_rule(None, m) for m in (1, 16, 63, 64, 128, 256)] == [0, 0, 0, 1, 1, 1]   # full 64-row tiles only
    assert [_mask_rule(v, 16) for v in (0, 1, 2, True, False)] == [0, 1, 2, 1, 0]          # a given value is kept
    q, kv, bt, sl = _inputs([300, 129], 128, 1)
    with pytest.raises(ValueError, match="mask_last"):
        mla_decode_gluon(q, kv, bt, sl, 192 ** -0.5, mask_last=3)
    o, l = mla_decode_gluon(q, kv, bt, sl, 192 ** -0.5, mask_last=2, impl="model")        # the model takes every value
    e = compare(o, l, *mla_decode_ref(q, kv, bt, sl, 192 ** -0.5))
    assert e["cos"] > 0.9999 and e["lse"] < 1e-3, e


@pytest.mark.skipif(not HOPPER, reason="the Gluon kernel needs an sm_90 GPU")
@pytest.mark.parametrize("variant", G128M)
@pytest.mark.parametrize("lens,h,s_q,splits", CASES + [([3000, 130, 777], 128, 1, None), ([4096, 1300], 128, 2, 1)])
def test_g128m_variants_on_gpu(lens, h, s_q, splits, variant):
    _variant_matches_oracle(lens, h, s_q, splits, variant)


# --- integrator: paired samples ---
def test_paired_summary_cancels_a_common_drift_and_reports_the_goal_share():
    from infinitecontext.kernels_gluon import paired_summary
    drift = [0.9, 1.2, 1.0, 1.1, 0.95]
    sm = paired_summary([0.26 * d / (0.30 * d) for d in drift], goal=0.85)
    assert sm["n"] == 5 and abs(sm["median"] - 0.26 / 0.30) < 1e-12 and abs(sm["min"] - sm["median"]) < 1e-12
    assert sm["share_at_goal"] == 1.0                                  # 0.867 >= 0.85 in every group
    sm = paired_summary([0.80, 0.84, 0.86, 0.90, 0.95], goal=0.85)
    assert sm["median"] == 0.86 and sm["min"] == 0.80 and sm["p10"] == 0.80 and sm["p90"] == 0.95 and sm["share_at_goal"] == 0.6
    with pytest.raises(ValueError, match="at least one ratio"): paired_summary([])


def test_bench_paired_rejects_unknown_variants_before_touching_the_gpu():
    from infinitecontext.kernels_gluon import bench_paired
    with pytest.raises(ValueError, match="GLUON_VARIANTS"): bench_paired(variants=("no such variant",))
    with pytest.raises(ValueError, match="groups >= 1"): bench_paired(groups=0)
    from infinitecontext.kernels_gluon import paired_times
    with pytest.raises(ValueError, match="needs providers"): paired_times({})

# --- rangepdl ---
# trimming what a segment of the 'range' plan costs: a minimum piece (fewer cut sequences), PDL for the combine, whole sequences direct
@pytest.mark.parametrize("min_tiles", [2, 4, 8])
def test_range_min_tiles_plan(min_tiles):
    "min_tiles: the plan's invariants hold, no cut sequence keeps an end piece shorter than min_tiles, fewer segments; 0 is today's plan."
    from infinitecontext.kernels_fp8 import _bench_shape
    from infinitecontext.kernels_gluon import gluon_plan
    for lens, programs in ((_bench_shape(("ragged", 48, 16))[1], 132), ([16384, 512, 9000, 65, 64, 3000], 5), ([70, 200, 64, 1], 3)):
        base, plan = gluon_plan(lens, 16, 1, "cpu", "range", programs=programs), gluon_plan(lens, 16, 1, "cpu", "range", programs=programs, min_tiles=min_tiles)
        assert torch.equal(base.table, gluon_plan(lens, 16, 1, "cpu", "range", programs=programs, min_tiles=0).table)
        _check_plan_invariants(plan, lens)
        table, pp, sp = plan.table.tolist(), plan.prog_ptr.tolist(), plan.seq_ptr.tolist()
        assert pp[0] == 0 and pp[-1] == len(table) and all(a < z for a, z in zip(pp, pp[1:])) and len(pp) - 1 <= programs
        assert [(s, t0) for s, t0, *_ in table] == sorted((s, t0) for s, t0, *_ in table), "the line in order"
        for i in range(len(lens)):
            if sp[i + 1] - sp[i] > 1:                                 # a cut sequence: no short piece at either end
                n = [-(-(end - t0 * 64) // 64) for s, t0, end, _ in table if s == i]
                assert n[0] >= min_tiles and n[-1] >= min_tiles, (i, n)
        assert plan.table.shape[0] <= base.table.shape[0]
    assert gluon_plan(_bench_shape(("ragged", 48, 16))[1], 16, 1, "cpu", "range", programs=132, min_tiles=4).table.shape[0] < 176


def test_range_min_tiles_model_matches_oracle():
    "The multi-segment model (barrier phases asserted inside) on min_tiles plans against the oracle, NaN slots, shuffled pages."
    from infinitecontext.kernels_gluon import gluon_plan, mla_decode_gluon_planned
    torch.set_num_threads(1)
    for lens, h, s_q in (([70, 200, 64, 1], 16, 1), ([129, 500, 70, 300], 16, 2)):
        q, kv, bt, sl = _inputs(lens, h, s_q)
        ref = mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)
        plan = gluon_plan(sl, h, s_q, "cpu", "range", programs=3, min_tiles=2)
        e = compare(*mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan, pdl=1, whole=True), *ref)
        assert e["cos"] > 0.9999 and e["lse"] < 1e-3, e


def test_range_trim_arguments():
    "pdl, whole and min_tiles: a bad value is one clear error."
    from infinitecontext.kernels_gluon import gluon_plan, mla_decode_gluon_planned
    q, kv, bt, sl = _inputs([70, 200], 16, 1)
    with pytest.raises(ValueError, match="pdl must be None"): mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, impl="model", pdl=3)
    with pytest.raises(ValueError, match="pdl must be None"): mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, impl="model", pdl=True)
    with pytest.raises(ValueError, match="whole must be True or False"): mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, impl="model", whole=1)
    with pytest.raises(ValueError, match="min_tiles must be an int"): gluon_plan([70, 200], 16, 1, "cpu", "range", min_tiles=-1)


@pytest.mark.skipif(not HOPPER, reason="the Gluon kernel needs an sm_90 GPU")
@pytest.mark.parametrize("lens,h,s_q", RAGGED + [([3000, 130, 777], 128, 1), ([64, 16384, 513, 9000, 1, 4097], 16, 1)])
def test_range_trims_on_gpu(lens, h, s_q):
    "PDL (trigger at the start or the end; the default: at the start at <= 64 query rows) and the plain launch give bit-identical outputs; whole sequences written directly and min_tiles plans match the oracle."
    from infinitecontext.kernels_gluon import gluon_plan, mla_decode_gluon_planned
    q, kv, bt, sl = _inputs(lens, h, s_q, "cuda")
    ref = mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)
    for programs in (None, 2, 5):
        plan = gluon_plan(sl, h, s_q, "cuda", "range", programs=programs)
        o, l = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan)
        for pdl in (0, 1, 2):                                         # the default (None) is 1 or 2 by the shape
            o2, l2 = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=plan, pdl=pdl)
            assert torch.equal(o, o2) and torch.equal(l, l2), pdl
        for kw, p in ((dict(whole=True), plan), (dict(whole=True, pdl=1), plan),
                      ({}, gluon_plan(sl, h, s_q, "cuda", "range", programs=programs, min_tiles=4))):
            o3, l3 = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=p, **kw)
            assert not o3.isnan().any() and not l3.isnan().any()
            e = compare(o3, l3, *ref)
            assert e["cos"] > 0.9999 and e["lse"] < 1e-2, (programs, kw, e)


# --- rng3 ---
def _covers(plan, lens):
    "Every token of every sequence in exactly one segment of the plan."
    segs = sorted((i, t0 * 64, end) for i, t0, end, _ in plan.table.tolist())
    for i, n in enumerate(lens):
        mine = [s for s in segs if s[0] == i]
        assert mine[0][1] == 0 and mine[-1][2] == n and all(a[2] == b[1] for a, b in zip(mine, mine[1:])), (i, mine)


def test_range_default_overhead_and_order():
    "'range' cuts the line with c = 0 by default (lpt keeps 4); order='longest' puts the longest sequence first; both plans cover every token once."
    from infinitecontext.kernels_fp8 import _bench_shape
    from infinitecontext.kernels_gluon import gluon_plan
    lens = _bench_shape(("ragged", 48, 16))[1]
    base = gluon_plan(lens, 16, 1, "cpu", "range", programs=132)
    assert torch.equal(base.table, gluon_plan(lens, 16, 1, "cpu", "range", programs=132, overhead_tiles=0).table)
    assert not torch.equal(base.table, gluon_plan(lens, 16, 1, "cpu", "range", programs=132, overhead_tiles=4).table)
    assert torch.equal(gluon_plan(lens, 16, 1, "cpu").table, gluon_plan(lens, 16, 1, "cpu", overhead_tiles=4).table)
    longest = gluon_plan(lens, 16, 1, "cpu", "range", programs=132, order="longest")
    assert longest.table[0, 0].item() == max(range(len(lens)), key=lambda i: (lens[i], -i))
    for p in (base, longest): _covers(p, lens)
    with pytest.raises(ValueError, match="order must be 'given' or 'longest'"): gluon_plan(lens, 16, 1, "cpu", "range", order="short")
    with pytest.raises(ValueError, match="overhead_tiles must be a number >= 0"): gluon_plan(lens, 16, 1, "cpu", "range", overhead_tiles=-1)


@pytest.mark.parametrize("lens,h,s_q", [([70, 200, 64, 1, 900], 16, 1), ([300, 129, 700], 128, 1), ([100, 400, 1300, 64], 16, 2)])
def test_range_longest_first_model_matches_oracle(lens, h, s_q):
    torch.set_num_threads(1)
    from infinitecontext.kernels_gluon import gluon_plan, mla_decode_gluon_planned
    q, kv, bt, sl = _inputs(lens, h, s_q)
    ref = mla_decode_ref(q.float(), kv.float(), bt, sl, 192 ** -0.5)
    for programs in (1, 2, 3):
        plan = gluon_plan(sl, h, s_q, "cpu", "range", programs=programs, order="longest")
        e = compare(*mla_decode_gluon_planned(q.float(), kv.float(), bt, sl, 192 ** -0.5, plan=plan), *ref)
        assert e["cos"] > 0.9999 and e["lse"] < 1e-3, (programs, e)


def test_range_combine_and_bench_arguments():
    "combine_warps / combine_block and bench_range_paired: a bad value is one clear error."
    from infinitecontext.kernels_gluon import bench_range_paired, mla_decode_gluon_planned
    q, kv, bt, sl = _inputs([70, 200], 16, 1)
    with pytest.raises(ValueError, match="combine_warps must be"): mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, impl="model", combine_warps=3)
    with pytest.raises(ValueError, match="combine_warps must be"): mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, impl="model", combine_block=12)
    with pytest.raises(ValueError, match="top >= 0"): bench_range_paired(top=-1)
    with pytest.raises(ValueError, match="needs variants"): bench_range_paired(variants={})


@pytest.mark.skipif(not HOPPER, reason="the Gluon kernel needs an sm_90 GPU")
@pytest.mark.parametrize("lens,h,s_q", [([70, 200, 64, 1], 16, 1), ([3000, 130, 777], 128, 1), ([64, 16384, 513, 9000, 1, 4097], 16, 1), ([100, 4000], 16, 2)])
def test_range_paired_variants_on_gpu(lens, h, s_q):
    "RANGE_PAIRED's launches (c, program counts, the line's order, the late trigger, the lighter combine) against the oracle."
    from infinitecontext.kernels_gluon import RANGE_PAIRED, _split_kw, gluon_plan, mla_decode_gluon_planned
    q, kv, bt, sl = _inputs(lens, h, s_q, "cuda")
    ref = mla_decode_ref(q, kv, bt, sl, 192 ** -0.5)
    for name, kw in RANGE_PAIRED.items():
        pk, ck = _split_kw(kw)
        o, l = mla_decode_gluon_planned(q, kv, bt, sl, 192 ** -0.5, plan=gluon_plan(sl, h, s_q, "cuda", **{"programs": 5, **pk}), **ck)
        e = compare(o, l, *ref)
        assert e["cos"] > 0.9999 and e["lse"] < 1e-2, (name, e)


def test_bench_range_paired_clear_errors():
    from infinitecontext.kernels_gluon import bench_range_paired
    for kw, msg in ((dict(groups=0), "groups >= 1"), (dict(rep=0), "rep >= 1"), (dict(top=-1), "top >= 0"), (dict(variants={}), "needs variants")):
        with pytest.raises(ValueError, match=msg): bench_range_paired(**kw)
    with pytest.raises(RuntimeError, match="build it"): bench_range_paired(device="cpu")

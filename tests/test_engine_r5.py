"""06a: the host side of a planned decode step (session 8, route5) and bf16's choice between 03's splits and 03b's
token-balanced kernel.

On CPU: `fast_plan` / `plan_arrays` equal the reference builders (`fp8g_plan`, `mla_decode_plan` for FP8 and bf16)
segment for segment on random ragged batches; `fill_plan_fast` leaves a graph's buffers as `fill_plan` does where the
kernels read them, one buffer with views, its host twin, and the same errors; the vectorised rule equals the old
program-at-a-time loop; `bf16_decode_schedule` picks as 03b's stored times say and fails clearly on bad input; the engine
builds a bf16 plan only where the route and the rule allow, and a bf16 step with the plan runs 03b's kernel.
"""
import heapq
import os
import random
import types

import pytest
import torch

os.environ.setdefault("TRITON_INTERPRET", "0" if torch.cuda.is_available() else "1")
import infinitecontext.engine as E
from infinitecontext.engine import (FP8_SCHEDULE_COST, bf16_decode_schedule, bf16_schedule_cost, fast_plan, fill_plan,
                                    fill_plan_fast, fp8_schedule_cost, plan_arrays, plan_buffers, plan_spec)
from infinitecontext.kernels_fp8 import _bench_shape, mla_decode_plan
from infinitecontext.kernels_fp8_gluon import _fp8g_shape, _fp8g_splits_for, fp8g_plan

torch.set_num_threads(1)
REF = {"gluon": lambda L, h: fp8g_plan(L, h, 1, "cpu"), "triton": lambda L, h: mla_decode_plan(L, h, 1, "cpu", fp8=True),
       "bf16": lambda L, h: mla_decode_plan(L, h, 1, "cpu")}


def batches(n, seed):
    rng = random.Random(seed)
    for _ in range(n):
        b, top = rng.choice([1, 2, 5, 48, 131, 256]), rng.choice([1, 64, 65, 900, 9000, 300_000])
        yield [rng.randint(1, top) for _ in range(b)], rng.choice([1, 16, 64, 128])


@pytest.mark.parametrize("route", list(REF))
def test_fast_plan_equals_reference(route):
    for lens, h in batches(60, hash(route) % 1000):
        p, q = REF[route](lens, h), fast_plan(route, lens, h, "cpu")
        for k in ("prog_ptr", "segs", "seq_ptr"):
            assert getattr(q, k).dtype == torch.int32 and torch.equal(getattr(p, k), getattr(q, k)), (route, k, lens, h)
        assert (p.n_programs, p.max_seqlen, p.n_split, p.cfg) == (q.n_programs, q.max_seqlen, q.n_split, q.cfg)


@pytest.mark.parametrize("route", list(REF))
def test_fill_plan_fast_equals_fill_plan(route):
    for lens, h in batches(25, 7):
        cfg, _, programs = plan_spec(route, h, 1, "cpu")
        cap = 4 * programs if route == "triton" else programs
        a, b = plan_buffers(len(lens), cap, cfg, 1 << 20, "cpu"), plan_buffers(len(lens), cap, cfg, 1 << 20, "cpu")
        b.host_np[:] = -7; b.flat.fill_(-7)                     # stale values: only what the kernels read must match
        p = REF[route](lens, h)
        fill_plan(a, p); fill_plan_fast(b, route, lens, h)
        n_s = p.segs.shape[0]
        assert torch.equal(a.prog_ptr, b.prog_ptr) and torch.equal(a.seq_ptr, b.seq_ptr) and torch.equal(a.segs[:n_s], b.segs[:n_s])
        assert a.n_split == b.n_split
        assert b.prog_ptr.data_ptr() == b.flat.data_ptr() and b.seq_ptr.data_ptr() + 4 * b.seq_ptr.numel() == b.flat.data_ptr() + 4 * b.flat.numel()


def test_fill_plan_fast_errors():
    cfg, _, P = plan_spec("gluon", 16, 1, "cpu")
    buf = plan_buffers(4, P, cfg, 1 << 20, "cpu")
    with pytest.raises(ValueError, match="padded lengths"): fill_plan_fast(buf, "gluon", [5, 6, 7], 16)
    with pytest.raises(ValueError, match="padded lengths"): fill_plan_fast(buf, "triton", [5, 6, 7, 8], 16)   # 32-token tiles
    with pytest.raises(RuntimeError, match="exceeds the graph's buffers"):
        fill_plan_fast(plan_buffers(4, 2, cfg, 1 << 20, "cpu"), "gluon", [9000, 9000, 9000, 9000], 16)
    with pytest.raises(ValueError, match="lengths >= 1"): fill_plan_fast(buf, "gluon", [5, 0, 1, 1], 16)
    with pytest.raises(ValueError, match="route must be"): plan_spec("flash", 16, 1, "cpu")


def test_plan_arrays_walks_every_token_once():
    lens = [16000, 300, 64, 5000, 1000, 130, 2500, 1]
    prog_ptr, segs, seq_ptr, n_split = plan_arrays(lens, 64, 13)
    cover = {}
    for p in range(len(prog_ptr) - 1):
        for s, a, e, d in segs[prog_ptr[p]:prog_ptr[p + 1]].tolist():
            for t in range(a, e): cover[s, t] = cover.get((s, t), 0) + 1
    assert cover == {(s, t): 1 for s, n in enumerate(lens) for t in range(n)}
    assert n_split == sum(c > 1 for c in (seq_ptr[1:] - seq_ptr[:-1]).tolist())


def _fp8_cost_loop(lens, h, s_q=1, max_seqlen=None, sms=132, c=FP8_SCHEDULE_COST):
    "The rule's cost as session 7 computed it (one program at a time)."
    b, n_hb = len(lens), -(-(s_q * h) // _fp8g_shape(s_q, h)[0])
    S = _fp8g_splits_for(b, s_q, h, max(1, -(-(max_seqlen or max(lens)) // 256)), sms)
    free = [0.0] * sms
    for s in range(S):
        for n in lens:
            t = -(-n // 64); per = -(-t // S); tiles = max(0, min(t, (s + 1) * per) - s * per)
            for _ in range(n_hb): heapq.heapreplace(free, free[0] + c["program_us"] + c["tile_us"] * tiles)
    return c["launch_us"] + (c["combine_us"] if S > 1 else 0.0) + max(free)


def test_vectorised_rule_equals_the_loop():
    for lens, h in batches(40, 3):
        for ms, sms in ((None, 132), (16448, 132), (131072, 78)):
            assert fp8_schedule_cost(lens, h, 1, ms, sms)["splits_us"] == _fp8_cost_loop(lens, h, 1, ms, sms)
        assert fp8_schedule_cost(lens, h, 2)["splits_us"] == _fp8_cost_loop(lens, h, 2)


def test_bf16_rule_on_the_stored_shapes():
    "03b's stored times (ms, one H100): 03 0.2298 / plan 0.2375 at 64 x 8k, 03 0.2279 / plan 0.1978 on the ragged batch."
    assert bf16_decode_schedule(_bench_shape((64, 8192, 16), 64)[1], 16) == "splits"
    assert bf16_decode_schedule(_bench_shape(("ragged", 48, 16), 64)[1], 16) == "plan"
    c = bf16_schedule_cost([2048] * 132, 16)
    assert c["num_splits"] == 2 and c["ratio"] < E.BF16_PLAN_RATIO
    assert bf16_decode_schedule([100_000] + [512] * 31, 16) == "plan"                 # one long request among short ones
    assert bf16_decode_schedule([64] * 256, 16) == "splits"
    # the graph's S comes from max_model_len: the rule sees the graph's grid
    assert bf16_schedule_cost([1000] * 8, 16, max_seqlen=16448)["num_splits"] > bf16_schedule_cost([1000] * 8, 16)["num_splits"]


@pytest.mark.parametrize("args,msg", [(([], 16), "non-empty"), (([5, 0], 16), "lengths >= 1"), (([5], 0), "h >= 1"),
                                      (([5], 16, 1, None, 0), "sms >= 1")])
def test_bf16_rule_bad_input(args, msg):
    with pytest.raises(ValueError, match=msg): bf16_decode_schedule(*args)


def test_bf16_route():
    assert E.bf16_decode_route("cuda", torch.bfloat16, 512, 64) and E.bf16_decode_route("cuda", torch.float16, 512, 64)
    assert not E.bf16_decode_route("cpu", torch.bfloat16, 512, 64)
    assert not E.bf16_decode_route("cuda", torch.float32, 512, 64) and not E.bf16_decode_route("cuda", torch.bfloat16, 32, 16)


def test_bf16_decode_plan_follows_route_and_rule(monkeypatch):
    kv = torch.zeros(2, 4, 64, 576, dtype=torch.bfloat16)
    attn = types.SimpleNamespace(h=16, r=512, d_rope=64)
    batch = lambda lens: types.SimpleNamespace(dec_tables=torch.zeros(len(lens), 2, dtype=torch.int32), dec_lens=lens,
                                               dec_seqlens=None, max_seqlen=max(lens))
    ragged, uniform = _bench_shape(("ragged", 48, 16), 64)[1], [8192] * 64
    assert E._decode_plan(kv[0], batch(ragged), attn, torch.bfloat16) is None          # CPU: no route, 03's oracle
    monkeypatch.setattr(E, "bf16_decode_route", lambda *a, **k: True)
    monkeypatch.setattr(E, "_num_sms", lambda device: 132)
    p = E._decode_plan(kv[0], batch(ragged), attn, torch.bfloat16)
    q = fast_plan("bf16", ragged, 16, "cpu")
    assert p is not None and torch.equal(p.segs, q.segs) and p.cfg["BLOCK_N"] == 64
    assert E._decode_plan(kv[0], batch(uniform), attn, torch.bfloat16) is None         # 03's splits win on a uniform batch


@pytest.mark.skipif(not torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET") != "1",
                    reason="Triton imported without the interpreter (import order): run this file alone")
def test_bf16_planned_latent_decode_on_cpu():
    "A bf16 step with a plan runs 03b's balanced kernel (the interpreter on CPU), and it matches 03's oracle."
    from infinitecontext.kernels import make_paged_cache, mla_decode_ref
    lens = [700, 130, 5, 64]
    kv, bt, sl = make_paged_cache(lens, 64, 576, dtype=torch.bfloat16)
    q = torch.randn(4, 1, 16, 576, generator=torch.Generator().manual_seed(1)).bfloat16()
    ref = mla_decode_ref(q.float(), kv.float(), bt, sl, 0.07, 512)[0]
    out = E._latent_decode(q, kv, bt, sl, 0.07, 512, 700, fast_plan("bf16", lens, 16, "cpu"))
    assert ((out.float() - ref).norm() / ref.norm()).item() < 2e-2

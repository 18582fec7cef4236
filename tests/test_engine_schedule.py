"""06a: which schedule 03e's FP8 kernel runs a decode step with (`fp8_decode_schedule`), and the fixed plan buffers a
CUDA graph replays it from.

On CPU: the cost model's decisions on the five shapes of 03e's stored table (fc000018) and on serving shapes; bad input
is one clear error; `plan_buffers`/`fill_plan` keep their invariants (a fixed grid, programs past the plan's last empty,
every token walked once, more segments than sequences so 03e's launcher always takes its partials path); the engine's
per-step plan follows the route and the rule. On an H100: a ragged FP8 step through the engine with the plan, with the
split grid and by the oracle agree, eagerly and replayed from CUDA graphs, and the rule picks the graph it replays.
"""
import os
import types
import pytest
import torch

os.environ.setdefault("TRITON_INTERPRET", "0" if torch.cuda.is_available() else "1")
import infinitecontext.engine as E
from infinitecontext.engine import (FP8_SCHEDULE_COST, LLMEngine, StepBatch, fill_plan, fp8_decode_schedule, fp8_schedule_cost,
                                    plan_buffers)
from infinitecontext.kernels_fp8 import _bench_shape
from infinitecontext.kernels_fp8_gluon import fp8g_plan
from infinitecontext.mla import tiny
from infinitecontext.model import InfiniteContextForCausalLM

torch.set_num_threads(1)

# 03e's stored table (nbs/03e_decode_fp8_gluon.ipynb, cell fc000018, one H100, 12:04 UTC): ms, default and schedule='plan'
STORED = {(64, 8192, 16): (0.1523, 0.1583), (128, 8192, 16): (0.2752, 0.2871), (1, 1 << 20, 16): (0.3012, 0.2803),
          (8, 65536, 16): (0.1596, 0.1523), ("ragged", 48, 16): (0.1993, 0.1316)}


@pytest.mark.parametrize("key", list(STORED))
def test_rule_picks_the_faster_schedule_on_the_stored_shapes(key):
    lens = _bench_shape(key, 64)[1]
    splits, plan = STORED[key]
    c = fp8_schedule_cost(lens, 16)
    assert abs(c["splits_us"] / (splits * 1e3) - 1) < 0.04 and abs(c["plan_us"] / (plan * 1e3) - 1) < 0.04, c
    assert fp8_decode_schedule(lens, 16) == ("plan" if plan < splits else "splits")


def test_plan_constant_is_the_fit():
    "c_plan: the mean of the stored plan times less the payload's tiles."
    fit = sum(pl * 1e3 - FP8_SCHEDULE_COST["tile_us"] * fp8_schedule_cost(_bench_shape(k, 64)[1], 16)["payload_tiles"]
              for k, (_, pl) in STORED.items()) / len(STORED)
    assert abs(fit - FP8_SCHEDULE_COST["plan_us"]) < 0.5, fit


def test_rule_on_serving_shapes():
    assert fp8_decode_schedule([100_000] + [500] * 31, 16) == "plan"          # one long request among short ones
    assert fp8_decode_schedule([2000] * 132, 16) == "splits"                  # uniform, one sequence an SM
    assert fp8_decode_schedule([64] * 256, 16) == "splits"                    # short: the plan's fixed cost dominates
    # a graph's split grid is sized from max_model_len: more splits, and the rule sees them
    assert fp8_schedule_cost([1000] * 8, 16, max_seqlen=16448)["num_splits"] > fp8_schedule_cost([1000] * 8, 16)["num_splits"]
    c = fp8_schedule_cost([3000, 130], 64, s_q=2)                              # 128 query rows: 4 head blocks of 32
    assert c["programs"] == 2 * c["num_splits"] * 4


@pytest.mark.parametrize("args,msg", [(([], 16), "non-empty"), (([5, 0], 16), "lengths >= 1"), (([5], 0), "h >= 1"),
                                      (([5], 16, 1, None, 0), "sms >= 1")])
def test_rule_bad_input(args, msg):
    with pytest.raises(ValueError, match=msg): fp8_decode_schedule(*args)


def walk(buf):
    "Each sequence's token coverage from walking every program's segment range of the buffers, as the kernel does."
    ptr, segs = buf.prog_ptr.tolist(), buf.segs.tolist()
    b = buf.seq_ptr.numel() - 1
    cover = {}
    for p in range(buf.n_programs):
        for si in range(ptr[p], ptr[p + 1]):
            s, a, e, _ = segs[si]
            for t in range(a, e): cover[s, t] = cover.get((s, t), 0) + 1
    return cover, b


def test_plan_buffers_invariants():
    b, P = 8, 132
    lens_a = [16000, 300, 64, 5000, 1000, 130, 2500, 1]                      # a ragged step (7 sequences + a padding row)
    lens_b = [1000] * 7 + [1]                                                   # the next step: fewer segments
    cfg = fp8g_plan([1] * b, 16, 1, "cpu", programs=P).cfg
    buf = plan_buffers(b, P, cfg, 16448, "cpu")
    assert (buf.prog_ptr.shape, buf.segs.shape, buf.seq_ptr.shape, buf.n_programs) == ((P + 1,), (P + b, 4), (b + 1,), P)
    assert buf.segs.shape[0] > b                   # 03e's launcher: cut = n_seg > b, so a graph always has partials + combine
    for lens in (lens_a, lens_b):
        p = fp8g_plan(lens, 16, 1, "cpu", programs=P)
        fill_plan(buf, p)
        ptr = buf.prog_ptr.tolist()
        n_s = p.segs.shape[0]
        assert ptr == sorted(ptr) and ptr[p.n_programs:] == [n_s] * (P + 1 - p.n_programs)   # padded programs: empty
        assert buf.n_programs == P and buf.seq_ptr.tolist() == p.seq_ptr.tolist()
        cover, _ = walk(buf)
        want = {(s, t): 1 for s, n in enumerate(lens) for t in range(n)}
        assert cover == want                       # every token once; stale segments past n_s are never walked
        direct = buf.segs[:n_s, 3].bool()
        assert direct.tolist() == (buf.seq_ptr.diff() == 1)[buf.segs[:n_s, 0].long()].tolist()
    with pytest.raises(RuntimeError, match="exceeds the graph's buffers"):
        fill_plan(plan_buffers(b, 4, cfg, 16448, "cpu"), fp8g_plan(lens_a, 16, 1, "cpu", programs=P))
    with pytest.raises(ValueError, match="padded lengths"):
        fill_plan(buf, fp8g_plan(lens_a[:5], 16, 1, "cpu", programs=P))
    with pytest.raises(ValueError, match="b >= 1"):
        plan_buffers(0, P, cfg, 16448, "cpu")


def test_step_plan_follows_route_and_rule(monkeypatch):
    model = InfiniteContextForCausalLM(tiny(initializer_range=0.1)).eval()
    monkeypatch.setattr(E, "fp8_decode_route", lambda *a, **k: "gluon")
    monkeypatch.setattr(E, "_num_sms", lambda device: 132)                     # as on an H100
    eng = LLMEngine(model, max_model_len=128, kv_cache_dtype="fp8")
    attn = model.model.layers[0].self_attn
    ragged = [100_000] + [500] * 31
    batch = lambda lens: types.SimpleNamespace(dec_tables=torch.zeros(len(lens), 2, dtype=torch.int32), dec_lens=lens,
                                               dec_seqlens=None, max_seqlen=max(lens))
    plan = E._decode_plan(eng.kv_cache, batch(ragged), attn, torch.bfloat16)
    assert plan is not None and plan.cfg["BLOCK_N"] == 64 and plan.seq_ptr.numel() == 33      # 03e's plan
    assert E._decode_plan(eng.kv_cache, batch([2000] * 132), attn, torch.bfloat16) is None    # the split grid
    monkeypatch.setattr(E, "fp8_decode_route", lambda *a, **k: "triton")
    assert E._decode_plan(eng.kv_cache, batch([2000] * 132), attn, torch.bfloat16).cfg["BLOCK_N"] != 64   # 03b's plan


def test_gluon_route_with_plan_on_cpu(monkeypatch):
    "On CPU 03e's call runs its torch model: the planned call gives the split grid's answer (the plumbing, not the kernel)."
    from infinitecontext.kernels_fp8 import make_paged_cache_fp8
    kv, bt, sl = make_paged_cache_fp8([700, 130, 5, 64], 64, 512, 64)
    q = torch.randn(4, 1, 16, 576, generator=torch.Generator().manual_seed(1)).bfloat16()
    monkeypatch.setattr(E, "fp8_decode_route", lambda *a, **k: "gluon")
    a = E._latent_decode(q, kv, bt, sl, 0.07, 512, 700)
    b = E._latent_decode(q, kv, bt, sl, 0.07, 512, 700, fp8g_plan([700, 130, 5, 64], 16, 1, "cpu"))
    assert torch.equal(a, b)


def planned_step_check(device="cuda", graphs=True, kv_cache_dtype="fp8"):
    """A tiny model with ic_1b's 512 + 64 latent (16 heads, bf16) as an FP8 engine on pages of 64, a random cache and a
    ragged step of 7 sequences (a graph bucket of 8): the step eagerly with the plan, with the split grid and by the
    oracle, and (graphs) replayed from both captured graphs, the rule's pick through `_run_graph`. Returns relative errors."""
    torch.manual_seed(0)
    cfg = tiny(kv_lora_rank=512, qk_rope_head_dim=64, num_attention_heads=16, initializer_range=0.1, max_position_embeddings=16384 + 64)
    model = InfiniteContextForCausalLM(cfg).to(device, torch.bfloat16).eval()
    lens, P, b = [16000, 300, 64, 5000, 1000, 130, 2500], 64, 8
    nb = [-(-n // P) for n in lens]
    fp8 = kv_cache_dtype == "fp8"
    eng = LLMEngine(model, max_model_len=16384 + P, kv_cache_dtype=kv_cache_dtype, num_blocks=2 + sum(nb) + b, max_num_seqs=b, page_size=P)
    assert eng.fp8_route == "gluon" if fp8 else eng.bf16_plan, (eng.fp8_route, eng.bf16_plan)
    rule = E.fp8_decode_schedule if fp8 else E.bf16_decode_schedule   # bf16: 03b's balanced kernel against 03's splits
    g = torch.Generator(device=device).manual_seed(0)
    n_rows = eng.kv_cache.shape[1] * P
    for kv in eng.kv_cache:
        E._store_rows(kv, torch.arange(n_rows, device=device), torch.randn(n_rows, eng.width, device=device, generator=g,
                                                                          dtype=torch.bfloat16), cfg.kv_lora_rank)
    tables, first = torch.zeros(len(lens), eng.max_blocks, dtype=torch.int32), 1
    for i, k in enumerate(nb): tables[i, :k] = torch.arange(first, first + k); first += k
    tables = tables.to(device)
    pos = torch.tensor(lens, device=device) - 1
    batch = StepBatch(torch.randint(0, cfg.vocab_size, (len(lens),), device=device), pos,
                      tables.long().gather(1, (pos // P)[:, None])[:, 0] * P + pos % P, tables,
                      torch.tensor(lens, dtype=torch.int32, device=device), [], torch.arange(len(lens), device=device), max(lens), lens)
    rel = lambda a, b: ((a.float() - b.float()).norm() / b.float().norm()).item()
    kv0 = eng.kv_cache.clone()                        # each step writes its new rows: every run starts from the same cache
    def run(fn):
        eng.kv_cache.copy_(kv0); return fn().float().clone()
    out = dict(rule_eager=rule(lens, 16, 1, max(lens), E._num_sms(device)))
    plan = E.fp8g_plan(lens, 16, 1, device) if fp8 else E.fast_plan("bf16", lens, 16, device)
    lp = run(lambda: E.decode_step(model, eng.kv_cache, batch, plan=plan))
    ls = run(lambda: E.decode_step(model, eng.kv_cache, batch, plan=E._SPLITS))
    with pytest.MonkeyPatch.context() as mp:          # the oracle: 03b's dequantising reference, on the same bytes
        mp.setattr(E, "fp8_decode_route", lambda *a, **k: "ref")
        mp.setattr(E, "bf16_decode_route", lambda *a, **k: False)                       # bf16: 03's oracle, no plan
        mla = E.mla_decode
        mp.setattr(E, "mla_decode", lambda *a, **k: mla(*a, **{**k, "impl": "ref"}))
        lo = run(lambda: E.decode_step(model, eng.kv_cache, batch))
    out.update(plan=str(plan), plan_vs_oracle=rel(lp, lo), splits_vs_oracle=rel(ls, lo), plan_vs_splits=rel(lp, ls))
    if graphs:
        eng.capture_cuda_graphs(buckets=(b,))
        out["rule_graph"] = rule(lens + [1], 16, 1, eng.max_model_len, E._num_sms(device))
        n0 = eng.stats["plan_graph_steps"]
        lg = run(lambda: eng._run_graph(batch))                                   # the rule's graph
        out["graph_took_plan"] = eng.stats["plan_graph_steps"] - n0
        eng._fill_plan(eng._plans[b], lens + [1])
        gp = run(lambda: (eng.plan_graphs[b][0].replay(), eng.plan_graphs[b][1])[1][:len(lens)])
        gs = run(lambda: (eng.graphs[b][0].replay(), eng.graphs[b][1])[1][:len(lens)])
        out.update(graph_rule_vs_eager_plan=rel(lg, lp), graph_plan_vs_eager_plan=rel(gp, lp), graph_splits_vs_eager_splits=rel(gs, ls),
                   graph_plan_vs_oracle=rel(gp, lo), graph_splits_vs_oracle=rel(gs, lo))
        uni = [1000] * b                                                          # uniform and short: the split graph
        ub = StepBatch(batch.input_ids[:1].repeat(b), torch.full((b,), 999, device=device), torch.arange(b, device=device) * 0 + P,
                       tables[:1].repeat(b, 1), torch.tensor(uni, dtype=torch.int32, device=device), [], torch.arange(b, device=device),
                       1000, uni)
        n0 = eng.stats["plan_graph_steps"]
        run(lambda: eng._run_graph(ub))
        out["uniform_graph_took_plan"] = eng.stats["plan_graph_steps"] - n0
        out["rule_uniform"] = rule(uni, 16, 1, eng.max_model_len, E._num_sms(device))
    return out


GPU = torch.cuda.is_available() and torch.cuda.get_device_capability()[0] == 9 and E.kernels_fp8_gluon.gluon is not None


@pytest.mark.skipif(not GPU, reason="03e's Gluon kernel: an sm_90 GPU and a Triton with Gluon")
def test_planned_step_on_gpu():
    r = planned_step_check("cuda", graphs=True)
    assert r["rule_eager"] == r["rule_graph"] == "plan" and r["graph_took_plan"] == 1, r
    assert r["rule_uniform"] == "splits" and r["uniform_graph_took_plan"] == 0, r
    for k in ("plan_vs_oracle", "splits_vs_oracle", "graph_plan_vs_oracle", "graph_splits_vs_oracle"): assert r[k] < 3e-2, r
    for k in ("graph_rule_vs_eager_plan", "graph_plan_vs_eager_plan", "graph_splits_vs_eager_splits"): assert r[k] < 1e-2, r


@pytest.mark.skipif(not GPU, reason="03e's Gluon kernel: an sm_90 GPU and a Triton with Gluon")
def test_planned_step_eager_on_gpu():
    "One planned decode step eagerly (what compute-sanitizer memcheck runs)."
    r = planned_step_check("cuda", graphs=False)
    assert r["plan_vs_oracle"] < 3e-2, r


@pytest.mark.skipif(not torch.cuda.is_available(), reason="03b's balanced kernel in the engine: a CUDA GPU")
def test_bf16_planned_step_on_gpu():
    "bf16: 03b's balanced plan, 03's splits and the oracle agree, eagerly and from both graphs; _run_graph follows the rule."
    r = planned_step_check("cuda", graphs=True, kv_cache_dtype="auto")
    assert r["rule_eager"] == r["rule_graph"] == "plan" and r["graph_took_plan"] == 1, r
    assert r["uniform_graph_took_plan"] == (r["rule_uniform"] == "plan"), r
    for k in ("plan_vs_oracle", "splits_vs_oracle", "graph_plan_vs_oracle", "graph_splits_vs_oracle"): assert r[k] < 3e-2, r
    for k in ("graph_rule_vs_eager_plan", "graph_plan_vs_eager_plan", "graph_splits_vs_eager_splits"): assert r[k] < 1e-2, r


@pytest.mark.skipif(not torch.cuda.is_available(), reason="03b's balanced kernel in the engine: a CUDA GPU")
def test_bf16_planned_step_eager_on_gpu():
    "One planned bf16 decode step eagerly (what compute-sanitizer memcheck runs)."
    r = planned_step_check("cuda", graphs=False, kv_cache_dtype="auto")
    assert r["plan_vs_oracle"] < 3e-2, r

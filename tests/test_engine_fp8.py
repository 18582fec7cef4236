"""06a engine with kv_cache_dtype="fp8" (03b's 656 B/token layout) on CPU.

The FP8 engine must give exactly the tokens of an fp32 engine whose cache holds quantised-then-dequantised rows
(the only difference FP8 makes is those rows); prefix sharing, preemption and n > 1 keep working; bad values say
what to change; the padded plan a CUDA graph replays equals the step's own plan (Triton interpreter on CPU);
`fp8_decode_route` picks 03e's Gluon kernel exactly where it applies, that path agrees with 03b's, and the engine's
page size and per-step plan follow the route; on an H100, an engine decodes through 03e's Gluon kernel and every such
call agrees with 03b's Triton kernel and the oracle on the same cache.
"""
import os
import types
import pytest
import torch

os.environ.setdefault("TRITON_INTERPRET", "0" if torch.cuda.is_available() else "1")
import infinitecontext.engine as E
from infinitecontext.engine import LLMEngine, SamplingParams, _cache_row_bytes
from infinitecontext.kernels import compare
from infinitecontext.kernels_fp8 import (DecodePlan, dequantize_latent, make_paged_cache_fp8, mla_decode_fp8,
                                         mla_decode_fp8_ref, mla_decode_plan, quantize_latent)
from infinitecontext.mla import ic_1b, tiny
from infinitecontext.model import InfiniteContextForCausalLM

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = InfiniteContextForCausalLM(tiny(initializer_range=0.1)).eval()
    g = torch.Generator().manual_seed(7)
    pre = torch.randint(0, 256, (13,), generator=g).tolist()
    prompts = [pre + torch.randint(0, 256, (n,), generator=g).tolist() for n in (2, 11, 0)]
    prompts += [torch.randint(0, 256, (n,), generator=g).tolist() for n in (1, 25, 6)]
    return model, prompts, [9, 4, 13, 6, 8, 11]


def qdq_store(kv, slots, rows, r):
    "The auto (fp32) cache, holding exactly what the FP8 cache will give back."
    t = E._fp8_tile(r)
    kv.view(-1, kv.shape[-1])[slots] = dequantize_latent(quantize_latent(rows, r, t), r, t, kv.dtype)


def run(model, prompts, new, **kw):
    eng = LLMEngine(model, max_model_len=48, **kw)
    seqs = eng.generate(prompts, [SamplingParams(max_tokens=n, ignore_eos=True) for n in new], arrivals=[0, 2, 2, 3, 5, 8])
    assert eng.alloc.num_free == eng.alloc.num_blocks - 1 and not eng.has_unfinished()
    return eng, seqs


@pytest.mark.parametrize("kw", [dict(chunked_prefill=False, prefix_caching=False, max_num_batched_tokens=64),
                                dict(max_num_batched_tokens=8, page_size=4),
                                dict(max_num_batched_tokens=8, page_size=4, prefill="naive"),
                                dict(num_blocks=9, page_size=4, max_num_batched_tokens=12)],
                         ids=["whole", "chunked+prefix", "naive-prefill", "preempt"])
def test_fp8_equals_quantised_rows_in_fp32(setup, kw, monkeypatch):
    model, prompts, new = setup
    eng8, s8 = run(model, prompts, new, kv_cache_dtype="fp8", **kw)
    assert eng8.kv_cache.dtype == torch.uint8 and eng8.kv_cache.shape[-1] == 32 + 4 + 2 * 8
    with monkeypatch.context() as mp:
        mp.setattr(E, "_store_rows", qdq_store)
        _, sq = run(model, prompts, new, **kw)
    assert [s.output_ids for s in s8] == [s.output_ids for s in sq]
    if "num_blocks" in kw: assert eng8.sched.num_preemptions > 0
    if kw.get("page_size") == 4 and "num_blocks" not in kw: assert sum(s.num_cached_prompt for s in s8) >= 12


def test_fp8_forks_share_prompt_blocks(setup):
    model, prompts, _ = setup
    eng = LLMEngine(model, max_model_len=48, kv_cache_dtype="fp8")
    seq = eng.add_request(prompts[4], SamplingParams(max_tokens=6, temperature=1.0, seed=3, n=3, ignore_eos=True))
    eng.step()
    assert len({b for s in [seq] + seq.children for b in s.block_table}) == 2 + 2   # 25 tokens: 1 shared full block + 3 partial ones
    while eng.has_unfinished(): eng.step()
    lone = LLMEngine(model, max_model_len=48, kv_cache_dtype="fp8").generate(
        [prompts[4]], SamplingParams(max_tokens=6, temperature=1.0, seed=5, ignore_eos=True))[0]
    assert seq.children[1].output_ids == lone.output_ids                            # sample i of seed s = a lone request of seed s + i


def test_fp8_capacity_and_bytes_per_token(setup):
    model = setup[0]
    auto, fp8 = LLMEngine(model, max_model_len=48), LLMEngine(model, max_model_len=48, kv_cache_dtype="fp8")
    assert (auto.cache_bytes_per_token, fp8.cache_bytes_per_token) == (2 * 40 * 4, 2 * 52)  # tiny: 2 layers, r 32, d_rope 8
    assert fp8.kv_cache.nbytes == fp8.alloc.num_blocks * fp8.block_bytes
    c = ic_1b()   # 20 layers x (512 + 64): bf16 1,152 B, FP8 512 + 4 x 4 + 64 x 2 = 656 B a layer
    bf16, f8 = (20 * _cache_row_bytes(c, d, torch.device("cpu"), torch.bfloat16) for d in ("auto", "fp8"))
    assert (bf16, f8) == (23_040, 13_120) and 1.75 < bf16 / f8 < 1.76


def test_bad_kv_cache_dtype_says_what_to_change(setup):
    model = setup[0]
    with pytest.raises(ValueError, match="kv_cache_dtype must be 'auto'.*or 'fp8'"):
        LLMEngine(model, max_model_len=48, kv_cache_dtype="int8")
    odd = InfiniteContextForCausalLM(tiny(kv_lora_rank=48)).eval()
    with pytest.raises(ValueError, match="kv_cache_dtype='fp8' cannot hold this model's latent.*use kv_cache_dtype='auto'"):
        LLMEngine(odd, max_model_len=48, kv_cache_dtype="fp8")
    with pytest.raises(SystemExit):   # argparse: one line naming the choices
        E.serve_cli(["some-dir", "--kv-cache-dtype", "fp16"])


@pytest.mark.skipif(not torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET") != "1",
                    reason="Triton imported without the interpreter (import order): run this file alone")
def test_graph_plan_buffers_equal_the_steps_plan():
    "The fixed-size plan a captured FP8 graph reads (padded segments, empty trailing programs) gives the kernel's own result."
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    lens, h, r, dr = [70, 1, 33], 4, 32, 8
    kv, bt, sl = make_paged_cache_fp8(lens, 16, r, dr, dev, tile=32)
    q = torch.randn(3, 1, h, r + dr, generator=torch.Generator().manual_seed(1)).bfloat16().to(dev)
    fake = types.SimpleNamespace(model=types.SimpleNamespace(config=types.SimpleNamespace(num_attention_heads=h)), device=torch.device(dev),
                                 fp8_route="triton", _plan_route=lambda: "triton")  # 03b's kernel: its plan
    own = mla_decode_plan(lens, h, 1, dev, fp8=True)
    cap = own.n_programs + 5                                                         # a bigger grid than the plan uses
    static = E.plan_buffers(3, cap, own.cfg, 128, dev)                               # one int32 buffer + its host twin
    LLMEngine._fill_plan(fake, static, lens)
    assert static.segs.shape[0] > len(lens)                                          # the combine kernel always runs
    o, l = mla_decode_fp8(q, kv, bt, sl, 0.2, r, plan=static, impl="triton", tile=32)
    o2, l2 = mla_decode_fp8(q, kv, bt, sl, 0.2, r, plan=own, impl="triton", tile=32)
    small = E.plan_buffers(3, 1, own.cfg, 128, dev)
    with pytest.raises(RuntimeError, match="cuda_graphs=False"): LLMEngine._fill_plan(fake, small, lens)
    ro, rl = mla_decode_fp8_ref(q, kv, bt, sl, 0.2, r, 32)
    assert torch.equal(o, o2) and torch.equal(l, l2)
    e = compare(o, l, ro, rl)
    assert e["cos"] > 0.9999 and e["rel"] < 1e-2, e


def test_ic_serve_passes_kv_cache_dtype(setup, tmp_path, monkeypatch, capsys):
    "`ic-serve --kv-cache-dtype fp8` builds an FP8 engine (uvicorn.run intercepted: no server is started)."
    uvicorn = pytest.importorskip("uvicorn")
    from infinitecontext.data import ByteTokenizer
    from infinitecontext.model import save_deepseek_v3
    d = save_deepseek_v3(setup[0], tmp_path / "tiny"); ByteTokenizer().save(d)
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(engine=app.state.engine))
    E.serve_cli([str(d), "--device", "cpu", "--max-model-len", "64", "--kv-cache-dtype", "fp8"])
    eng = seen["engine"]
    assert eng.kv_cache_dtype == "fp8" and eng.kv_cache.dtype == torch.uint8 and eng.cache_bytes_per_token == 104
    assert "(fp8: 104 B/token)" in capsys.readouterr().out


H100, A100, CUDA = (9, 0), (8, 0), torch.device("cuda")


@pytest.mark.parametrize("args,want", [
    ((CUDA, torch.bfloat16, 16, 512, 64, 64, 1, H100), "gluon"),    # ic_1b on an H100, pages of 64: 03e's kernel
    ((CUDA, torch.bfloat16, 16, 512, 64, 128, 2, H100), "gluon"),   # two query tokens, pages of 128
    ((CUDA, torch.bfloat16, 128, 512, 64, 64, 1, H100), "triton"),  # more than 64 heads
    ((CUDA, torch.bfloat16, 16, 512, 64, 16, 1, H100), "triton"),   # pages of 16: no whole 64-token tiles
    ((CUDA, torch.bfloat16, 16, 512, 64, 64, 1, A100), "triton"),   # not sm_90
    ((CUDA, torch.bfloat16, 16, 512, 64, 64, 3, H100), "triton"),   # three query tokens
    ((CUDA, torch.bfloat16, 16, 32, 8, 64, 1, H100), "triton"),     # the tiny model's 32 + 8 rows
    ((CUDA, torch.float32, 16, 512, 64, 64, 1, H100), "ref"),       # an fp32 model: the oracle
    (("cpu", torch.bfloat16, 16, 512, 64, 64), "ref")])
def test_fp8_decode_route(args, want):
    assert E.fp8_decode_route(*args) == want


def test_fp8_route_without_gluon_falls_back(monkeypatch):
    monkeypatch.setattr(E.kernels_fp8_gluon, "gluon", None)          # a Triton without the Gluon dialect
    assert E.fp8_decode_route(CUDA, torch.bfloat16, 16, 512, 64, 64, 1, H100) == "triton"


def test_gluon_route_agrees_with_03b(monkeypatch):
    "The engine's decode through 03e's function (its torch model on CPU) against 03b's path, on a shuffled ragged FP8 cache."
    g = torch.Generator().manual_seed(3)
    kv, bt, sl = make_paged_cache_fp8([70, 130, 5, 64], 64, 512, 64)
    for s_q in (1, 2):
        q = torch.randn(4, s_q, 16, 576, generator=g).bfloat16()
        ref = E._latent_decode(q, kv, bt, sl, 0.07, 512, 192)          # CPU: 03b's oracle
        monkeypatch.setattr(E, "fp8_decode_route", lambda *a, **k: "gluon")
        got = E._latent_decode(q, kv, bt, sl, 0.07, 512, 192)
        monkeypatch.undo()
        assert got.shape == ref.shape == (4, s_q, 16, 512) and got.dtype == torch.bfloat16
        err = ((got.float() - ref.float()).norm() / ref.float().norm()).item()
        assert err < 1e-2, err


def test_engine_page_size_and_plan_follow_the_route(setup, monkeypatch):
    model = setup[0]
    eng = LLMEngine(model, max_model_len=64, kv_cache_dtype="fp8")      # CPU: the oracle, pages of 16
    assert (eng.alloc.page_size, eng.fp8_route) == (16, "ref")
    assert LLMEngine(model, max_model_len=64).fp8_route is None
    route = lambda device, dtype, h, r, dr, page, s_q=1, capability=None: "gluon" if page % 64 == 0 else "triton"
    monkeypatch.setattr(E, "fp8_decode_route", route)                  # as on an H100 with a 512 + 64 model
    eng = LLMEngine(model, max_model_len=128, kv_cache_dtype="fp8")
    assert (eng.alloc.page_size, eng.fp8_route, eng.kv_cache.shape[-2]) == (64, "gluon", 64)
    eng = LLMEngine(model, max_model_len=128, kv_cache_dtype="fp8", page_size=16)   # forced pages: 03b's kernel
    assert (eng.alloc.page_size, eng.fp8_route) == (16, "triton")
    batch = types.SimpleNamespace(dec_tables=torch.zeros(2, 2, dtype=torch.int32), dec_lens=[5, 9], dec_seqlens=None)
    attn = model.model.layers[0].self_attn
    assert E._decode_plan(eng.kv_cache, batch, attn, torch.bfloat16) is not None   # 03b's kernel gets its plan
    monkeypatch.setattr(E, "fp8_decode_route", lambda *a, **k: "gluon")
    assert E._decode_plan(eng.kv_cache, batch, attn, torch.bfloat16) is None       # 03e's kernel needs none


def gluon_engine_check(device, monkeypatch):
    "An FP8 engine (tiny model, ic_1b's 512 + 64 latent, bf16, pages of 64) whose every decode call is also run by 03b's kernel and the oracle."
    torch.manual_seed(0)
    cfg = tiny(kv_lora_rank=512, qk_rope_head_dim=64, num_attention_heads=16, initializer_range=0.1)
    model = InfiniteContextForCausalLM(cfg).to(device, torch.bfloat16).eval()
    latent, gluon_fn, errs, calls = E._latent_decode, E.mla_decode_fp8_gluon, [], []
    def checked(q, kv, tables, seqlens, scale, r, max_seqlen, plan=None):
        got = latent(q, kv, tables, seqlens, scale, r, max_seqlen, plan)            # the engine's own call (route 'gluon')
        q16, t = q.to(torch.bfloat16).contiguous(), E._fp8_tile(r)
        tri = mla_decode_fp8(q16, kv, tables, seqlens, scale, r, impl="triton", tile=t)[0]   # route 'triton' on the same bytes
        ref = mla_decode_fp8_ref(q16, kv, tables, seqlens, scale, r, t)[0]                   # the oracle
        rel = lambda a, b: ((a.float() - b.float()).norm() / b.float().norm()).item()
        errs.append((q.shape[1], rel(got, tri), rel(got, ref)))
        return got
    monkeypatch.setattr(E, "_latent_decode", checked)
    monkeypatch.setattr(E, "mla_decode_fp8_gluon", lambda *a, **k: calls.append(tuple(a[0].shape)) or gluon_fn(*a, **k))
    eng = LLMEngine(model, max_model_len=192, kv_cache_dtype="fp8", num_blocks=16)   # not sized from free memory: the oracle dequantises it all
    g = torch.Generator().manual_seed(5)
    prompts = [torch.randint(0, 256, (n,), generator=g).tolist() for n in (70, 5, 130)]   # rows across pages of 64
    seqs = eng.generate(prompts, SamplingParams(max_tokens=6, ignore_eos=True))
    return eng, seqs, errs, calls


@pytest.mark.skipif(not (torch.cuda.is_available() and torch.cuda.get_device_capability()[0] == 9 and E.kernels_fp8_gluon.gluon is not None),
                    reason="03e's Gluon kernel: an sm_90 GPU and a Triton with Gluon")
def test_gluon_engine_on_gpu(monkeypatch):
    "On an H100 the FP8 engine decodes through 03e's kernel; each call agrees with 03b's Triton kernel and the oracle (FP8 tolerance)."
    eng, seqs, errs, calls = gluon_engine_check("cuda", monkeypatch)
    assert (eng.alloc.page_size, eng.fp8_route) == (64, "gluon")
    assert [len(s.output_ids) for s in seqs] == [6] * 3
    assert len(calls) == sum(1 for e in errs if e[0] <= 2) >= 2 * 5                # 2 layers x 5 decode steps, all by 03e's kernel
    assert all(t < 1e-2 and o < 1e-2 for _, t, o in errs), errs

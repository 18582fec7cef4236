"06a engine on CPU (fp32): greedy tokens equal transformers' generate and generate_greedy under continuous batching."
import pytest, torch
from transformers import DeepseekV3ForCausalLM
from infinitecontext.mla import tiny
from infinitecontext.model import InfiniteContextForCausalLM, save_deepseek_v3
from infinitecontext.engine import LLMEngine, SamplingParams, BlockAllocator, Sequence

torch.set_num_threads(1)

@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    torch.manual_seed(0)
    model = InfiniteContextForCausalLM(tiny(initializer_range=0.1)).eval()
    d = save_deepseek_v3(model, tmp_path_factory.mktemp("m") / "tiny")
    hf = DeepseekV3ForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(7)
    pre = torch.randint(0, 256, (13,), generator=g).tolist()
    prompts = [pre + torch.randint(0, 256, (n,), generator=g).tolist() for n in (2, 11, 0)]
    prompts += [torch.randint(0, 256, (n,), generator=g).tolist() for n in (1, 25, 6)]
    new = [9, 4, 13, 6, 8, 11]
    ref = []
    with torch.no_grad():
        for p, n in zip(prompts, new):
            ids = torch.tensor([p])
            out = hf.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, do_sample=False, eos_token_id=None, pad_token_id=0)
            ref.append(out[0, len(p):].tolist())
            assert model.generate_greedy(ids, n)[0, len(p):].tolist() == ref[-1]
    return model, prompts, new, ref

@pytest.mark.parametrize("kw", [dict(chunked_prefill=False, prefix_caching=False, max_num_batched_tokens=64),
                                dict(max_num_batched_tokens=8, prefix_caching=False),
                                dict(max_num_batched_tokens=8, page_size=4),
                                dict(num_blocks=9, page_size=4, max_num_batched_tokens=12)],
                         ids=["whole", "chunked", "chunked+prefix", "preempt"])
def test_engine_matches_transformers(setup, kw):
    model, prompts, new, ref = setup
    eng = LLMEngine(model, max_model_len=48, **kw)
    seqs = eng.generate(prompts, [SamplingParams(max_tokens=n, ignore_eos=True) for n in new], arrivals=[0, 2, 2, 3, 5, 8])
    assert [s.output_ids for s in seqs] == ref
    assert eng.alloc.num_free == eng.alloc.num_blocks - 1 and not eng.has_unfinished()
    if "num_blocks" in kw: assert eng.sched.num_preemptions > 0
    if kw.get("page_size") == 4 and "num_blocks" not in kw: assert sum(s.num_cached_prompt for s in seqs) >= 12

def test_engine_limits_and_abort(setup):
    model, prompts, _, _ = setup
    eng = LLMEngine(model, max_model_len=48, page_size=4)
    with pytest.raises(ValueError, match="maximum context length is 48"): eng.add_request(list(range(48)))
    with pytest.raises(ValueError, match="at most 38"): eng.add_request(list(range(10)), SamplingParams(max_tokens=39))
    with pytest.raises(ValueError, match="max_tokens must be >= 1"): SamplingParams(max_tokens=0)
    seqs = [eng.add_request(p, SamplingParams(max_tokens=20, ignore_eos=True)) for p in prompts]
    for _ in range(3): eng.step()
    assert eng.alloc.num_free < eng.alloc.num_blocks - 1
    for s in seqs: eng.abort(s.id)
    assert eng.alloc.num_free == eng.alloc.num_blocks - 1 and not eng.has_unfinished()
    assert all(s.finish_reason == "abort" for s in seqs)

def test_allocator_refcounts():
    a = BlockAllocator(4, 2)
    b = a.allocate(); a.incref(b); a.decref(b)
    assert a.num_free == 2
    a.decref(b)
    with pytest.raises(RuntimeError, match="freed twice"): a.decref(b)

def test_sliced_prefill_same_tokens(setup):
    "The sliced prefill (past in slices of 3 rows, LSE merge) and the naive one give transformers' tokens, with and without prefix sharing."
    model, prompts, new, ref = setup
    for kw in (dict(prefill="naive", max_num_batched_tokens=8, prefix_caching=False),
               dict(prefill_slice_rows=3, max_num_batched_tokens=8, page_size=4),
               dict(prefill_slice_rows=5, max_num_batched_tokens=4, long_prefill_tokens=32, page_size=4)):
        eng = LLMEngine(model, max_model_len=48, **kw)
        seqs = eng.generate(prompts, [SamplingParams(max_tokens=n, ignore_eos=True) for n in new], arrivals=[0, 2, 2, 3, 5, 8])
        assert [s.output_ids for s in seqs] == ref, kw
    with pytest.raises(ValueError, match="prefill must be"): LLMEngine(model, max_model_len=48, prefill="flash")

def test_long_prefill_budget_only_without_decodes(setup):
    "A step with no decode takes up to long_prefill_tokens; once a sequence decodes, steps fall back to max_num_batched_tokens."
    model, prompts, _, _ = setup
    eng = LLMEngine(model, max_model_len=48, max_num_batched_tokens=4, long_prefill_tokens=32)
    a = eng.add_request(prompts[4], SamplingParams(max_tokens=6, ignore_eos=True))     # 25 tokens: one step alone
    assert eng.sched.schedule() == [(a, 25)]
    eng.sched.running.remove(a); eng.sched.free(a); a.status = "waiting"; eng.sched.waiting.append(a)
    eng.step()                                         # a prefilled whole, now decoding
    b = eng.add_request(prompts[4][::-1], SamplingParams(max_tokens=2, ignore_eos=True))
    assert sum(n for _, n in eng.sched.schedule()) <= 4

def test_n_forks_share_prompt_blocks(setup):
    "n = 3: sample i equals a lone request seeded seed + i; the prompt's full blocks are shared, not recomputed; nothing leaks."
    model, prompts, _, _ = setup
    p = prompts[4]                                     # 25 tokens = 6 full pages of 4 + 1
    sp = lambda **k: SamplingParams(max_tokens=5, temperature=1.0, ignore_eos=True, **k)
    want = [LLMEngine(model, max_model_len=48, page_size=4).generate([p], sp(seed=3 + i))[0].output_ids for i in range(3)]
    for nb in (None, 9):                               # enough blocks, and too few to copy the partial page (re-prefilled)
        eng = LLMEngine(model, max_model_len=48, page_size=4, num_blocks=nb, prefix_caching=nb is None)
        seq = eng.add_request(p, sp(seed=3, n=3))
        used, steps = 0, 0
        while eng.has_unfinished():
            eng.step(); steps += 1; used = max(used, eng.alloc.num_blocks - 1 - eng.alloc.num_free)
        assert [s.output_ids for s in [seq] + seq.children] == want
        assert [s.index for s in [seq] + seq.children] == [0, 1, 2] and eng.alloc.num_free == eng.alloc.num_blocks - 1
        if nb is None: assert used <= 7 + 2 * 2 and eng.stats["prompt_tokens"] == 25   # 7 shared + 2 own pages per fork
    eng = LLMEngine(model, max_model_len=48, page_size=4)
    seq = eng.add_request(p, sp(n=2)); eng.step()
    assert [s.id for s in eng.abort(seq.id)] == [seq.id, seq.id + "/1"] and not eng.has_unfinished()
    assert eng.alloc.num_free == eng.alloc.num_blocks - 1

def test_incremental_detokenizer_matches_full_decode(setup):
    "Text built a window at a time (split UTF-8 characters held back) equals decoding the whole output; stop strings cut it."
    from infinitecontext.data import ByteTokenizer
    model = setup[0]
    eng = LLMEngine(model, ByteTokenizer(), max_model_len=48)
    ids = list("héllo wörld ✓ 日本語 end".encode())
    for stop, cut in (([], None), (["wö"], "héllo "), (["語 e"], "héllo wörld ✓ 日本")):
        seq = Sequence("x", [1], SamplingParams(max_tokens=len(ids), stop=stop, ignore_eos=True))
        for t in ids:
            seq.output_ids.append(t)
            if (r := eng._check_stop(seq, t)): break
        assert seq.text == (cut if cut is not None else bytes(ids).decode()) and r == ("stop" if cut is not None else "length")

def test_decode_step_equals_forward_step(setup):
    "The two-function decode step (the torch.compile target) computes forward_step's logits for a pure-decode batch."
    from infinitecontext.engine import decode_step, forward_step
    model, prompts, _, _ = setup
    eng = LLMEngine(model, max_model_len=48, page_size=4)
    for q in prompts[:3]: eng.add_request(q, SamplingParams(max_tokens=8, ignore_eos=True))
    while any(s.num_computed < len(s.prompt_ids) for s in eng.seqs.values()): eng.step()
    batch = eng._prepare(eng.sched.schedule())
    assert not batch.prefills and batch.dec_tables.shape[0] == 3
    kv = eng.kv_cache.clone()
    a = forward_step(model, eng.kv_cache, batch)
    b = decode_step(model, kv, batch)
    assert torch.allclose(a, b, atol=1e-5) and torch.equal(kv, eng.kv_cache)

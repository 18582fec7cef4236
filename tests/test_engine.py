"06a engine on CPU (fp32): greedy tokens equal transformers' generate and generate_greedy under continuous batching."
import pytest, torch
from transformers import DeepseekV3ForCausalLM
from infinitecontext.mla import tiny
from infinitecontext.model import InfiniteContextForCausalLM, save_deepseek_v3
from infinitecontext.engine import LLMEngine, SamplingParams, BlockAllocator

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

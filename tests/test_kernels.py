"""The Triton MLA decode kernel against its PyTorch oracle (CPU: Triton's interpreter; GPU: the real kernel).

The broad matrix the notebook cannot carry: lengths around page and tile edges, ragged batches, shuffled pages,
NaN in every unused slot, heads 1..128, s_q 1 and 2, page sizes 16/32/64, bf16 and fp16, forced split counts.
"""
import os
import pytest
import torch

os.environ.setdefault("TRITON_INTERPRET", "0" if torch.cuda.is_available() else "1")
from infinitecontext.kernels import mla_decode, mla_decode_ref, make_paged_cache, compare, mla_decode_config

DEV = "cuda" if torch.cuda.is_available() else "cpu"
if DEV == "cpu" and os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("no GPU and TRITON_INTERPRET is not 1 (import order): run via `make test`", allow_module_level=True)


def run(seqlens, h, s_q=1, page=16, r=64, dr=16, dtype=torch.bfloat16, seed=0, **cfg):
    kv, bt, sl = make_paged_cache(seqlens, page, r + dr, dtype, DEV, seed=seed)
    q = torch.randn(len(seqlens), s_q, h, r + dr, generator=torch.Generator().manual_seed(seed + 1)).to(dtype).to(DEV)
    scale = (r + dr) ** -0.5
    ro, rl = mla_decode_ref(q, kv, bt, sl, scale, r)
    o, l = mla_decode(q, kv, bt, sl, scale, r, impl="triton", **cfg)
    assert o.shape == (len(seqlens), s_q, h, r) and l.shape == (len(seqlens), h, s_q) and l.dtype == torch.float32
    assert not torch.isnan(o).any() and not torch.isnan(l).any(), "NaN leaked from an unused cache slot"
    e = compare(o, l, ro, rl)
    assert e["cos"] > 0.9999 and e["rel"] < 1e-2 and e["abs"] < 5e-2 and e["lse"] < 1e-2, e
    return e


@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 300])
def test_lengths_around_edges(n):
    run([n], h=16, page=64)


@pytest.mark.parametrize("page", [16, 32, 64])
def test_ragged_batch_shuffled_pages(page):
    run([65, 1, 130, 64], h=16, page=page, seed=page)


@pytest.mark.parametrize("h", [1, 16, 128])
def test_heads(h):
    run([97, 40], h=h, r=32, dr=16)


@pytest.mark.parametrize("s_q", [1, 2])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_causal_new_tokens_and_dtypes(s_q, dtype):
    run([2, 77], h=8, s_q=s_q, dtype=dtype)


@pytest.mark.parametrize("num_splits", [1, 3, 40])
def test_forced_splits_merge_exactly(num_splits):
    # 40 splits of a 100-token sequence leaves most splits empty: lse = -inf, weight 0
    run([100, 37], h=4, num_splits=num_splits)


def test_full_width_512_plus_64():
    run([70, 3], h=16, r=512, dr=64, page=64)


def test_tiny_rank_padded_to_tensor_core_tile():
    run([50], h=4, r=32, dr=8)


def test_split_heuristic_keeps_chunks_long():
    c = mla_decode_config(b=1, s_q=1, h=16, max_seqlen=1 << 20, kv_lora_rank=512, rope_dim=64, device="cpu")
    assert c["num_splits"] >= 2 and (1 << 20) / c["num_splits"] >= 256
    c = mla_decode_config(b=64, s_q=1, h=128, max_seqlen=300, kv_lora_rank=512, rope_dim=64, device="cpu")
    assert c["num_splits"] == 1 and c["BLOCK_H"] == 64

def test_split_heuristic_fills_whole_rounds_of_program_slots():
    "On 132 SMs x 2 resident programs: whole rounds of program slots, chunks of at least 256 rows."
    from infinitecontext.kernels import pick_splits
    slots = 132 * 2
    assert [pick_splits(p, m, slots) for p, m in ((64, 32), (128, 32), (128, 16), (16, 128))] == [4, 2, 2, 16]
    assert 250 <= pick_splits(1, 4096, slots) <= 264
    assert pick_splits(1, 3, slots) == 3            # short context: as many splits as 256-row chunks allow
    assert pick_splits(264, 32, slots) == 1          # the batch alone fills one round: no split, no combine
    assert pick_splits(300, 32, slots) == 6          # 300 programs = 1.14 rounds; 1800 = 6.8 rounds, 97% busy


# -- faults: the kernel must refuse bad page ids and survive strided metadata ---------------------------------------

def _case(seqlens=(70, 20), h=4, page=16, r=32, dr=16, dtype=torch.bfloat16):
    kv, bt, sl = make_paged_cache(list(seqlens), page, r + dr, dtype, DEV)
    q = torch.randn(len(seqlens), 1, h, r + dr, generator=torch.Generator().manual_seed(5)).to(dtype).to(DEV)
    return q, kv, bt, sl, (r + dr) ** -0.5, r


@pytest.mark.parametrize("impl", ["triton", "ref"])
@pytest.mark.parametrize("bad", [10_000, -1])
def test_page_id_outside_the_cache_is_refused(impl, bad):
    "A used page id past num_blocks (or negative) is a clear error, never a segfault (interpreter) or NaN (GPU)."
    q, kv, bt, sl, scale, r = _case()
    bt = bt.clone(); bt[0, 2] = bad                      # sequence 0 (70 rows, page 16) uses pages 0..4
    with pytest.raises(ValueError, match=r"block_table\[0, 2\] = .* is not a page of kv_cache"):
        mla_decode(q, kv, bt, sl, scale, r, impl=impl)


def test_unused_block_table_entries_may_hold_anything():
    q, kv, bt, sl, scale, r = _case()
    ro, rl = mla_decode_ref(q, kv, bt, sl, scale, r)
    bt = bt.clone(); bt[1, 2:] = -7                      # sequence 1 (20 rows) uses pages 0..1 only
    o, l = mla_decode(q, kv, bt, sl, scale, r, impl="triton")
    e = compare(o, l, ro, rl)
    assert e["cos"] > 0.9999 and e["lse"] < 1e-2, e
    e = compare(*mla_decode_ref(q, kv, bt, sl, scale, r), ro, rl)
    assert e["abs"] == 0, e


def test_strided_block_table_and_seqlens_give_the_right_attention():
    "A non-unit-stride block_table or cache_seqlens (a transposed or sliced tensor) must not be read as if contiguous."
    q, kv, bt, sl, scale, r = _case(seqlens=(70, 20, 45))
    ro, rl = mla_decode_ref(q, kv, bt, sl, scale, r)
    bt_t = bt.t().contiguous().t()                       # same values, strides (1, b)
    sl_s = torch.stack([sl, sl * 0], 1)[:, 0]            # same values, stride 2
    assert bt_t.stride(1) != 1 and sl_s.stride(0) != 1
    for a, b_ in ((bt_t, sl), (bt, sl_s), (bt_t, sl_s)):
        o, l = mla_decode(q, kv, a, b_, scale, r, impl="triton")
        e = compare(o, l, ro, rl)
        assert e["cos"] > 0.9999 and e["rel"] < 1e-2 and e["lse"] < 1e-2, e


# -- the model decodes through the kernel ---------------------------------------------------------------------------

def test_model_decodes_through_the_kernel():
    "A bf16 tiny model with config.decode_impl='triton' gives the reference path's logits (to bf16 rounding) and tokens."
    from infinitecontext.model import InfiniteContextForCausalLM
    from infinitecontext.mla import tiny, LatentCache
    torch.manual_seed(0)
    lm = InfiniteContextForCausalLM(tiny()).eval().to(DEV, torch.bfloat16)
    ids = torch.randint(0, 256, (2, 12), device=DEV)
    def decode(impl):
        lm.config.decode_impl = impl
        cache = LatentCache(lm.config, 2, 64, dtype=torch.bfloat16, device=DEV)
        with torch.no_grad():
            steps = [lm(ids[:, :8], cache=cache).logits]
            steps += [lm(ids[:, t:t+1], cache=cache, absorb=True).logits for t in range(8, 12)]
        return torch.cat(steps, 1).float(), lm.generate_greedy(ids[:, :8], 6)
    ref_logits, ref_tokens = decode("torch")
    ker_logits, ker_tokens = decode("triton")
    lm.config.decode_impl = "torch"
    cos = torch.nn.functional.cosine_similarity(ker_logits.flatten(), ref_logits.flatten(), 0).item()
    assert cos > 0.9999 and (ker_logits - ref_logits).abs().max().item() < 5e-2, cos
    assert torch.equal(ker_tokens, ref_tokens), (ker_tokens, ref_tokens)


def test_two_models_decode_each_their_own_way(monkeypatch):
    "The path is per model: one model on the kernel does not move another off the reference."
    from infinitecontext import mla
    from infinitecontext.model import InfiniteContextForCausalLM
    from infinitecontext.mla import tiny
    calls = []
    real = mla.mla_decode
    monkeypatch.setattr(mla, "mla_decode", lambda *a, **k: calls.append(1) or real(*a, **k))
    a = InfiniteContextForCausalLM(tiny(decode_impl="triton")).eval().to(DEV, torch.bfloat16)
    b = InfiniteContextForCausalLM(tiny()).eval().to(DEV, torch.bfloat16)
    ids = torch.randint(0, 256, (1, 6), device=DEV)
    b.generate_greedy(ids, 3); assert calls == []
    a.generate_greedy(ids, 3); assert len(calls) == 3 * a.config.num_hidden_layers   # 3 absorbed steps x layers


@pytest.mark.parametrize("seqlens, h, page", [([1, 63, 64, 130], 16, 16), ([200, 5], 4, 64), ([70], 64, 32)])
def test_simple_kernel_matches_the_oracle(seqlens, h, page):
    "The lesson's first kernel (one program per sequence, no split) against the oracle, NaN in unused slots."
    from infinitecontext.kernels import mla_decode_simple
    kv, bt, sl = make_paged_cache(seqlens, page, 80, torch.bfloat16, DEV)
    q = torch.randn(len(seqlens), 1, h, 80, generator=torch.Generator().manual_seed(2)).bfloat16().to(DEV)
    ref, _ = mla_decode_ref(q, kv, bt, sl, 80 ** -0.5, 64)
    o = mla_decode_simple(q, kv, bt, sl, 80 ** -0.5, 64)
    assert not torch.isnan(o).any()
    e = compare(o, torch.zeros(1), ref, torch.zeros(1))
    assert e["cos"] > 0.9999 and e["rel"] < 1e-2, e
    with pytest.raises(ValueError, match="s_q = 1 and h <= 64"): mla_decode_simple(q.expand(-1, 2, -1, -1), kv, bt, sl.clamp(min=2), 0.1, 64)


def test_entry_checks_give_one_clear_error_each():
    "mla_decode's entry (shared with 03c's mla_decode_wide): the oracle on request, one error per bad choice."
    kv, bt, sl = make_paged_cache([10, 20], 16, 80, torch.bfloat16, DEV)
    q = torch.randn(2, 1, 4, 80).bfloat16().to(DEV)
    o, l = mla_decode(q, kv, bt, sl, 0.1, 64, impl="ref")
    ro, rl = mla_decode_ref(q, kv, bt, sl, 0.1, 64)
    assert torch.equal(o, ro) and torch.equal(l, rl)
    with pytest.raises(ValueError, match="impl must be 'triton', 'ref' or None"):
        mla_decode(q, kv, bt, sl, 0.1, 64, impl="cuda")
    with pytest.raises(ValueError, match="takes bf16 or fp16, got torch.float32; use impl='ref'"):
        mla_decode(q.float(), kv.float(), bt, sl, 0.1, 64, impl="triton")
    with pytest.raises(ValueError, match="capacity"):
        mla_decode(q, kv, bt, sl + 100, 0.1, 64, impl="triton")

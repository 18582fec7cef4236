"""03c's wide decode kernel (64-row tensor-core tiles, TMA or pointer tile loads) against 03's oracle.

CPU: Triton's interpreter at tiny ranks; GPU: the real kernel, both load paths, the full 512 + 64 width.
NaN in every unused cache slot, ragged lengths around tile and page edges, shuffled pages, h of 1, 16 and 128,
s_q of 1 and 2, forced splits (empty chunks included), lazy rescaling, and one clear error per kind of bad input.
"""
import os
import pytest
import torch

os.environ.setdefault("TRITON_INTERPRET", "0" if torch.cuda.is_available() else "1")
from infinitecontext.kernels import compare, make_paged_cache, mla_decode_ref
from infinitecontext.kernels_wide import mla_decode_wide, mla_decode_wide_config

DEV = "cuda" if torch.cuda.is_available() else "cpu"
if DEV == "cpu" and os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("no GPU and TRITON_INTERPRET is not 1 (import order): run via `make test`", allow_module_level=True)
TMA = [False, True]  # both load paths: the interpreter runs tensor descriptors too


def run(seqlens, h, s_q=1, page=32, r=64, dr=16, dtype=torch.bfloat16, seed=0, **cfg):
    torch.set_num_threads(1)
    kv, bt, sl = make_paged_cache(seqlens, page, r + dr, dtype, DEV, seed=seed)
    q = torch.randn(len(seqlens), s_q, h, r + dr, generator=torch.Generator().manual_seed(seed + 1)).to(dtype).to(DEV)
    scale = (r + dr) ** -0.5
    ro, rl = mla_decode_ref(q, kv, bt, sl, scale, r)
    o, l = mla_decode_wide(q, kv, bt, sl, scale, r, impl="triton", **cfg)
    assert o.shape == (len(seqlens), s_q, h, r) and o.dtype == dtype
    assert l.shape == (len(seqlens), h, s_q) and l.dtype == torch.float32
    assert not torch.isnan(o).any() and not torch.isnan(l).any(), "NaN leaked from an unused cache slot"
    e = compare(o, l, ro, rl)
    assert e["cos"] > 0.9999 and e["rel"] < 1e-2 and e["abs"] < 5e-2 and e["lse"] < 1e-2, e
    return e


@pytest.mark.parametrize("tma", TMA)
@pytest.mark.parametrize("n", [1, 31, 32, 33, 97])
def test_lengths_around_tile_and_page_edges(n, tma):
    run([n], h=16, tma=tma)


@pytest.mark.parametrize("tma", TMA)
@pytest.mark.parametrize("page,block_n", [(16, 16), (32, 32), (64, 32), (64, 64)])
def test_ragged_batch_shuffled_pages(page, block_n, tma):
    run([65, 1, 130, 64], h=16, page=page, block_n=block_n, tma=tma, seed=page)


@pytest.mark.parametrize("h", [1, 16, 128])
@pytest.mark.parametrize("s_q", [1, 2])
def test_heads_and_new_tokens(h, s_q):
    run([70, 3], h=h, s_q=s_q, tma=s_q == 2, seed=h)


@pytest.mark.parametrize("num_splits", [1, 3, 40])
@pytest.mark.parametrize("lazy", [False, True])
def test_forced_splits_and_lazy_rescale(num_splits, lazy):
    # 40 splits of a 100-token sequence leave most chunks empty: lse = -inf, weight 0 in the combine
    run([100, 37], h=4, s_q=2, num_splits=num_splits, lazy=lazy)


def test_lazy_rescale_with_growing_scores():
    # the running max grows by far more than 2^8 along the context: the lazy path must rescale, and stay exact
    kv, bt, sl = make_paged_cache([160], 32, 80, torch.bfloat16, DEV, seed=3)
    ramp = torch.linspace(0, 6, 160)                                     # later rows score higher and higher
    flat = kv[bt[0].long()].reshape(-1, 80)
    flat[:160, :] = (flat[:160, :].float() + ramp[:, None].to(DEV)).to(torch.bfloat16)
    kv[bt[0].long()] = flat.view(-1, 32, 80)
    q = torch.ones(1, 1, 16, 80, device=DEV).bfloat16()
    ro, rl = mla_decode_ref(q, kv, bt, sl, 0.3, 64)
    for lazy in (False, True):
        o, l = mla_decode_wide(q, kv, bt, sl, 0.3, 64, impl="triton", lazy=lazy)
        e = compare(o, l, ro, rl)
        assert e["cos"] > 0.9999 and e["rel"] < 1e-2 and e["lse"] < 1e-2, (lazy, e)


def test_fp16():
    run([50, 9], h=8, s_q=2, dtype=torch.float16)


@pytest.mark.parametrize("tma", TMA)
@pytest.mark.parametrize("h,s_q", [(128, 1), (128, 2), (16, 1)])
def test_full_width_512_plus_64(h, s_q, tma):
    if DEV == "cpu" and (h, s_q, tma) != (16, 1, False):
        pytest.skip("the interpreter runs one full-width case; the GPU runs them all")
    run([700, 3, 64, 2100] if DEV == "cuda" else [70, 3], h=h, s_q=s_q, r=512, dr=64, page=64, tma=tma)


def test_config_fills_the_sms():
    assert mla_decode_wide_config(64, 1, 128, 8192, 64, "cpu")["BLOCK_N"] == 64
    assert mla_decode_wide_config(2, 1, 16, 8192, 16, "cpu")["BLOCK_N"] == 16       # the page, when smaller
    assert mla_decode_wide_config(1, 1, 16, 100, 64, "cpu")["num_splits"] == 1       # no chunk under four tiles


def test_clear_errors():
    kv, bt, sl = make_paged_cache([10, 20], 16, 80, torch.bfloat16, DEV)
    q = torch.randn(2, 1, 4, 80, device=DEV).bfloat16()
    with pytest.raises(ValueError, match="divide page_size"):
        mla_decode_wide(q, kv, bt, sl, 0.1, 64, impl="triton", block_n=32)
    with pytest.raises(ValueError, match="power of two"):
        mla_decode_wide(q, kv, bt, sl, 0.1, 48, impl="triton")
    with pytest.raises(ValueError, match="contiguous"):
        mla_decode_wide(q, kv.transpose(0, 1).contiguous().transpose(0, 1), bt, sl, 0.1, 64, impl="triton")
    with pytest.raises(ValueError, match="capacity"):
        mla_decode_wide(q, kv, bt, sl + 100, 0.1, 64, impl="triton")
    with pytest.raises(ValueError, match="same dtype"):
        mla_decode_wide(q, kv.half(), bt, sl, 0.1, 64, impl="triton")
    with pytest.raises(ValueError, match="impl must be"):
        mla_decode_wide(q, kv, bt, sl, 0.1, 64, impl="cuda")

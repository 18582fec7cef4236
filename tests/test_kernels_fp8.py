"""The token-balanced and FP8-cache MLA decode kernels (03b) against its oracle (CPU: Triton's interpreter; GPU: the real kernel).

Ragged batches, shuffled pages, NaN bytes in every unused slot, heads 1/16/128, s_q 1 and 2, forced splits; the
quantiser against FlashMLA's format; the FP8 write path. Small ranks keep the interpreter fast.
"""
import os
import pytest
import torch

os.environ.setdefault("TRITON_INTERPRET", "0" if torch.cuda.is_available() else "1")
from infinitecontext.kernels import compare, make_paged_cache, mla_decode_ref
from infinitecontext.kernels_fp8 import (dequantize_latent, fp8_row_bytes, make_paged_cache_fp8, mla_decode_balanced,
                                         mla_decode_fp8, mla_decode_fp8_ref, mla_decode_plan, quantize_latent,
                                         quantize_q_e4m3, write_fp8_cache)

DEV = "cuda" if torch.cuda.is_available() else "cpu"
if DEV == "cpu" and os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("no GPU and TRITON_INTERPRET is not 1 (import order): run via `make test`", allow_module_level=True)


def run(seqlens, h, s_q=1, page=16, r=64, dr=16, tile=16, seed=0, **cfg):
    kv, bt, sl = make_paged_cache_fp8(seqlens, page, r, dr, DEV, tile=tile, seed=seed)
    q = torch.randn(len(seqlens), s_q, h, r + dr, generator=torch.Generator().manual_seed(seed + 1)).bfloat16().to(DEV)
    scale = (r + dr) ** -0.5
    ro, rl = mla_decode_fp8_ref(q, kv, bt, sl, scale, r, tile)
    o, l = mla_decode_fp8(q, kv, bt, sl, scale, r, impl="triton", tile=tile, **cfg)
    assert o.shape == (len(seqlens), s_q, h, r) and o.dtype == torch.bfloat16 and l.shape == (len(seqlens), h, s_q)
    assert not torch.isnan(o).any() and not torch.isnan(l).any(), "NaN leaked from an unused cache slot"
    e = compare(o, l, ro, rl)
    assert e["cos"] > 0.9999 and e["rel"] < 1e-2 and e["lse"] < 1e-2, e
    return e


@pytest.mark.parametrize("page", [16, 64])
def test_ragged_batch_shuffled_pages(page):
    run([65, 1, 130, 64], h=16, page=page, seed=page)


@pytest.mark.parametrize("h", [1, 16, 128])
def test_heads(h):
    run([97, 40], h=h, r=32, dr=8)


@pytest.mark.parametrize("s_q", [1, 2])
def test_causal_new_tokens(s_q):
    run([2, 77], h=8, s_q=s_q)


@pytest.mark.parametrize("programs", [1, 3, 40])
def test_forced_payloads(programs):
    # 1: one program walks every sequence; 40: more payloads than tiles (some programs get nothing)
    run([100, 37, 260], h=4, programs=programs)


def run_bf16(seqlens, h, s_q=1, page=16, r=64, dr=16, dtype=torch.bfloat16, seed=0, **cfg):
    kv, bt, sl = make_paged_cache(seqlens, page, r + dr, dtype, DEV, seed=seed)
    q = torch.randn(len(seqlens), s_q, h, r + dr, generator=torch.Generator().manual_seed(seed + 1)).to(dtype).to(DEV)
    ro, rl = mla_decode_ref(q, kv, bt, sl, (r + dr) ** -0.5, r)
    o, l = mla_decode_balanced(q, kv, bt, sl, (r + dr) ** -0.5, r, impl="triton", **cfg)
    assert not torch.isnan(o).any() and o.dtype == dtype
    e = compare(o, l, ro, rl)
    assert e["cos"] > 0.9999 and e["rel"] < 1e-2 and e["lse"] < 1e-2, e


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("s_q", [1, 2])
def test_balanced_bf16_fp16_ragged(dtype, s_q):
    run_bf16([65, 2, 130, 64], h=16, s_q=s_q, dtype=dtype, programs=3)


@pytest.mark.parametrize("h", [1, 128])
def test_balanced_heads(h):
    run_bf16([97, 40], h=h, r=32, dr=8, programs=2)


def test_plan_covers_every_row_once_and_balances():
    lens = torch.randint(1, 5000, (37,), generator=torch.Generator().manual_seed(3)).tolist()
    plan = mla_decode_plan(lens, 16, device="cpu", programs=50)
    seg, pp, sp = plan.segs.long(), plan.prog_ptr.long(), plan.seq_ptr.long()
    for i, n in enumerate(lens):   # a sequence's segments are consecutive, in order, and tile it exactly
        s = seg[sp[i]:sp[i + 1]]
        assert (s[:, 0] == i).all() and s[0, 1] == 0 and s[-1, 2] == n and (s[1:, 1] == s[:-1, 2]).all()
        assert (s[:, 3] == int(len(s) == 1)).all()
    rows = torch.tensor([int((seg[pp[p]:pp[p + 1], 2] - seg[pp[p]:pp[p + 1], 1]).sum()) for p in range(plan.n_programs)])
    assert plan.n_programs <= 50 and rows.max() <= sum(lens) / 50 + 6 * 64 + 64   # payload + overhead rounding
    with pytest.raises(ValueError, match=">= 1"):
        mla_decode_plan([3, 0], 16, device="cpu")
    for k in (2, 4):   # min_piece: cuts move off slivers; still every row once, and no partial shorter than k tiles
        plan = mla_decode_plan(lens, 16, device="cpu", programs=200, min_piece=k, block_n=16, overhead_tiles=1)
        seg, sp = plan.segs.long(), plan.seq_ptr.long()
        assert int((seg[:, 2] - seg[:, 1]).sum()) == sum(lens)
        for i, n in enumerate(lens):
            s = seg[sp[i]:sp[i + 1]]
            assert s[0, 1] == 0 and s[-1, 2] == n and (s[1:, 1] == s[:-1, 2]).all()
        cut = seg[seg[:, 3] == 0]
        assert len(cut) and ((cut[:, 2] - cut[:, 1] >= k * 16) | (cut[:, 2] == torch.tensor(lens)[cut[:, 0]])).all()


def test_full_width_flashmla_format():
    run([70, 3], h=16, r=512, dr=64, page=64, tile=128)


def test_quantiser_is_flashmla_v32_layout():
    x = torch.randn(2, 7, 576) * torch.logspace(-4, 1, 576)
    p = quantize_latent(x)
    assert p.shape == (2, 7, 656) == (2, 7, fp8_row_bytes())
    sc = torch.pow(2, torch.clamp_min(x[..., :512].reshape(2, 7, 4, 128).abs().amax(-1) / 448.0, 1e-4).log2().ceil())
    assert torch.equal(p[..., 512:528].contiguous().view(torch.float32), sc)
    vals = (x[..., :512].reshape(2, 7, 4, 128) / sc[..., None]).to(torch.float8_e4m3fn).reshape(2, 7, 512)
    assert torch.equal(p[..., :512], vals.view(torch.uint8))
    assert torch.equal(p[..., 528:].contiguous().view(torch.bfloat16), x[..., 512:].bfloat16())
    y = dequantize_latent(p)
    assert torch.equal(y, dequantize_latent(p, dtype=torch.bfloat16).float())   # exact in bf16
    assert ((y - x).norm() / x.norm()) < 0.05


def test_write_path_matches_quantised_rows():
    cache = torch.full((4, 8, fp8_row_bytes(64, 16, 16)), 0xFF, dtype=torch.uint8)
    rows = torch.randn(5, 80)
    slots = torch.tensor([3, 9, 17, 30, 31])
    write_fp8_cache(cache, slots, rows, 64, 16)
    flat = cache.view(-1, cache.shape[-1])
    assert torch.equal(flat[slots], quantize_latent(rows, 64, 16))
    untouched = torch.ones(32, dtype=torch.bool); untouched[slots] = False
    assert (flat[untouched] == 0xFF).all()
    with pytest.raises(ValueError, match="need"):
        write_fp8_cache(cache, slots, torch.randn(5, 96), 64, 16)


def test_bad_inputs_say_what_to_change():
    kv, bt, sl = make_paged_cache_fp8([10, 20], 16, 64, 16, tile=16)
    q = torch.randn(2, 1, 4, 80).bfloat16()
    with pytest.raises(ValueError, match="uint8"):
        mla_decode_fp8(q, kv.float(), bt, sl, 0.1, 64, tile=16)
    with pytest.raises(ValueError, match="power-of-two"):
        mla_decode_fp8(q, kv, bt, sl, 0.1, 64, tile=24)
    with pytest.raises(ValueError, match="capacity"):
        mla_decode_fp8(q, kv, bt, sl + 100, 0.1, 64, tile=16, impl="triton")
    with pytest.raises(ValueError, match="bf16"):
        mla_decode_fp8(q.half(), kv, bt, sl, 0.1, 64, tile=16, impl="triton")


FOLDED = ["bits-bf16", "bits-f16", "cvt-f16", "bits-bf16-triton", "bits-f16-triton"]


@pytest.mark.parametrize("variant", FOLDED + ["tile"])
def test_fp8_loads_ragged_shuffled(variant):
    # every load on a ragged batch of shuffled pages with NaN bytes in the unused slots, cut into many payloads
    run([65, 1, 130, 64], h=16, variant=variant, programs=7)


@pytest.mark.parametrize("h", [1, 16, 128])
@pytest.mark.parametrize("s_q", [1, 2])
def test_folded_heads_and_new_tokens(h, s_q):
    # two scale tiles over four column blocks (tile 32 of r 64): blocks 0-1 share scale 0, blocks 2-3 scale 1
    run([97, 3, 40], h=h, s_q=s_q, tile=32, variant="bits-bf16")


@pytest.mark.parametrize("cfg", [dict(block_n=32, num_warps=8, num_stages=3), dict(block_n=64, num_warps=4, num_stages=2)])
def test_folded_launch_settings(cfg):
    run([70, 150], h=16, page=64, **cfg)


def test_folded_scales_far_apart():
    # tiles of very different magnitude: the fold must use each block's own scale (and fp16 must not overflow here)
    r, dr, tile, page = 64, 16, 16, 16
    rows = torch.randn(2 * 48, r + dr, generator=torch.Generator().manual_seed(5))
    rows[:, :r] *= torch.tensor([1e-3, 1.0, 30.0, 0.05]).repeat_interleave(tile)
    cache = torch.full((8, page, fp8_row_bytes(r, dr, tile)), 0xFF, dtype=torch.uint8)
    write_fp8_cache(cache, torch.cat([torch.arange(48), torch.arange(64, 112)]), rows, r, tile)
    bt = torch.tensor([[0, 1, 2], [4, 5, 6]], dtype=torch.int32)
    sl = torch.tensor([48, 48], dtype=torch.int32)
    q = torch.randn(2, 1, 8, r + dr, generator=torch.Generator().manual_seed(6)).bfloat16()
    cache, bt, sl, q = cache.to(DEV), bt.to(DEV), sl.to(DEV), q.to(DEV)
    ro, rl = mla_decode_fp8_ref(q, cache, bt, sl, 0.1, r, tile)
    for variant in FOLDED:
        o, l = mla_decode_fp8(q, cache, bt, sl, 0.1, r, impl="triton", tile=tile, variant=variant)
        e = compare(o, l, ro, rl)
        assert e["cos"] > 0.9999 and e["rel"] < 1e-2 and e["lse"] < 1e-2, (variant, e)


def test_variant_errors():
    kv, bt, sl = make_paged_cache_fp8([10, 20], 16, 32, 16, tile=16)
    q = torch.randn(2, 1, 4, 48).bfloat16()
    with pytest.raises(ValueError, match="variant='tile'"):    # r/4 = 8 columns: too narrow to fold
        mla_decode_fp8(q.to(DEV), kv.to(DEV), bt.to(DEV), sl.to(DEV), 0.1, 32, tile=16, variant="bits-bf16", impl="triton")
    with pytest.raises(ValueError, match="one of"):
        mla_decode_fp8(q.to(DEV), kv.to(DEV), bt.to(DEV), sl.to(DEV), 0.1, 32, tile=16, variant="e5m2", impl="triton")
    o, _ = mla_decode_fp8(q.to(DEV), kv.to(DEV), bt.to(DEV), sl.to(DEV), 0.1, 32, tile=16, impl="triton")  # default: falls back
    assert not torch.isnan(o).any()


def test_bf16_bits_past_fp16_range():
    # latent values of 2e5 (tile scale 2^9) and queries of 7e4: beyond fp16, where only the bf16 loads hold
    kv, bt, sl = make_paged_cache_fp8([40, 90], 16, 64, 16, tile=16, seed=3)
    flat = kv.view(-1, kv.shape[-1])
    used = (flat[:, :64] != 0xFF).all(-1)
    rows = dequantize_latent(flat[used], 64, 16) * 4e4                        # (n, 80): |c_kv| up to ~2e5
    write_fp8_cache(flat.view(kv.shape), used.nonzero()[:, 0], rows, 64, 16)
    q = (torch.randn(2, 1, 4, 80, generator=torch.Generator().manual_seed(4)) * 2e4).bfloat16()
    q[0, 0, 0, 0] = 7e4
    kv, bt, sl, q = kv.to(DEV), bt.to(DEV), sl.to(DEV), q.to(DEV)
    ro, rl = mla_decode_fp8_ref(q, kv, bt, sl, 1e-9, 64, 16)
    o, l = mla_decode_fp8(q, kv, bt, sl, 1e-9, 64, impl="triton", tile=16, variant="bits-bf16")
    e = compare(o, l, ro, rl)
    assert torch.isfinite(o.float()).all() and e["cos"] > 0.9999 and e["rel"] < 1e-2, e
    with pytest.raises(ValueError, match="variant='bits-bf16'"):   # the fp16 loads refuse such queries (validate=True)
        mla_decode_fp8(q, kv, bt, sl, 1e-9, 64, impl="triton", tile=16, variant="cvt-f16")


TMA = ["tma-cvt-f16", "tma-bits-bf16"]


@pytest.mark.parametrize("variant", TMA)
def test_tma_loads_ragged_shuffled(variant):
    # whole tiles through the pipelined loop (TMA boxes on a GPU: 112-byte rows), the partial last tile (NaN bytes after it) masked
    run([65, 1, 130, 64], h=16, variant=variant, programs=7, block_n=16)


@pytest.mark.parametrize("h,s_q", [(1, 2), (16, 1), (128, 2)])
def test_tma_heads_new_tokens(h, s_q):
    # two tiles per page, two scale tiles over four column blocks; 104-byte rows: the pointer loads on a GPU too
    run([97, 3, 40], h=h, s_q=s_q, page=32, tile=32, variant="tma-cvt-f16", block_n=16, num_stages=4)


def test_tma_full_width_format():
    # FlashMLA's 656-byte rows, four stages
    run([300, 64], h=16, page=64, r=512, dr=64, tile=128, variant="tma-cvt-f16", block_n=32, num_stages=4, programs=3)


def test_tma_tile_must_divide_page():
    kv, bt, sl = make_paged_cache_fp8([40], 16, 64, 16, DEV, tile=16)
    q = torch.randn(1, 1, 4, 80).bfloat16().to(DEV)
    with pytest.raises(ValueError, match="must divide the page size"):
        mla_decode_fp8(q, kv, bt, sl, 0.1, 64, tile=16, impl="triton", variant="tma-cvt-f16", block_n=32)


MMA = ["mma-e4m3", "mma-e4m3-reload", "mma-e4m3x2", "mma-e4m3x2-reload"]


def run_mma(seqlens, h, variant, s_q=1, page=16, r=128, dr=16, tile=32, seed=0, **cfg):
    # r/4 = 32 columns a block: an e4m3 product's depth on the GPU
    kv, bt, sl = make_paged_cache_fp8(seqlens, page, r, dr, DEV, tile=tile, seed=seed)
    q = torch.randn(len(seqlens), s_q, h, r + dr, generator=torch.Generator().manual_seed(seed + 1)).bfloat16().to(DEV)
    scale, terms = (r + dr) ** -0.5, 2 if "x2" in variant else 1
    ro, rl = mla_decode_fp8_ref(q, kv, bt, sl, scale, r, tile)                                   # the oracle (bf16 q)
    mo, ml = mla_decode_fp8_ref(quantize_q_e4m3(q, r, terms), kv, bt, sl, scale, r, tile)       # q as the kernel rounds it
    o, l = mla_decode_fp8(q, kv, bt, sl, scale, r, impl="triton", tile=tile, variant=variant, **cfg)
    assert o.shape == (len(seqlens), s_q, h, r) and o.dtype == torch.bfloat16 and l.shape == (len(seqlens), h, s_q)
    assert not torch.isnan(o).any() and not torch.isnan(l).any(), "NaN leaked from an unused cache slot"
    em, eo = compare(o, l, mo, ml), compare(o, l, ro, rl)
    assert em["lse"] < 1e-4, em                 # the lse sees q's rounding only (P's rounding does not enter l): the model's
    if terms == 2: assert eo["cos"] > 0.9999 and eo["rel"] < 1e-2 and eo["lse"] < 5e-3, eo
    else: assert em["cos"] > 0.999 and em["rel"] < 4e-2 and eo["lse"] < 0.1, (em, eo)   # P in e4m3: ~2^-5 a weight
    return em, eo


@pytest.mark.parametrize("variant", MMA)
def test_mma_ragged_shuffled(variant):
    run_mma([65, 1, 130, 64], h=16, variant=variant, programs=7, block_n=32)


@pytest.mark.parametrize("h,s_q", [(1, 2), (16, 1), (16, 2), (128, 1)])
def test_mma_heads_new_tokens(h, s_q):
    run_mma([97, 3, 40], h=h, s_q=s_q, variant="mma-e4m3x2", block_n=32, page=64, programs=5)


def test_mma_full_width_format():
    # FlashMLA's 656-byte rows, tiles of 64 rows across page boundaries of 16
    run_mma([300, 64], h=16, r=512, dr=64, tile=128, variant="mma-e4m3", block_n=64, programs=3)


def test_mma_needs_depth():
    kv, bt, sl = make_paged_cache_fp8([40], 16, 64, 16, DEV, tile=16)
    q = torch.randn(1, 1, 4, 80).bfloat16().to(DEV)
    with pytest.raises(ValueError, match="multiple of 128"):
        mla_decode_fp8(q, kv, bt, sl, 0.1, 64, tile=16, impl="triton", variant="mma-e4m3")
    kv, bt, sl = make_paged_cache_fp8([40], 16, 128, 16, DEV, tile=32)
    q = torch.randn(1, 1, 4, 144).bfloat16().to(DEV)
    with pytest.raises(ValueError, match="block_n"):
        mla_decode_fp8(q, kv, bt, sl, 0.1, 128, tile=32, impl="triton", variant="mma-e4m3", block_n=16)


@pytest.mark.parametrize("h,s_q,programs,page", [(1, 2, 5, 16), (16, 1, 40, 64), (128, 1, 4, 16)])
def test_fused_combine_calls_in_a_row(h, s_q, programs, page):
    # the merge inside the kernel (the last program to store a sequence's partial merges them): ragged lengths,
    # shuffled pages with NaN in the unused slots, forced splits; two calls on one plan (the counters reset themselves)
    r, dr, seqlens = 32, 8, [70, 2, 100, 33]
    kv, bt, sl = make_paged_cache(seqlens, page, r + dr, torch.bfloat16, DEV, seed=h)
    q = torch.randn(len(seqlens), s_q, h, r + dr, generator=torch.Generator().manual_seed(h + 1)).bfloat16().to(DEV)
    ro, rl = mla_decode_ref(q, kv, bt, sl, 0.1, r)
    plan = mla_decode_plan(seqlens, h, s_q, DEV, programs=programs, block_n=16, overhead_tiles=0)
    assert plan.segs.shape[0] > len(seqlens)                       # some sequences are cut: there is something to merge
    lo, ll = mla_decode_balanced(q, kv, bt, sl, 0.1, r, plan, impl="triton", fused_combine=False)
    for _ in range(2):
        o, l = mla_decode_balanced(q, kv, bt, sl, 0.1, r, plan, impl="triton", fused_combine=True)
        assert not torch.isnan(o).any() and not torch.isnan(l).any()
        e, el = compare(o, l, ro, rl), compare(o, l, lo, ll)
        assert e["cos"] > 0.9999 and e["rel"] < 1e-2 and e["lse"] < 1e-2, e
        assert el["rel"] < 1e-3 and el["lse"] < 1e-5, el           # the launched combine's sums, in another order
        assert plan.counters is not None and int(plan.counters.abs().sum()) == 0   # reset for the next call


def test_fused_combine_fp8_tile_and_refusals():
    kv, bt, sl = make_paged_cache_fp8([65, 2, 130], 16, 64, 16, DEV, tile=16, seed=2)
    q = torch.randn(3, 2, 16, 80, generator=torch.Generator().manual_seed(3)).bfloat16().to(DEV)
    ro, rl = mla_decode_fp8_ref(q, kv, bt, sl, 0.1, 64, 16)
    plan = mla_decode_plan([65, 2, 130], 16, 2, DEV, fp8=True, programs=6, block_n=16, overhead_tiles=0)
    assert plan.segs.shape[0] > 3
    for _ in range(2):
        o, l = mla_decode_fp8(q, kv, bt, sl, 0.1, 64, plan, impl="triton", tile=16, variant="tile", fused_combine=True)
        e = compare(o, l, ro, rl)
        assert e["cos"] > 0.9999 and e["rel"] < 1e-2 and e["lse"] < 1e-2, e
    with pytest.raises(ValueError, match="variant='tile'"):         # the folded kernel merges by the combine launch
        mla_decode_fp8(q, kv, bt, sl, 0.1, 64, impl="triton", tile=16, variant="bits-bf16", fused_combine=True)


@pytest.mark.parametrize("h,s_q,fused", [(16, 2, False), (128, 1, True)])
def test_pdl_same_bits_back_to_back(h, s_q, fused):
    # programmatic dependent launch (Hopper: the kernel waits for the grid before it, the combine for the kernel; the CPU
    # interpreter runs it off): calls on one plan, each right after a copy kernel writes its queries, give the plain
    # launch's bits, and the oracle's values
    r, dr, seqlens = 32, 8, [70, 2, 100, 33]
    kv, bt, sl = make_paged_cache(seqlens, 16, r + dr, torch.bfloat16, DEV, seed=h)
    g = torch.Generator().manual_seed(h + 1)
    qs = [torch.randn(len(seqlens), s_q, h, r + dr, generator=g).bfloat16().to(DEV) for _ in range(2)]
    plan = mla_decode_plan(seqlens, h, s_q, DEV, programs=5, block_n=16, overhead_tiles=0)
    assert plan.segs.shape[0] > len(seqlens)                       # some sequences are cut: the combine runs
    plain = [mla_decode_balanced(q, kv, bt, sl, 0.1, r, plan, impl="triton", fused_combine=fused, pdl=False) for q in qs]   # the plain launch
    qb = torch.empty_like(qs[0])
    for i in (0, 1, 0, 1) if DEV == "cuda" else (1,):                # the interpreter: PDL off, plumbing only
        qb.copy_(qs[i])                                            # the grid before: the kernel must wait for its writes
        o, l = mla_decode_balanced(qb, kv, bt, sl, 0.1, r, plan, impl="triton", fused_combine=fused, pdl=True)
        assert torch.equal(o, plain[i][0]) and torch.equal(l, plain[i][1])
    e = compare(*plain[1], *mla_decode_ref(qs[1], kv, bt, sl, 0.1, r))
    assert e["cos"] > 0.9999 and e["rel"] < 1e-2 and e["lse"] < 1e-2, e


def test_pdl_where_it_runs_and_fp8_tile():
    from infinitecontext.kernels_fp8 import _use_pdl
    q = torch.zeros(1, device=DEV)
    assert _use_pdl(q, True) == (DEV == "cuda" and torch.cuda.get_device_capability()[0] >= 9)
    assert not _use_pdl(q, False)
    with pytest.raises(ValueError, match="pdl must be"):
        _use_pdl(q, "yes")
    kv, bt, sl = make_paged_cache_fp8([65, 2, 130], 16, 64, 16, DEV, tile=16, seed=4)
    q = torch.randn(3, 1, 16, 80, generator=torch.Generator().manual_seed(5)).bfloat16().to(DEV)
    plan = mla_decode_plan([65, 2, 130], 16, 1, DEV, fp8=True, programs=6, block_n=16, overhead_tiles=0)
    o0, l0 = mla_decode_fp8(q, kv, bt, sl, 0.1, 64, plan, impl="triton", tile=16, variant="tile", pdl=False)
    o1, l1 = mla_decode_fp8(q, kv, bt, sl, 0.1, 64, plan, impl="triton", tile=16, variant="tile", pdl=True)
    assert torch.equal(o0, o1) and torch.equal(l0, l1)


def test_pdl_auto_rule():
    "pdl=None: PDL where the combine is wide and the head block small (measured faster), plain elsewhere; FP8 plain; CPU never."
    from infinitecontext.kernels_fp8 import (PDL_DEFAULT, PDL_MAX_BLOCK_H, PDL_MIN_COMBINE, DecodePlan, _use_pdl, pdl_auto)
    assert PDL_DEFAULT == "auto"
    mk = lambda lens, h, programs: mla_decode_plan(lens, h, 1, "cpu", programs=programs)
    wide, one = mk([8192] * 64, 16, 132), mk([1 << 20], 16, 132)
    assert wide.n_split == 64 and one.n_split == 1                        # every sequence cut / the single long one
    assert mk([100, 5000], 16, 2).n_split == int((mk([100, 5000], 16, 2).seq_ptr.diff() > 1).sum())
    assert pdl_auto(wide, 16) and not pdl_auto(one, 16)                   # 1024 vs 16 combine programs
    h128 = mk([8192] * 64, 128, 66)
    assert h128.cfg["BLOCK_H"] > PDL_MAX_BLOCK_H and 128 * h128.n_split >= PDL_MIN_COMBINE and not pdl_auto(h128, 128)
    bare = DecodePlan(wide.prog_ptr, wide.segs, wide.seq_ptr, wide.n_programs, wide.max_seqlen, wide.cfg)   # n_split unknown
    assert not pdl_auto(bare, 16)
    q = torch.zeros(1, device=DEV)
    hopper = DEV == "cuda" and torch.cuda.get_device_capability()[0] >= 9
    assert _use_pdl(q, None, wide, 16) == hopper and _use_pdl(q, "auto", wide, 16) == hopper
    assert not _use_pdl(q, None, one, 16) and not _use_pdl(q, None, wide, 16, fp8=True) and not _use_pdl(q, None)

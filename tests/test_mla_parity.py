"""MLA / InfiniteContext model parity matrix against the oracle, `transformers.DeepseekV3ForCausalLM` (fp32, CPU).

Heavier than a notebook should carry: both checkpoint directions x YaRN on/off x `q_lora_rank` set/None x both RoPE
layouts, with every weight (norm gains included) perturbed away from its init so a misplaced norm or a swapped
projection cannot hide; cached decode against transformers' own cached decode; the latent-attention contract that the
Triton kernel (notebook 03) implements; config errors; atomic checkpoint writes. About 5 s on 2 CPU cores.
"""
import json
from pathlib import Path

import pytest
import torch
from transformers import DeepseekV3ForCausalLM

from infinitecontext.mla import InfiniteContextConfig, LatentCache, latent_attention_torch, tiny, ic_1b
from infinitecontext import model as M
from infinitecontext.model import InfiniteContextForCausalLM, load_deepseek_v3, save_deepseek_v3

TOL = 1e-4  # fp32 max |logit diff| the brief asks for
YARN = dict(rope_type="yarn", rope_theta=10000.0, factor=4.0, original_max_position_embeddings=128,
            beta_fast=32, beta_slow=1, mscale=1.0, mscale_all_dim=1.0)
# tiny(): max_position_embeddings 512 = 4 x 128; sequences of 144 > 128 reach the stretched positions
VARIANTS = {f"{'yarn' if y else 'rope'}-{'qlora' if q else 'qproj'}-{'inter' if il else 'half'}":
            dict(rope_parameters=dict(YARN) if y else None, q_lora_rank=32 if q else None, rope_interleave=il)
            for y in (False, True) for q in (True, False) for il in (True, False)}
# DeepSeek-V2's YaRN (mscale = mscale_all_dim = 0.707) and unequal values, where the cos/sin factor is not 1
VARIANTS["yarn-mscale0.707"] = dict(rope_parameters=dict(YARN, mscale=0.707, mscale_all_dim=0.707))
VARIANTS["yarn-mscale1-all0.5"] = dict(rope_parameters=dict(YARN, mscale=1.0, mscale_all_dim=0.5))


def _perturb(model, seed=0):
    "Move every parameter off its init (norm gains != 1, distinct scales) so parity checks have teeth."
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            noise = torch.randn(p.shape, generator=g)
            if name.endswith("norm.weight"): p.copy_(1 + 0.3 * noise)
            else: p.add_(0.05 * noise)
    return model


def _ids(b=2, s=144, seed=1):
    return torch.randint(0, 256, (b, s), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", list(VARIANTS))
def test_ours_to_hf(name, tmp_path):
    ours = _perturb(InfiniteContextForCausalLM(tiny(**VARIANTS[name]))).eval()
    save_deepseek_v3(ours, tmp_path/"ck")
    hf, info = DeepseekV3ForCausalLM.from_pretrained(tmp_path/"ck", dtype=torch.float32, attn_implementation="eager",
                                                     output_loading_info=True)
    assert not any(info.values()), info  # no missing / unexpected / mismatched keys: names map with no table
    cfg = json.loads((tmp_path/"ck"/"config.json").read_text())
    assert cfg["model_type"] == "deepseek_v3" and cfg["first_k_dense_replace"] == cfg["num_hidden_layers"]
    assert isinstance(cfg["n_routed_experts"], int)
    ids = _ids()
    with torch.no_grad(): diff = (ours(ids).logits - hf.eval()(ids).logits).abs().max().item()
    assert diff < TOL, (name, diff)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_hf_to_ours(name, tmp_path):
    hf = _perturb(DeepseekV3ForCausalLM(M.deepseek_v3_config(tiny(**VARIANTS[name]))), seed=2).eval()
    hf.save_pretrained(tmp_path/"hf")  # a checkpoint written by transformers itself
    ours = load_deepseek_v3(tmp_path/"hf")
    assert isinstance(ours, InfiniteContextForCausalLM)
    ids = _ids()
    with torch.no_grad(): diff = (ours(ids).logits - hf(ids).logits).abs().max().item()
    assert diff < TOL, (name, diff)


@pytest.mark.parametrize("absorb", [False, True])
def test_cached_decode_matches_hf(absorb, tmp_path):
    "Prefill + token-by-token decode over our latent cache reproduces HF's full forward and its greedy continuation."
    torch.manual_seed(0)
    ours = _perturb(InfiniteContextForCausalLM(tiny(rope_parameters=dict(YARN)))).eval()
    save_deepseek_v3(ours, tmp_path/"ck")
    hf = DeepseekV3ForCausalLM.from_pretrained(tmp_path/"ck", dtype=torch.float32).eval()
    ids = _ids(b=3, s=40)
    with torch.no_grad():
        ref = hf(ids).logits
        cache = LatentCache(ours.config, 3, 40)
        steps = [ours(ids[:, :16], cache=cache, absorb=False).logits]
        steps += [ours(ids[:, t:t+1], cache=cache, absorb=absorb).logits for t in range(16, 40)]
        diff = (torch.cat(steps, 1) - ref).abs().max().item()
        assert diff < TOL, diff
        assert cache.seq_len == 40
        # the cache holds exactly c_kv (after kv_a_layernorm) and k_pe (after RoPE) per token and layer
        assert cache.nbytes() == 3 * 40 * ours.config.num_hidden_layers * (32 + 8) * 4
        prompt = ids[:, :8]
        hf_out = hf.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=12, do_sample=False,
                             eos_token_id=None, pad_token_id=0)  # no early stop: 12 tokens per row
        ours_out = ours.generate_greedy(prompt, 12, absorb=absorb)
    assert torch.equal(hf_out, ours_out), (hf_out, ours_out)


def test_latent_attention_contract():
    "The decode kernel's contract: q (b, s_q, h, r + d_rope), rows (b, s_k, r + d_rope) -> out (b, s_q, h, r), lse (b, h, s_q) fp32."
    g = torch.Generator().manual_seed(3)
    b, s_q, h, r, d_rope, s_k = 2, 2, 4, 16, 8, 11
    q, kv = torch.randn(b, s_q, h, r + d_rope, generator=g), torch.randn(b, s_k, r + d_rope, generator=g)
    seqlens = torch.tensor([11, 7], dtype=torch.int32)
    out, lse = latent_attention_torch(q, kv, seqlens, 0.3, r)
    assert out.shape == (b, s_q, h, r) and lse.shape == (b, h, s_q) and lse.dtype == torch.float32
    for i in range(b):
        for j in range(s_q):
            n = int(seqlens[i]) - s_q + 1 + j  # query j sees the rows before its own position, itself included
            sc = 0.3 * q[i, j] @ kv[i, :n].T                     # (h, n)
            torch.testing.assert_close(lse[i, :, j], sc.logsumexp(-1), atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(out[i, j], sc.softmax(-1) @ kv[i, :n, :r], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kw, field", [
    (dict(qk_rope_head_dim=7), "qk_rope_head_dim"), (dict(num_attention_heads=5), "num_attention_heads"),
    (dict(q_lora_rank=0), "q_lora_rank"), (dict(q_lora_rank=-4), "q_lora_rank"), (dict(kv_lora_rank=0), "kv_lora_rank"),
    (dict(v_head_dim=0), "v_head_dim"), (dict(num_hidden_layers=0), "num_hidden_layers"),
    (dict(rope_parameters=dict(rope_type="yarn", factor=4.0)), "original_max_position_embeddings"),
    (dict(rope_parameters=dict(rope_type="yarn", factor=0.5, original_max_position_embeddings=64)), "factor"),
    (dict(rope_parameters=dict(rope_type="dynamic", factor=2.0)), "rope_type"),
])
def test_bad_config_names_the_field(kw, field):
    with pytest.raises(ValueError, match=field): tiny(**kw)


def test_too_long_sequence_is_refused():
    m = InfiniteContextForCausalLM(tiny()).eval()
    with pytest.raises(ValueError, match="max_position_embeddings"): m(torch.zeros(1, 513, dtype=torch.long))
    cache = LatentCache(m.config, 1, 512)
    with torch.no_grad(): m(torch.zeros(1, 510, dtype=torch.long), cache=cache)
    with pytest.raises(ValueError, match="max_position_embeddings"): m(torch.zeros(1, 3, dtype=torch.long), cache=cache)


def test_refuses_moe_checkpoint(tmp_path):
    p = save_deepseek_v3(InfiniteContextForCausalLM(tiny()), tmp_path/"ck")
    cfg = json.loads((p/"config.json").read_text()); cfg["first_k_dense_replace"] = 1
    (p/"config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="first_k_dense_replace"): load_deepseek_v3(p)


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    "A crash while writing leaves the previous checkpoint intact and no half-written directory under the real name."
    m = InfiniteContextForCausalLM(tiny()).eval()
    p = save_deepseek_v3(m, tmp_path/"ck")
    before = {f.name: f.read_bytes() for f in p.iterdir()}
    import safetensors.torch as st
    def boom(*a, **k): raise RuntimeError("disk full")
    monkeypatch.setattr(st, "save_file", boom)
    with pytest.raises(RuntimeError, match="disk full"): save_deepseek_v3(m, tmp_path/"ck")
    assert {f.name: f.read_bytes() for f in p.iterdir()} == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["ck"]  # no temp dirs left behind


def test_ic_1b_cost():
    with torch.device("meta"): big = InfiniteContextForCausalLM(ic_1b())
    n = big.num_params()
    assert 0.9e9 <= n <= 1.3e9, n
    assert big.kv_bytes_per_token() == 20 * (512 + 64) * 2
    from infinitecontext.kv_cache import kv_bytes_per_token
    assert big.kv_bytes_per_token() == kv_bytes_per_token(ic_1b())
    assert isinstance(big.model.layers, torch.nn.ModuleList) and len(big.model.layers) == 20
    c = big.config
    assert c.rope_parameters["factor"] == 32 and c.rope_parameters["original_max_position_embeddings"] == 4096
    assert c.max_position_embeddings == 131072 and c.rms_norm_eps == 1e-6


def test_hf_style_cache_kwargs():
    "HF-style callers pass `cache` (or the older `past_key_values`) / `use_cache`: they extend the latent cache."
    m = _perturb(InfiniteContextForCausalLM(tiny())).eval()
    ids = _ids(b=2, s=20)
    with torch.no_grad():
        full = m(ids).logits
        out = m(ids[:, :12], use_cache=True)
        cache = out.cache
        assert isinstance(cache, LatentCache), "use_cache=True must return the latent cache"
        steps = [out.logits] + [m(ids[:, t:t+1], cache=cache).logits for t in range(12, 16)]
        steps += [m(ids[:, t:t+1], past_key_values=cache).logits for t in range(16, 20)]
    assert (torch.cat(steps, 1) - full).abs().max().item() < TOL


def test_trl_style_base_model():
    "TRL (value heads, reward models) calls model.base_model(input_ids=, attention_mask=, use_cache=False).last_hidden_state."
    m = _perturb(InfiniteContextForCausalLM(tiny())).eval()
    ids = _ids(b=2, s=12)
    with torch.no_grad():
        out = m.base_model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False)
        assert type(out).__name__ == "BaseModelOutputWithPast" and out.cache is None
        assert out.last_hidden_state.shape == (2, 12, m.config.hidden_size)
        assert (m.lm_head(out.last_hidden_state) - m(ids).logits).abs().max().item() == 0
        h, = m.base_model(ids, return_dict=False)
        assert torch.equal(h, out.last_hidden_state)
        loss, logits = m(ids, labels=ids, return_dict=False)
        n = (ids[:, 1:] != -100).sum()
        assert torch.allclose(m(ids, labels=ids, num_items_in_batch=n).loss, loss, atol=1e-6)  # sum / n == mean here
        pos = torch.arange(12)[None]
        assert torch.equal(m(ids, position_ids=pos).logits, m(ids).logits)
        emb = m.model.embed_tokens(ids)
        assert torch.equal(m(inputs_embeds=emb).logits, m(ids).logits)
    g = m.generation_config
    assert (g.bos_token_id, g.eos_token_id, g.do_sample, g.max_length) == (0, 1, False, 512)


def test_padding_is_honoured_or_refused():
    "Right padding leaves real tokens exact; left padding gives each row its logits alone; bad masks are refused."
    m = _perturb(InfiniteContextForCausalLM(tiny())).eval()
    ids = _ids(b=2, s=12)
    with torch.no_grad():
        full = m(ids).logits
        right = torch.ones(2, 12, dtype=torch.long); right[1, 9:] = 0
        assert (m(ids, attention_mask=right).logits - full).abs().max().item() < 1e-6
        left = torch.ones(2, 12, dtype=torch.long); left[0, :4] = 0
        got = m(ids, attention_mask=left).logits
        assert (got[0, 4:] - m(ids[:1, 4:]).logits[0]).abs().max().item() < TOL
        assert (got[1] - full[1]).abs().max().item() < TOL
        cache = m(ids[:, :6], use_cache=True).cache
    for mask, msg in [(torch.ones(2, 11), "must be \\(batch=2, new tokens=12\\)"), (torch.ones(12), "must be"),
                      (torch.ones(2, 1, 12, 12), "must be"), (torch.tensor([[0] * 12, [1] * 12]), "rows \\[0\\] are all padding")]:
        with pytest.raises(ValueError, match=msg): m(ids, attention_mask=mask)
    with pytest.raises(ValueError, match="pads a cached call"): m(ids[:, 6:7], cache=cache, attention_mask=torch.tensor([[1] * 7, [0] + [1] * 6]))
    with pytest.raises(ValueError, match="packed sequences"): m(ids, position_ids=torch.tensor([list(range(6)) * 2] * 2))
    with pytest.raises(ValueError, match="position_ids must lie in"): m(ids, position_ids=torch.arange(500, 512)[None] + 1)
    with pytest.raises(ValueError, match="exactly one of input_ids or inputs_embeds"): m()
    with pytest.raises(TypeError, match="output_attentions"): m(ids, output_attentions=True)
    with pytest.raises(TypeError, match="LatentCache"): m(ids, cache=object())


def test_our_calls_raise_no_transformers_deprecation_warning():
    "Our own calls use `cache`, never the deprecated `past_key_values` name of transformers' outputs."
    import logging
    from transformers.utils import logging as hf_logging
    logging.Logger.warning_once.cache_clear()
    seen = []
    class H(logging.Handler):
        def emit(self, rec): seen.append(rec.getMessage())
    h = H(); lg = hf_logging.get_logger("transformers"); lg.addHandler(h)
    try:
        m = InfiniteContextForCausalLM(tiny()).eval()
        ids = _ids(b=1, s=6)
        with torch.no_grad():
            out = m(ids, use_cache=True); m(ids[:, :1], cache=out.cache)
            m.generate_greedy(ids, 3)
    finally: lg.removeHandler(h)
    assert not [x for x in seen if "deprecated" in x], seen


def test_decode_hook_sees_the_whole_contiguous_buffer(monkeypatch):
    "The kernel hook gets the layer's whole (b, max_len, r_kv + d_rope) buffer, so it can view it as pages with no copy."
    from infinitecontext import mla
    seen = []
    def spy(q, kv, cache_seqlens, scale, kv_lora_rank):
        seen.append((kv.is_contiguous(), tuple(kv.shape), cache_seqlens.tolist()))
        return latent_attention_torch(q, kv, cache_seqlens, scale, kv_lora_rank)
    monkeypatch.setitem(mla._DECODE_IMPL, "impl", spy)
    m = InfiniteContextForCausalLM(tiny()).eval()
    ids = _ids(b=2, s=10)
    cache = LatentCache(m.config, 2, 64)
    with torch.no_grad():
        m(ids[:, :9], cache=cache, absorb=False)
        m(ids[:, 9:], cache=cache, absorb=True)
    assert seen == [(True, (2, 64, 32 + 8), [10, 10])] * m.config.num_hidden_layers

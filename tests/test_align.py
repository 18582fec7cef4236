"Alignment (lesson 05b): the tokenizer TRL sees, SFT and DPO through TRL on our model, mining, YaRN copies."
import copy, random
import pytest, torch
from infinitecontext.data import stdlib_haystack
from infinitecontext.eval import NiahSample, ModelBackend
from infinitecontext.align import hf_tokenizer, niah_rows, sft, dpo, mine_pairs, NoFailuresError, paired_eval, with_rope, yarn

def test_hf_tokenizer_same_ids(tok):
    h = hf_tokenizer(tok)
    for text in ["The pass key is 48213.\n", "tabs\tand ünïcode ✓", "\x01\x7f"]:
        assert h(text, add_special_tokens=False)["input_ids"] == tok.encode(text)
        assert h.decode(tok.encode(text)) == text
    assert h.pad_token_id == 0 and h.eos_token_id == 0 and hf_tokenizer(h) is h
    with pytest.raises(TypeError, match="expected ByteTokenizer"): hf_tokenizer(object())

def test_sft_then_dpo_through_trl(model, tmp_path, tok, hay):
    rows = niah_rows(tok, hay, [64, 96], 16, seed=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    m1, log1 = sft(copy.deepcopy(model), tok, rows, tmp_path / "sft", steps=3, lr=1e-3, batch_size=4)
    assert any("loss" in h for h in log1) and any(not torch.equal(before[k], v) for k, v in m1.state_dict().items())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())       # the input model is untouched
    pairs, acc = mine_pairs(m1, tok, rows)
    assert 0 <= acc < 1 and all(p["chosen"] != p["rejected"] and len(p["rejected"]) > 0 for p in pairs)
    ref = copy.deepcopy(m1); ref_sd = {k: v.clone() for k, v in ref.state_dict().items()}
    m2, log2 = dpo(copy.deepcopy(m1), tok, pairs, tmp_path / "dpo", steps=3, lr=1e-3, batch_size=4, ref_model=ref)
    assert any("rewards/margins" in h for h in log2)
    assert "forward" not in vars(m1) and "forward" not in vars(m2)                       # TRL's instance patch is removed
    x = torch.tensor([rows[0].input_ids])
    assert not torch.allclose(m2(x).logits, m1(x).logits)                               # the DPO model runs its own weights
    assert all(torch.equal(ref_sd[k], v) for k, v in ref.state_dict().items())           # the reference stays frozen
    pe = paired_eval({"sft": m1, "dpo": m2}, tok, rows[:8], boot=200)
    assert pe["sft"]["n"] == 8 and -1 <= pe["diff"]["value"] <= 1 and pe["diff"]["ci95"][0] <= pe["diff"]["ci95"][1]

def test_no_failures_to_mine(model, tok, hay):
    m0 = copy.deepcopy(model)
    with torch.no_grad(): m0.lm_head.weight.zero_()        # every logit 0: greedy always picks id 0 (NUL)
    rows = niah_rows(tok, hay, [64], 4, seed=2)
    right = [NiahSample(s.task, s.length, s.depth, s.prompt, ["\x00" * 5], s.input_ids, s.context) for s in rows]
    with pytest.raises(NoFailuresError, match="no failures to mine: the model answered all 4 prompts correctly"): mine_pairs(m0, tok, right)
    pairs, acc = mine_pairs(m0, tok, rows)                  # the real answers: all wrong, each rejected = NUL x 5
    assert acc == 0 and len(pairs) == 4 and {p["rejected"] for p in pairs} == {"\x00" * 5}
    with pytest.raises(NoFailuresError): dpo(model, tok, [], "unused")

def test_rope_copies(model, tok):
    x = torch.tensor([tok.encode("The pass key is 12345. " * 4)])
    same = with_rope(model, model.config.rope_parameters, 512)
    assert torch.allclose(same(x).logits, model(x).logits, atol=1e-5)
    one = yarn(model, 1.0)                                          # YaRN at factor 1 is plain RoPE
    assert torch.allclose(one(x).logits, model(x).logits, atol=1e-5)
    y = yarn(model, 4.0, 128)
    r0, r4 = model.model.rotary_emb, y.model.rotary_emb                     # low frequencies interpolated, m(s) > 1
    assert torch.equal(r4.inv_freq[0], r0.inv_freq[0]) and torch.allclose(r4.inv_freq[-1], r0.inv_freq[-1] / 4) and r4.attention_scaling > 1
    assert y.config.max_position_embeddings == 512 and y.config.rope_parameters["rope_type"] == "yarn"
    long = torch.tensor([tok.encode(stdlib_haystack()[:400])])
    assert y(long).logits.shape == (1, 400, 256)
    with pytest.raises(ValueError, match="exceeds max_position_embeddings"): model(long)

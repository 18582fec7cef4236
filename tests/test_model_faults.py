"""The model and its checkpoints driven with bad input and faults: each must end in one clear error or the right result.

Checkpoint folders that already hold other files, stale weight backups, corrupt or missing config and index files,
tied embeddings with a stored head, and bad generation arguments. CPU, tiny models, a few seconds.
"""
import json
from pathlib import Path

import pytest
import torch
from transformers import DeepseekV3ForCausalLM

from infinitecontext.mla import tiny
from infinitecontext.model import InfiniteContextForCausalLM, load_deepseek_v3, save_deepseek_v3, WEIGHTS, INDEX


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return InfiniteContextForCausalLM(tiny(**kw)).eval()


def _ids(b=2, s=10):
    return torch.randint(0, 256, (b, s), generator=torch.Generator().manual_seed(3))


def _same(a, b):
    with torch.no_grad(): return torch.equal(a(_ids()).logits, b(_ids()).logits)


def test_save_into_a_used_folder_keeps_other_files(tmp_path):
    (tmp_path/"README.md").write_text("mine"); (tmp_path/"tokenizer.json").write_text("{}")
    (tmp_path/"sub").mkdir(); (tmp_path/"sub"/"x.bin").write_bytes(b"x")
    m = _model()
    save_deepseek_v3(m, tmp_path)
    save_deepseek_v3(m, tmp_path)                                   # and again over our own files
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted(["README.md", "tokenizer.json", "sub", "config.json", WEIGHTS, INDEX])
    assert (tmp_path/"README.md").read_text() == "mine" and (tmp_path/"sub"/"x.bin").read_bytes() == b"x"
    assert _same(load_deepseek_v3(tmp_path), m)


def test_save_onto_a_file_is_refused(tmp_path):
    (tmp_path/"f").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"): save_deepseek_v3(_model(), tmp_path/"f")
    assert (tmp_path/"f").read_text() == "x"


def test_a_stale_backup_never_overrides_the_weights(tmp_path):
    m, old = _model(0), _model(1)
    save_deepseek_v3(old, tmp_path/"old")
    save_deepseek_v3(m, tmp_path/"ck")
    (tmp_path/"old"/WEIGHTS).rename(tmp_path/"ck"/"zz-backup.safetensors")   # sorts after model.safetensors
    (tmp_path/"old"/INDEX).unlink()
    assert _same(load_deepseek_v3(tmp_path/"ck"), m)
    # transformers reads the same file
    hf = DeepseekV3ForCausalLM.from_pretrained(tmp_path/"ck", attn_implementation="eager", dtype=torch.float32).eval()
    with torch.no_grad(): assert (hf(_ids()).logits - m(_ids()).logits).abs().max().item() < 1e-4
    idx = json.loads((tmp_path/"ck"/INDEX).read_text())
    assert set(idx["weight_map"].values()) == {WEIGHTS}             # vLLM filters *.safetensors by this index


def test_sharded_checkpoint_reads_only_indexed_shards(tmp_path):
    "A transformers checkpoint saved in shards: the index names the files; others beside them are ignored."
    from transformers import DeepseekV3Config
    from infinitecontext.model import deepseek_v3_config
    hf = DeepseekV3ForCausalLM(deepseek_v3_config(tiny())).eval()
    hf.save_pretrained(tmp_path, max_shard_size="100KB")
    shards = sorted(f.name for f in tmp_path.glob("*.safetensors"))
    assert len(shards) > 1 and (tmp_path/INDEX).is_file()
    torch.save({}, tmp_path/"ignored.pt")
    save_deepseek_v3(_model(5), tmp_path/"other"); (tmp_path/"other"/WEIGHTS).rename(tmp_path/"old-model.safetensors")
    back = load_deepseek_v3(tmp_path)
    with torch.no_grad(): assert (back(_ids()).logits - hf(_ids()).logits).abs().max().item() < 1e-5
    (tmp_path/shards[0]).unlink()
    with pytest.raises(FileNotFoundError, match="names shards that are missing"): load_deepseek_v3(tmp_path)
    (tmp_path/INDEX).write_text("{ nope")
    with pytest.raises(ValueError, match="is not a safetensors index"): load_deepseek_v3(tmp_path)


def test_no_weights_at_all(tmp_path):
    save_deepseek_v3(_model(), tmp_path)
    (tmp_path/WEIGHTS).unlink(); (tmp_path/INDEX).unlink()
    with pytest.raises(FileNotFoundError, match="neither model.safetensors nor"): load_deepseek_v3(tmp_path)


@pytest.mark.parametrize("text, msg", [("{ not json", "config.json is not valid JSON"), ("[1, 2]", "expected 'deepseek_v3'"),
                                       ('{"model_type": "llama"}', "model_type is 'llama'"),
                                       ('{"model_type": "deepseek_v3"}', "num_hidden_layers is missing")])
def test_corrupt_config_names_the_file(tmp_path, text, msg):
    save_deepseek_v3(_model(), tmp_path)
    (tmp_path/"config.json").write_text(text)
    with pytest.raises(ValueError, match=msg) as e: load_deepseek_v3(tmp_path)
    assert str(tmp_path/"config.json") in str(e.value)


def test_bad_field_in_config_json_names_the_file(tmp_path):
    save_deepseek_v3(_model(), tmp_path)
    cfg = json.loads((tmp_path/"config.json").read_text()); cfg["rms_norm_eps"] = 0
    (tmp_path/"config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="config.json: rms_norm_eps must be a positive number"): load_deepseek_v3(tmp_path)


def test_tied_embeddings_never_drop_a_stored_head(tmp_path):
    m = _model()
    save_deepseek_v3(m, tmp_path)                                   # untied: lm_head stored
    cfg = json.loads((tmp_path/"config.json").read_text()); cfg["tie_word_embeddings"] = True
    (tmp_path/"config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="store an lm_head.weight different from embed_tokens"): load_deepseek_v3(tmp_path)
    m.config.tie_word_embeddings = True                             # flag set, weights never tied
    with pytest.raises(ValueError, match="lm_head differs from embed_tokens"): save_deepseek_v3(m, tmp_path/"t")
    t = _model(tie_word_embeddings=True)                            # truly tied: saved without the head, loaded tied
    save_deepseek_v3(t, tmp_path/"tied")
    back = load_deepseek_v3(tmp_path/"tied")
    assert back.lm_head.weight.data_ptr() == back.model.embed_tokens.weight.data_ptr() and _same(back, t)


def test_crash_while_saving_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    m = _model()
    save_deepseek_v3(m, tmp_path)
    (tmp_path/"NOTES.md").write_text("mine")
    before = {f.name: f.read_bytes() for f in tmp_path.iterdir()}
    import safetensors.torch as st
    monkeypatch.setattr(st, "save_file", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError, match="disk full"): save_deepseek_v3(_model(1), tmp_path)
    assert {f.name: f.read_bytes() for f in tmp_path.iterdir()} == before   # no temp file left, nothing replaced


@pytest.mark.parametrize("ids, n, msg", [(torch.zeros(1, 0, dtype=torch.long), 4, "prompt length >= 1"),
                                         (torch.zeros(3, dtype=torch.long), 4, "prompt length >= 1"),
                                         (torch.zeros(1, 3, dtype=torch.long), -1, "max_new_tokens must be an integer >= 0"),
                                         (torch.zeros(1, 3, dtype=torch.long), 2.5, "max_new_tokens must be an integer >= 0")])
def test_generate_greedy_bad_arguments(ids, n, msg):
    with pytest.raises(ValueError, match=msg): _model().generate_greedy(ids, n)


def test_generate_greedy_zero_new_tokens_returns_the_prompt():
    ids = _ids(1, 5)
    assert torch.equal(_model().generate_greedy(ids, 0), ids)

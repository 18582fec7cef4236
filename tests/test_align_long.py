"tools/niah_long.py (lesson 05b's GPU run) at tiny size on a CPU: the engine backend, the curriculum gate, the whole path, bad arguments."
import json, sys
from pathlib import Path
import pytest
from infinitecontext.engine import LLMEngine
from infinitecontext.eval import ModelBackend, evaluate_grid

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import niah_long

def test_engine_backend_answers_as_the_model_does(model, tok, hay):
    "Greedy through 06a's engine (paged cache, 64-token prefill chunks) = greedy through the model's own decode."
    kw = dict(lengths=[96, 200], depths=[0.0, 0.5, 1.0], n=2, seed=4, log=lambda *a: None)
    a = evaluate_grid(ModelBackend(model, tok), tok, hay, **kw)
    eng = LLMEngine(model, tok, max_model_len=224, max_num_seqs=6, max_num_batched_tokens=64, prefix_caching=False)
    b = evaluate_grid(niah_long.EngineBackend(eng, tok), tok, hay, **kw)
    assert [s["pred"] for s in b["samples"]] == [s["pred"] for s in a["samples"]] and all(len(s["pred"]) == 5 for s in b["samples"])
    with pytest.raises(ValueError, match="exceeds the engine's max_model_len"): niah_long.EngineBackend(eng, tok).check(225)

def test_tiny_run_end_to_end(tmp_path):
    # a gate of 0% is met at the first probe (step 100): the stage stops there, not at its bound of 300 steps
    res = niah_long.main(["--preset", "tiny", "--out", str(tmp_path), "--stages", "96:300:8:0.0,160:10:8", "--yarn-steps", "3"],
                         log=lambda *a: None)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert (tmp_path / "heatmap.png").stat().st_size > 1000
    assert saved["grid_lengths"] == [160, 320, 480] and saved["not_reached"] == [] and saved["params"] == res["params"]
    assert len(saved["yarn_ft"]["cells"]) == 3 * 3 and all(c["n"] == 2 for c in saved["yarn_ft"]["cells"])
    assert set(saved) >= {"no_yarn", "yarn_no_ft", "yarn_ft", "summary", "train_log", "yarn_log", "hardware", "date"}
    first = [h for h in saved["train_log"] if h["len"] == 96]
    assert max(h["step"] for h in first) == 100 and first[-1]["probe"] == 0.0, first
    assert max(h["step"] for h in saved["train_log"]) == 110   # then the next stage's 10 steps
    assert saved["all_cells_ge_95"] is False              # 40 CPU steps do not make a retriever

def test_yarn_fine_tune_in_stages_past_train_len(tmp_path):
    "--yarn-stages (the gpu32k preset's knob): after YaRN, fine-tune at train_len and then at 3x it, each bounded by steps."
    res = niah_long.main(["--preset", "tiny", "--out", str(tmp_path), "--stages", "96:4:8", "--yarn-stages", "160:2:4,480:3:1",
                          "--lengths", "480", "--base-lengths", "160", "--n", "1"], log=lambda *a: None)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["yarn_stages"] == [[160, 2, 4], [480, 3, 1]] and saved["yarn_steps"] == 5 == res["yarn_steps"]
    assert [h["len"] for h in saved["yarn_log"] if "probe" in h] == [160, 480] and max(h["step"] for h in saved["yarn_log"]) == 5
    assert set(saved["summary"]) == {"480"} and saved["summary"]["480"]["n"] == 3
    assert niah_long.PRESETS["gpu32k"]["yarn_stages"].endswith("32768:150:1") and "yarn_stages" not in niah_long.PRESETS["gpu"]

def test_yarn_schedule_per_stage(tmp_path):
    "--yarn-schedule stage: each fine-tune stage restarts its warm-up and cosine, at its own scale (the 4th field)."
    args = ["--preset", "tiny", "--out", str(tmp_path), "--stages", "96:4:8", "--lengths", "480", "--base-lengths", "160", "--n", "1",
            "--lr", "1e-3", "--yarn-stages", "160:8:4,480:8:1:0.3"]
    res = niah_long.main(args + ["--yarn-schedule", "stage"], log=lambda *a: None)
    first = {h["len"]: h["lr"] for h in res["yarn_log"] if "lr" in h and h["step"] in (1, 9)}   # each stage's first step
    peak = 1e-3 / 3                                                                          # the fine-tune's peak: lr / 3
    assert first[160] == pytest.approx(peak / 5) and first[480] == pytest.approx(0.3 * peak / 5), first   # warm-up 5
    assert res["yarn_schedule"] == "stage" and res["yarn_stages"][1] == (480, 8, 1, 0.3)
    with pytest.raises(ValueError, match="needs --yarn-schedule stage"):                    # a scale needs the staged schedule
        niah_long.main(args, log=lambda *a: None)
    with pytest.raises(ValueError, match="give 'global' or 'stage'"):
        niah_long.main(args + ["--yarn-schedule", "linear"], log=lambda *a: None)
    assert niah_long.PRESETS["gpu32k-staged"]["yarn_schedule"] == "stage" and "yarn_schedule" not in niah_long.PRESETS["gpu32k"]

def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="longer than --train-len"):
        niah_long.main(["--preset", "tiny", "--out", str(tmp_path), "--stages", "320:1:2"], log=lambda *a: None)
    with pytest.raises(ValueError, match="give 'len:steps:batch"):
        niah_long.main(["--preset", "tiny", "--out", str(tmp_path), "--stages", "96x40"], log=lambda *a: None)
    with pytest.raises(ValueError, match="exceeds YaRN's reach"):
        niah_long.main(["--preset", "tiny", "--out", str(tmp_path), "--lengths", "1000"], log=lambda *a: None)
    with pytest.raises(ValueError, match="give 'len:steps:batch,...'"):
        niah_long.main(["--preset", "tiny", "--out", str(tmp_path), "--yarn-stages", "160:2"], log=lambda *a: None)
    with pytest.raises(ValueError, match="exceeds YaRN's reach"):
        niah_long.main(["--preset", "tiny", "--out", str(tmp_path), "--yarn-stages", "160:2:4,641:1:1"], log=lambda *a: None)

"NIAH harness (lesson 05a): samples, scoring, the grid on our model and on transformers, the bad inputs."
import json, random
import pytest
from infinitecontext.eval import (TASKS, NiahSample, check_sample, niah_sample, load_rows, exact_match, string_match_all, wilson,
                                  ModelBackend, HFBackend, EndpointBackend, EndpointError, evaluate_grid, save_results, summarize,
                                  plot_heatmap, parse_absolute)
from infinitecontext.model import save_deepseek_v3

@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("depth", [0.0, 0.5, 1.0])
def test_sample_exact_length_and_needle_at_depth(task, depth, tok, hay):
    s = niah_sample(tok, hay, task, 200, depth, random.Random(1))
    assert len(s.input_ids) == 200 and tok.decode(s.input_ids) == s.prompt
    assert all(a in s.context for a in s.answers) and s.prompt.startswith(s.context)
    if task == "single":
        at = s.context.index(s.answers[0]) / len(s.context)
        assert abs(at - depth) < 0.2, (at, depth)
    assert len(s.answers) == {"single": 1, "multikey": 1, "multivalue": 4, "multiquery": 2}[task]

def test_bad_rows_and_short_corpus(tmp_path, tok, hay):
    with pytest.raises(ValueError, match="not in its context"): check_sample(NiahSample("custom", 5, 0.5, "x", ["12345"], [], "no key"))
    f = tmp_path / "rows.jsonl"
    f.write_text(json.dumps(dict(context="The pass key is 12345.", question="\nThe pass key is ", answers=["12345"])) + "\n"
                 + json.dumps(dict(context="nothing here", question="?", answer="999")) + "\n")
    with pytest.raises(ValueError, match=r"rows.jsonl:2: .*\['999'\] not in its context"): load_rows(f)
    with pytest.raises(ValueError, match="add text to the corpus"): niah_sample(tok, tok.encode("short corpus " * 5), "single", 200, 0.5, random.Random(0))
    with pytest.raises(ValueError, match="unknown NIAH task"): niah_sample(tok, hay, "nope", 200, 0.5, random.Random(0))

def test_scores():
    assert exact_match(" 48213.\nmore", ["48213"]) == 1 and exact_match("48213 is it", ["48213"]) == 0
    assert exact_match("1, 2", ["1", "2"]) == 1 and string_match_all("2 and 1", ["1", "2"]) == 1
    assert string_match_all("The pass key is 4821", ["48213"]) == 0
    lo, hi = wilson(8, 8); assert 0.6 < lo < 0.7 and hi == 1.0
    lo, hi = wilson(0, 200); assert lo == 0 and hi < 0.02

def test_grid_ours_vs_transformers(model, tmp_path, tok, hay):
    be = ModelBackend(model, tok)
    r = evaluate_grid(be, tok, hay, [128, 192], [0.0, 1.0], tasks=("single", "multiquery"), n=3, seed=5, k=2, log=lambda *a: None)
    assert len(r["cells"]) == 8 and all(c["n"] == 3 for c in r["cells"]) and len(r["samples"]) == 24
    for s in r["samples"]:
        assert s["exact_match"] == exact_match(s["pred"], s["answers"]) and s["string_match"] == string_match_all(s["pred"], s["answers"])
    save_results(r, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["cells"][0].keys() >= {"task", "length", "depth", "exact_match", "string_match", "n"}
    assert set(summarize(r)) == {"single", "multiquery"}
    plot_heatmap(r, "single")
    # the same samples through transformers' DeepseekV3ForCausalLM on our export: identical greedy predictions
    from transformers import DeepseekV3ForCausalLM
    save_deepseek_v3(model, tmp_path / "hf")
    hf = DeepseekV3ForCausalLM.from_pretrained(tmp_path / "hf").eval()
    r2 = evaluate_grid(HFBackend(hf, tok), tok, hay, [128, 192], [0.0, 1.0], tasks=("single", "multiquery"), n=3, seed=5, k=2, log=lambda *a: None)
    assert [s["pred"] for s in r2["samples"]] == [s["pred"] for s in r["samples"]]

def test_too_long_is_refused_before_decoding(model, tok, hay):
    with pytest.raises(ValueError, match="exceeds the model's context"):
        evaluate_grid(ModelBackend(model, tok), tok, hay, [128, 256], [0.5], n=1, log=lambda *a: None)

def test_unreachable_endpoint():
    with pytest.raises(EndpointError, match="cannot reach http://127.0.0.1:9/v1"):
        EndpointBackend("http://127.0.0.1:9/v1", timeout=5)

@pytest.mark.parametrize("text,want", [("Feedback: exact. [RESULT] 5", 5), ("Feedback: no [RESULT] (1)", 1), ("[RESULT] 3/5", 3),
                                       ("Score: 4 out of 5", 4), ("no score at all", None), ("[RESULT] 7", None), ("[RESULT] 2 but then more", None)])
def test_prometheus_parser(text, want):
    assert parse_absolute(text) == want

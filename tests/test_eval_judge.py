"NIAH over an OpenAI-compatible endpoint and the Prometheus-style judge, against a real local server (ic-serve, lesson 06a)."
import random
from pathlib import Path
import pytest, torch
from infinitecontext.eval import (EndpointBackend, EndpointError, ModelBackend, Judge, judge_agreement, evaluate_grid, niah_sample,
                                  parse_absolute, local_server)
from infinitecontext.mla import tiny
from infinitecontext.model import InfiniteContextForCausalLM, save_deepseek_v3

@pytest.fixture(scope="module")
def served(tmp_path_factory, tok):
    "A tiny byte-level model exported and served by the real `ic-serve` CLI in a subprocess (eval.local_server)."
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("judge") / "tiny-judge"
    model = InfiniteContextForCausalLM(tiny(max_position_embeddings=4096)).eval()
    save_deepseek_v3(model, d); tok.save(d)
    with local_server(d, extra_args=("--max-num-seqs", "4")) as url: yield dict(url=url, model=model)

def test_endpoint_grid_equals_in_process(served, tok, hay):
    ep = EndpointBackend(served["url"], max_context=4096)
    assert ep.model == "tiny-judge"
    kw = dict(lengths=[96, 160], depths=[0.0, 1.0], tasks=("single", "multikey"), n=2, seed=3, k=2, log=lambda *a: None)
    r_ep = evaluate_grid(ep, tok, hay, **kw)
    r_in = evaluate_grid(ModelBackend(served["model"], tok), tok, hay, **kw)
    assert [s["pred"] for s in r_ep["samples"]] == [s["pred"] for s in r_in["samples"]]   # greedy over HTTP = greedy in-process

def test_endpoint_too_long_prompt_is_one_clear_error(served, tok, hay):
    ep = EndpointBackend(served["url"])
    s = niah_sample(tok, hay, "single", 4200, 0.5, random.Random(0))
    with pytest.raises(EndpointError, match=r"answered 400 \(the prompt is probably longer than the served model's context\)"):
        ep.generate([s], 8)
    with pytest.raises(ValueError, match="exceeds max_context=4096"): EndpointBackend(served["url"], max_context=4096).check(4200)

def test_judge_against_real_server(served):
    j = Judge(served["url"], max_tokens=24)
    assert "###Score Rubrics:" in j.prompt("i", "r", "ref") and "[RESULT]" in j.prompt("i", "r", "ref")
    g = j.grade("Retrieve the pass key.", "48213", "48213")
    assert isinstance(g["feedback"], str) and len(g["feedback"]) > 0
    assert g["score"] == parse_absolute(g["feedback"])          # the server's own text, parsed (a tiny random judge: noise)
    samples = [dict(task="single", answers=["48213"], pred="48213", exact_match=1.0),
               dict(task="single", answers=["48213"], pred="11111", exact_match=0.0)]
    a = judge_agreement(j, samples)
    assert a["n"] == 2 and 0 <= a["parsed"] <= 2 and len(a["graded"]) == 2

def test_judge_unreachable():
    with pytest.raises(EndpointError, match="cannot reach http://127.0.0.1:9/v1"): Judge("http://127.0.0.1:9/v1", timeout=3)

"06a server on CPU: the OpenAI client over loopback — completions, chat, streams, errors, aborts, bursts, metrics, ic-serve."
import json, os, socket, subprocess, sys, threading, time, urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import pytest, torch
openai = pytest.importorskip("openai")
import uvicorn
from infinitecontext.data import BPETokenizer, stdlib_haystack
from infinitecontext.mla import tiny
from infinitecontext.model import InfiniteContextForCausalLM, save_deepseek_v3
from infinitecontext.engine import LLMEngine
from infinitecontext.engine import build_app, load_for_serving

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]

def free_port():
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    "A tiny DeepSeek-V3 export with our 04a BPE tokenizer beside it."
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("serve") / "tiny-chat"
    tok = BPETokenizer.train(stdlib_haystack()[:200_000], vocab_size=320)
    model = InfiniteContextForCausalLM(tiny(vocab_size=320, max_position_embeddings=2048, initializer_range=0.1))
    save_deepseek_v3(model, d); tok.save(d)
    return d

@pytest.fixture(scope="module")
def server(model_dir):
    model, tok = load_for_serving(model_dir, "cpu")
    eng = LLMEngine(model, tok, max_model_len=256, max_num_seqs=4, max_num_batched_tokens=64)
    app = build_app(eng, tok, "tiny-chat")
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True); t.start()
    for _ in range(200):
        if srv.started: break
        time.sleep(0.05)
    assert srv.started
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0, timeout=120)
    yield dict(client=client, eng=eng, tok=tok, model=model, url=f"http://127.0.0.1:{port}")
    srv.should_exit = True; t.join(timeout=10)

def test_completion_equals_greedy(server):
    c, tok, model = server["client"], server["tok"], server["model"]
    prompt = "Return a new list containing"
    r = c.completions.create(model="tiny-chat", prompt=prompt, max_tokens=12, temperature=0, extra_body={"ignore_eos": True})
    ids = torch.tensor([tok.encode(prompt)])
    want = model.generate_greedy(ids, 12)[0, ids.shape[1]:].tolist()
    assert r.choices[0].text == tok.decode(want) and r.usage.completion_tokens == 12
    assert r.usage.prompt_tokens == ids.shape[1] and r.choices[0].finish_reason == "length"
    s = c.completions.create(model="tiny-chat", prompt=prompt, max_tokens=12, temperature=0, stream=True,
                             extra_body={"ignore_eos": True})
    assert "".join(ch.choices[0].text for ch in s) == r.choices[0].text
    assert [m.id for m in c.models.list().data] == ["tiny-chat"]

def test_chat_stream_stop_logprobs_seed(server):
    c = server["client"]
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What does sorted do?"}]
    full = c.chat.completions.create(model="tiny-chat", messages=msgs, max_tokens=20, temperature=0, logprobs=True,
                                     top_logprobs=2, extra_body={"ignore_eos": True})
    text = full.choices[0].message.content
    assert full.choices[0].message.role == "assistant" and len(full.choices[0].logprobs.content) == 20
    assert all(len(t.top_logprobs) == 2 and t.logprob <= 0 for t in full.choices[0].logprobs.content)
    chunks = list(c.chat.completions.create(model="tiny-chat", messages=msgs, max_tokens=20, temperature=0, stream=True,
                                            stream_options={"include_usage": True}, extra_body={"ignore_eos": True}))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == text
    assert chunks[-1].usage.completion_tokens == 20
    stop = text[len(text) // 2: len(text) // 2 + 3]
    if stop.strip():
        cut = c.chat.completions.create(model="tiny-chat", messages=msgs, max_tokens=20, temperature=0, stop=[stop],
                                        extra_body={"ignore_eos": True})
        assert cut.choices[0].finish_reason == "stop" and stop not in cut.choices[0].message.content
        assert text.startswith(cut.choices[0].message.content)
    a, b = (c.completions.create(model="tiny-chat", prompt="The", max_tokens=16, temperature=1.0, top_p=0.9, seed=5,
                                 extra_body={"ignore_eos": True}).choices[0].text for _ in range(2))
    assert a == b

def test_n_samples_fork_the_prompt(server):
    "n > 1: n choices, sample i equal to a lone request seeded seed + i; streamed deltas per index add up to the same texts."
    c = server["client"]
    kw = dict(model="tiny-chat", prompt="Return a new list", max_tokens=10, temperature=1.0, extra_body={"ignore_eos": True})
    r = c.completions.create(n=3, seed=11, **kw)
    assert [ch.index for ch in r.choices] == [0, 1, 2] and r.usage.completion_tokens == 30
    assert [ch.text for ch in r.choices] == [c.completions.create(seed=11 + i, **kw).choices[0].text for i in range(3)]
    texts = {}
    for ch in c.completions.create(n=3, seed=11, stream=True, **kw):
        for x in ch.choices: texts[x.index] = texts.get(x.index, "") + x.text
    assert texts == {i: ch.text for i, ch in enumerate(r.choices)}

def test_bad_requests(server):
    c, url = server["client"], server["url"]
    with pytest.raises(openai.BadRequestError) as e:
        c.completions.create(model="tiny-chat", prompt=list(range(300)), max_tokens=4)
    assert "maximum context length is 256" in e.value.message and "300" in e.value.message
    assert e.value.body["code"] == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError, match="at most 246"):
        c.completions.create(model="tiny-chat", prompt=list(range(10)), max_tokens=1000)
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        c.completions.create(model="gpt-4", prompt="hi", max_tokens=2)
    with pytest.raises(openai.BadRequestError, match="n must be an integer"):
        c.completions.create(model="tiny-chat", prompt="hi", max_tokens=2, n=0)
    with pytest.raises(openai.BadRequestError, match="temperature"):
        c.completions.create(model="tiny-chat", prompt="hi", max_tokens=2, temperature=-1)
    with pytest.raises(openai.BadRequestError, match="messages"):
        c.chat.completions.create(model="tiny-chat", messages=[], max_tokens=2)
    req = urllib.request.Request(url + "/v1/completions", data=b'{"model": "tiny-chat", "prompt": ', method="POST",
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e: urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400 and "malformed JSON" in json.loads(e.value.read())["error"]["message"]
    assert urllib.request.urlopen(url + "/health", timeout=30).status == 200

def test_aborted_streams_free_every_block(server):
    c, eng = server["client"], server["eng"]
    for i in range(100):
        s = c.completions.create(model="tiny-chat", prompt=f"request {i}", max_tokens=240, temperature=0, stream=True,
                                 extra_body={"ignore_eos": True})
        next(iter(s)); s.close()   # hang up after the first chunk
    for _ in range(600):           # the aborts reach the engine within a few steps; 240-token runs would take far longer
        if not eng.has_unfinished() and eng.alloc.num_free == eng.alloc.num_blocks - 1: break
        time.sleep(0.05)
    assert not eng.has_unfinished(), (eng.num_running, eng.num_waiting)
    assert eng.alloc.num_free == eng.alloc.num_blocks - 1
    assert eng.stats["aborted"] >= 95
    m = urllib.request.urlopen(server["url"] + "/metrics", timeout=30).read().decode()
    ab = [l for l in m.splitlines() if l.startswith("vllm:request_success_total") and 'finished_reason="abort"' in l]
    assert ab and float(ab[0].split()[-1]) >= 95    # abandoned requests are counted as vLLM counts them

def test_burst_queues_and_metrics(server):
    c, eng, url = server["client"], server["eng"], server["url"]
    eng.stats["peak_waiting"] = 0
    with ThreadPoolExecutor(12) as ex:
        rs = list(ex.map(lambda i: c.completions.create(model="tiny-chat", prompt=f"burst {i}", max_tokens=24, temperature=0,
                                                        extra_body={"ignore_eos": True}), range(12)))
    assert all(r.usage.completion_tokens == 24 for r in rs)
    assert eng.stats["peak_waiting"] > 0     # 12 at once with max_num_seqs=4: some waited in the queue, none failed
    m = urllib.request.urlopen(url + "/metrics", timeout=30).read().decode()
    for name in ("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
                 "vllm:time_to_first_token_seconds_bucket", "vllm:time_per_output_token_seconds_bucket",
                 "vllm:generation_tokens_total", "vllm:prompt_tokens_total", "vllm:request_success_total"):
        assert name in m, name
    ok = [l for l in m.splitlines() if l.startswith("vllm:request_success_total") and 'finished_reason="length"' in l]
    assert ok and float(ok[0].split()[-1]) >= 12

def test_ic_serve_cli_round_trip(model_dir):
    port = free_port()
    exe = Path(sys.executable).with_name("ic-serve")
    p = subprocess.Popen([str(exe), str(model_dir), "--port", str(port), "--max-model-len", "128", "--device", "cpu"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0, timeout=60)
        for _ in range(600):
            try: urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5); break
            except OSError: time.sleep(0.1)
            assert p.poll() is None, p.stdout.read()
        r = c.chat.completions.create(model="tiny-chat", messages=[{"role": "user", "content": "hi"}], max_tokens=5,
                                      extra_body={"ignore_eos": True})
        assert r.usage.completion_tokens == 5
        with pytest.raises(openai.BadRequestError, match="maximum context length is 128"):
            c.completions.create(model="tiny-chat", prompt=list(range(200)), max_tokens=1)
    finally:
        p.terminate(); p.wait(timeout=30)

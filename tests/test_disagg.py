"06c disaggregation on CPU: two gloo worker processes with the tiny model — equal tokens, queueing, cancellation, the OpenAI router."
import threading, time, urllib.request
import pytest, torch
from infinitecontext.data import ByteTokenizer
from infinitecontext.disagg import DisaggRouter, WorkerSpec, make_workload, run_open_loop
from infinitecontext.engine import LLMEngine, SamplingParams, build_app, load_for_serving
from infinitecontext.mla import tiny
from infinitecontext.model import InfiniteContextForCausalLM, save_deepseek_v3

torch.set_num_threads(1)
ENG = dict(max_model_len=128, max_num_seqs=4, max_num_batched_tokens=32)
GREEDY = SamplingParams(max_tokens=12, ignore_eos=True)

@pytest.fixture(scope="module")
def export(tmp_path_factory):
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("disagg") / "tiny"
    save_deepseek_v3(InfiniteContextForCausalLM(tiny(initializer_range=0.1)).eval(), d); ByteTokenizer().save(d)
    return d

@pytest.fixture(scope="module")
def ref(export):
    model, tok = load_for_serving(export, "cpu")
    return lambda prompts, params: [s.output_ids for s in LLMEngine(model, tok, **ENG).generate(prompts, params)]

@pytest.fixture(scope="module")
def router(export):
    r = DisaggRouter(WorkerSpec(model_dir=str(export), engine=ENG | dict(num_blocks=12)), "disagg", timeout=300)
    yield r
    r.close()
    assert not any(p.is_alive() for p in r.procs)

def prompts(lengths, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, (n,), generator=g).tolist() for n in lengths]

def all_free(r):
    p = r.probe()
    return (all(x["num_free"] == x["num_blocks"] - 1 and x["seqs"] == 0 for x in p)
            and p[0]["inflight"] == 0 and p[0]["ready"] == 0 and p[1]["state"] == "header")

def test_bad_specs():
    with pytest.raises(ValueError, match="exactly one of model_dir or config"): WorkerSpec()
    with pytest.raises(ValueError, match="layout"): DisaggRouter(WorkerSpec(config={}), "pipelined")
    with pytest.raises(ValueError, match="two"): DisaggRouter(WorkerSpec(config={}), devices=("cpu",))

def test_ragged_batch_equals_single_engine(router, ref):
    ps = prompts((5, 17, 33, 40, 64, 3, 50, 21, 1, 90))
    params = [GREEDY] * 9 + [SamplingParams(max_tokens=12, ignore_eos=True, temperature=1.0, top_k=50, seed=3)]
    want = ref(ps, params)
    first = [router.add_request(p, q) for p, q in zip(ps[:4], params[:4])]          # arrivals at different times
    router._wait(lambda: all(s.output_ids for s in first), "the first arrivals to start")
    rest = [router.add_request(p, q) for p, q in zip(ps[4:], params[4:])]
    router._wait(lambda: all(s.finished for s in first + rest), "the batch")
    assert [s.output_ids for s in first + rest] == want
    assert all(s.finish_reason == "length" for s in first + rest)
    pre, dec = router.probe()
    assert pre["transfers"] >= 10 and dec["adopted"] >= 10
    assert dec["waited_for_blocks"] > 0          # 11 blocks on the decode rank: some transfers had to queue
    router._wait(lambda: all_free(router), "every block back")

def test_max_tokens_one_never_leaves_the_prefill_rank(router, ref):
    ps = prompts((12, 30), seed=2)
    one = SamplingParams(max_tokens=1, ignore_eos=True)
    before = router.probe()[1]["adopted"]
    assert [s.output_ids for s in router.generate(ps, one)] == ref(ps, one)
    assert router.probe()[1]["adopted"] == before
    router._wait(lambda: all_free(router), "every block back")

def test_cancel_mid_transfer_and_elsewhere_frees_both_sides(router):
    long = SamplingParams(max_tokens=60, ignore_eos=True)
    router.hold(True)                                    # the decode rank adopts nothing: transfers stop half-way
    a = router.add_request(prompts((64,))[0], long)
    router._wait(lambda: a.output_ids and router.probe()[1]["state"] == "blocks", "a transfer half-way")
    assert router.probe()[1]["pending_req"] is not None     # header + metadata read, pages not yet received
    b = router.add_request(prompts((40,), seed=5)[0], long)   # queued behind a: detached or waiting on the prefill rank
    router._wait(lambda: b.output_ids, "b's first token")
    router.abort(a.id); router.abort(b.id)
    router.hold(False)
    c = router.add_request(prompts((20,), seed=6)[0], long)   # cancelled while decoding on the decode rank
    router._wait(lambda: len(c.output_ids) >= 3, "c decoding")
    router.abort(c.id)
    router._wait(lambda: all_free(router), "every block back on both ranks")
    pre, dec = router.probe()
    assert (a.finish_reason, b.finish_reason, c.finish_reason) == ("abort",) * 3
    assert len(c.output_ids) < 60
    d = router.generate(prompts((9,), seed=7), GREEDY)[0]   # still serving
    assert len(d.output_ids) == 12

def test_openai_round_trip_through_build_app(router, ref, export):
    openai, uvicorn = pytest.importorskip("openai"), pytest.importorskip("uvicorn")
    from infinitecontext.serving import free_port
    tok = ByteTokenizer()
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(build_app(router, tok, "tiny"), host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True); th.start()
    try:
        for _ in range(600):
            if srv.started: break
            time.sleep(0.05)
        assert srv.started
        c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0, timeout=120)
        prompt = "def sorted(x):"
        want = tok.decode(ref([tok.encode(prompt)], SamplingParams(max_tokens=10, ignore_eos=True))[0])
        r = c.completions.create(model="tiny", prompt=prompt, max_tokens=10, temperature=0, extra_body={"ignore_eos": True})
        assert r.choices[0].text == want and r.usage.completion_tokens == 10 and r.choices[0].finish_reason == "length"
        s = c.completions.create(model="tiny", prompt=prompt, max_tokens=10, temperature=0, stream=True, extra_body={"ignore_eos": True})
        assert "".join(ch.choices[0].text for ch in s) == want
        chunks = list(c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=8,
                                                temperature=0, stream=True, stream_options={"include_usage": True},
                                                extra_body={"ignore_eos": True}))
        assert chunks[-1].usage.completion_tokens == 8
        with pytest.raises(openai.BadRequestError, match="maximum context length"):
            c.completions.create(model="tiny", prompt="x" * 200, max_tokens=4)
        m = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
        assert "vllm:num_requests_waiting" in m and "vllm:time_to_first_token_seconds_count" in m
    finally:
        srv.should_exit = True; th.join(timeout=30)
    router._wait(lambda: all_free(router), "every block back")

def test_colocated_layout_and_open_loop(export, ref):
    ps = prompts((7, 33, 48, 2, 19), seed=9)
    with DisaggRouter(WorkerSpec(model_dir=str(export), engine=ENG), "colocated", timeout=300) as r:
        assert [s.output_ids for s in r.generate(ps, GREEDY)] == ref(ps, GREEDY)
        res, dur = run_open_loop(r, make_workload(6, 20, 6, 256, seed=1), rate=50.0, timeout=120)
        assert all(x.ok and x.output_len == len(x.itl) + 1 for x in res) and 0 < dur < 120
        assert all(x.ttft > 0 and x.e2el >= x.ttft for x in res)

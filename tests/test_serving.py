"""The load tester against a scripted OpenAI-compatible stream (no model): its timings, token counts, goodput and
bounds must match what the stub was told to do. vLLM itself: tests/test_serving_vllm.py."""
import asyncio, json, math, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import pytest
from infinitecontext.data import ByteTokenizer
from infinitecontext.serving import (make_requests, arrival_times, run_load, summarize, RequestResult, LoadRequest,
                                     format_table)

FIRST, GAP = 0.20, 0.05   # the stub waits FIRST s before the first token, GAP s between tokens


class Stub(BaseHTTPRequestHandler):
    def log_message(self, *a): pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("model") != "stub":
            self.send_response(404); self.end_headers(); self.wfile.write(b'{"error": "model not found"}'); return
        self.send_response(200); self.send_header("Content-Type", "text/event-stream"); self.end_headers()
        chat = self.path.endswith("/chat/completions")
        n = body["max_tokens"]
        time.sleep(FIRST)
        for i in range(n):
            if i: time.sleep(GAP)
            ch = {"delta": {"content": f"t{i} "}} if chat else {"text": f"t{i} "}
            self.wfile.write(f"data: {json.dumps({'choices': [ch]})}\n\n".encode()); self.wfile.flush()
        usage = {"prompt_tokens": 7, "completion_tokens": n, "total_tokens": 7 + n}
        self.wfile.write(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\ndata: [DONE]\n\n".encode())


@pytest.fixture(scope="module")
def stub():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    th = threading.Thread(target=srv.serve_forever, daemon=True); th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@pytest.mark.parametrize("endpoint", ["completions", "chat"])
def test_timings_match_the_stub(stub, endpoint):
    reqs = [LoadRequest("hello", 5, 3) for _ in range(4)]
    res, dur = asyncio.run(run_load(stub, "stub", reqs, endpoint=endpoint))
    m = summarize(res, dur, slo={"ttft": 1000 * FIRST + 150, "tpot": 1000 * GAP + 40})
    assert m["completed"] == 4 and m["failed"] == 0 and m["total_output_tokens"] == 20 and m["total_input_tokens"] == 12
    assert FIRST <= m["p50_ttft_ms"] / 1e3 < FIRST + 0.15
    assert GAP * 0.8 <= m["median_itl_ms"] / 1e3 < GAP + 0.04
    assert GAP * 0.8 <= m["median_tpot_ms"] / 1e3 < GAP + 0.04
    assert m["p99_e2el_ms"] / 1e3 >= FIRST + 4 * GAP
    assert m["request_goodput"] == pytest.approx(m["request_throughput"])       # every request met the SLOs
    tight = summarize(res, dur, slo={"ttft": 1000 * FIRST / 2})
    assert tight["request_goodput"] == 0                                          # none meets half the TTFT


def test_concurrency_and_rate_bound_the_run(stub):
    reqs = [LoadRequest("x", 2, 1) for _ in range(6)]
    _, dur_all = asyncio.run(run_load(stub, "stub", reqs))
    _, dur_one = asyncio.run(run_load(stub, "stub", reqs, max_concurrency=1))
    assert dur_one > 5 * (FIRST + GAP) and dur_all < 3 * (FIRST + GAP)         # serial vs all at once
    res, _ = asyncio.run(run_load(stub, "stub", [LoadRequest("x", 1, 1)] * 50, rate=20.0, duration=0.5, seed=0))
    assert 3 <= len(res) < 50                                                     # the time bound stopped the sender
    starts = sorted(r.start for r in res)
    assert starts[-1] <= 0.5 + 0.1


def test_failures_are_counted_not_fatal(stub):
    res, dur = asyncio.run(run_load(stub, "nope", [LoadRequest("x", 2, 1)] * 3))
    m = summarize(res, dur)
    assert m["completed"] == 0 and m["failed"] == 3 and "404" in res[0].error
    res, _ = asyncio.run(run_load("http://127.0.0.1:9", "stub", [LoadRequest("x", 2, 1)], timeout=5))
    assert not res[0].ok and res[0].error


def test_workload_generation():
    tok = ByteTokenizer()
    reqs = make_requests(40, tok, input_len=100, output_len=20, range_ratio=0.5, niah_frac=0.5, seed=3)
    assert all(50 <= r.prompt_len <= 150 + 8 and 10 <= r.max_tokens <= 30 for r in reqs)
    niah = [r for r in reqs if r.answer]
    assert 10 <= len(niah) <= 30 and all(r.prompt.endswith("The pass key is ") and r.answer.isdigit() for r in niah)
    assert make_requests(5, tok, seed=1)[0].prompt == make_requests(5, tok, seed=1)[0].prompt     # reproducible
    with pytest.raises(ValueError, match="range_ratio"): make_requests(2, tok, range_ratio=1.5)
    with pytest.raises(ValueError, match="rate"): arrival_times(3, rate=0)
    gaps = arrival_times(4000, rate=10.0, burstiness=1.0, seed=0)
    assert math.isclose(gaps[-1] / 3999, 0.1, rel_tol=0.08)


def test_cli_table_and_json_line(stub, tmp_path):
    exe = Path(sys.executable).parent / "ic-loadtest"
    r = subprocess.run([str(exe), "--base-url", stub, "--model", "stub", "--num-requests", "3", "--output-len", "4",
                        "--goodput", "ttft:5000", "--json-out", str(tmp_path / "r.jsonl"), "--plot", str(tmp_path / "p.png")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Time to First Token" in r.stdout and "Request goodput" in r.stdout
    line = json.loads(r.stdout.strip().splitlines()[-1])
    assert line["completed"] == 3 and line["total_output_tokens"] == 12
    assert len(json.loads((tmp_path / "r.jsonl").read_text())["requests"]) == 3 and (tmp_path / "p.png").stat().st_size > 1000
    bad = subprocess.run([str(exe), "--model", "stub", "--goodput", "latency:5"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "ttft, tpot, e2el" in bad.stderr

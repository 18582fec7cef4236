"Trainer: exact resume after kill -9 (CPU), corrupt-checkpoint fallback, FSDP2/DDP on CPU gloo via torchrun."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
SMALL = ["--seq_len", "64", "--batch_size", "4", "--warmup", "5", "--lr", "3e-3", "--retrieval_frac", "0.5"]

def _train(*args, **kw):
    return subprocess.run([sys.executable, "-m", "infinitecontext.train", *SMALL, *args], env=ENV, cwd=ROOT,
                          capture_output=True, text=True, timeout=240, **kw)

def test_exact_resume_after_sigkill(tmp_path):
    steps = "200"
    r = _train("--steps", steps, "--ckpt_dir", str(tmp_path / "a"), "--ckpt_every", "10", "--out_json", str(tmp_path / "a.json"))
    assert r.returncode == 0, r.stderr[-3000:]
    ref = json.loads((tmp_path / "a.json").read_text())
    log = tmp_path / "b.jsonl"
    cmd = [sys.executable, "-m", "infinitecontext.train", *SMALL, "--steps", steps, "--ckpt_dir", str(tmp_path / "b"),
           "--ckpt_every", "10", "--log_file", str(log)]
    p = subprocess.Popen(cmd, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while time.time() - t0 < 200:
        if log.exists() and len(log.read_text().splitlines()) >= 35: break
        if p.poll() is not None: break
        time.sleep(0.01)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    done = len(log.read_text().splitlines())
    assert p.returncode == -signal.SIGKILL and done < int(steps), f"not killed mid-run (rc={p.returncode}, {done} steps logged)"
    r = _train("--steps", steps, "--ckpt_dir", str(tmp_path / "b"), "--ckpt_every", "10", "--out_json", str(tmp_path / "b.json"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "resumed from" in r.stdout, r.stdout
    got = json.loads((tmp_path / "b.json").read_text())
    assert got == ref, "losses after kill -9 + resume differ from the uninterrupted run"
    print(f"killed after {done} logged steps; {r.stdout.strip().splitlines()[-1]}; {len(ref)} losses identical")

def test_corrupt_checkpoint_falls_back(tmp_path):
    from infinitecontext.train import latest_valid_checkpoint, list_checkpoints
    r = _train("--steps", "6", "--ckpt_dir", str(tmp_path), "--ckpt_every", "2", "--keep", "3")
    assert r.returncode == 0, r.stderr[-3000:]
    newest = list_checkpoints(tmp_path)[-1]
    shard = next(newest.glob("*.distcp"))
    shard.write_bytes(shard.read_bytes()[:7])
    msgs = []
    assert latest_valid_checkpoint(tmp_path, log=msgs.append).name == "step_000004"
    assert "truncated" in msgs[0] and "falling back" in msgs[0]
    r = _train("--steps", "8", "--ckpt_dir", str(tmp_path), "--ckpt_every", "2")
    assert r.returncode == 0 and "resumed from" in r.stdout and "step_000004" in r.stdout, r.stdout + r.stderr[-2000:]

@pytest.mark.parametrize("parallel", ["fsdp", "ddp"])
def test_torchrun_gloo(tmp_path, parallel):
    "2 CPU ranks through torchrun (gloo): trains, checkpoints, resumes."
    base = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "infinitecontext.train",
            *SMALL, "--parallel", parallel, "--ckpt_dir", str(tmp_path / "ck"), "--ckpt_every", "4"]
    r = subprocess.run(base + ["--steps", "4"], env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-4000:]
    r = subprocess.run(base + ["--steps", "8", "--out_json", str(tmp_path / "l.json")], env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-4000:]
    assert "resumed from" in r.stdout
    losses = json.loads((tmp_path / "l.json").read_text())
    assert sorted(map(int, losses)) == list(range(8))

def test_benchmark_step_cpu():
    "The GPU benchmark's code path on CPU with the tiny preset: a record with throughput and the FLOP count."
    from infinitecontext.train import TrainConfig, benchmark_step
    r = benchmark_step(TrainConfig(seq_len=64, batch_size=2), steps=2, warmup=1)
    assert r["device"] == "cpu" and r["world"] == 1 and r["tok_s"] > 0 and r["mfu"] is None and r["flops_per_token"] > 0

@pytest.mark.parametrize("parallel", ["fsdp", "ddp"])
def test_benchmark_torchrun_gloo(tmp_path, parallel):
    "The multigpu cell's command, on 2 CPU ranks: rank 0 writes one JSON record for the whole group."
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "infinitecontext.train",
                        "--seq_len", "64", "--batch_size", "2", "--parallel", parallel, "--bench_steps", "2", "--bench_warmup", "1",
                        "--out_json", str(tmp_path / "b.json")], env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-4000:]
    b = json.loads((tmp_path / "b.json").read_text())
    assert b["world"] == 2 and b["parallel"] == parallel and b["tok_s"] == pytest.approx(2 * b["tok_s_per_gpu"])

"SLURM end to end: sbatch the training notebook (papermill, ci profile) on the local cluster; requeue a running job."
import json, os, subprocess, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slurm

@pytest.fixture(scope="module")
def cluster(slurm_cluster):
    "The local cluster (tests/conftest.py: `slurm/local-cluster.sh start`, skipped where SLURM cannot run unless CI=true)."
    return True

def _submit(tmp, *params):
    opts = subprocess.run([str(ROOT / "slurm/sbatch-options"), "--gpus", "0"], capture_output=True, text=True, check=True).stdout.split()
    opts = [o for o in opts if not o.startswith("--time")] + ["--time=00:15:00", f"--output={tmp}/slurm-%j.out"]
    env = {**os.environ, "IC_RUN_DIR": str(tmp / "run")}
    r = subprocess.run(["sbatch", "--parsable", *opts, str(ROOT / "slurm/train.sbatch"), "ci", *params],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().split(";")[0]

def _state(job):
    "The job's state; '' once it has left the queue. A squeue that fails for another reason (slurmctld busy) is not 'gone'."
    r = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True)
    if r.returncode != 0 and "Invalid job id" not in r.stderr: return "UNKNOWN"
    return r.stdout.strip()

def _wait_gone(job, tmp, limit=240):
    t0 = time.time()
    while time.time() - t0 < limit:
        if not _state(job): return
        time.sleep(1)
    subprocess.run(["scancel", job])
    pytest.fail(f"job {job} did not finish in {limit}s; log:\n{_log(tmp, job)}")

def _log(tmp, job):
    f = tmp / f"slurm-{job}.out"
    return f.read_text() if f.exists() else "(no log)"

def _result(tmp):
    return json.loads((tmp / "run/04b_training/result.json").read_text())

SMALL = ["seq_len=64", "batch_size=4", "lr=0.003"]

def test_sbatch_training_notebook(cluster, tmp_path):
    job = _submit(tmp_path, "steps=60", "ckpt_every=20", *SMALL)
    _wait_gone(job, tmp_path)
    log = _log(tmp_path, job)
    assert "finished rc=0" in log, log
    assert (tmp_path / "run/04b_training.ipynb").exists(), log
    assert (tmp_path / "run/ckpt/step_000060/MANIFEST.json").exists(), log
    res = _result(tmp_path)
    assert res["falling"] and res["last_loss"] < res["first_loss"], res

def test_usr1_checkpoints_and_requeues(cluster, tmp_path):
    """SIGUSR1 to the batch script (what --signal=B:USR1@lead sends before the time limit) -> the stop file -> a checkpoint
    at the step reached -> requeue_self -> the requeued job resumes there and finishes: every step trained exactly once."""
    job = _submit(tmp_path, "steps=400", "ckpt_every=20", *SMALL)
    ck = tmp_path / "run/ckpt"
    t0 = time.time()
    while time.time() - t0 < 180 and not any(ck.glob("step_*")):
        assert _state(job) in ("PENDING", "RUNNING", "CONFIGURING"), f"job {job} ended early:\n{_log(tmp_path, job)}"
        time.sleep(0.5)
    assert any(ck.glob("step_*")), f"no checkpoint after 180s:\n{_log(tmp_path, job)}"
    r = subprocess.run(["scancel", "--signal=USR1", "--batch", job], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    deadline, pending_since = time.time() + 420, None
    while time.time() < deadline:   # until the requeued run (restart 1) has finished
        log = _log(tmp_path, job)
        if "restart 1" in log and "finished rc=" in log.split("restart 1", 1)[1]: break
        # slurmctld holds a requeued job back for ~2 minutes (Reason=BeginTime); a test need not wait that out, but it
        # must not release it within the second the old run's credential was revoked: slurmd compares whole seconds and
        # kills the new start ("Job credential revoked"), which happened once here when released 0.5 s after the requeue
        if _state(job) == "PENDING":
            pending_since = pending_since or time.time()
            if time.time() - pending_since >= 5:
                subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], capture_output=True)
        time.sleep(1)
    _wait_gone(job, tmp_path, limit=120)
    log = _log(tmp_path, job)
    assert "USR1: asking the trainer to checkpoint and requeue" in log and "restart 1" in log, log
    assert "finished rc=0" in log.split("restart 1", 1)[1], log
    nb = (tmp_path / "run/04b_training.ipynb").read_text()
    assert "resumed from step_" in nb, "the requeued run did not resume from a checkpoint"
    steps = [json.loads(l)["step"] for l in (tmp_path / "run/04b_training/train_log.jsonl").read_text().splitlines()]
    assert sorted(steps) == list(range(400)), "steps were lost or trained twice: the stop did not checkpoint where it stopped"
    assert (ck / "step_000400/MANIFEST.json").exists()
    assert _result(tmp_path)["falling"]

"SLURM end to end: sbatch the training notebook (papermill, ci profile) on the local cluster; requeue a running job."
import json, subprocess, time
import pytest
from slurm_jobs import job_log, job_state, release_if_pending, sbatch, wait_done

pytestmark = pytest.mark.slurm

@pytest.fixture(scope="module")
def cluster(slurm_cluster):
    "The local cluster (tests/conftest.py: `slurm/local-cluster.sh start`, skipped where SLURM cannot run unless CI=true)."
    return True

def _submit(tmp, *params): return sbatch("train.sbatch", tmp, tmp / "run", "00:15:00", "ci", *params)

def _result(tmp):
    return json.loads((tmp / "run/04b_training/result.json").read_text())

SMALL = ["seq_len=64", "batch_size=4", "lr=0.003"]

def test_sbatch_training_notebook(cluster, tmp_path):
    job = _submit(tmp_path, "steps=60", "ckpt_every=20", *SMALL)
    log = wait_done(job, tmp_path)
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
        assert job_state(job) in ("PENDING", "RUNNING", "CONFIGURING"), f"job {job} ended early:\n{job_log(tmp_path, job)}"
        time.sleep(0.5)
    assert any(ck.glob("step_*")), f"no checkpoint after 180s:\n{job_log(tmp_path, job)}"
    r = subprocess.run(["scancel", "--signal=USR1", "--batch", job], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    deadline, pending_since = time.time() + 420, None
    while time.time() < deadline:   # until the requeued run (restart 1) has finished
        log = job_log(tmp_path, job)
        if "restart 1" in log and "finished rc=" in log.split("restart 1", 1)[1]: break
        pending_since = release_if_pending(job, pending_since)   # not within the second its credential was revoked
        time.sleep(1)
    log = wait_done(job, tmp_path, limit=120)
    assert "USR1: asking the trainer to checkpoint and requeue" in log and "restart 1" in log, log
    assert "finished rc=0" in log.split("restart 1", 1)[1], log
    nb = (tmp_path / "run/04b_training.ipynb").read_text()
    assert "resumed from step_" in nb, "the requeued run did not resume from a checkpoint"
    steps = [json.loads(l)["step"] for l in (tmp_path / "run/04b_training/train_log.jsonl").read_text().splitlines()]
    assert sorted(steps) == list(range(400)), "steps were lost or trained twice: the stop did not checkpoint where it stopped"
    assert (ck / "step_000400/MANIFEST.json").exists()
    assert _result(tmp_path)["falling"]

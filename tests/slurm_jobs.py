"Submitting and watching jobs on the local SLURM cluster, shared by the end-to-end SLURM tests."
import os, subprocess, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def sbatch(script: str, logs: Path, run: Path, time_limit: str, *args) -> str:
    "Submit slurm/<script> with the options slurm/sbatch-options gives (no GPU), logs in `logs`, IC_RUN_DIR=run; the job id."
    opts = subprocess.run([str(ROOT / "slurm/sbatch-options"), "--gpus", "0"], capture_output=True, text=True, check=True).stdout.split()
    opts = [o for o in opts if not o.startswith("--time")] + [f"--time={time_limit}", f"--output={logs}/slurm-%j.out"]
    r = subprocess.run(["sbatch", "--parsable", *opts, str(ROOT / "slurm" / script), *args],
                       cwd=ROOT, env={**os.environ, "IC_RUN_DIR": str(run)}, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().split(";")[0]

def job_state(job: str) -> str:
    "The job's state; '' once it has left the queue. A squeue that fails for another reason (slurmctld busy) is not 'gone'."
    r = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True)
    if r.returncode != 0 and "Invalid job id" not in r.stderr: return "UNKNOWN"
    return r.stdout.strip()

def job_log(logs: Path, job: str) -> str:
    f = Path(logs) / f"slurm-{job}.out"
    return f.read_text() if f.exists() else "(no log)"

def release_if_pending(job: str, pending_since: float | None, after: float = 5) -> float | None:
    """slurmctld holds a requeued job back for ~2 minutes (Reason=BeginTime); a test need not wait that out, but it must
    not release it within the second the old run's credential was revoked: slurmd compares whole seconds and kills the
    new start ("Job credential revoked"), seen once when released 0.5 s after the requeue. Call once a second; returns
    when the job was first seen pending (None while it is not)."""
    if job_state(job) != "PENDING": return None
    pending_since = pending_since or time.time()
    if time.time() - pending_since >= after:
        subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], capture_output=True)
    return pending_since

def wait_done(job: str, logs: Path, limit: float = 240, release_after: float | None = None) -> str:
    "Until the job has left the queue (steps bound the work; `limit` only stops a hung job); its log."
    t0, pending_since = time.time(), None
    while time.time() - t0 < limit:
        if not job_state(job): return job_log(logs, job)
        if release_after is not None: pending_since = release_if_pending(job, pending_since, release_after)
        time.sleep(1)
    subprocess.run(["scancel", job])
    pytest.fail(f"job {job} did not finish in {limit}s; log:\n{job_log(logs, job)}")

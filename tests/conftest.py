"Shared fixtures: the one-node SLURM cluster that `slurm/local-cluster.sh start` (the Ansible SLURM role) brings up."
import os, shutil, subprocess, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CI = os.environ.get("CI", "").lower() == "true"

def skip_or_fail(why):
    "Skip a SLURM test where SLURM cannot run, but fail it in CI (CI=true), where it must."
    if CI: pytest.fail(f"SLURM must run in CI (CI=true) but: {why}")
    pytest.skip(why)

@pytest.fixture(scope="session")
def slurm_cluster():
    "Start the local cluster once per session (idempotent; left running for the next test); the output of `start`."
    script = ROOT / "slurm/local-cluster.sh"
    if not script.exists(): skip_or_fail("slurm/local-cluster.sh is missing")
    if not shutil.which("sbatch") and (os.geteuid() != 0 or not shutil.which("apt-get")):
        skip_or_fail("SLURM is not installed and it cannot be installed here (needs root and apt-get)")
    r = subprocess.run(["bash", str(script), "start"], capture_output=True, text=True, timeout=900)
    if r.returncode == 3: skip_or_fail(f"local-cluster.sh cannot run SLURM here: {r.stderr.strip() or r.stdout.strip()}")
    assert r.returncode == 0, f"local-cluster.sh start failed:\n{r.stdout}\n{r.stderr}"
    t0, s = time.time(), []
    while time.time() - t0 < 60:
        s = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True).stdout.split()
        if any(x.startswith(("idle", "mix", "alloc")) for x in s): break
        time.sleep(1)
    else: pytest.fail(f"no idle SLURM node after start: sinfo says {s}")
    return r.stdout

# The NIAH / alignment tests' shared setup (tests/test_eval*.py, tests/test_align*.py)
@pytest.fixture(scope="session")
def tok():
    "The byte tokenizer; torch kept to one thread (tiny matrices: a second thread costs more than it buys on a busy CPU)."
    import torch
    from infinitecontext.data import ByteTokenizer
    torch.set_num_threads(1)
    return ByteTokenizer()

@pytest.fixture(scope="session")
def hay(tok):
    "The stdlib haystack, tokenized."
    from infinitecontext.data import stdlib_haystack
    return tok.encode(stdlib_haystack())

@pytest.fixture(scope="module")
def model(tok):
    "A fresh untrained tiny model (seed 0, 256 positions) per test module; a module's own `model` fixture overrides it."
    import torch
    from infinitecontext.mla import tiny
    from infinitecontext.model import InfiniteContextForCausalLM
    torch.manual_seed(0)
    return InfiniteContextForCausalLM(tiny(max_position_embeddings=256)).eval()

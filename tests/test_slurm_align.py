"SLURM end to end: slurm/train_sft.sbatch then slurm/train_dpo.sbatch (papermill on lesson 05b, ci profile, tiny sizes) in one run folder; a requeued DPO job reuses both models."
import json, re, subprocess, time
from pathlib import Path
import pytest
from slurm_jobs import sbatch, wait_done

pytestmark = pytest.mark.slurm
# a tiny base (30 steps), 4 SFT steps, 16 mining prompts, 2 DPO steps: the loop, not its accuracy (the lesson measures that)
SMALL = ["base_steps=30", "train_len=96", "sft_lengths=[64,96]", "long_len=128", "eval_lengths=[64,128]", "sft_steps=4",
         "mine_n=16", "dpo_steps=2", "eval_n=8", "yarn_steps=2"]

def _submit(script, run, *params): return sbatch(script, run.parent, run, "00:10:00", "ci", *SMALL, *params)

def _outputs(nb):
    "All stream text of an executed notebook."
    return "".join("".join(o.get("text", "")) for c in json.loads(Path(nb).read_text())["cells"] for o in c.get("outputs", []))

def test_sft_then_dpo_then_requeue(slurm_cluster, tmp_path):
    run = tmp_path / "run"; res = run / "05b_alignment"
    job = _submit("train_sft.sbatch", run)
    log = wait_done(job, run.parent)
    assert "finished rc=0" in log and "profile ci" in log, log
    assert (res / "model_sft/config.json").is_file() and not (res / "model_dpo").exists(), log
    assert json.loads((res / "result.json").read_text())["stages"] == "sft"

    job = _submit("train_dpo.sbatch", run)   # same folder: mines the SFT model's failures, DPO, YaRN, registers the model
    log = wait_done(job, run.parent)
    assert "finished rc=0" in log, log
    out, r = _outputs(run / "05b_alignment.ipynb"), json.loads((res / "result.json").read_text())
    assert "model_sft" in out.split("SFT:")[0] and "(loaded)" in out, "the DPO job trained SFT again instead of reusing it"
    assert re.search(r"^DPO: 2 steps on \d+ pairs", out, re.M), out[-2000:]
    assert r["stages"] == "dpo,yarn" and r["n_pairs"] > 0 and {"base", "sft", "dpo"} <= set(r["before_after"]), r
    assert "registered infinitecontext-tiny-dpo" in out, out[-2000:]
    stamp = (res / "model_dpo/model.safetensors").stat().st_mtime_ns

    # requeue the finished DPO job (what a preempted node does): the same id and folder run again and reuse both models
    time.sleep(1)
    r = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    log = wait_done(job, run.parent, release_after=5)
    assert "restart 1" in log and "finished rc=0" in log.split("restart 1", 1)[1], log
    out = _outputs(run / "05b_alignment.ipynb")
    assert "model_dpo" in out and not re.search(r"^DPO: \d+ steps", out, re.M), "the requeued job trained DPO again instead of reusing model_dpo"
    assert (res / "model_dpo/model.safetensors").stat().st_mtime_ns == stamp, "the requeued job rewrote the DPO model"

"""Project-level checks that no single notebook can hold: every lesson is runnable by papermill the same way."""
import json, os, re, subprocess, sys, tomllib
from pathlib import Path
import papermill as pm
import pytest
from infinitecontext.infra import load_settings, PROFILES
from infinitecontext.runner import lesson_notebooks, NB_FLAGS

ROOT = Path(__file__).resolve().parents[1]
LESSONS = lesson_notebooks(ROOT/"nbs")
# the lessons that exist today, in dependency order (new ones may sit between them)
KNOWN = ["00_infra", "01_kv_cache", "02a_rope", "02b_mla", "02c_model", "03_triton_decode", "04a_data", "04b_training", "90_runner"]

def test_lessons_exist_in_order():
    names = [p.stem for p in LESSONS]
    assert [n for n in names if n in KNOWN] == KNOWN, names          # all found, in this order
    bad = [n for n in names if not re.fullmatch(r"\d\d[a-z]?_[a-z0-9_]+", n)]
    assert not bad, f"lesson names are NN_name or NNx_name: {bad}"
    chapters = [(int(n[:2]), n[2] if n[2] != "_" else "") for n in names]
    assert len(set(chapters)) == len(chapters), f"two lessons share a number: {names}"
    assert chapters == sorted(chapters), names                         # numeric chapter, then insert letter

def test_every_lesson_has_a_row_in_the_curriculum_table_in_order():
    text = "".join("".join(c["source"]) for c in json.loads((ROOT/"nbs/index.ipynb").read_text())["cells"])
    rows = re.findall(r"^\| `(\d\d[a-z]?_\w+)` \|", text, re.M)
    assert rows == [p.stem for p in LESSONS], f"nbs/index.ipynb's table lists {rows}"

@pytest.mark.parametrize("nb", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_has_profile_parameter(nb):
    params = pm.inspect_notebook(str(nb))
    assert "profile" in params, f"{nb.name} needs a `profile` in its cell tagged 'parameters'"
    assert params["profile"]["default"].strip("'\"") in PROFILES

@pytest.mark.parametrize("nb", LESSONS, ids=lambda p: p.stem)
def test_every_parameter_line_parses_for_papermill(nb):
    "papermill reads each `name = value  # help` line of the parameters cell; a line it cannot parse (e.g. an '=' in the help) drops that parameter from -p checks and prints a warning"
    import nbformat, re
    from papermill.translators import PythonTranslator
    cell = next(c for c in nbformat.read(nb, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
    names = [m.group(1) for l in cell.source.splitlines() if (m := re.match(r"^(\w+)\s*=", l))]
    assert [p.name for p in PythonTranslator.inspect(cell)] == names

def test_pyproject_nbdev_flags_and_torch_range():
    cfg = tomllib.loads((ROOT/"pyproject.toml").read_text())
    assert set(cfg["tool"]["nbdev"]["tst_flags"].split()) == set(NB_FLAGS)
    deps = cfg["project"]["dependencies"]
    torch = next(d for d in deps if d.startswith("torch"))
    assert "2.13" not in torch or "==" not in torch, "torch must be a range that 2.13.0 satisfies"
    assert not any(d.startswith("vllm") for d in deps), "vLLM belongs in the optional 'serve' extra only"

def test_repository_settings_parse():
    s = load_settings(ROOT/"settings.ini")
    assert s.cluster.gpus_per_node >= 1 and s.tracking.wandb_mode in ("offline", "online", "disabled")

def test_cli_parameter_values_take_json_and_python_spellings():
    from infinitecontext.runner import _parse_params
    got = _parse_params(["a=False", "b=true", "c=3", "d=1e-3", "e=None", "f=hello", "g=[1, 2]", "h=x=y"])
    assert got == dict(a=False, b=True, c=3, d=0.001, e=None, f="hello", g=[1, 2], h="x=y")
    with pytest.raises(ValueError, match="must look like name=value"): _parse_params(["steps"])

# ---- settings.ini: bad values are one clear message ------------------------------------------------------------
@pytest.mark.parametrize("body, expect", [
    ("[cluster]\ntime_limit = four hours\n", "[cluster] time_limit must be a SLURM time"),
    ("[cluster]\nsignal_lead_s = -300\n", "[cluster] signal_lead_s must be a positive number"),
    ("[cluster]\ntime_limit = 2\n", "signal_lead_s = 300 s must be shorter than time_limit = 2 (120 s)"),
])
def test_settings_rejects_bad_cluster_values(tmp_path, body, expect):
    f = tmp_path/"settings.ini"; f.write_text(body)
    with pytest.raises(ValueError) as e: load_settings(f)
    assert expect in str(e.value) and str(f) in str(e.value), str(e.value)

def test_ic_settings_pointing_at_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("IC_SETTINGS", str(tmp_path))
    with pytest.raises(IsADirectoryError, match="is a folder: point it at the settings.ini file"): load_settings()

# ---- slurm/sbatch-options: settings through infra, no torch, checked against sinfo, logs in runs/ ----------------
def _sbatch_options(*args, sinfo=None, tmp_path=None):
    env = dict(os.environ)
    if sinfo is not None:
        b = tmp_path/"bin"; b.mkdir(exist_ok=True); (b/"sinfo").write_text(f"#!/bin/sh\nprintf '{sinfo}'\n"); (b/"sinfo").chmod(0o755)
        env["PATH"] = f"{b}{os.pathsep}{env['PATH']}"
    return subprocess.run([str(ROOT/"slurm/sbatch-options"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

def test_sbatch_options_import_no_torch():
    code = ("import sys; from infinitecontext.infra import sbatch_options_cli; sbatch_options_cli(['--gpus', '0', '--no-check']);"
            "assert 'torch' not in sys.modules, 'sbatch-options imported torch'")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    s = load_settings(ROOT/"settings.ini")
    assert r.stdout.split() == [f"--nodes=1", f"--time={s.cluster.time_limit}", f"--signal=B:USR1@{s.cluster.signal_lead_s}", "--requeue",
                                *([f"--partition={s.cluster.partition}"] if s.cluster.partition else []),
                                f"--output={s.paths.run_dir}/slurm-%x-%j.out"], r.stdout

def test_sbatch_options_refuses_a_request_no_node_can_hold(tmp_path):
    "The README's default (8 GPUs, 128 CPUs, 1600G) on the one-node CPU dev cluster: say what to change, and make sbatch stop."
    r = _sbatch_options(sinfo="gpu* 2 7800 (null)\\n", tmp_path=tmp_path)
    assert r.returncode == 2 and "pass --gpus 0" in r.stderr, r.stderr
    assert r.stdout.strip().startswith("--") and "refused" in r.stdout     # an option sbatch rejects
    ok = _sbatch_options("--gpus", "0", sinfo="gpu* 2 7800 (null)\\n", tmp_path=tmp_path)
    assert ok.returncode == 0 and "--gpus-per-node" not in ok.stdout, ok.stderr
    missing = _sbatch_options("--gpus", "0", sinfo="debug* 2 7800 (null)\\n", tmp_path=tmp_path)
    assert missing.returncode == 2 and "partition 'gpu'" in missing.stderr and "does not exist" in missing.stderr, missing.stderr

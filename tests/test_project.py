"""Project-level checks that no single notebook can hold: every lesson is runnable by papermill the same way."""
import configparser, json, subprocess, sys, tomllib
from pathlib import Path
import papermill as pm
import pytest
from infinitecontext.infra import lesson_notebooks, load_settings, PROFILES, NB_FLAGS

ROOT = Path(__file__).resolve().parents[1]
LESSONS = lesson_notebooks(ROOT/"nbs")

def test_lessons_exist_in_order():
    names = [p.stem for p in LESSONS]
    assert names == sorted(names) and names[0].startswith("00_"), names

@pytest.mark.parametrize("nb", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_has_profile_parameter(nb):
    params = pm.inspect_notebook(str(nb))
    assert "profile" in params, f"{nb.name} needs a `profile` in its cell tagged 'parameters'"
    assert params["profile"]["default"].strip("'\"") in PROFILES

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

def test_cli_rejects_misspelt_parameter():
    r = subprocess.run([sys.executable, "-m", "infinitecontext.infra", "00_infra", "-p", "profle=gpu"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "has no parameter(s) ['profle']" in r.stderr, r.stderr[-2000:]

def test_cli_rejects_unknown_profile():
    r = subprocess.run([sys.executable, "-m", "infinitecontext.infra", "--profile", "tiny"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "invalid choice: 'tiny'" in r.stderr

def test_cli_parameter_values_take_json_and_python_spellings():
    from infinitecontext.infra import _parse_params
    got = _parse_params(["a=False", "b=true", "c=3", "d=1e-3", "e=None", "f=hello", "g=[1, 2]", "h=x=y"])
    assert got == dict(a=False, b=True, c=3, d=0.001, e=None, f="hello", g=[1, 2], h="x=y")
    with pytest.raises(ValueError, match="must look like name=value"): _parse_params(["steps"])

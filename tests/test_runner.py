"""ic-run (infinitecontext.runner) driven as a user would, with bad input and failing notebooks: every mistake is one
clear message and exit code 2 before anything runs; a failed notebook prints its cause in full (exit 1); a reused run
folder keeps its records; a prefix selects a whole chapter."""
import json, os, subprocess, sys
from pathlib import Path
import nbformat
import pytest
from infinitecontext.infra import cuda_device_count
from infinitecontext.runner import select_notebooks, lesson_notebooks

ROOT = Path(__file__).resolve().parents[1]
NO_CUDA = cuda_device_count() == 0

def ic_run(*args, cwd=ROOT, timeout=600):
    r = subprocess.run([sys.executable, "-m", "infinitecontext.runner", *map(str, args)], cwd=cwd, capture_output=True,
                       text=True, timeout=timeout, env={**os.environ, "IC_FLAGS": ""})
    return r.returncode, r.stdout, r.stderr

def cli(*args, cwd=ROOT):
    "The same CLI in this process (a usage error exits before any kernel starts): (exit code, stdout, stderr)."
    import contextlib, io
    from infinitecontext.runner import run_notebooks_cli
    out, err, old = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try: run_notebooks_cli([str(a) for a in args]); rc = 0
            except SystemExit as e: rc = e.code
    finally: os.chdir(old)
    return rc, out.getvalue(), err.getvalue()

def usage_error(args, expect, cwd=ROOT):
    rc, out, err = cli(*args, cwd=cwd)
    assert rc == 2, (rc, out, err)
    assert expect in err, err
    assert "Traceback" not in err and "Traceback" not in out, err   # one clear message, not a stack
    return err

# ---- selection ------------------------------------------------------------------------------------------------
def test_prefix_selects_every_lesson_of_a_chapter():
    got = [p.stem for p in select_notebooks(["01", "02"], ROOT/"nbs")]
    assert got == [p.stem for p in lesson_notebooks(ROOT/"nbs") if p.stem[:2] in ("01", "02")], got
    assert got[:4] == ["01_kv_cache", "02a_rope", "02b_mla", "02c_model"], got
    assert [p.stem for p in select_notebooks(["02b_mla"], ROOT/"nbs")] == ["02b_mla"]

def test_name_matching_nothing_is_an_error():
    usage_error(["zz_nothing"], "no lesson matches 'zz_nothing'")

# ---- parameters, profile, flags, timeout: refused before anything runs -----------------------------------------
def test_misspelt_parameter(tmp_path):
    usage_error(["00_infra", "-p", "profle=gpu", "--out", tmp_path/"r"], "has no parameter(s) ['profle']")
    assert not (tmp_path/"r").exists()

def test_unknown_profile():
    rc, _, err = cli("--profile", "tiny")
    assert rc == 2 and "invalid choice: 'tiny'" in err

@pytest.mark.skipif(not NO_CUDA, reason="checks the refusal on a machine without CUDA")
@pytest.mark.parametrize("how", [["--profile", "gpu"], ["-p", "profile=gpu"]], ids=["--profile", "-p"])
def test_profile_gpu_without_cuda_is_refused_not_faked(how, tmp_path):
    "-p profile=gpu is the same request as --profile gpu (not silently replaced by ci) and both are refused here."
    usage_error(["00_infra", *how, "--out", tmp_path/"r"], "profile 'gpu' needs a CUDA device")
    assert not (tmp_path/"r").exists()

def test_profile_given_twice_differently():
    usage_error(["00_infra", "--profile", "ci", "-p", "profile=gpu"], "the profile is given twice and differently")

def test_out_dir_parameter_points_to_out():
    usage_error(["00_infra", "-p", "out_dir=/tmp/x"], "choose the run folder with --out")

@pytest.mark.parametrize("t", ["-5", "0", "soon"])
def test_bad_timeout(t):
    rc, _, err = cli("00_infra", "--timeout", t)
    assert rc == 2 and "argument --timeout" in err and "seconds" in err, err

def test_bad_threads():
    usage_error(["00_infra", "--threads", "-3"], "threads must be a whole number >= 1")

def test_bogus_flags_name_no_executed_copy(tmp_path):
    err = usage_error(["01_kv_cache", "--flags", "bogus", "--out", tmp_path/"r"], "unknown flag(s) ['bogus']")
    assert "executed copy" not in err

def test_out_under_a_file(tmp_path):
    (tmp_path/"f").write_text("x")
    usage_error(["00_infra", "--out", tmp_path/"f"/"run"], "is a file; choose another --out")

def test_out_unwritable():
    usage_error(["00_infra", "--out", "/proc/ic-run-cannot-write-here"], "cannot write the run folder")

# ---- running: failures explained, records kept, no noise ------------------------------------------------------
@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    "A throwaway repository with three lessons: one fine, one failing with a long message, one slower than its timeout."
    d = tmp_path_factory.mktemp("toy"); (d/"nbs").mkdir(); (d/"pyproject.toml").write_text("")
    def write(name, *sources):
        nb = nbformat.v4.new_notebook(); nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        p = nbformat.v4.new_code_cell("profile = 'ci'\nout_dir = 'x'"); p.metadata["tags"] = ["parameters"]
        nb.cells = [p] + [nbformat.v4.new_code_cell(s) for s in sources]; nbformat.write(nb, d/"nbs"/name)
    write("01_ok.ipynb", "import os, typing\ntyping.io.TextIO\nprint('threads', os.environ['OMP_NUM_THREADS'], out_dir)")
    write("02_long_error.ipynb", "raise ValueError('x' * 3000 + ' END-OF-A-LONG-MESSAGE')")
    write("03_slow.ipynb", "import time\ntime.sleep(60)")
    write("04_dies.ipynb", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    return d

def test_run_fail_timeout_and_reuse(toy):
    rc, out, err = ic_run("01", "--out", "run", cwd=toy)
    assert rc == 0, err
    assert "without encryption" not in out + err and "typing.io" not in out + err, out + err
    ex = nbformat.read(toy/"run"/"01_ok.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in ex.cells for o in c.get("outputs", []))
    assert "threads " in text and str(toy/"run"/"01_ok") in text and "DeprecationWarning" not in text, text

    rc, out, err = ic_run("02", "--out", "run", cwd=toy)
    assert rc == 1, err
    assert "ValueError" in err and "END-OF-A-LONG-MESSAGE" in err, err[-3000:]   # the whole message, on the console

    rc, out, err = ic_run("03", "--out", "run", "--timeout", "3", cwd=toy)
    assert rc == 1 and "CellTimeoutError" in err and "time.sleep(60)" in err, err[-3000:]

    rc, out, err = ic_run("04", "--out", "run", cwd=toy)   # the kernel dies: said so, not a zmq traceback
    assert rc == 1 and "DeadKernelError" in err and "executed copy is" in err, err[-3000:]

    s = json.loads((toy/"run"/"summary.json").read_text())
    assert [(r["notebook"], r["status"]) for r in s["notebooks"]] == \
        [("01_ok.ipynb", "ok"), ("02_long_error.ipynb", "failed"), ("03_slow.ipynb", "failed"), ("04_dies.ipynb", "failed")], s
    assert s["notebooks"][1]["error"].rstrip().endswith("END-OF-A-LONG-MESSAGE"), s["notebooks"][1]["error"][-200:]
    assert len(s["runs"]) == 4 and s["runs"][2]["timeout"] == 3

def test_corrupt_summary_is_not_overwritten(toy, tmp_path):
    (tmp_path/"summary.json").write_text("{half")
    usage_error(["01", "--out", tmp_path], "is not valid JSON", cwd=toy)
    assert (tmp_path/"summary.json").read_text() == "{half"

"Tracking for real: W&B offline + MLflow (sqlite store, model registry) from a short training run; clear errors and quiet skips."
import glob, json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("wandb", reason="tracking extra not installed: pip install -e '.[track]'")
pytest.importorskip("mlflow", reason="tracking extra not installed: pip install -e '.[track]'")

def _settings(tmp_path, wandb_mode="offline", uri="sqlite:///mlflow.db"):
    f = tmp_path / "settings.ini"
    f.write_text(f"[tracking]\nwandb_project = ic-test\nwandb_mode = {wandb_mode}\nmlflow_tracking_uri = {uri}\n")
    return f

def test_train_tracks_and_registers(tmp_path):
    "A 6-step CLI run with --track true: metrics in MLflow (read back) and in the W&B offline run, the model registered."
    run, model = tmp_path / "run", tmp_path / "model"
    env = {**os.environ, "IC_SETTINGS": str(_settings(tmp_path)), "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline"}
    r = subprocess.run([sys.executable, "-m", "infinitecontext.train", "--steps", "6", "--seq_len", "64", "--batch_size", "4",
                        "--track", "true", "--track_dir", str(run), "--export_dir", str(model)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert "registered infinitecontext-tiny version 1" in r.stdout, r.stdout
    from mlflow import MlflowClient
    c = MlflowClient(f"sqlite:///{run}/mlflow.db")
    exp = c.get_experiment_by_name("ic-test")
    (mrun,) = c.search_runs([exp.experiment_id])
    hist = c.get_metric_history(mrun.info.run_id, "loss")
    assert sorted(m.step for m in hist) == list(range(6)), hist
    assert {"lr", "grad_norm", "tok_s"} <= set(mrun.data.metrics) and mrun.data.params["steps"] == "6"
    (mv,) = c.search_model_versions("name='infinitecontext-tiny'")
    assert mv.run_id == mrun.info.run_id and str(mv.version) == "1"
    arts = {a.path for a in c.list_artifacts(mrun.info.run_id, "model")}
    assert "model/model.safetensors" in arts and "model/config.json" in arts, arts
    (wb,) = glob.glob(str(run / "wandb" / "offline-run-*" / "run-*.wandb"))
    data = Path(wb).read_bytes()
    assert data.count(b"grad_norm") >= 6, "W&B offline history lacks the logged steps"
    assert not (tmp_path / "wandb").exists() and not (tmp_path / "mlruns").exists(), "a tracker wrote outside --track_dir"

def test_missing_tracker_is_one_clear_error(tmp_path, monkeypatch):
    from infinitecontext.infra import load_settings
    from infinitecontext.train import Tracker, TrainConfig
    monkeypatch.setitem(sys.modules, "wandb", None)  # as if not installed
    with pytest.raises(ImportError, match=r"asks for W&B .* `wandb` is not installed: pip install -e '.\[track\]'"):
        Tracker(TrainConfig(), root=tmp_path, settings=load_settings(_settings(tmp_path)))

def test_trackers_configured_off_are_skipped(tmp_path):
    from infinitecontext.infra import load_settings
    from infinitecontext.train import Tracker, TrainConfig
    msgs = []
    t = Tracker(TrainConfig(), root=tmp_path / "run", settings=load_settings(_settings(tmp_path, "disabled", "")), log=msgs.append)
    t.log(dict(loss=1.0), 0); t.finish()
    assert t.wb is None and t.client is None
    assert any("W&B off" in m for m in msgs) and any("MLflow off" in m for m in msgs), msgs
    assert not (tmp_path / "run").exists()

"""The run store: atomic write, never overwrite, JSON without NaN, exact round trip."""

import json
import math
import os

import numpy as np
import pytest

import lasso_torch as lt
from lasso_torch.experiment import validate
from lasso_torch.runs import (
    RunWriter,
    clean_json,
    find_done,
    flatten,
    list_runs,
    load_run,
    unflatten,
    write_json,
)

CONFIG = validate({"name": "store"}).dump()


def _traces():
    rng = np.random.default_rng(0)
    return {
        "fista": {"iteration": np.arange(5), "objective": rng.normal(size=5),
                  "gap": np.array([1.0, np.nan, np.inf, -np.inf, 0.0]),
                  "coef": rng.normal(size=(5, 3))},
        "reference": {"coef": rng.normal(size=3)},
        "path": {"alpha_max": np.asarray(2.5)},
    }


def _meta(status="complete"):
    return {"status": status, "device": "cpu", "dtype": "float64", "seed": 0,
            "config_hash": "abc", "versions": {}}


def test_clean_json():
    out = clean_json({"a": float("nan"), "b": [1.0, float("inf")], "c": np.float32(2.0),
                      "d": np.int64(3), "e": np.array([np.nan, 1.0]), 4: None})
    assert out == {"a": None, "b": [1.0, None], "c": 2.0, "d": 3, "e": [None, 1.0], "4": None}
    json.dumps(out, allow_nan=False)


def test_write_json_has_no_nan(tmp_path):
    write_json(tmp_path / "m.json", {"x": float("nan"), "y": -float("inf")})
    text = (tmp_path / "m.json").read_text()
    assert "NaN" not in text and "Infinity" not in text and json.loads(text) == {"x": None,
                                                                                  "y": None}


def test_flatten_round_trip():
    t = _traces()
    back = unflatten(flatten(t))
    assert back.keys() == t.keys()
    for g in t:
        for k in t[g]:
            np.testing.assert_array_equal(back[g][k], t[g][k])


def test_writer_is_atomic_and_round_trips(tmp_path):
    w = RunWriter(tmp_path / "runs", "store", CONFIG)
    assert w.tmp.name.startswith(".tmp-") and (w.tmp / "config.yaml").is_file()
    assert list_runs(tmp_path / "runs") == []  # the temporary folder is not a run yet
    metrics = {"problem": {"n": 3}, "solvers": {"fista": {"gap": float("nan")}}}
    path = w.finish(_meta(), metrics, _traces())
    assert not w.tmp.exists() and path.parent == tmp_path / "runs"
    assert path.name.endswith("-store") and path.name[:8].isdigit()
    run = load_run(path)
    assert run.meta["status"] == "complete" and run.meta["name"] == "store"
    assert {"created", "finished", "config_hash", "versions"} <= run.meta.keys()
    assert run.metrics["solvers"]["fista"]["gap"] is None
    assert validate(run.config).dump() == CONFIG  # the saved config validates again
    t = _traces()
    for g in t:
        for k in t[g]:
            a, b = run.traces[g][k], t[g][k]
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
    with np.load(path / "traces.npz", allow_pickle=False) as f:
        assert "fista/coef" in f.files and "reference/coef" in f.files
    assert list_runs(tmp_path / "runs") == [path]


def test_never_overwrites(tmp_path):
    root = tmp_path / "runs"
    w1 = RunWriter(root, "same", CONFIG)
    w2 = RunWriter(root, "same", CONFIG)
    w2.stamp = w1.stamp
    p1 = w1.finish(_meta(), {}, {})
    before = {f.name: f.read_bytes() for f in p1.iterdir()}
    p2 = w2.finish(_meta("diverged"), {}, {})
    assert p2 != p1 and p2.name == p1.name + "-2"
    assert {f.name: f.read_bytes() for f in p1.iterdir()} == before
    assert load_run(p2).meta["status"] == "diverged"


def test_finish_rejects_unknown_status(tmp_path):
    w = RunWriter(tmp_path, "x", CONFIG)
    with pytest.raises(ValueError, match="status"):
        w.finish(_meta("half-done"), {}, {})
    w.abandon()
    assert not w.tmp.exists()


def test_output_root_errors(tmp_path):
    f = tmp_path / "file"
    f.write_text("not a folder")
    with pytest.raises(lt.InputError, match="file.* is not a folder"):
        RunWriter(f, "x", CONFIG)


def test_load_errors(tmp_path):
    with pytest.raises(lt.InputError, match="run folder not found"):
        load_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(lt.InputError, match="not a run folder"):
        load_run(tmp_path / "empty")


def test_find_done(tmp_path):
    w = RunWriter(tmp_path, "a", CONFIG)
    meta = _meta() | {"config_hash": "h1"}
    p = w.finish(meta, {}, {})
    assert find_done(tmp_path, "h1") == p
    assert find_done(tmp_path, "h2") is None
    w = RunWriter(tmp_path, "b", CONFIG)
    w.finish(_meta("interrupted") | {"config_hash": "h3"}, {}, {})
    assert find_done(tmp_path, "h3") is None  # an interrupted point is run again


def test_json_floats_survive(tmp_path):
    write_json(tmp_path / "x.json", {"v": 0.1 + 0.2})
    assert json.loads((tmp_path / "x.json").read_text())["v"] == 0.1 + 0.2
    assert math.isfinite(json.loads((tmp_path / "x.json").read_text())["v"])


# --- output roots and owner records (issue 15) -----------------------------------------------
def test_output_root_expands_home_and_refuses_a_dangling_link(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    w = RunWriter("~/runs", "x", {"name": "x"})
    assert w.root == tmp_path / "runs" and w.tmp.parent == tmp_path / "runs"
    assert json.loads((w.tmp / "owner.json").read_text())["pid"] == os.getpid()
    path = w.finish({"status": "complete"}, {}, {})
    assert not (path / "owner.json").exists() and not (tmp_path / "~").exists()
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(lt.InputError, match="symbolic link to .*nowhere, which does not exist"):
        RunWriter(tmp_path / "link", "x", {})
    assert not (tmp_path / "nowhere").exists()

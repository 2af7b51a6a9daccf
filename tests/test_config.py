"""The config schema: defaults, YAML 1.1 pitfalls, one-line errors, overrides, sweeps."""

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import lasso_torch as lt
from lasso_torch.experiment import (
    AlphaFraction,
    AlphaGrid,
    Config,
    ObjectiveConfig,
    apply_overrides,
    load_config,
    parse_override,
    read_yaml,
    resolve_alphas,
    set_dotted,
    sweep_points,
    validate,
)

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))


def err(raw) -> str:
    with pytest.raises(lt.InputError) as e:
        validate(raw, "cfg.yaml")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("cfg.yaml: ")
    return msg


def test_defaults_are_filled_and_round_trip():
    c = validate({"name": "x"})
    d = c.dump()
    assert d["data"]["kind"] == "synthetic" and d["objective"]["l1_ratio"] == 1.0
    assert d["solvers"][0]["kind"] == "auto" and d["output"] == "runs" and d["sweep"] == {}
    again = validate(yaml.safe_load(yaml.safe_dump(d)))
    assert again.dump() == d and again.hash() == c.hash()


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_validate_and_have_a_header(path):
    c = load_config(path)
    assert c.name == path.stem
    assert path.read_text().startswith("# "), "each config starts with a comment header"
    assert validate(c.dump()).dump() == c.dump()


def test_shipped_configs_are_the_required_ones():
    names = {p.stem for p in CONFIGS}
    assert {"why_sparsity", "ridge_vs_lasso_path", "two_features_geometry", "diabetes"} <= names


def test_yaml_exponent_string_is_coerced(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("name: x\nobjective: {alpha: 1e-3}\nsolvers: [{kind: fista, tol: 1e-9}]\n")
    raw = read_yaml(f)
    assert raw["objective"]["alpha"] == "1e-3"  # YAML 1.1 reads it as a string...
    c = load_config(f)
    assert c.objective.alpha == 1e-3 and c.solvers[0].tol == 1e-9  # ...the schema coerces


def test_yaml_booleans_are_rejected_where_numbers_or_strings_are_expected(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("name: x\ndata: {kind: synthetic, n: no}\n")
    with pytest.raises(lt.InputError, match=r"data\.n: .*boolean.*quote"):
        load_config(f)
    assert "boolean" in err({"name": "x", "objective": {"alpha": False}})
    assert "quote it" in err({"name": False})
    f.write_text("name: x\nobjective: {fit_intercept: no}\n")
    assert load_config(f).objective.fit_intercept is False  # a real boolean stays one


@pytest.mark.parametrize("raw, where, suggestion", [
    ({"name": "x", "solver": []}, "solver", "solvers"),
    ({"name": "x", "solvers": [{"kind": "cd", "lrr": 1}]}, "solvers.0.lrr", "lr"),
    ({"name": "x", "data": {"kind": "synthetic", "corelation": 0.5}}, "data.corelation",
     "correlation"),
    ({"name": "x", "objective": {"alpha": {"fracton": 0.1}}}, "objective.alpha.fracton",
     "fraction"),
    ({"name": "x", "data": {"kind": "csv", "path": "a", "targt": "y"}}, "data.targt", "target"),
])
def test_unknown_key_names_it_and_suggests_the_closest(raw, where, suggestion):
    msg = err(raw)
    assert f"{where}: unknown key (did you mean {suggestion!r}?)" in msg


@pytest.mark.parametrize("raw, where, value", [
    ({"name": "x", "objective": {"alpha": -1}}, "objective.alpha", "-1"),
    ({"name": "x", "objective": {"alpha": 0}}, "objective.alpha", "0"),
    ({"name": "x", "objective": {"alpha": {"fraction": -0.5}}}, "objective.alpha.fraction", "-0.5"),
    ({"name": "x", "objective": {"kind": "elasticnet", "l1_ratio": 1.5}}, "objective.l1_ratio",
     "1.5"),
    ({"name": "x", "objective": {"kind": "elasticnet", "l1_ratio": -0.1}}, "objective.l1_ratio",
     "-0.1"),
    ({"name": "x", "solvers": [{"kind": "ista", "lr": 0}]}, "solvers.0.lr", "0"),
    ({"name": "x", "solvers": [{"kind": "ista", "lr": -2}]}, "solvers.0.lr", "-2"),
    ({"name": "x", "solvers": [{"kind": "ista", "max_iter": 0}]}, "solvers.0.max_iter", "0"),
    ({"name": "x", "solvers": [{"kind": "ista", "tol": -1}]}, "solvers.0.tol", "-1"),
    ({"name": "x", "data": {"kind": "synthetic", "n": 0}}, "data.n", "0"),
    ({"name": "x", "data": {"kind": "synthetic", "correlation": 1.0}}, "data.correlation", "1.0"),
    ({"name": "x", "data": {"kind": "synthetic", "snr": float("nan")}}, "data.snr", "nan"),
    ({"name": "x", "objective": {"alpha": float("inf")}}, "objective.alpha", "inf"),
])
def test_out_of_range_values(raw, where, value):
    msg = err(raw)
    assert f"{where}: " in msg and f"got {value}" in msg


@pytest.mark.parametrize("raw, where", [
    ({"name": "x", "data": {"kind": "synthetic", "n": "many"}}, "data.n"),
    ({"name": "x", "solvers": {"kind": "cd"}}, "solvers"),
    ({"name": "x", "solvers": [{"kind": "lars"}]}, "solvers.0.kind"),
    ({"name": "x", "objective": {"alpha": "big"}}, "objective.alpha"),
    ({"name": "x", "dtype": "float16"}, "dtype"),
    ({"name": "x", "device": "gpu"}, "device"),
    ({"name": "x", "data": {"kind": "parquet"}}, "data"),
    ({"name": "x y"}, "name"),
])
def test_wrong_types(raw, where):
    assert f"cfg.yaml: {where}: " in err(raw)


def test_missing_keys_and_cross_key_rules():
    assert "data.path: required key is missing" in err({"name": "x", "data": {"kind": "csv"}})
    assert "name: required key is missing" in err({})
    assert "use kind: elasticnet" in err({"name": "x", "objective": {"l1_ratio": 0.5}})
    assert "exactly one solver" in err({"name": "x", "objective": {"alpha": [0.1, 0.2]},
                                        "solvers": [{"kind": "cd"}, {"kind": "ista"}]})
    assert "min_fraction" in err({"name": "x", "objective": {"alpha": {"min_fraction": 2}}})
    assert "cannot sweep" in err({"name": "x", "sweep": {"output": ["a", "b"]}})
    with pytest.raises(lt.InputError, match="must be a mapping"):
        validate([1, 2])


def test_step_is_an_alias_of_lr():
    c = validate({"name": "x", "solvers": [{"kind": "ista", "step": 0.25}]})
    assert c.solvers[0].lr == 0.25 and c.dump()["solvers"][0]["lr"] == 0.25
    assert "solvers.0.step: " in err({"name": "x", "solvers": [{"kind": "ista", "step": -1}]})


def test_l1_ratio_follows_the_kind():
    assert ObjectiveConfig(kind="ridge").l1_ratio == 0.0
    assert ObjectiveConfig(kind="lasso").l1_ratio == 1.0
    assert ObjectiveConfig(kind="elasticnet").l1_ratio == 0.5
    assert ObjectiveConfig(kind="elasticnet", l1_ratio=0.2).l1_ratio == 0.2


def test_files(tmp_path):
    with pytest.raises(lt.InputError, match="config file not found: .*nope.yaml"):
        load_config(tmp_path / "nope.yaml")
    f = tmp_path / "bad.yaml"
    f.write_text("name: x\ndata:\n  kind: synthetic\n   n: 3\n")
    with pytest.raises(lt.InputError, match=r"bad.yaml: malformed YAML at line 4"):
        load_config(f)
    f.write_text("")
    with pytest.raises(lt.InputError, match="empty"):
        load_config(f)
    f.write_text("data: {kind: diabetes}\n")
    assert load_config(f).name == "bad"  # named after the file


def test_overrides():
    raw = {"name": "x", "solvers": [{"kind": "cd"}, {"kind": "ista"}]}
    out = apply_overrides(raw, ["data.n=500", "solvers.1.lr=0.5", "objective.alpha=1e-3",
                                "device=cpu"])
    assert raw == {"name": "x", "solvers": [{"kind": "cd"}, {"kind": "ista"}]}  # not mutated
    c = validate(out)
    assert c.data.n == 500 and c.solvers[1].lr == 0.5 and c.objective.alpha == 1e-3
    assert parse_override("a.b=[1, 2]") == ("a.b", [1, 2])
    assert parse_override("a={fraction: 0.1}") == ("a", {"fraction": 0.1})
    with pytest.raises(lt.InputError, match="solvers.5: no list item"):
        apply_overrides(raw, {"solvers.5.lr": 1})
    with pytest.raises(lt.InputError, match="key=value"):
        parse_override("data.n")
    with pytest.raises(lt.InputError, match="data.n: Input should be greater"):
        load_config(raw, ["data.n=-3"])
    with pytest.raises(lt.InputError, match=r"name\.x"):
        set_dotted({"name": "a"}, "name.x.y", 1)


def test_sweep_points_are_the_product():
    c = validate({"name": "s", "sweep": {"objective.alpha": [0.1, 0.2],
                                         "solvers.0.kind": ["cd", "fista"]}})
    pts = sweep_points(c)
    assert len(pts) == 4
    assert [p.name for _, p in pts] == ["s-alpha=0.1-kind=cd", "s-alpha=0.1-kind=fista",
                                        "s-alpha=0.2-kind=cd", "s-alpha=0.2-kind=fista"]
    assert all(p.sweep == {} for _, p in pts)
    assert len({p.hash() for _, p in pts}) == 4
    assert pts[3][1].objective.alpha == 0.2 and pts[3][1].solvers[0].kind == "fista"
    with pytest.raises(lt.InputError, match="sweep point"):
        sweep_points(validate({"name": "s", "sweep": {"data.n": [10, -1]}}))


def test_hash_ignores_output_only():
    a = validate({"name": "x", "output": "a"})
    assert a.hash() == validate({"name": "x", "output": "b"}).hash()
    assert a.hash() != validate({"name": "x", "seed": 1}).hash()


def test_resolve_alphas():
    assert resolve_alphas(ObjectiveConfig(alpha=AlphaFraction(fraction=0.5)), 4.0) == [2.0]
    assert resolve_alphas(ObjectiveConfig(alpha=0.3), 4.0) == [0.3]
    assert resolve_alphas(ObjectiveConfig(alpha=[0.1, 0.3, 0.2]), 4.0) == [0.3, 0.2, 0.1]
    grid = resolve_alphas(ObjectiveConfig(alpha=AlphaGrid(num=5, min_fraction=1e-2)), 2.0)
    assert len(grid) == 5 and grid[0] == pytest.approx(2.0) and grid[-1] == pytest.approx(0.02)
    assert all(a > b for a, b in zip(grid, grid[1:], strict=False))


@settings(max_examples=40, deadline=None)
@given(
    alpha=st.one_of(st.floats(1e-8, 1e3), st.builds(lambda f: {"fraction": f},
                                                     st.floats(1e-6, 1.0))),
    n=st.integers(1, 10**6), rho=st.floats(-0.99, 0.99), tol=st.floats(0, 1),
    kind=st.sampled_from(["ista", "fista", "cd", "subgradient"]),
)
def test_validation_is_a_fixed_point(alpha, n, rho, tol, kind):
    c = validate({"name": "h", "data": {"kind": "synthetic", "n": n, "correlation": rho},
                  "objective": {"alpha": alpha}, "solvers": [{"kind": kind, "tol": tol}]})
    d = c.dump()
    assert validate(yaml.safe_load(yaml.safe_dump(d))).dump() == d
    assert isinstance(Config.model_validate(d), Config) and not math.isnan(c.data.correlation)


# --- loading: encodings, folders, --set blame, relative paths (issue 15) ------------------
def test_config_file_problems_are_one_line(tmp_path):
    (tmp_path / "latin.yaml").write_bytes("name: x\nseed: 1 # caf\xe9\n".encode("latin-1"))
    with pytest.raises(lt.InputError, match=r"latin.yaml: not UTF-8 text \(byte 0xe9 on line 2\)"):
        load_config(tmp_path / "latin.yaml")
    with pytest.raises(lt.InputError, match="is a folder; give the config file"):
        load_config(tmp_path)


def test_a_bad_override_is_blamed_on_the_override(tmp_path):
    (tmp_path / "c.yaml").write_text("name: c\nseed: 1\n")
    with pytest.raises(lt.InputError) as e:
        load_config(tmp_path / "c.yaml", ["seed=100000000000000000000"])
    assert str(e.value).startswith("--set seed=100000000000000000000: seed: ")
    with pytest.raises(lt.InputError) as e:
        load_config(tmp_path / "c.yaml", {"data.n": -1})
    assert str(e.value).startswith("override data.n=-1: data.n: ")
    (tmp_path / "bad.yaml").write_text("name: c\nseed: -1\n")
    with pytest.raises(lt.InputError) as e:  # the file's own mistake names the file
        load_config(tmp_path / "bad.yaml", ["data.n=5"])
    assert str(e.value).startswith(f"{tmp_path / 'bad.yaml'}: seed: ")


def test_relative_data_paths(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.csv").write_text("a,y\n1,2\n")
    (tmp_path / "d.csv").write_text("a,y\n1,2\n")
    (tmp_path / "sub" / "c.yaml").write_text("name: c\ndata: {kind: csv, path: d.csv, "
                                             "target: y}\n")
    monkeypatch.chdir(tmp_path)
    cfg = load_config("sub/c.yaml")  # from the config's folder
    assert cfg.data.path == str(tmp_path / "sub" / "d.csv")
    cfg = load_config("sub/c.yaml", ["data.path=d.csv"])  # from the current folder
    assert cfg.data.path == str(tmp_path / "d.csv")
    monkeypatch.setenv("HOME", str(tmp_path / "sub"))
    assert load_config("sub/c.yaml", ["data.path=~/d.csv"]).data.path == str(
        tmp_path / "sub" / "d.csv")
    with pytest.raises(lt.InputError) as e:
        load_config("sub/c.yaml", ["data.path=sub"])
    assert "--set data.path=sub: data.path 'sub': data file is a folder" in str(e.value)


def test_integers_are_int64():
    from lasso_torch.experiment import validate

    for key in ("seed", "data"):
        raw = {"name": "x", **({"seed": 2**63} if key == "seed" else {"data": {"n": 2**64}})}
        with pytest.raises(lt.InputError, match="less than or equal to 9223372036854775807"):
            validate(raw)

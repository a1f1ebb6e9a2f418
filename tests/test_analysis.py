"""sim.analysis on sweep folders built here, from analytic functions over real SALib designs.

Each folder follows the sweep contract (manifest.json + a runs.parquet dataset directory)
so the whole pipeline is exercised: reading, design ordering, replicate means, SALib,
the CSV files, the figures and the report.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.sample import fast_sampler, latin, morris, sobol

from sim.analysis import COLUMNS, analyze, compute, load_sweep, noise_share, win_shares
from sim.errors import BadInput

PI = math.pi
ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-PI, PI]] * 3}
A, B = 7.0, 0.1
# Analytic Ishigami indices (a = 7, b = 0.1) and variance.
S1_TRUE = np.array([0.3139, 0.4424, 0.0])
ST_TRUE = np.array([0.5576, 0.4424, 0.2437])
VAR_TRUE = A**2 / 8 + B * PI**4 / 5 + B**2 * PI**8 / 18 + 0.5


def ishigami(X: np.ndarray) -> np.ndarray:
    x1, x2, x3 = X[:, 0], X[:, 1], X[:, 2]
    return np.sin(x1) + A * np.sin(x2) ** 2 + B * x3**4 * np.sin(x1)


def write_sweep(
    folder: Path,
    *,
    method: str,
    problem: dict,
    X: np.ndarray,
    outputs: dict[str, dict[str, np.ndarray]],  # rule -> outcome -> n_points x replicates
    contrasts: tuple[str, ...] = (),
    higher_is_better: dict[str, bool] | None = None,
    shuffle: bool = False,
    status: str = "complete",
    **manifest_extra: object,
) -> Path:
    """A sweep folder by the contract; rows optionally shuffled (any order is legal)."""
    rules = list(outputs)
    outcomes = list(next(iter(outputs.values())))
    n_points = len(X)
    reps = next(iter(outputs[rules[0]].values())).shape[1]
    params = problem["names"]
    frames = []
    for rule in rules:
        frame = pd.DataFrame(
            {
                "sample_id": np.repeat(np.arange(n_points), reps),
                "replicate": np.tile(np.arange(reps), n_points),
                "rule": rule,
                "seed": np.tile(np.arange(reps), n_points) + 1,
            }
        )
        for j, p in enumerate(params):
            frame[p] = np.repeat(X[:, j], reps)
        for o in outcomes:
            frame[o] = np.asarray(outputs[rule][o], dtype=float).reshape(-1)
        frames.append(frame)
    runs = pd.concat(frames, ignore_index=True)
    if shuffle:
        runs = runs.sample(frac=1.0, random_state=11).reset_index(drop=True)
    runs.insert(0, "run_id", np.arange(len(runs), dtype=np.int64))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "runs.parquet").mkdir()
    runs.to_parquet(folder / "runs.parquet" / "part-000000000-000000100.parquet", index=False)
    manifest = {
        "format": 1,
        "fingerprint": "0123456789abcdef",
        "method": method,
        "n": manifest_extra.pop("n", None),
        "second_order": False,
        "num_levels": 4,
        "optimal_trajectories": None,
        "M": 4,
        "replicates": reps,
        "seed": 1,
        "parameters": params,
        "problem": problem,
        "rules": rules,
        "contrasts": list(contrasts),
        "outcomes": outcomes,
        "higher_is_better": higher_is_better or {o: True for o in outcomes},
        "n_points": n_points,
        "n_runs": len(runs),
        "status": status,
        "save_timeseries": False,
        **manifest_extra,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def indices(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "indices.csv", keep_default_na=False, na_values=[""])


def pick(df: pd.DataFrame, method: str, index: str, rule: str = "model", outcome: str = "y"):
    sub = df[(df.method == method) & (df["index"] == index) & (df.rule == rule)]
    sub = sub[sub.outcome == outcome].set_index("parameter")
    return sub.value, sub.conf


def sobol_ishigami(tmp_path: Path, n: int, name: str, **kw) -> Path:
    X = sobol.sample(ISHIGAMI, n, calc_second_order=False, seed=3)
    Y = ishigami(X)[:, None]
    return write_sweep(
        tmp_path / name,
        method="sobol",
        problem=ISHIGAMI,
        X=X,
        outputs={"model": {"y": Y}},
        n=n,
        points_per_base=5,
        **kw,
    )


def test_sobol_ishigami_matches_analytic_indices_whatever_the_row_order(tmp_path: Path) -> None:
    ordered = sobol_ishigami(tmp_path, 1024, "ordered")
    shuffled = sobol_ishigami(tmp_path, 1024, "shuffled", shuffle=True)
    analyze(ordered)
    analyze(shuffled)
    # Order is handled: identical results, byte for byte (the bootstrap seed is fixed).
    assert (ordered / "indices.csv").read_bytes() == (shuffled / "indices.csv").read_bytes()
    assert (ordered / "convergence.csv").read_bytes() == (shuffled / "convergence.csv").read_bytes()
    df = indices(shuffled)
    assert list(df.columns) == list(COLUMNS)
    for index, truth in (("S1", S1_TRUE), ("ST", ST_TRUE)):
        value, conf = pick(df, "sobol", index)
        # conf is SALib's 95% bootstrap half-width (~2 standard errors). 1.5 x conf is ~3 SE;
        # the floor 0.03 covers the estimator's small-N bias. A misaligned Y (rows in file
        # order) gives S1 ~ 0 and ST ~ 1 for every parameter, far outside this.
        tol = np.maximum(0.03, 1.5 * conf.to_numpy())
        assert np.all(np.abs(value.to_numpy() - truth) <= tol), (index, value, conf)
    # Convergence: powers of two from max(16, N/64) = 16 to N = 1024, last row = indices.csv.
    conv = pd.read_csv(shuffled / "convergence.csv")
    assert list(conv.columns) == [*COLUMNS, "n"]
    assert sorted(conv.n.unique()) == [16, 32, 64, 128, 256, 512, 1024]
    last = conv[(conv.n == 1024) & (conv["index"] == "ST")].set_index("parameter").value
    assert np.allclose(last.to_numpy(), pick(df, "sobol", "ST")[0].to_numpy())
    report = (shuffled / "report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| model |"))
    assert row.split("`")[1] == "x1"  # ranked first by ST
    assert "N = 1024 base samples" in report
    for name in ("indices_y.png", "convergence_y.png", "scatter_y.png"):
        assert (shuffled / "figures" / name).stat().st_size > 1000
        assert f"figures/{name}" in report


def test_noise_share_matches_the_known_noise_variance(tmp_path: Path) -> None:
    n, reps = 256, 3
    X = sobol.sample(ISHIGAMI, n, calc_second_order=False, seed=3)
    rng = np.random.default_rng(5)
    # Noise with the same variance as the Ishigami function: share = V / (V + V) = 0.5.
    Y = ishigami(X)[:, None] + rng.normal(0.0, math.sqrt(VAR_TRUE), size=(len(X), reps))
    folder = write_sweep(
        tmp_path / "noisy", method="sobol", problem=ISHIGAMI, X=X, outputs={"model": {"y": Y}},
        n=n, points_per_base=5, shuffle=True,
    )  # fmt: skip
    analyze(folder, figures=False)
    df = indices(folder)
    share = df[df["index"] == "noise_share"]
    assert len(share) == 1 and share.parameter.isna().all() and share.conf.isna().all()
    # Within-point variance from 768 points x 2 dof: relative SE ~ 3%; 0.05 is ~3 SE.
    assert abs(share.value.iloc[0] - 0.5) < 0.05
    # The same number from the formula, directly.
    assert share.value.iloc[0] == pytest.approx(noise_share(Y))


def test_morris_linear_function_mu_star_is_coefficient_times_range(tmp_path: Path) -> None:
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0, 1], [0, 1], [-1, 1]]}
    X = morris.sample(problem, 20, num_levels=4, seed=2)
    Y = (2 * X[:, 0] + 0 * X[:, 1] - 5 * X[:, 2])[:, None]
    folder = write_sweep(
        tmp_path / "morris", method="morris", problem=problem, X=X,
        outputs={"model": {"y": Y}}, n=20, shuffle=True,
    )  # fmt: skip
    analyze(folder)
    df = indices(folder)
    # SALib divides output differences by the step in the unit cube, so for y = c x with
    # x in [lo, hi] every elementary effect is c (hi - lo): mu* = |c| (hi - lo), sigma = 0.
    mu_star, _ = pick(df, "morris", "mu_star")
    mu, _ = pick(df, "morris", "mu")
    sigma, _ = pick(df, "morris", "sigma")
    assert np.allclose(mu_star[["x1", "x2", "x3"]], [2.0, 0.0, 10.0])
    assert np.allclose(mu[["x1", "x2", "x3"]], [2.0, 0.0, -10.0])
    assert np.allclose(sigma, 0.0, atol=1e-9)
    report = (folder / "report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| model |"))
    assert row.index("`x3`") < row.index("`x1`") < row.index("`x2`")
    assert (folder / "figures" / "morris_y.png").exists()


def test_contrast_depending_on_one_parameter_has_s1_one(tmp_path: Path) -> None:
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0, 1]] * 3}
    n, reps = 256, 2
    X = sobol.sample(problem, n, calc_second_order=False, seed=4)
    rng = np.random.default_rng(0)
    common = np.sin(6 * X[:, 1]) + X[:, 1] * X[:, 2]
    shared_noise = rng.normal(0, 0.3, size=(len(X), reps))  # same seed, same noise: cancels
    ya = (X[:, 0] + common)[:, None] + shared_noise
    yb = (common - 0.5 * X[:, 0] ** 2)[:, None] + shared_noise
    folder = write_sweep(
        tmp_path / "contrast", method="sobol", problem=problem, X=X,
        outputs={"a": {"y": ya}, "b": {"y": yb}}, contrasts=("a - b",), n=n,
        points_per_base=5, shuffle=True,
    )  # fmt: skip
    analyze(folder, figures=False)
    df = indices(folder)
    s1, conf = pick(df, "sobol", "S1", rule="a - b")
    st, _ = pick(df, "sobol", "ST", rule="a - b")
    # a - b = x1 + x1^2 / 2: x1 explains everything. Parameters other than x1 leave the
    # contrast unchanged between A and AB_j, so their S1 and ST are exactly 0.
    assert s1["x1"] == pytest.approx(1.0, abs=max(0.05, 1.5 * conf["x1"]))
    assert st["x1"] == pytest.approx(1.0, abs=0.05)
    assert np.allclose(s1[["x2", "x3"]], 0.0) and np.allclose(st[["x2", "x3"]], 0.0)
    # The rules themselves depend mostly on x2.
    assert pick(df, "sobol", "ST", rule="a")[0].idxmax() == "x2"
    # Contrast noise share from paired differences: the shared noise cancels exactly.
    share = df[(df["index"] == "noise_share") & (df.rule == "a - b")].value.iloc[0]
    assert share == pytest.approx(0.0, abs=1e-12)
    assert df[(df["index"] == "noise_share") & (df.rule == "a")].value.iloc[0] > 0.05


def grid_sweep(tmp_path: Path) -> Path:
    x1 = [0.1, 0.2, 0.3, 0.5, 0.6, 0.9]
    x2 = [0.0, 1.0, 2.0]
    X = np.array([(a, b) for a in x1 for b in x2])
    problem = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0.1, 0.9], [0.0, 2.0]]}
    rng = np.random.default_rng(1)
    # Replicate noise +e / -e: replicate means are exact, single replicates would flip
    # winners wherever |margin| < e = 0.5.
    e = 0.5 * rng.choice([-1.0, 1.0], size=(len(X), 1)) * np.array([[1.0, -1.0]])
    quality_a = (1.0 - X[:, 0] + 0.1 * X[:, 1])[:, None] + e
    quality_b = (0.5 + 0.1 * X[:, 1])[:, None] + e[:, ::-1]
    cost_a = X[:, 0][:, None] + e
    cost_b = np.full((len(X), 1), 0.5) + e[:, ::-1]
    return write_sweep(
        tmp_path / "grid", method="grid", problem=problem, X=X,
        outputs={"a": {"quality": quality_a, "cost": cost_a},
                 "b": {"quality": quality_b, "cost": cost_b}},
        higher_is_better={"quality": True, "cost": False},
        grid_values={"x1": x1, "x2": x2}, shuffle=True,
    )  # fmt: skip


def test_grid_selection_map_and_win_shares(tmp_path: Path) -> None:
    folder = grid_sweep(tmp_path)
    analyze(folder)
    sweep = load_sweep(folder)
    # a is better for x1 < 0.5 (3 of 6 levels), equal at x1 = 0.5 (1 level), b above.
    for outcome in ("quality", "cost"):
        shares = win_shares(sweep, outcome).set_index("rule").share
        assert shares.to_dict() == pytest.approx({"a": 0.5, "b": 2 / 6, "tie": 1 / 6})
        result = compute(sweep)
        sel = result.maps[outcome]
        assert set(sel[sel.x1 < 0.5].best) == {"a"} and set(sel[sel.x1 > 0.5].best) == {"b"}
        assert set(sel[sel.x1 == 0.5].best) == {"tie"}
        # margin in outcome units: |0.5 - x1|
        assert np.allclose(sel.margin, np.abs(0.5 - sel.x1))
        assert (folder / "figures" / f"selection_{outcome}.png").stat().st_size > 1000
    report = (folder / "report.md").read_text()
    assert "| quality | higher | 50.0% | 33.3% | 16.7% |" in report
    assert "| cost | lower | 50.0% | 33.3% | 16.7% |" in report
    assert "figures/selection_quality.png" in report
    assert "| 1.0 | a (0.4) | a (0.3) | a (0.2) | tie (0) | b (0.1) | b (0.4) |" in report
    # Grid main effects: quality_a - ... every rule varies with x1 and x2.
    df = indices(folder)
    main, _ = pick(df, "grid", "S1", rule="b", outcome="quality")
    assert main["x2"] == pytest.approx(1.0) and main["x1"] == pytest.approx(0.0, abs=1e-12)


def test_lhs_delta_and_rbd_fast_rank_ishigami(tmp_path: Path) -> None:
    X = latin.sample(ISHIGAMI, 600, seed=2)
    folder = write_sweep(
        tmp_path / "lhs", method="lhs", problem=ISHIGAMI, X=X,
        outputs={"model": {"y": ishigami(X)[:, None]}}, n=600,
    )  # fmt: skip
    analyze(folder, figures=False, delta_resamples=10, num_resamples=30)
    df = indices(folder)
    s1, _ = pick(df, "rbd_fast", "S1")
    # RBD-FAST with 600 points: SE of a few hundredths; 0.08 is a loose but decisive bound.
    assert np.all(np.abs(s1[["x1", "x2", "x3"]].to_numpy() - S1_TRUE) < 0.08), s1
    delta, _ = pick(df, "delta", "delta")
    assert delta["x3"] < min(delta["x1"], delta["x2"])
    assert set(pick(df, "delta", "S1")[0].index) == {"x1", "x2", "x3"}


def test_fast_ishigami(tmp_path: Path) -> None:
    X = fast_sampler.sample(ISHIGAMI, 400, M=4, seed=2)
    folder = write_sweep(
        tmp_path / "fast", method="fast", problem=ISHIGAMI, X=X,
        outputs={"model": {"y": ishigami(X)[:, None]}}, n=400, shuffle=True,
    )  # fmt: skip
    analyze(folder, figures=False)
    df = indices(folder)
    # eFAST with 400 points per parameter is accurate to a few hundredths on Ishigami.
    assert np.all(np.abs(pick(df, "fast", "S1")[0].to_numpy() - S1_TRUE) < 0.05)
    assert np.all(np.abs(pick(df, "fast", "ST")[0].to_numpy() - ST_TRUE) < 0.08)
    assert not (folder / "convergence.csv").exists()


def test_groups_are_reported_by_group_name(tmp_path: Path) -> None:
    problem = {**ISHIGAMI, "groups": ["g12", "g12", "x3"]}
    X = sobol.sample(problem, 512, calc_second_order=False, seed=3)
    folder = write_sweep(
        tmp_path / "groups", method="sobol", problem=problem, X=X,
        outputs={"model": {"y": ishigami(X)[:, None]}}, n=512, points_per_base=4,
    )  # fmt: skip
    analyze(folder, figures=False)
    st, conf = pick(indices(folder), "sobol", "ST")
    assert list(st.index) == ["g12", "x3"]
    # ST(x1, x2 together) = 1 - S1(x3) = 1; ST(x3) = 0.2437 (tolerance as for Ishigami).
    tol = np.maximum(0.03, 1.5 * conf.to_numpy())
    assert np.all(np.abs(st.to_numpy() - [1.0, 0.2437]) <= tol), (st, conf)


def test_constant_outcomes_are_skipped_and_reported(tmp_path: Path) -> None:
    problem = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0, 1]] * 2}
    X = sobol.sample(problem, 64, calc_second_order=False, seed=3)
    ones = np.ones((len(X), 2))
    varying = (X[:, 0] + X[:, 1])[:, None] * ones
    folder = write_sweep(
        tmp_path / "flat", method="sobol", problem=problem, X=X,
        outputs={"a": {"flat": ones, "y": varying}, "b": {"flat": ones, "y": ones}},
        contrasts=("a - b",), n=64, points_per_base=4,
    )  # fmt: skip
    analyze(folder)
    df = indices(folder)
    assert not ((df.outcome == "flat") & (df["index"] != "noise_share")).any()
    assert set(df[df.outcome == "y"].rule) == {"a", "a - b"}
    report = (folder / "report.md").read_text()
    assert "flat, a: constant over the design (zero variance)" in report
    assert "y, b: constant over the design (zero variance)" in report


def test_bad_folders_raise_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"no manifest\.json"):
        analyze(tmp_path)
    folder = sobol_ishigami(tmp_path, 16, "running", status="running")
    with pytest.raises(BadInput, match="--resume"):
        analyze(folder)
    folder = sobol_ishigami(tmp_path, 16, "noruns")
    for part in (folder / "runs.parquet").iterdir():
        part.unlink()
    (folder / "runs.parquet").rmdir()
    with pytest.raises(BadInput, match="no runs"):
        analyze(folder)
    folder = sobol_ishigami(tmp_path, 16, "dup")
    part = next((folder / "runs.parquet").iterdir())
    runs = pd.read_parquet(part)
    pd.concat([runs, runs.iloc[:1]]).to_parquet(part, index=False)
    with pytest.raises(BadInput, match="1 duplicated"):
        analyze(folder)
    assert not (folder / "indices.csv").exists()


def test_sobol_second_order_pairs(tmp_path: Path) -> None:
    X = sobol.sample(ISHIGAMI, 1024, calc_second_order=True, seed=3)
    folder = write_sweep(
        tmp_path / "s2", method="sobol", problem=ISHIGAMI, X=X,
        outputs={"model": {"y": ishigami(X)[:, None]}}, n=1024, points_per_base=8,
        second_order=True,
    )  # fmt: skip
    analyze(folder, figures=False)
    s2, conf = pick(indices(folder), "sobol", "S2")
    assert list(s2.index) == ["x1:x2", "x1:x3", "x2:x3"]
    # Ishigami's only interaction is x1-x3: S13 = ST1 - S1 = 0.2437; the others are 0.
    tol = np.maximum(0.05, 1.5 * conf.to_numpy())
    assert np.all(np.abs(s2.to_numpy() - [0.0, 0.2437, 0.0]) <= tol), (s2, conf)
    conv = pd.read_csv(folder / "convergence.csv")
    assert set(conv["index"]) == {"S1", "ST"}

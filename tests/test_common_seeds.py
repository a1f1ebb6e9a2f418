"""``[design] common_seeds``: every sample point of a sweep on the same seeds.

With common random numbers across the design, two points differ only by their parameter
values, so a parameter that cannot act on a rule has elementary effects (Morris) of exactly
zero; with each point on its own seeds they carry replicate noise. The default (off) keeps
the seeds, and the fingerprints, of sweeps made before the option existed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.analysis import analyze
from sim.experiments.experiment import load_experiment
from sim.experiments.sweep import read_runs, sweep
from sim.experiments.worker import run_seed

ROOT = Path(__file__).resolve().parent.parent


def morris(folder: Path, common: bool | None) -> Path:
    """Morris on a shortened teaching scenario, grassroots only: the contractor's capacity
    cannot act on that rule, peer learning can."""
    (folder / "short.toml").write_text(
        f'extends = "{ROOT / "scenarios" / "teaching.toml"}"\n[time]\nyears = 3.0\n'
    )
    flag = "" if common is None else f"common_seeds = {str(common).lower()}\n"
    path = folder / "exp.toml"
    path.write_text(
        f"""scenario = "short.toml"
rules = ["grassroots"]
outcomes = ["coverage_mean", "duplicate_developments"]

[design]
method = "morris"
n = 6
replicates = 2
seed = 3
{flag}
[parameters]
"collaboration.peer_learning" = {{ low = 0.1, high = 1.0 }}
"drive.contractor_capacity" = {{ low = 20, high = 200 }}
"""
    )
    return path


def mu_star(out: Path) -> pd.Series:
    analyze(out, figures=False, num_resamples=10)
    idx = pd.read_csv(out / "indices.csv")
    idx = idx[(idx["index"] == "mu_star") & (idx["outcome"] == "coverage_mean")]
    return idx.set_index("parameter")["value"]


def test_common_seeds_give_every_point_the_same_seeds(tmp_path: Path) -> None:
    exp = morris(tmp_path, common=True)
    sweep(exp, tmp_path / "out", workers=1)
    runs = read_runs(tmp_path / "out")
    assert runs["sample_id"].nunique() == 6 * 3  # (parameters + 1) points per trajectory
    for rep, seeds in runs.groupby("replicate")["seed"]:
        assert set(seeds) == {run_seed(3, 0, int(rep))}


def test_an_inert_parameter_has_zero_effect_only_on_common_seeds(tmp_path: Path) -> None:
    (tmp_path / "own").mkdir()
    (tmp_path / "common").mkdir()
    own = mu_star(_swept(morris(tmp_path / "own", common=None)))
    common = mu_star(_swept(morris(tmp_path / "common", common=True)))
    # the contractor's capacity cannot act under the grassroots rule: on common seeds the
    # runs before and after its step are identical, so every elementary effect is 0
    assert common["drive.contractor_capacity"] == 0.0
    assert common["collaboration.peer_learning"] > 0.0
    # on each point's own seeds the same step changes the draws: replicate noise
    assert own["drive.contractor_capacity"] > 0.0


def _swept(exp: Path) -> Path:
    out = exp.parent / "out"
    sweep(exp, out, workers=1)
    return out


def test_the_option_off_keeps_the_fingerprint_on_changes_it(tmp_path: Path) -> None:
    prints = {}
    for name, flag in (("absent", None), ("off", False), ("on", True)):
        (tmp_path / name).mkdir()
        prints[name] = load_experiment(morris(tmp_path / name, flag)).fingerprint()
    assert prints["absent"] == prints["off"] != prints["on"]

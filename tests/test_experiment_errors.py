"""Bad experiment files: one clear message naming the file and the key, exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import BadInput
from sim.experiments.experiment import load_experiment

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"

HEAD = f'scenario = "{TEACHING}"\nrules = ["grassroots", "contractor"]\n'
SOBOL = '[design]\nmethod = "sobol"\nn = 16\n'
PARAM = '[parameters]\n"collaboration.peer_learning" = { low = 0.1, high = 0.8 }\n'

CASES = [
    (
        "unknown-scenario-key",
        HEAD + SOBOL + '[parameters]\n"drive.capacity" = { low = 1, high = 2 }\n',
        "parameters.drive.capacity",
        "did you mean",
    ),
    (
        "low-not-below-high",
        HEAD + SOBOL + '[parameters]\n"collaboration.peer_learning" = { low = 0.8, high = 0.1 }\n',
        "parameters.collaboration.peer_learning",
        "low",
    ),
    (
        "unknown-method",
        HEAD + '[design]\nmethod = "halton"\nn = 16\n' + PARAM,
        "design.method",
        "sobol",
    ),
    (
        "unknown-dist",
        HEAD
        + SOBOL
        + '[parameters]\n"collaboration.peer_learning" = { dist = "beta", params = [1, 2] }\n',
        "parameters.collaboration.peer_learning",
        "unknown distribution",
    ),
    (
        "dist-params",
        HEAD
        + SOBOL
        + '[parameters]\n"collaboration.peer_learning" = '
        + '{ dist = "triang", params = [0.1, 0.9] }\n',
        "parameters.collaboration.peer_learning",
        "3 params",
    ),
    (
        "sobol-not-power-of-two",
        HEAD + '[design]\nmethod = "sobol"\nn = 100\n' + PARAM,
        "design",
        "power of two",
    ),
    ("fast-too-small", HEAD + '[design]\nmethod = "fast"\nn = 50\n' + PARAM, "design", "4 M^2"),
    (
        "unknown-outcome",
        HEAD + 'outcomes = ["coverage_fnal"]\n' + SOBOL + PARAM,
        "outcomes",
        "did you mean",
    ),
    (
        "unknown-rule",
        f'scenario = "{TEACHING}"\nrules = ["central"]\n' + SOBOL + PARAM,
        "rules",
        "central",
    ),
    (
        "bad-contrast",
        HEAD + 'contrasts = ["grassroots - hybrid"]\n' + SOBOL + PARAM,
        "contrasts",
        "a - b",
    ),
    (
        "value-rejected-by-scenario",
        HEAD + SOBOL + '[parameters]\n"support.catalog_visibility" = { low = 0.5, high = 1.5 }\n',
        "parameters.support.catalog_visibility",
        "scenario rejects",
    ),
    (
        "grid-without-values",
        HEAD + '[design]\nmethod = "grid"\n' + PARAM,
        "parameters.collaboration.peer_learning",
        "values",
    ),
    (
        "values-outside-grid",
        HEAD + SOBOL + '[parameters]\n"collaboration.peer_learning" = { values = [0.1, 0.5] }\n',
        "parameters.collaboration.peer_learning",
        "grid",
    ),
    (
        "model-not-importable",
        'model = "no_such_module:f"\n' + SOBOL + "[parameters]\nx = { low = 0, high = 1 }\n",
        "model",
        "cannot import",
    ),
    (
        "model-bad-ref",
        'model = "nocolon"\n' + SOBOL + "[parameters]\nx = { low = 0, high = 1 }\n",
        "model",
        "module:function",
    ),
    ("neither-scenario-nor-model", SOBOL + PARAM, "", "scenario"),
    (
        "unknown-design-key",
        HEAD + '[design]\nmethod = "sobol"\nn = 16\nreplicate = 2\n' + PARAM,
        "design.replicate",
        'did you mean "replicates"',
    ),
    ("wrong-type", HEAD + '[design]\nmethod = "sobol"\nn = "16"\n' + PARAM, "design.n", "integer"),
    ("missing-scenario-file", 'scenario = "nope.toml"\n' + SOBOL + PARAM, "", "not found"),
]


@pytest.mark.parametrize(
    ("text", "key", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_experiment(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(text)
    with pytest.raises(BadInput) as info:
        load_experiment(path)
    message = str(info.value)
    assert key in message and words in message, message
    assert str(tmp_path) in message  # names the file (the experiment, or the scenario it names)


def test_cli_exit_2_and_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(HEAD + '[design]\nmethod = "sobol"\nn = 100\n' + PARAM)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "power of two" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_model_experiment_needs_no_scenario(tmp_path: Path) -> None:
    (tmp_path / "mymodel.py").write_text(
        "def f(params, seed):\n    return {'y': params['a'] * 2.0, 'z': float(seed % 3)}\n"
    )
    path = tmp_path / "exp.toml"
    path.write_text('model = "mymodel:f"\n' + SOBOL + "[parameters]\na = { low = -1, high = 1 }\n")
    exp = load_experiment(path)
    assert exp.rules == ["model"] and exp.outcomes == ["y", "z"]


def test_shipped_experiments_load() -> None:
    for path in sorted((ROOT / "experiments").glob("*.toml")):
        if path.name.startswith(("calibrate_", "fit_")):  # calibration files:
            # tests/test_calibrate.py and tests/test_observed_fits.py
            continue
        if path.name.startswith("atlas_"):  # atlas files: a prior file, checked by sim atlas
            from sim.experiments.atlas import load_atlas

            load_atlas(path)
            continue
        load_experiment(path)


def test_combination_rejected_by_a_cross_field_rule(tmp_path: Path) -> None:
    """Each extreme alone is valid; some sampled pairs break the Beta-spread rule."""
    path = tmp_path / "exp.toml"
    path.write_text(
        HEAD + SOBOL + "[parameters]\n"
        '"population.capacity_mean" = { low = 0.06, high = 0.94 }\n'
        '"population.capacity_spread" = { low = 0.0, high = 0.45 }\n'
    )
    with pytest.raises(BadInput) as info:
        load_experiment(path)
    message = str(info.value)
    assert "sample point" in message and "population.capacity_spread" in message
    assert str(path) in message

"""One round of validation, messages that point at the right place, help text intact
(issue 24, item 6)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.errors import BadInput

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"
runner = CliRunner()


def flat(text: str) -> str:
    return " ".join(text.split())


def test_an_experiment_with_five_mistakes_is_one_round(tmp_path: Path) -> None:
    from sim.experiments.experiment import load_experiment

    path = tmp_path / "e.toml"
    path.write_text(
        f'scenario = "{TEACHING}"\nrules = ["grasroots", "contractor"]\noutcomes = ["coverge"]\n'
        '[design]\nmethod = "lhs"\nn = 4\nreplicate = 2\n[parameters]\n'
        '"drive.contractor_capacity" = { low = 200, high = 20 }\n'
        '"drive.capcity" = { low = 1, high = 2 }\n'
    )
    with pytest.raises(BadInput) as info:
        load_experiment(path)
    keys = [p.key for p in info.value.problems]
    assert keys == [
        "design.replicate",
        "parameters.drive.contractor_capacity",
        "rules",
        "parameters.drive.capcity",
        "outcomes",
    ], info.value
    assert 'did you mean "grassroots"' in str(info.value)


def test_a_calibration_with_six_mistakes_is_one_round(tmp_path: Path) -> None:
    from sim.calibrate import load_calibration

    path = tmp_path / "c.toml"
    path.write_text(
        f'scenario = "{TEACHING}"\nrules = ["grasroots", "contractor"]\ntargets = "nope.csv"\n'
        "[abc]\npopulation = 2\ngeneration = 3\n[parameters]\n"
        '"drive.capcity" = { low = 1, high = 2 }\n'
        '"drive.contractor_capacity" = { low = 200, high = 20 }\n'
    )
    with pytest.raises(BadInput) as info:
        load_calibration(path)
    keys = {p.key for p in info.value.problems}
    assert {"abc.population", "abc.generation", "parameters.drive.contractor_capacity", "rules",
            "parameters.drive.capcity"} <= keys, info.value  # fmt: skip
    assert "targets file not found" in str(info.value)
    assert "parameters" not in keys  # not "name at least one parameter": one is only set aside


def test_a_single_schema_error_does_not_invent_others(tmp_path: Path) -> None:
    from sim.experiments.experiment import load_experiment

    path = tmp_path / "e.toml"
    path.write_text(
        f'scenario = "{TEACHING}"\n[design]\nmethod = "lhs"\nn = 4\n[parameters]\n'
        '"drive.contractor_capacity" = { low = 200, high = 20 }\n'
    )
    with pytest.raises(BadInput) as info:
        load_experiment(path)
    assert [p.key for p in info.value.problems] == ["parameters.drive.contractor_capacity"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", str(TEACHING), "--rule", "grasroots"], "--rule: unknown rule"),
        (["compare", str(TEACHING), "--rules", "grasroots,contractor"], "--rules"),
    ],
)
def test_did_you_mean_for_rules(args: list[str], words: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    text = flat(result.stderr)
    assert words in text and 'did you mean "grassroots"' in text, text


def _bracketed(text: str | None) -> set[str]:
    return set(re.findall(r"\[[a-z][a-z_ :/.]*\]", (text or "").replace("\\", "")))


def test_help_texts_keep_their_brackets() -> None:
    """Rich markup took [design], [match] and [abc] out of sim validate --help."""
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        words = _bracketed(command.help)
        for param in command.params:
            words |= _bracketed(getattr(param, "help", None))
        words -= {"[default: ]"}
        if not words:
            continue
        result = runner.invoke(app, [name, "--help"], terminal_width=400)
        shown = flat(result.output.replace("│", " "))  # Rich's box, when a line wraps
        missing = [w for w in words if w not in shown]
        assert not missing, (name, missing)


def test_a_csv_named_in_extends_names_the_extending_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(f'extends = "{ROOT / "scenarios" / "data" / "zhejiang_counties.csv"}"\n')
    with pytest.raises(BadInput) as info:
        sim.load_scenario(path)
    (problem,) = info.value.problems
    assert problem.source == str(path) and problem.key == "extends"
    assert "not a scenario file" in problem.message and "population.source" in problem.message


@pytest.mark.parametrize("key", ["population.source", "population.counties"])
def test_a_missing_csv_given_with_set_blames_the_set(key: str) -> None:
    scenario = ROOT / "scenarios" / "zhejiang.toml"
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 0  # the scenario file itself is fine
    result = runner.invoke(app, ["run", str(scenario), "--set", f"{key}=nope.csv"])
    assert result.exit_code == 2
    assert flat(result.stderr).startswith(f"error: --set: {key}: CSV file not found"), result.stderr


MODEL = "def f(params, seed):\n    return {'y': params['x'] * 2}\n"


def test_force_starts_an_unfinished_sweep_over(tmp_path: Path) -> None:
    """The message suggests --force for an unfinished sweep; --force then works."""
    (tmp_path / "lin.py").write_text(MODEL)
    exp = tmp_path / "lin.toml"
    exp.write_text(
        'model = "lin:f"\n[design]\nmethod = "lhs"\nn = 8\nseed = 1\n'
        "[parameters]\nx = { low = 0, high = 1 }\n"
    )
    out = tmp_path / "out"
    args = ["sweep", str(exp), "--out", str(out), "--workers", "1", "--no-analyze"]
    assert runner.invoke(app, args).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "--force" in flat(refused.stderr)
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_a_bad_grid_value_is_shown_as_written(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text(
        f'scenario = "{TEACHING}"\n[design]\nmethod = "grid"\n[parameters]\n'
        '"drive.contractor_capacity" = { values = [-1, 1e300] }\n'
    )
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    text = flat(result.stderr)
    assert "the design samples -1," in text and "np.float64" not in text, text

"""Outputs are safe: never outside the output root, the old output or the complete new one,
--out problems as exit-2 messages, and messages printed as plain text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.outputs import safe_name
from tests.conftest import files

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"
runner = CliRunner()


def short(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(
        f'extends = "{TEACHING}"\nname = {name!r}\n[time]\nyears = 1.0\n'.replace("'", '"')
        if '"' not in name
        else f"extends = \"{TEACHING}\"\nname = '{name}'\n[time]\nyears = 1.0\n"
    )
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x", "x"),
        ("/etc/passwd", "etc-passwd"),
        ("..", "unnamed"),
        ("", "unnamed"),
        ("a/../../b", "a-b"),
        ("C:\\Windows", "C-Windows"),
        ("zhejiang 浙江", "zhejiang-浙江"),
        (".hidden", "hidden"),
        ("x" * 300, "x" * 100),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["../../escape", "/tmp/escape-abs", "a/../../../b", ".."])
def test_a_scenario_name_never_leads_outside_the_output_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    victim = tmp_path / "escape"
    victim.mkdir()
    (victim / "grassroots-seed7").mkdir()
    (victim / "grassroots-seed7" / "provenance.json").write_text("{}")  # would be replaceable
    scenario = short(work, name)
    before = files(tmp_path)
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["run", str(scenario)])
    assert result.exit_code == 0, result.output
    after = files(tmp_path)
    new = {k for k in after if k not in before}
    assert new and all(k.startswith("work/results/") for k in new), new
    assert {k: v for k, v in after.items() if k in before} == before


def test_out_naming_a_file_a_device_or_a_foreign_folder_is_an_exit_2_message(
    tmp_path: Path,
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    cases = [
        (a_file, "is not a folder"),
        (Path(os.devnull), "is not a folder"),
        (foreign, "other files in it"),
        (a_file / "sub", "is a file, so no folder can be made under it"),
    ]
    if Path("/proc/self").exists():  # a folder nobody can create anything in, even root
        cases.append((Path("/proc/sim-out"), "cannot write in /proc"))
    before = files(tmp_path)
    for out, words in cases:
        for command in (["run"], ["compare", "--replicates", "2"]):
            result = runner.invoke(app, [*command, str(TEACHING), "--out", str(out)])
            text = result.stderr + result.output
            assert result.exit_code == 2, (out, text)
            assert words in text and "Traceback" not in text, (out, text)
    assert files(tmp_path) == before


def test_a_failing_command_leaves_the_old_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "cmp"
    args = ["compare", str(TEACHING), "--replicates", "2", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    old = files(out)

    import sim.experiments.compare as compare_module

    def broken_plot(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C after the CSVs were written

    monkeypatch.setattr(compare_module, "plot", broken_plot)
    result = runner.invoke(app, [*args[:3], "3", *args[4:]])
    assert result.exit_code != 0
    assert files(out) == old  # not the new CSVs beside the old figures
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]  # no temporary folder left


def test_a_new_output_replaces_the_old_one_whole(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", str(TEACHING), "--set", "time.years=1", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    (out / "stale.csv").write_text("from an older version")
    assert runner.invoke(app, [*args, "--seed", "3"]).exit_code == 0
    assert not (out / "stale.csv").exists()
    assert '"seed": 3' in (out / "provenance.json").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


# ---- messages are plain text -----------------------------------------------------------------


def flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


def test_brackets_in_names_and_messages_are_printed_as_written(tmp_path: Path) -> None:
    scenario = short(tmp_path, "[/]odd [bold]name")
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 0 and "[/]odd [bold]name" in flat(result.output)
    result = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / "o[x]")])
    assert result.exit_code == 0, result.output
    assert "[/]odd [bold]name" in flat(result.output) and "o[x]/" in result.output
    result = runner.invoke(app, ["run", str(scenario), "--set", "drive.[/]cap[dask]=1"])
    assert result.exit_code == 2
    assert "drive.[/]cap[dask]" in result.stderr and "Traceback" not in result.stderr


def test_an_install_hint_keeps_its_brackets(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.startswith("dask"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    exp = ROOT / "experiments" / "quick.toml"
    result = runner.invoke(
        app, ["sweep", str(exp), "--scheduler", "local", "--out", "/nonexistent/x"]
    )
    assert result.exit_code == 2, result.output
    assert "reform-diffusion-sim[dask]" in result.stderr

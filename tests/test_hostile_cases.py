"""Errors of the machine and the environment (issue 24, item 5): one line, exit status 2,
nothing half-written; output that survives an ASCII terminal and an ASCII file system.

The wider set (signals, full disks, every command) is benchmarks/hostile.py."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.cli.safety import describe_environment_error

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"


def sim_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> tuple[int, str, str]:
    """``sim ARGS`` in this process, through :func:`sim.cli.main` (as the installed command)."""
    monkeypatch.setattr(sys, "argv", ["sim", *args])
    handler = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as stop:
            main()
    finally:
        signal.signal(signal.SIGTERM, handler)
    captured = capsys.readouterr()
    return int(stop.value.code or 0), captured.out, captured.err


def errors(err: str) -> list[str]:
    """The error lines (a first run may also say that it prepares the compiled kernels)."""
    return [line for line in err.splitlines() if line.startswith("error: ")]


def short(tmp_path: Path, name: str = "short") -> Path:
    path = tmp_path / "s.toml"
    path.write_text(f'extends = "{TEACHING}"\nname = "{name}"\n[time]\nyears = 1\n', "utf-8")
    return path


def test_a_path_too_long_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / ("x" * 300)
    code, _, err = sim_main(["run", str(short(tmp_path)), "--out", str(out)], monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err
    (line,) = errors(err)
    assert "File name too long" in line and "ENAMETOOLONG" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


@pytest.mark.parametrize(
    ("number", "words"),
    [(errno.EROFS, "read-only"), (errno.ENOSPC, "free some space"), (errno.EFBIG, "ulimit")],
)
def test_a_failing_write_is_one_line_and_leaves_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    number: int,
    words: str,
) -> None:
    import sim.io

    def failing(path: Path, frame: object) -> None:
        raise OSError(number, os.strerror(number), str(path))

    monkeypatch.setattr(sim.io, "write_csv", failing)
    out = tmp_path / "o"
    code, _, err = sim_main(["run", str(short(tmp_path)), "--out", str(out)], monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err and words in err, err
    assert len(errors(err)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]  # no temporary folder


def test_sqlite_disk_full_is_recognised() -> None:
    exc = sqlite3.OperationalError("database or disk is full")
    assert "disk is full" in (describe_environment_error(exc) or "")
    assert describe_environment_error(ValueError("a bug")) is None  # bugs keep their traceback


def run_sim(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], env=full, capture_output=True, timeout=300, **kwargs
    )


def test_stdout_on_a_full_device(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "sim", "validate", str(short(tmp_path))],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=300,
        )
    err = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in err and "Exception ignored" not in err
    assert "cannot write to the standard output" in err


def test_ascii_terminal_and_ascii_file_system(tmp_path: Path) -> None:
    """A '·' in a title and a Chinese name on an ASCII stdout; a non-ASCII --out under an
    ASCII file-system encoding (C locale, no coercion): written as the bytes given."""
    scenario = short(tmp_path, "t·浙江")
    env = {"PYTHONIOENCODING": "ascii", "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0",
           "PYTHONUTF8": "0"}  # fmt: skip
    out = tmp_path / "浙江"
    done = run_sim(["run", str(scenario), "--out", str(out)], env)
    err = done.stderr.decode()
    assert done.returncode == 0 and "Traceback" not in err, err
    assert b"rule grassroots" in done.stdout
    assert (out / "outcomes.json").is_file()
    assert "浙江" in (out / "provenance.json").read_text(encoding="utf-8")


def test_the_doc_quotes_the_hostile_case_count() -> None:
    """docs/bad-input.md quotes what benchmarks/hostile.py --write-doc wrote: as many cases
    as its list holds, and a handled count out of all of them."""
    import importlib.util
    import re

    spec = importlib.util.spec_from_file_location("hostile", ROOT / "benchmarks" / "hostile.py")
    assert spec is not None and spec.loader is not None
    hostile = importlib.util.module_from_spec(spec)
    sys.modules["hostile"] = hostile  # its dataclass looks itself up there
    try:
        spec.loader.exec_module(hostile)
    finally:
        del sys.modules["hostile"]
    doc = (ROOT / "docs" / "bad-input.md").read_text(encoding="utf-8")
    cases = re.search(r"keeps \*\*(\d+) hostile cases\*\* over (\d+) surfaces", doc)
    handled = re.search(r"\*\*(\d+) of (\d+)\*\* were handled", doc)
    assert cases and handled, "run python benchmarks/hostile.py --write-doc"
    assert int(cases[1]) == len(hostile.CASES) == int(handled[2])
    assert int(cases[2]) == len({c.surface for c in hostile.CASES})
    assert int(handled[1]) <= int(handled[2])


@pytest.mark.parametrize("raiser", ["typer", "click"])
def test_an_interrupt_outside_a_command_is_one_line(
    raiser: str, capsys: pytest.CaptureFixture
) -> None:
    """``sim viz`` stopped with Ctrl-C raised the command line's Abort past it: typer's own
    (typer 0.16+ has no click), or click's from the browser app's server (solara)."""
    import importlib

    from sim.cli.safety import guarded

    abort = importlib.import_module(raiser).Abort

    def stopped() -> None:
        raise abort

    with pytest.raises(SystemExit) as stop:
        guarded(stopped)
    assert stop.value.code == 130 and capsys.readouterr().err == "error: interrupted\n"


def test_viz_refuses_an_unknown_host_or_a_port_in_use() -> None:
    import socket

    from sim.cli.safety import check_listen
    from sim.errors import BadInput

    with pytest.raises(BadInput, match="--host"):
        check_listen("no.such.host.invalid", 8765)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(BadInput, match="in use"):
            check_listen("127.0.0.1", port)
    check_listen("127.0.0.1", 0)

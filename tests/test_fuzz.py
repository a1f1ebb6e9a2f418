"""Fuzz: scenario, data and experiment files with hostile values, through the command line.

Hypothesis writes scenario files (non-finite, huge, negative and wrongly typed values, odd
strings, unknown keys, broken ``extends``), population and provinces CSVs (ragged rows,
junk cells, non-finite figures, bytes that are not UTF-8) and experiment files (hostile
designs and bounds), and runs ``sim validate`` / ``sim run`` / ``sim sweep`` on them. Every
outcome must be exit status 0 or 2 — never a traceback — and nothing may be written outside
the given ``--out``.

A few dozen examples run in the suite, derandomized so that CI is reproducible; the longer,
random run is ``python benchmarks/fuzz.py`` (``SIM_FUZZ_EXAMPLES``, ``SIM_FUZZ_RANDOM``).
Valid sizes are kept small (a run of the teaching province, a few sample points), and the
memory limit low, so that what passes validation runs in milliseconds: hostile *sizes* are
the memory checks' business (tests/test_sizes.py).
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.cli import app
from sim.params import SECTIONS, parameter_keys

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"
EXAMPLES = int(os.environ.get("SIM_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("SIM_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ENV = {"SIM_MAX_MEMORY": "256M", "COLUMNS": "200"}
runner = CliRunner()

# ---- TOML text of any value (including what TOML itself cannot say) --------------------------


def toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{string(k)} = {toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def string(text: str) -> str:
    """A TOML basic string: control characters escaped, everything else as it is."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def document(top: dict[str, Any], tables: dict[str, dict[str, Any]]) -> str:
    lines = [f"{string(k)} = {toml(v)}" for k, v in top.items()]
    for table, body in tables.items():
        lines.append(f"[{string(table) if not table.isidentifier() else table}]")
        lines += [f"{string(k)} = {toml(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


# ---- hostile values ------------------------------------------------------------------------------

ODD_STRINGS = ["", "[/]", "[bold]x[/bold]", "../../x", "/etc/passwd", "..", "a\nb", "\u202e",
               "🙂", "C:\\x", "small_world", "complete", "hierarchy", "grassroots", "mixed",
               "contractor", "x" * 300, "synthetic", "nul\u0000byte"]  # fmt: skip
FLOATS = st.one_of(
    st.sampled_from(
        [math.nan, math.inf, -math.inf, 1e308, -1e308, 0.0, -0.0, -1.0, 5e-324, 1e30, 0.5, 1.0, 2.0]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
)
INTS = st.one_of(
    st.sampled_from([0, -1, 1, 2, 3, 2**63, -(2**63), 10**30]), st.integers(-(10**4), 10**4)
)
STRINGS = st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=12))
SCALARS = st.one_of(FLOATS, INTS, STRINGS, st.booleans())
HOSTILE = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["low", "high", "a"]), SCALARS, max_size=2),
)
# keys that set how much work a run is: hostile (invalid) values, or small valid ones
SIZES: dict[str, tuple[list[Any], st.SearchStrategy]] = {
    "time.years": ([0.0, -1.0, 1e308, math.inf, "10", 201.0, True], st.floats(0.05, 2.0)),
    "time.steps_per_year": ([0, -12, 366, 10**30, 1.5, "12"], st.integers(1, 24)),
    "population.n_agents": ([0, 1, -5, 100_001, 2**63, 2.5, "60"], st.integers(2, 80)),
    "population.n_regions": ([0, -1, 10_001, 1.0], st.integers(1, 12)),
    "services.count": ([0, -3, 1001, 2**70, "8"], st.integers(1, 10)),
    "population.mean_degree": ([0, 3, -2, 10**9], st.integers(2, 8)),
}
RARELY = st.sampled_from([False, False, False, True])  # (not integers == 0: Hypothesis
#                                                          favours the ends of ranges)
KEYS = [k for k in parameter_keys() if "." in k]


def bounds(key: str) -> tuple[float, float]:
    table, _, name = key.partition(".")
    lo, hi = -math.inf, math.inf
    for m in SECTIONS[table].model_fields[name].metadata:
        lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
        lo = getattr(m, "gt", None) if getattr(m, "gt", None) is not None else lo
        hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
    return lo, hi


def plausible(key: str) -> st.SearchStrategy:
    """A value of the right type inside (or at the edge of) the key's range."""
    if key in SIZES:
        return SIZES[key][1]
    table, _, name = key.partition(".")
    ann = SECTIONS[table].model_fields[name].annotation
    lo, hi = bounds(key)
    lo = 0.0 if lo == -math.inf else lo
    if ann is float:
        return st.one_of(st.sampled_from([lo, min(hi, lo + 1.0), hi]),
                         st.floats(lo, min(hi, lo + 2.0)))  # fmt: skip
    if ann is int:
        return st.integers(int(lo), int(min(hi, lo + 10)))
    if ann is str:
        return st.sampled_from(["synthetic", ""])
    choices = getattr(ann, "__args__", ())
    if choices and all(isinstance(c, str) for c in choices):
        return st.sampled_from(choices)
    return st.just({})


def value_for(key: str, hostile: bool) -> st.SearchStrategy:
    if not hostile:
        return plausible(key)
    if key in SIZES:
        return st.sampled_from(SIZES[key][0])
    return st.one_of(FLOATS, HOSTILE)


@st.composite
def csv_text(draw, header: list[str]) -> bytes:
    cells = st.one_of(
        st.sampled_from(
            [
                "",
                "inf",
                "-inf",
                "nan",
                "1e308",
                "-1",
                "0",
                "999",
                "1.5",
                "x",
                '"a, b"',
                "#",
                "Alpha",
                "Beta",
                "2",
                "1000000",
                "30",
                "120",
            ]
        ),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    )
    head = draw(st.one_of(st.just(header), st.permutations(header), st.lists(
        st.sampled_from([*header, "name", ""]), max_size=len(header) + 1)))  # fmt: skip
    rows = draw(st.lists(st.lists(cells, min_size=max(0, len(head) - 1), max_size=len(head) + 1),
                         max_size=5))  # fmt: skip
    text = "\n".join(",".join(r) for r in [head, *rows]) + "\n"
    junk = draw(st.sampled_from([b"", b"", b"", b"\xff\xfe\x00bad", b"# comment\n"]))
    return text.encode("utf-8", "surrogatepass") + junk


PREFECTURES = ["name", "local_governments", "population", "gdp_100m_yuan", "lat", "lon"]
PROVINCES = ["name", "prefectures", "local_governments", "population_2020", "gdp_per_capita_yuan"]


@st.composite
def scenario_files(draw) -> tuple[str, dict[str, bytes]]:
    """(scenario TOML text, data files by name)."""
    files: dict[str, bytes] = {}
    top: dict[str, Any] = {}
    kind = draw(st.sampled_from(["teaching"] * 6 + ["none", "missing", "self"]))
    top["extends"] = {"teaching": str(TEACHING), "none": None, "missing": "nowhere.toml",
                      "self": "s.toml"}[kind]  # fmt: skip
    if top["extends"] is None:
        del top["extends"]
    for key in ("name", "rule", "seed", "description"):
        if draw(RARELY):
            top[key] = draw(HOSTILE)
    tables: dict[str, dict[str, Any]] = {}
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=6, unique=True)):
        table, _, name = key.partition(".")
        if key in ("population.source", "national.source", "national.rules"):
            continue  # data files are drawn below
        hostile = draw(RARELY)
        tables.setdefault(table, {})[name] = draw(value_for(key, hostile))
    if draw(RARELY):  # an unknown key or table
        tables.setdefault(draw(st.sampled_from(["drive", "nope", "[/]"])), {})[
            draw(STRINGS) or "k"
        ] = draw(SCALARS)
    source = draw(st.sampled_from(["none"] * 4 + ["prefectures", "provinces"]))
    if source == "prefectures":
        files["p.csv"] = draw(csv_text(PREFECTURES))
        tables.setdefault("population", {})["source"] = "p.csv"
    elif source == "provinces":
        files["n.csv"] = draw(csv_text(PROVINCES))
        tables.setdefault("national", {})["source"] = "n.csv"
    text = document(top, tables)
    if draw(RARELY) and draw(RARELY):  # broken TOML
        text = text[: draw(st.integers(0, len(text)))] + draw(st.sampled_from(["[", "= =", '"\n']))
    return text, files


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def check(result: Any, what: str, allowed: tuple[int, ...] = (0, 2)) -> None:
    event(f"{what}: exit {result.exit_code}")
    if result.exit_code == 2 and what in ("validate", "sweep"):
        event(" ".join(result.stderr.split(":")[2:3])[:50])
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code in allowed, (result.exit_code, text, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), text
    assert "Traceback" not in text, text


def files_only_in(work: Path, before: set[str], out: str) -> None:
    new = listing(work) - before
    stray = {p for p in new if p != out and not p.startswith(out + os.sep)}
    assert not stray, stray


@FUZZ
@given(case=scenario_files())
def test_hostile_scenario_files(case: tuple[str, dict[str, bytes]]) -> None:
    text, data = case
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "s.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
        for name, content in data.items():
            (work / name).write_bytes(content)
        before = listing(work)
        cwd = os.getcwd()
        os.chdir(work)  # the default output root (results/) is relative to it
        try:
            check(runner.invoke(app, ["validate", "s.toml"], env=ENV), "validate")
            check(runner.invoke(app, ["run", "s.toml", "--out", "out"], env=ENV), "run")
        finally:
            os.chdir(cwd)
        files_only_in(work, before, "out")


# ---- experiments ---------------------------------------------------------------------------------

FLOAT_KEYS = [k for k in KEYS if SECTIONS[k.partition(".")[0]].model_fields[
    k.partition(".")[2]].annotation is float and k not in SIZES]  # fmt: skip


@st.composite
def experiment_files(draw) -> str:
    top: dict[str, Any] = {"scenario": "short.toml"}
    if draw(st.booleans()):
        top["rules"] = draw(st.lists(st.sampled_from(["grassroots", "contractor", "hybrid"]),
                                     min_size=1, max_size=2, unique=True))  # fmt: skip
        if draw(RARELY):
            top["rules"] = draw(st.lists(HOSTILE, max_size=2))
    if draw(st.booleans()):
        top["outcomes"] = ["coverage_final"]
        if draw(RARELY):
            top["outcomes"] = draw(st.lists(STRINGS, max_size=2))
    method = draw(st.sampled_from(["sobol", "morris", "lhs", "grid", "fast"]))
    if draw(RARELY):
        method = draw(st.sampled_from(["halton", 3, "", "SOBOL"]))
    design: dict[str, Any] = {"method": method}
    valid_n = {"sobol": [4, 8], "fast": [65], "morris": [4], "lhs": [2, 8], "grid": [4]}
    design["n"] = draw(st.sampled_from(valid_n.get(method, [4])))
    if draw(RARELY):
        design["n"] = draw(st.sampled_from([0, -4, 3, 2**40, 2**62, 1.5, "8", math.inf]))
    design["replicates"] = draw(st.sampled_from([1, 2]))
    if draw(RARELY):
        design["replicates"] = draw(st.sampled_from([0, -1, 10**9, 10_001, "2", 2.0]))
    if draw(RARELY):
        knob = draw(st.sampled_from(
            ["seed", "num_levels", "M", "second_order", "optimal_trajectories", "bogus"]
        ))  # fmt: skip
        design[knob] = draw(SCALARS)
    params: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(FLOAT_KEYS), min_size=1, max_size=3, unique=True)):
        form = "values" if method == "grid" else "bounds"
        if draw(RARELY):
            form = draw(st.sampled_from(["bounds", "dist", "values", "junk"]))
        if form == "bounds":
            spec = {"low": 0.1, "high": 0.9}
            if draw(RARELY):
                spec = {"low": draw(FLOATS), "high": draw(FLOATS)}
        elif form == "dist":
            spec = {"dist": draw(st.sampled_from(["unif", "triang", "norm", "lognorm", "beta"])),
                    "params": draw(st.lists(FLOATS, max_size=4))}  # fmt: skip
        elif form == "values":
            spec = {"values": draw(st.lists(st.floats(0, 1), min_size=1, max_size=3))}
            if draw(RARELY):
                spec = {"values": draw(st.lists(SCALARS, max_size=3))}
        else:
            spec = draw(HOSTILE)
        if isinstance(spec, dict) and draw(RARELY):
            spec["group"] = draw(st.sampled_from(["g", "h", key]))
        params[key] = spec
    tables: dict[str, Any] = {"design": design, "parameters": params}
    if draw(RARELY):  # equal-outcome matching at every point (a few runs more per point)
        match = {"outcome": "coverage_final", "by": "drive.contractor_capacity"}
        if draw(RARELY):
            knob = draw(st.sampled_from(["outcome", "by", "rule", "bogus"]))
            match[knob] = draw(st.one_of(SCALARS, st.sampled_from(FLOAT_KEYS)))
        tables["match"] = match
    return document(top, tables)


@FUZZ
@given(text=experiment_files())
def test_hostile_experiment_files(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "short.toml").write_text(f'extends = "{TEACHING}"\n[time]\nyears = 0.5\n')
        (work / "e.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
        before = listing(work)
        analyze = "--analyze" if os.environ.get("SIM_FUZZ_ANALYZE") == "1" else "--no-analyze"
        args = ["sweep", str(work / "e.toml"), "--out", str(work / "out"), "--workers", "1",
                analyze]  # fmt: skip
        check(runner.invoke(app, args, env=ENV), "sweep")
        files_only_in(work, before, "out")

"""Sizes estimated before anything is allocated: refuse what would not fit, with the estimate.

A run keeps several arrays of one entry per (government, service) pair, a record per
step, and the network's links; a comparison keeps many runs at once; a sweep keeps a
chunk of runs per worker; an animation keeps every frame. Each command estimates the
peak memory of what it is about to do from the scenario's sizes alone (nothing is built)
and refuses, with exit status 2 and the estimate, what exceeds the memory limit:

* by default the memory available on this machine when the command starts
  (:func:`psutil.virtual_memory`, ``available``: free memory plus reclaimable caches);
* ``--max-memory SIZE`` on the command, or the environment variable ``SIM_MAX_MEMORY``,
  sets the limit instead (``8G``, ``512M``, ``2.5GB``, bytes as a number; ``0`` turns the
  check off), e.g. on a machine with swap, or to keep a shared machine responsive.

The per-pair, per-step and per-link byte counts below follow the engine's arrays
(:mod:`sim.core.arrays`, :mod:`sim.core.batch`); ``tests/test_sizes.py`` checks the
estimate against the memory a run really takes, so the two cannot drift apart unnoticed.
Other fixed limits (at most :data:`MAX_GOVERNMENTS` governments in a province, 1,000
services, 200 years) are parameter ranges (``sim params``) and CSV checks.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import BadInput

ENV = "SIM_MAX_MEMORY"
"""Environment variable with the memory limit (what ``--max-memory`` sets)."""

MAX_GOVERNMENTS = 100_000
"""Most local governments of one province (the range of ``population.n_agents``); a
population CSV may not list more, and a provinces CSV not more in one province."""
MAX_CSV_ROWS = 100_000
"""Most data rows of a population or provinces CSV (every row has at least one government)."""
MAX_PROVINCES = 1_000
"""Most provinces of a national scenario: the provinces of a run are coupled pairwise every
step, so its time grows with the square of their number (2,000 provinces: 12 s for one
simulated year; 6,000: 90 s)."""
MAX_CSV_BYTES = 64 * 2**20
"""Largest data CSV read (64 MiB; the largest CSV the row limit allows is far smaller)."""

# Bytes per (government, service) pair of one run, by owner (see sim.core.arrays):
SETUP_PER_PAIR = 40  # a built run's constants: weight, clock, find and quality draws (+ temp)
BATCH_PER_PAIR = 132  # stacked constants (32), state (53; +12 with drive.deployment_time),
#                      solution table (32) in a batch
SCRATCH_PER_PAIR = 64  # the compiled step loop's work arrays, once per batch
NATIONAL_PER_PAIR = 40  # national runs: imported solutions (a second solution table)
PER_STEP = 8 * 17  # the recorded series (15 columns), the outage draws; per step per run
PER_LINK = 48  # a network link: CSR copies (32) and building it (sparse products)
PER_GOVERNMENT = 400  # per-government arrays, agents table
PER_RUN = 64 * 1024  # fixed per-run overhead (Python objects, small arrays)
FIGURE_BYTES_PER_PIXEL = 4  # RGBA
MAX_PIXELS_PER_SIDE = 2**16 - 1  # matplotlib's Agg renderer refuses larger images


def parse_size(text: str) -> int:
    """``"8G"``, ``"512M"``, ``"2.5GB"``, ``"1e9"``, ``"0"`` -> bytes (binary units)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGtT]?)(i?[bB])?\s*", text)
    if not m:
        raise ValueError(f"not a size: {text!r} (expected e.g. 8G, 512M, 2.5GB or bytes)")
    value = float(m.group(1)) * 1024 ** " KMGT".index(m.group(2).upper() or " ")
    if not math.isfinite(value):
        raise ValueError(f"not a size: {text!r}")
    return int(value)


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def available_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def set_memory_limit(text: str | None) -> None:
    """Use ``text`` (``--max-memory``) as the limit in this process and in its workers.
    Raises :class:`BadInput` for a value that is not a size."""
    if text is None:
        return
    try:
        parse_size(text)
    except ValueError as exc:
        raise BadInput.one("--max-memory", text, str(exc)) from None
    os.environ[ENV] = text


def memory_limit() -> tuple[int | None, str]:
    """(limit in bytes or None for no limit, how to raise it / where it came from)."""
    text = os.environ.get(ENV)
    if text:
        try:
            value = parse_size(text)
        except ValueError as exc:
            raise BadInput.one(ENV, text, str(exc)) from None
        return (value or None), f"the limit set by --max-memory / {ENV}"
    return available_memory(), "the memory available on this machine"


@dataclass(frozen=True)
class Estimate:
    """Peak memory of something about to be done, and the sizes it follows from."""

    what: str
    bytes: int
    detail: str

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.what, self.bytes + other.bytes, f"{self.detail}; {other.detail}")


def check(estimate: Estimate, source: str, key: str) -> None:
    """Raise :class:`BadInput` (naming ``source`` and ``key``) if ``estimate`` exceeds the
    memory limit."""
    limit, where = memory_limit()
    if limit is None or estimate.bytes <= limit:
        return
    raise BadInput.one(
        source,
        key,
        f"{estimate.what} needs about {format_bytes(estimate.bytes)} of memory "
        f"({estimate.detail}), more than {where} ({format_bytes(limit)}); make it smaller, "
        f"or raise the limit with --max-memory SIZE (or {ENV}) if you know it fits",
    )


# ---- sizes of a scenario -------------------------------------------------------------------


@dataclass(frozen=True)
class RunSize:
    """The sizes of one run (a national run: of its largest province, times ``provinces``)."""

    governments: int  # the largest province's (what a batch pads to)
    total_governments: int
    services: int
    steps: int
    links: int  # network links (directed), all provinces
    provinces: int = 1

    @property
    def dense_bytes(self) -> int:
        """Hierarchies up to a thousand governments are built from a dense mask (a boolean
        and a float copy, while building): see :mod:`sim.world.network`."""
        n = self.governments
        if self.links == 0 or n > 1000:
            return 0
        return self.provinces * 9 * n * n

    @property
    def pairs(self) -> int:
        return self.governments * self.services * self.provinces

    def describe(self) -> str:
        where = f" in {self.provinces} provinces" if self.provinces > 1 else ""
        return (
            f"{self.total_governments:,} governments{where} x {self.services:,} services x "
            f"{self.steps:,} steps, {self.links:,} network links"
        )


def region_links(sizes: Iterable[int], network: str, mean_degree: int) -> int:
    """Directed links of one province's network with prefectures of the given sizes."""
    sizes = [int(s) for s in sizes if s > 0]
    n = sum(sizes)
    if network == "complete":
        return 0  # never stored
    if network == "small_world":
        return n * min(mean_degree, max(n - 1, 0))
    seats = len(sizes)
    return sum(s * (s - 1) for s in sizes) + seats * (seats - 1)


def _split(n: int, regions: int) -> list[int]:
    """Prefecture sizes of ``n`` governments in ``regions`` near-equal prefectures (as the
    synthetic population and the provinces of a national scenario split them)."""
    regions = max(1, min(regions, n))
    edges = [round(n * r / regions) for r in range(regions + 1)]
    return [b - a for a, b in itertools.pairwise(edges)]


def run_size(scenario: Any, **values: Any) -> RunSize:
    """The sizes of a run of ``scenario`` (a :class:`~sim.params.Scenario`), with dotted keys
    in ``values`` replacing the scenario's (a sweep's largest design values)."""

    def get(key: str) -> Any:
        if key in values:
            return values[key]
        table, _, name = key.partition(".")
        return getattr(getattr(scenario, table), name)

    years, per_year = float(get("time.years")), int(get("time.steps_per_year"))
    steps = math.floor(years * per_year + 1e-9)
    k = int(get("services.count"))
    network, degree = str(get("population.network")), int(get("population.mean_degree"))
    if scenario.provinces is not None:
        frame = scenario.provinces.frame
        units = [int(u) for u in frame["local_governments"]]
        regions = [int(r) for r in frame["prefectures"]]
        links = sum(
            region_links(_split(n, r), network, degree) for n, r in zip(units, regions, strict=True)
        )
        return RunSize(max(units), sum(units), k, steps, links, provinces=len(units))
    if scenario.prefectures is not None:
        sizes = [int(u) for u in scenario.prefectures.frame["local_governments"]]
    else:
        sizes = _split(int(get("population.n_agents")), int(get("population.n_regions")))
    n = sum(sizes)
    return RunSize(n, n, k, steps, region_links(sizes, network, degree))


def runs_bytes(size: RunSize, *, built: int, batched: int, history: bool = False) -> int:
    """Peak bytes of ``built`` runs of one size alive at once, ``batched`` of them stepped
    together in one batch (national runs: every province is one run of the batch)."""
    per_pair = BATCH_PER_PAIR + (NATIONAL_PER_PAIR if size.provinces > 1 else 0)
    pair_bytes = size.pairs * (built * SETUP_PER_PAIR + batched * per_pair + SCRATCH_PER_PAIR)
    series = (built + batched) * size.provinces * (size.steps + 1) * PER_STEP
    if size.provinces > 1:  # the national catalogue: imports per service and step
        series += batched * size.provinces * size.services * (size.steps + 1) * 32
    if history:
        series += batched * size.provinces * (size.steps + 1) * size.governments * 8
    links = built * (size.links * PER_LINK + size.dense_bytes)
    govs = built * size.total_governments * PER_GOVERNMENT
    return int(pair_bytes + series + links + govs + built * PER_RUN)


def run_estimate(scenario: Any, *, runs: int = 1, history: bool = False) -> Estimate:
    """One run (``runs`` runs stepped alone one after another keep one alive)."""
    size = run_size(scenario)
    return Estimate(
        "this run", runs_bytes(size, built=1, batched=1, history=history), size.describe()
    )


def compare_estimate(scenario: Any, *, rules: int, replicates: int, block: int) -> Estimate:
    """``sim compare``: ``block`` replicates of every rule built and run as one batch; the
    recorded curves of every replicate kept for the figures."""
    size = run_size(scenario)
    at_once = (1 if size.provinces > 1 else min(replicates, block)) * rules
    peak = runs_bytes(size, built=at_once, batched=min(at_once, 256))
    kept = replicates * rules * (size.steps + 1) * 8 * 6 + replicates * rules * 1024
    return Estimate(
        f"comparing {rules} rules on {replicates:,} replicates",
        peak + kept,
        f"{size.describe()}; {at_once:,} runs at once",
    )


def animation_estimate(
    width_in: float, height_in: float, dpi: int, frames: int
) -> tuple[Estimate, str | None]:
    """An animation's frames kept in memory (GIF) or streamed (one frame); and a problem
    with the image size itself, if any (Agg draws at most 65,535 pixels a side)."""
    w, h = math.ceil(width_in * dpi), math.ceil(height_in * dpi)
    problem = None
    if max(w, h) > MAX_PIXELS_PER_SIDE:
        problem = (
            f"a frame of {w:,} x {h:,} pixels is larger than matplotlib draws "
            f"({MAX_PIXELS_PER_SIDE:,} a side); lower --dpi to at most "
            f"{int(MAX_PIXELS_PER_SIDE / max(width_in, height_in))}"
        )
    total = (frames + 3) * w * h * FIGURE_BYTES_PER_PIXEL
    return Estimate(
        "the animation", total, f"{frames:,} frames of {w:,} x {h:,} pixels at dpi {dpi}"
    ), problem


def check_animation(scenario: Any, *, rules: int, frames: int, dpi: int) -> None:
    """Raise :class:`BadInput` (naming ``--dpi``) for an animation whose frames matplotlib
    cannot draw, or whose frames kept in memory (``frames``: all of a GIF's) and runs (with
    their per-step history) exceed the memory limit. The frame sizes are those of
    :mod:`sim.interactive.animate`'s layouts: one rule, or the rules side by side."""
    inches = (12.8, 7.2) if rules == 1 else (13.5, 8.6)
    estimate, too_large = animation_estimate(*inches, dpi, frames)
    if too_large:
        raise BadInput.one("--dpi", str(dpi), too_large)
    runs = run_estimate(scenario, history=True)
    check(estimate + Estimate("", runs.bytes * rules, runs.detail), "--dpi", "")


def design_estimate(points: int, dims: int, *, strings: bool = False) -> Estimate:
    """A design matrix and the sampler's work arrays (about three copies), or for a grid
    the list of tuples it is built from."""
    per_value = 80 if strings else 24
    total = points * (dims * per_value + 120)
    return Estimate("the design", total, f"{points:,} sample points x {dims} parameter(s)")


def sweep_estimate(
    size: RunSize, *, runs_per_point: int, workers: int, points: int, dims: int
) -> Estimate:
    """A sweep: each worker builds a chunk of runs (at least one point's replicates and
    rules, about 128 runs) and steps them in batches of up to 256 runs; the main process
    keeps the design."""
    chunk = min(max(runs_per_point, 128), points * runs_per_point)
    workers = max(1, min(workers, points))
    per_worker = runs_bytes(size, built=chunk, batched=min(chunk, 256))
    design = design_estimate(points, dims)
    return Estimate(
        f"the sweep ({workers} worker{'s' if workers > 1 else ''})",
        workers * per_worker + design.bytes,
        f"{size.describe()}; {chunk:,} runs per worker at once; {design.detail}",
    )


def largest_values(names: Sequence[str], columns: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """For the parameters that set a run's size, the design value that makes runs largest
    (most governments, services, steps and links; fewest prefectures)."""
    grow = {
        "population.n_agents",
        "services.count",
        "time.years",
        "time.steps_per_year",
        "population.mean_degree",
    }
    out: dict[str, Any] = {}
    for name, column in zip(names, columns, strict=True):
        numbers = [v for v in column if isinstance(v, int | float) and not isinstance(v, bool)]
        if name in grow and numbers:
            out[name] = math.floor(max(numbers) + 0.5) if name != "time.years" else max(numbers)
        elif name == "population.n_regions" and numbers:
            out[name] = max(1, math.floor(min(numbers) + 0.5))
        elif name == "population.network":
            kinds = set(column)
            out[name] = next((k for k in ("hierarchy", "small_world") if k in kinds), "complete")
    return out

"""The observed data of a calibration (targets CSV) and the summary statistics of a run.

A targets CSV has the columns ``statistic,year,value`` and an optional ``sd`` (``#``
comments allowed, e.g. a header naming the sources)::

    # share of (county, service) pairs served, from the provincial catalogue
    statistic,year,value,sd
    coverage,2,0.31,0.05
    coverage,4,0.72,0.05
    outcome:duplicate_developments,,140,30

``statistic`` is a time-series column of ``timeseries.csv`` (``coverage``,
``coverage_weighted``, ``developments``, ...), read at ``year`` by linear interpolation
between the steps that bracket it, or ``outcome:NAME`` for a scalar outcome of
``outcomes.json`` (``year`` left empty), or a derived statistic that tells the rules apart
(:data:`sim.calibrate.statistics.DERIVED`: source shares at a year, the first platform
deployment, gradients across governments). Years are model years (0 = the start of the run),
or calendar years when the calibration file sets ``start_year``.

Province-level statistics of a national run (``provinces_started`` at a year,
``rank_rho:NAME`` against a published ranking) are defined in :mod:`.observed`.

The summary statistics of a run are exactly these numbers, keyed ``"coverage@2"`` /
``"outcome:duplicate_developments"``; the distance compares them with the observed values.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import BadInput, Problem, did_you_mean
from ..outcomes import COLUMNS, OUTCOMES
from . import observed
from .statistics import DERIVED, RunData

SERIES: tuple[str, ...] = tuple(c for c in COLUMNS if c not in ("step", "year"))
"""Time-series columns a target can name (``step`` and ``year`` are the clock)."""
OUTCOME_PREFIX = "outcome:"
REQUIRED = ("statistic", "year", "value")
MIN_RELATIVE_SD = 1e-9
"""The smallest sd, relative to max(1, |value|): a smaller one carries no meaning (no
observation is that precise) and makes the squared weighted distance overflow."""


@dataclass(frozen=True)
class Target:
    """One observed number: a statistic (at a year, for a time series), its value and sd."""

    statistic: str
    year: float | None  # as written in the file (calendar year when start_year is set)
    model_year: float | None  # years since the start of the run
    value: float
    sd: float | None = None

    @property
    def key(self) -> str:
        """The summary statistic's name: ``coverage@2.5`` or ``outcome:total_cost``."""
        return self.statistic if self.year is None else f"{self.statistic}@{self.year:g}"

    @property
    def is_outcome(self) -> bool:
        return self.statistic.startswith(OUTCOME_PREFIX)

    @property
    def derived(self) -> bool:
        """A statistic of :data:`~sim.calibrate.statistics.DERIVED`."""
        return self.statistic in DERIVED

    @property
    def is_observed(self) -> bool:
        """A province-level statistic of :mod:`.observed` (needs the whole run)."""
        return observed.is_observed(self.statistic)

    @property
    def column(self) -> str:
        """The time-series column or outcome name this target reads."""
        return self.statistic.removeprefix(OUTCOME_PREFIX)

    def as_row(self) -> dict[str, object]:
        return {"statistic": self.statistic, "year": self.year, "value": self.value,
                "sd": self.sd, "model_year": self.model_year}  # fmt: skip


@dataclass(frozen=True)
class Targets:
    """The validated targets of one file, in file order."""

    path: str
    items: tuple[Target, ...]
    rankings: Mapping[str, pd.Series] | None = None  # published rankings (rank_rho:NAME)

    def __iter__(self) -> Iterator[Target]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def keys(self) -> list[str]:
        return [t.key for t in self.items]

    @property
    def observed(self) -> dict[str, float]:
        """The observed summary statistics (pyabc's ``x_0``)."""
        return {t.key: t.value for t in self.items}

    @property
    def sd_weights(self) -> dict[str, float] | None:
        """1 / sd per statistic when the file gives sd (a fixed, weighted Euclidean distance:
        each difference in units of its standard deviation), else None (adaptive)."""
        if any(t.sd is None for t in self.items):
            return None
        return {t.key: 1.0 / t.sd for t in self.items}  # type: ignore[operator]

    @property
    def needs_timeseries(self) -> bool:
        return any(not t.is_outcome for t in self.items)

    @property
    def needs_outcomes(self) -> bool:
        return any(t.is_outcome for t in self.items)

    @property
    def needs_run(self) -> bool:
        """Whether a derived statistic reads the end state per government."""
        return any(t.derived and DERIVED[t.statistic].per_government for t in self.items)

    @property
    def needs_result(self) -> bool:
        """Whether a province-level statistic of :mod:`.observed` needs the whole run (its
        provinces: national scenarios)."""
        return any(t.is_observed for t in self.items)

    @property
    def series_columns(self) -> list[str]:
        return list(
            dict.fromkeys(
                t.column for t in self.items if not (t.is_outcome or t.derived or t.is_observed)
            )
        )

    def summarize(
        self,
        timeseries: Mapping[str, np.ndarray] | pd.DataFrame | None,
        outcomes: Mapping | None,
        run: RunData | None = None,
        result: object | None = None,
    ) -> dict[str, float]:
        """The summary statistics of one run: each target read from its time series
        (linear interpolation at the model year), its outcomes, (derived statistics)
        ``run``, or (province-level statistics of a national run) ``result``, the whole
        ``RunResult``."""
        out: dict[str, float] = {}
        years = None if timeseries is None else np.asarray(timeseries["year"], dtype=float)
        for t in self.items:
            if t.is_observed:
                out[t.key] = observed.statistic(t, result, self.rankings or {})
            elif t.is_outcome:
                out[t.key] = float(outcomes[t.column])  # type: ignore[index]
            elif t.derived:
                out[t.key] = DERIVED[t.statistic].compute(run, t.model_year)  # type: ignore[arg-type]
            else:
                values = np.asarray(timeseries[t.column], dtype=float)  # type: ignore[index]
                out[t.key] = float(np.interp(t.model_year, years, values))
        return out


def read_targets(
    path: str | Path, *, named_by: str, horizon: float, start_year: float = 0.0
) -> Targets:
    """Read and check a targets CSV; every problem is reported together, each naming the
    file, the data row and the column."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise BadInput.one(where, "", f"targets file not found (named by {named_by})")
    from ..world.tables import scan_csv

    text, problems = scan_csv(where, named_by, "targets")  # a row with extra fields, ...
    if problems:
        raise BadInput(problems)
    try:
        frame = pd.read_csv(
            io.StringIO(text), comment="#", skipinitialspace=True, dtype=str,
            keep_default_na=False, index_col=False,
        )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BadInput.one(where, "", f"not a readable CSV: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    problems: list[Problem] = []
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        problems.append(Problem(where, "", f"missing column(s) {', '.join(missing)}; "
                                "expected statistic,year,value and optionally sd"))  # fmt: skip
    extra = [c for c in frame.columns if c not in (*REQUIRED, "sd")]
    for c in extra:
        problems.append(Problem(where, c, "unknown column" + did_you_mean(c, (*REQUIRED, "sd"))))
    if problems:
        raise BadInput(problems)
    if frame.empty:
        raise BadInput.one(where, "", "no rows: give at least one target")
    has_sd = "sd" in frame.columns
    items: list[Target] = []
    seen: dict[str, int] = {}
    valid_stats = [*SERIES, *DERIVED, *(OUTCOME_PREFIX + o for o in OUTCOMES)]
    for i, row in frame.iterrows():
        n = int(i) + 1  # type: ignore[arg-type]
        ok = True

        def bad(column: str, message: str, n: int = n) -> None:
            nonlocal ok
            ok = False
            problems.append(Problem(where, f"data row {n}, {column}", message))

        stat = row["statistic"].strip()
        is_outcome = stat.startswith(OUTCOME_PREFIX)
        if observed.is_observed(stat):
            pass  # rank_rho:NAME is checked against the rankings by the calibration
        elif is_outcome and stat.removeprefix(OUTCOME_PREFIX) not in OUTCOMES:
            name = stat.removeprefix(OUTCOME_PREFIX)
            bad("statistic", f"unknown outcome {name!r}" + did_you_mean(name, OUTCOMES))
        elif not is_outcome and stat not in SERIES and stat not in DERIVED:
            bad("statistic", f"unknown statistic {stat!r}: a time-series column, a derived "
                "statistic or outcome:NAME" + did_you_mean(stat, valid_stats).split(
                    "; valid keys:")[0] + f"; time-series columns: {', '.join(SERIES)}; "
                f"derived: {', '.join(DERIVED)}")  # fmt: skip
        year_text = row["year"].strip()
        year = model_year = None
        scalar = (
            is_outcome
            or (stat in DERIVED and not DERIVED[stat].timed)
            or (observed.is_observed(stat) and not observed.needs_year(stat))
        )
        if scalar:
            if year_text:
                bad("year", "must be empty for an outcome or a derived statistic of the "
                    "whole run (a scalar)")  # fmt: skip
        elif not year_text:
            bad("year", "required for a time-series statistic")
        else:
            year = _number(year_text)
            if year is None:
                bad("year", f"not a number ({year_text!r})")
            else:
                model_year = round(year - start_year, 9)  # no float dust in keys
                if not 0 <= model_year <= horizon + 1e-9:
                    shown = f" (model year {model_year:g})" if start_year else ""
                    bad("year", f"{year:g}{shown} is outside the run, model years 0 to "
                        f"{horizon:g}" + (f" = {start_year:g} to {start_year + horizon:g}"
                                          if start_year else ""))  # fmt: skip
        value = _number(row["value"].strip())
        if value is None:
            bad("value", f"not a finite number ({row['value']!r})")
        sd = None
        if has_sd:
            sd_text = row["sd"].strip()
            sd = _number(sd_text) if sd_text else None
            if sd is None or sd <= 0:
                bad("sd", f"must be a number > 0 when the sd column is given (got {sd_text!r})")
            elif value is not None and sd < MIN_RELATIVE_SD * max(1.0, abs(value)):
                bad("sd", f"{sd:g} is too small: below {MIN_RELATIVE_SD:g} x max(1, |value|) "
                    "the weight 1/sd overflows the distance")  # fmt: skip
        if not ok:
            continue
        target = Target(stat, year, model_year, value, sd)  # type: ignore[arg-type]
        if target.key in seen:
            problems.append(
                Problem(
                    where, f"data row {n}", f"repeats data row {seen[target.key]} ({target.key})"
                )
            )
            continue  # fmt: skip
        seen[target.key] = n
        items.append(target)
    if problems:
        raise BadInput(problems)
    return Targets(where, tuple(items))


def _number(text: str) -> float | None:
    try:
        x = float(text)
    except ValueError:
        return None
    return x if math.isfinite(x) else None

"""Statistics that compare a national run with what was observed across provinces (issue 21).

Two kinds of target a calibration can name besides time-series columns and outcomes (the
mapping and its reasons: ``docs/observed.md``):

* ``provinces_started`` at a year — the share of provinces that have *started* by then. A
  province starts when the first tenth (:data:`START_QUANTILE`) of its local governments
  offer half their services (``t50_years`` of the run's agents): the model's nearest
  counterpart of "the province has a provincially coordinated online platform", which in
  2016 mostly covered provincial departments only, not every county. Compared with the
  counts of provinces with a platform (8, 27 and 30 of 32 in 2015, 2016 and 2018).
* ``rank_rho:NAME`` — Spearman's rank correlation between the simulated provinces' speed
  (``t50_years`` of each province: lower is faster) and the published ranking ``NAME`` of
  the calibration's ``rankings`` table (``scenarios/data/observed/rankings.csv``). The
  published lists are partial (a top 10, a named group): a province that is absent shares
  the place after the last listed one (:func:`published_positions`). The target value is
  1 (perfect agreement), so the distance is ``(1 - rho) / sd``.

The one definition of each: :func:`statistic`, used by the calibration's runs, by its
posterior predictive checks and by ``docs/make_observed.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import BadInput

STARTED = "provinces_started"
RANK_PREFIX = "rank_rho:"
START_QUANTILE = 0.1
"""A province has started when this share of its governments offer half their services."""
MUNICIPALITIES = ("Beijing", "Tianjin", "Shanghai", "Chongqing")
"""Left out of rankings whose domain is provinces and autonomous regions only."""
MIN_LISTED = 3
"""A ranking needs at least this many listed provinces to be a rank target."""


def is_observed(statistic: str) -> bool:
    """Whether ``statistic`` is one of this module's (not a time-series column or outcome)."""
    return statistic == STARTED or statistic.startswith(RANK_PREFIX)


def needs_year(statistic: str) -> bool:
    return statistic == STARTED


def read_rankings(path: str | Path, *, named_by: str) -> dict[str, pd.Series]:
    """The published rankings of an observed ``rankings.csv``: name -> published position
    (rank or tier; lower is better) by province, plus the domain in ``Series.attrs``.
    Rankings that list fewer than :data:`MIN_LISTED` provinces are left out."""
    path = Path(path)
    if not path.is_file():
        raise BadInput.one(str(path), "", f"rankings file not found (named by {named_by})")
    try:
        frame = pd.read_csv(path, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BadInput.one(str(path), "", f"not a readable CSV: {exc}") from None
    missing = [c for c in ("what", "where", "value", "note") if c not in frame.columns]
    if missing:
        raise BadInput.one(str(path), "", f"missing column(s) {', '.join(missing)}")
    out: dict[str, pd.Series] = {}
    for name, rows in frame.groupby("what", sort=False):
        if len(rows) < MIN_LISTED or rows["value"].nunique() < 1:
            continue
        series = pd.Series(rows["value"].astype(float).to_numpy(), index=rows["where"])
        series.attrs["provinces_only"] = bool(rows["note"].str.contains("domain provinces").any())
        out[str(name)] = series
    return out


def published_positions(ranking: pd.Series, domain: list[str]) -> np.ndarray:
    """The published position of every province of ``domain``: listed ones as published,
    every absent one tied one place after the last listed (a partial list says only that
    they were not in it)."""
    last = float(ranking.max()) + 1.0
    return np.array([float(ranking.get(p, last)) for p in domain])


def domain_of(ranking: pd.Series, provinces: list[str]) -> list[str]:
    if ranking.attrs.get("provinces_only"):
        return [p for p in provinces if p not in MUNICIPALITIES]
    return list(provinces)


def rank_rho(speed: pd.Series, ranking: pd.Series) -> float:
    """Spearman's rho between ``speed`` (by province; lower = faster = better) and a
    published ranking (lower = better), over the ranking's domain (ties: average ranks);
    0 when either side has no spread."""
    from scipy.stats import spearmanr

    domain = domain_of(ranking, list(speed.index))
    x = speed.loc[domain].to_numpy(float)
    y = published_positions(ranking, domain)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


def province_speed(run: Any) -> pd.Series:
    """Years to half coverage of each province of a national run (``RunResult``)."""
    if run.provinces is None:
        raise ValueError("rank and province statistics need a national scenario")
    return pd.Series(run.provinces["t50_years"].to_numpy(float), index=run.provinces.province)


def start_years(agents: pd.DataFrame) -> pd.Series:
    """Model year each province starts (see the module docstring), from the agents table."""
    return agents.groupby("province", sort=False)["t50_years"].quantile(START_QUANTILE)


def statistic(target: Any, run: Any, rankings: Mapping[str, pd.Series]) -> float:
    """The value of one of this module's targets (a :class:`.targets.Target`, not imported:
    targets imports this module) in one run (a ``RunResult``)."""
    if target.statistic == STARTED:
        if run.provinces is None:
            raise ValueError("provinces_started needs a national scenario")
        starts = start_years(run.agents)
        return float(np.mean(starts.to_numpy(float) <= float(target.model_year) + 1e-9))
    name = target.statistic.removeprefix(RANK_PREFIX)
    return rank_rho(province_speed(run), rankings[name])


def check_names(statistics: list[str], rankings: Mapping[str, pd.Series] | None) -> list[str]:
    """Messages for rank targets whose ranking the calibration does not have."""
    out = []
    for s in statistics:
        if not s.startswith(RANK_PREFIX):
            continue
        name = s.removeprefix(RANK_PREFIX)
        if rankings is None:
            out.append(f"{s}: the calibration file names no rankings table (rankings = ...)")
        elif name not in rankings:
            out.append(f"{s}: no ranking {name!r}; known: {', '.join(sorted(rankings))}")
    return out

"""The constants of the mechanisms of issues 19 and 22, built for one run.

:func:`neutral` gives every constant its neutral value (the mechanism off: the run is the
model as it was before these issues, bit for bit); :func:`mechanism_arrays` overrides them
as the scenario asks. Each mechanism draws from its own child of the ``mechanisms`` stream
(:data:`CHILDREN`), and only when it is on, so switching one on never shifts another's
draws or any draw of the older streams.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .mechanisms import gates

CHILDREN: tuple[str, ...] = (
    "module_quality",
    "deadoption",
    "reinvention",
    "ministries",
    "demand",
    "tenders",
    "data",
    "legacy",
)
"""Child streams of the ``mechanisms`` stream, in spawn order (append only)."""

INTS = frozenset(
    {
        "crowd_from",
        "rank_every",
        "mandate_k",
        "mandate_from",
        "mandate_ramp",
        "pilot",
        "pilot_lag_steps",
        "ministry_step",
        "ministry_on",
        "het_on",
        "renew_every",
        "bidders",
        "ready_at",
    }
)
"""Integer constants among those below (the rest are floats)."""


def neutral(n: int, k: int, n_steps: int) -> dict[str, Any]:
    """Every mechanism off: the arrays a run without them reads."""
    never = n_steps + 1
    return {
        # drive.crowding_timing = "plan": the step from which service k is crowded out
        "crowd_from": np.full(k, never + 1, np.int64),
        "crowd_scale": 1.0,
        # drive.absorption_scope = "all": the fit of a local reuse by government i
        "reuse_absorb": np.ones(n),
        # drive.module_quality_sd: quality of the m-th module in build order
        "module_quality": np.full(k, 0.75),
        # drive.upgrade_rate, traction.feedback_rate (times dt)
        "upgrade_dt": 0.0,
        "feedback_dt": 0.0,
        # diffusion.ranking_*: steps between rankings (0: none), pressure
        "rank_every": 0,
        "ranking_pressure": 0.0,
        # diffusion.mandate_*: added development hazard x w(t) on services k < mandate_k
        "mandate_dt": np.zeros(n),
        "mandate_k": 0,
        "mandate_from": never + 1,
        "mandate_ramp": 1,
        # diffusion.pilot_*: 1 for a pilot; recognition lag of pilot solutions (-1: none)
        "pilot": np.zeros(n, np.int64),
        "pilot_lag_steps": -1,
        # diffusion.learning_weight and its reference quality
        "learn_w": 0.0,
        "learn_ref": 1.0,
        # diffusion.deadoption_*: hazard x dt, threshold, clocks (abandon, adopt anew)
        "dead_dt": 0.0,
        "dead_q": 0.0,
        "dead_clock": np.ones((1, 1)),
        "readopt_clock": np.ones((1, 1)),
        # diffusion.ministry_*: the step a ministry builds service k's system (0: never)
        "ministry_step": np.zeros(k, np.int64),
        "ministry_on": False,
        "ministry_cost": 0.0,
        # traction.demand_heterogeneity: a government's own demand multiplier per pair
        "het_on": False,
        "het": np.ones((1, 1)),
        # collaboration.reinvention_sd and the pair's normal
        "reinvent_sd": 0.0,
        "reinvent_z": np.zeros((1, 1)),
        # drive.contract_period, bidders, bid_sd, switching_cost (tendering)
        "renew_every": 0,
        "bidders": 1,
        "bid_sd": 0.0,
        "switch_cost": 0.0,
        "bid_z": np.zeros((1, 1)),
        # drive.bid_quality_sd, quality_weight (quality competition at tenders)
        "bid_q": np.zeros((1, 1)),
        "quality_weight": 0.0,
        # traction.demand_growth, priority_feedback and the observed demand's base
        "demand_growth": 0.0,
        "prio_fb": 0.0,
        "demand_obs": np.ones(k),
        # support.data_resources, legacy_share: the first step a pair may go live
        **gates.neutral(),
    }


def extra_solutions(s: Any, n: int, k: int) -> int:
    """Solution slots beyond one per pair: a pair that abandons its solution may be
    served, and make a solution, a second time."""
    return n * k if s.diffusion.deadoption_rate > 0 else 0


def mechanism_arrays(
    s: Any,
    *,
    crowded_out: bool,
    n: int,
    k: int,
    absorbed: np.ndarray,
    c_haz: np.ndarray,
    capacity: np.ndarray,
    arrays: dict[str, Any],
    modules: np.ndarray,
    ready: np.ndarray,
    streams: dict[str, np.random.Generator],
) -> dict[str, Any]:
    """The constants of scenario ``s`` for one run (``crowded_out``: the rule's switch;
    ``absorbed``: 1 - absorption x (1 - c_eff) per government; ``modules``/``ready``: the
    contractor's build plan, services in build order and their ready steps; ``c_haz``:
    capacity in the hazards; ``arrays``: the run's other constants, of which the
    mechanisms adjust ``dev_dt`` (pilots) and ``pair_weight`` (demand heterogeneity))."""
    dt, drive = s.dt, s.drive
    out = neutral(n, k, s.n_steps)
    children = dict(zip(CHILDREN, streams["mechanisms"].spawn(len(CHILDREN)), strict=True))
    if crowded_out and drive.crowding_timing == "plan":
        ahead = math.floor(min(drive.crowding_anticipation / dt, s.n_steps + 1) + 0.5)
        crowd_from = np.empty(k, np.int64)
        crowd_from[modules] = np.maximum(1, ready - ahead)
        out["crowd_from"] = crowd_from
        out["crowd_scale"] = 1.0 - drive.crowding_out
    if drive.absorption_scope == "all":
        out["reuse_absorb"] = np.asarray(absorbed, float)
    q = np.full(k, drive.contractor_quality)
    if drive.module_quality_sd > 0:
        z = children["module_quality"].standard_normal(k)
        q = np.clip(q + drive.module_quality_sd * z, 0.0, 1.0)
    out["module_quality"] = q
    out["upgrade_dt"] = drive.upgrade_rate * dt
    out["feedback_dt"] = s.traction.feedback_rate * dt
    # the mandate is crowded out as the development channel it acts through
    c_man = c_haz * crowding_scale(s, crowded_out)
    _diffusion(s, out, n=n, k=k, c_haz=c_man, capacity=capacity, arrays=arrays, rng=children)
    h = s.traction.demand_heterogeneity
    if h > 0:
        m = np.exp(h * children["demand"].standard_normal((n, k)) - h * h / 2)
        weight = arrays["pair_weight"] * m
        arrays["pair_weight"] = weight / weight.sum()
        out["het_on"], out["het"] = True, m
    if drive.contract_period > 0 and drive.bidders > 1:
        every = max(1, math.floor(min(drive.contract_period / dt, s.n_steps + 1) + 0.5))
        out["renew_every"], out["bidders"] = every, drive.bidders
        out["bid_sd"], out["switch_cost"] = drive.bid_sd, drive.switching_cost
        rounds = s.n_steps // every + 1
        out["bid_z"] = children["tenders"].standard_normal((rounds, drive.bidders))
        if drive.bid_quality_sd > 0:  # drawn after the prices: bid_z stays as it was
            z = children["tenders"].standard_normal((rounds, drive.bidders))
            out["bid_q"], out["quality_weight"] = drive.bid_quality_sd * z, drive.quality_weight
    _traction(s, out, arrays)
    out.update(
        gates.gate_arrays(
            s, n=n, k=k, c_haz=c_haz, data_rng=children["data"], legacy_rng=children["legacy"]
        )
    )
    if s.collaboration.reinvention_sd > 0:
        out["reinvent_sd"] = s.collaboration.reinvention_sd
        out["reinvent_z"] = children["reinvention"].standard_normal((n, k))
    return out


def _diffusion(
    s: Any,
    out: dict[str, Any],
    *,
    n: int,
    k: int,
    c_haz: np.ndarray,
    capacity: np.ndarray,
    arrays: dict[str, Any],
    rng: dict[str, np.random.Generator],
) -> None:
    """The constants of the ``[diffusion]`` table (ODD §7.18; ``c_haz``: capacity in the
    mandate's hazard, crowded out as the development hazard is)."""
    d, dt, never = s.diffusion, s.dt, s.n_steps + 1
    if d.ranking_pressure > 0:
        out["rank_every"] = max(1, math.floor(min(d.ranking_interval / dt, never) + 0.5))
        out["ranking_pressure"] = d.ranking_pressure
    if d.mandate_rate > 0 and d.mandate_services > 0:
        out["mandate_dt"] = d.mandate_rate * dt * c_haz
        out["mandate_k"] = min(d.mandate_services, k)
        out["mandate_from"] = min(math.ceil(d.mandate_year / dt - 1e-9), never) + 1
        out["mandate_ramp"] = max(1, math.floor(min(d.mandate_deadline / dt, never) + 0.5))
    if d.pilot_count > 0:
        pilot = np.zeros(n, np.int64)
        pilot[np.argsort(-capacity, kind="stable")[: d.pilot_count]] = 1
        out["pilot"] = pilot
        out["pilot_lag_steps"] = min(math.ceil(d.pilot_lag / dt - 1e-9), never)
        arrays["dev_dt"] = arrays["dev_dt"] * np.where(pilot == 1, 1.0 + d.pilot_boost, 1.0)
    if d.learning_weight > 0:
        out["learn_w"] = d.learning_weight
        out["learn_ref"] = max(s.services.quality_mean, 1e-6)
    if d.deadoption_rate > 0:
        out["dead_dt"] = d.deadoption_rate * dt
        out["dead_q"] = d.deadoption_threshold
        clocks = rng["deadoption"].standard_exponential((2, n, k))
        out["dead_clock"], out["readopt_clock"] = clocks[0], clocks[1]
    m = min(d.ministry_services, k)
    if m > 0 and d.ministry_rate > 0:
        years = rng["ministries"].standard_exponential(m) / d.ministry_rate
        steps = np.maximum(1, np.ceil(years / dt - 1e-9))
        step = np.zeros(k, np.int64)
        step[:m] = np.where(steps < never, steps, 0).astype(np.int64)
        out["ministry_step"] = step
        out["ministry_on"] = bool(step.any())
        out["ministry_cost"] = s.costs.module_build


def _traction(s: Any, out: dict[str, Any], arrays: dict[str, Any]) -> None:
    """Demand that grows with use, priorities that follow observed demand (ODD 7.18.15-16);
    after demand heterogeneity (its multipliers are part of the observed demand)."""
    tr = s.traction
    out["demand_growth"] = tr.demand_growth
    if tr.priority_feedback > 0:
        out["prio_fb"] = tr.priority_feedback
        out["demand_obs"] = np.asarray(arrays["priority"], float) * out["het"].mean(axis=0)


def crowding_scale(s: Any, crowded_out: bool) -> float:
    """The factor folded into the local hazards of every service from year 0: ``1 -
    crowding_out`` under a crowded-out rule with crowding_timing "start", else 1 (with
    "plan" the factor acts per service, from ``crowd_from``)."""
    if not crowded_out or s.drive.crowding_timing == "plan":
        return 1.0
    return 1.0 - s.drive.crowding_out


def capacity_in_hazards(c_eff: np.ndarray, elasticity: float) -> np.ndarray:
    """``c_eff ^ collaboration.hazard_elasticity`` (c_eff itself at 1: bit for bit)."""
    return c_eff if elasticity == 1.0 else np.power(c_eff, elasticity)

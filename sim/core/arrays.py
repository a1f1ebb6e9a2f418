"""The arrays of a batch of B >= 1 runs: constants, mutable state and recorded series.

Every field has the run axis first. Runs of different sizes share one batch: arrays are
sized for the largest run (``N`` governments, ``K`` services, ``T`` steps) and each run
reads only its first ``n[b]`` / ``k[b]`` / ``n_steps[b]`` entries. The three groups are
named tuples of NumPy arrays so that the compiled kernels (:mod:`sim.core.mechanisms`) take
them as three arguments; scalars per run are arrays of shape (B,) so that kernels can
change them in place.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np


class Source(IntEnum):
    """How a (government, service) pair is served."""

    NONE = 0
    OWN = 1  # own development
    PEER = 2  # reuse from a network neighbour (or, nationally, another province)
    CATALOGUE = 3  # reuse from the provincial catalogue (visibility or promotion)
    CONTRACTOR = 4  # contractor deployment


NONE, OWN, PEER, CATALOGUE, CONTRACTOR = (int(s) for s in Source)

CONTRACTOR_ORIGIN = -1
"""``sol_origin`` of a contractor module (local solutions: the developing government)."""
FOREIGN = -2
"""``sol_origin`` of a solution imported from another province (national scenarios)."""

# Local-event channels (competing risks), in the order their rates are stacked.
DEV, PEER_CH, CROSS, PROMO = 0, 1, 2, 3


class Consts(NamedTuple):
    """What does not change during a run (set when the batch is built)."""

    n: np.ndarray  # (B,) governments
    k: np.ndarray  # (B,) services
    n_steps: np.ndarray  # (B,) steps
    dt: np.ndarray  # (B,) years per step
    can_settle: np.ndarray  # (B,) bool: may stop stepping once nothing can change
    # the network, CSR per run (complete graphs: no edges, ``complete`` set)
    complete: np.ndarray  # (B,) bool
    indptr: np.ndarray  # (B, N + 1)
    indices: np.ndarray  # (B, E)
    pair_weight: np.ndarray  # (B, N, K) population_i * demand_k, sums to 1 per run
    priority: np.ndarray  # (B, K) demand priority, mean 1
    # local diffusion (hazards times dt)
    dev_dt: np.ndarray  # (B, N) scale * innovation_rate * c_eff * dt (times priority_k)
    peer_dt: np.ndarray  # (B, N) scale * peer_learning * c_eff * dt / degree
    promo_dt: np.ndarray  # (B, N) promotion_rate * c_eff * dt (0 without promotion)
    cross_dt: np.ndarray  # (B, N) scale * cross_learning * peer_learning * c_eff * dt
    visibility: np.ndarray  # (B,) catalogue visibility (0: the rule has no catalogue)
    quality_mean: np.ndarray  # (B, N) mean quality of a development
    quality_sd: np.ndarray  # (B,)
    dev_cost: np.ndarray  # (B,)
    reuse_fit: np.ndarray  # (B,)
    reuse_cost: np.ndarray  # (B,)
    dev_steps: np.ndarray  # (B,) steps from starting a development until it serves
    dev_slots: np.ndarray  # (B, N) developments a government may run at once
    # the province
    has_province: np.ndarray  # (B,) bool: recognition (grassroots, hybrid)
    lag_steps: np.ndarray  # (B,) recognition lag in whole steps
    judge: np.ndarray  # (B,) bool: the province judges with noise or a minimum of users
    min_users: np.ndarray  # (B,)
    judge_z: np.ndarray  # (B, S) the province's error per solution (x noise); (B, 1) if off
    # the contractor
    has_contractor: np.ndarray  # (B,) bool
    adopt: np.ndarray  # (B,) bool: modules from recognised solutions (hybrid)
    modules: np.ndarray  # (B, K) services in priority order
    rank: np.ndarray  # (B, K) priority rank of each service
    ready_step: np.ndarray  # (B, K) build mode: step at which modules[m] is ready
    rollout: np.ndarray  # (B, N) governments in deployment order
    contractor_fit: np.ndarray  # (B, N) per receiving government (drive.absorption)
    live_steps: np.ndarray  # (B, N) steps from a deployment to i until it serves
    contractor_quality: np.ndarray  # (B,)
    price: np.ndarray  # (B,) one deployment
    p_fail: np.ndarray  # (B,) outage probability per step
    outage_steps: np.ndarray  # (B,)
    rate: np.ndarray  # (B,) deployments per step
    build_time: np.ndarray  # (B,) years
    build_rate: np.ndarray  # (B,) modules per year
    never: np.ndarray  # (B,) a step beyond the horizon
    module_cost: np.ndarray  # (B,)
    standardize_cost: np.ndarray  # (B,)
    platform_cost: np.ndarray  # (B,)
    # the recorder
    top: np.ndarray  # (B, Q) top capacity quartile
    bottom: np.ndarray  # (B, Q) bottom capacity quartile
    quartile: np.ndarray  # (B,) governments per quartile
    # random numbers, drawn when the batch is built (see sim.core.batch)
    clock: np.ndarray  # (B, N, K) standard exponential: the pair's local-event threshold
    find_u: np.ndarray  # (B, N, K) uniform: does a would-be developer find the catalogue's
    quality_z: np.ndarray  # (B, N, K) standard normal: quality of the pair's development
    outage_u: np.ndarray  # (B, T + 1) uniform: does an outage start in step t
    # the province's costs and local failures (sim.core.mechanisms.risk)
    recognition_cost: np.ndarray  # (B,) per recognised service
    p_local: np.ndarray  # (B,) a government's local failure probability per step
    p_local_cat: np.ndarray  # (B,) the same, for its catalogue-served pairs (<= p_local)
    local_outage_steps: np.ndarray  # (B,)
    local_u: np.ndarray  # (B, T + 1, N) uniform (risk stream); (B, 1, 1) without failures
    # consolidation (sim.core.mechanisms.consolidation)
    consolidation_dt: np.ndarray  # (B,) support.consolidation_rate * dt
    migration_cost: np.ndarray  # (B,)
    cons_clock: np.ndarray  # (B, N, K) exponential (consolidation stream); (B, 1, 1) if off
    # the mechanisms of issues 19 and 22 (sim.core.mechanism_setup: neutral values = off)
    crowd_from: np.ndarray  # (B, K) step from which service k's local hazards are crowded out
    crowd_scale: np.ndarray  # (B,) 1 - crowding_out there (crowding_timing "plan")
    reuse_absorb: np.ndarray  # (B, N) fit multiplier of a local reuse (absorption_scope)
    module_quality: np.ndarray  # (B, K) quality of the m-th module built
    upgrade_dt: np.ndarray  # (B,) drive.upgrade_rate * dt
    feedback_dt: np.ndarray  # (B,) traction.feedback_rate * dt
    rank_every: np.ndarray  # (B,) steps between published rankings (0: none)
    ranking_pressure: np.ndarray  # (B,)
    mandate_dt: np.ndarray  # (B, N) mandate_rate * c_eff^e * dt
    mandate_k: np.ndarray  # (B,) services k < mandate_k are mandated
    mandate_from: np.ndarray  # (B,) first step of the mandate
    mandate_ramp: np.ndarray  # (B,) steps from its issue to its deadline (at least 1)
    pilot: np.ndarray  # (B, N) 1 for a designated pilot
    pilot_lag_steps: np.ndarray  # (B,) recognition lag of a pilot's solution (-1: no pilots)
    learn_w: np.ndarray  # (B,) diffusion.learning_weight
    learn_ref: np.ndarray  # (B,) its reference quality (services.quality_mean)
    dead_dt: np.ndarray  # (B,) diffusion.deadoption_rate * dt
    dead_q: np.ndarray  # (B,) diffusion.deadoption_threshold
    dead_clock: np.ndarray  # (B, N, K) exponential: abandon; (B, 1, 1) if off
    readopt_clock: np.ndarray  # (B, N, K) exponential: the clock of adopting anew
    ministry_step: np.ndarray  # (B, K) step a ministry builds k's vertical system (0: never)
    ministry_on: np.ndarray  # (B,) bool
    ministry_cost: np.ndarray  # (B,)
    het_on: np.ndarray  # (B,) bool: traction.demand_heterogeneity > 0
    het: np.ndarray  # (B, N, K) the government's demand multiplier; (B, 1, 1) if off
    reinvent_sd: np.ndarray  # (B,) collaboration.reinvention_sd
    reinvent_z: np.ndarray  # (B, N, K) standard normal; (B, 1, 1) if off
    renew_every: np.ndarray  # (B,) steps between tenders (0: one contract)
    bidders: np.ndarray  # (B,)
    bid_sd: np.ndarray  # (B,)
    switch_cost: np.ndarray  # (B,) per contractor-served pair
    bid_z: np.ndarray  # (B, rounds, bidders) standard normal (column 0: the incumbent)
    bid_q: np.ndarray  # (B, rounds, bidders) challengers' quality offsets; (B, 1, 1) if off
    quality_weight: np.ndarray  # (B,) price factor per quality unit at a tender (0: off)
    demand_growth: np.ndarray  # (B,) traction.demand_growth
    prio_fb: np.ndarray  # (B,) traction.priority_feedback
    demand_obs: np.ndarray  # (B, K) provincial demand x mean own demand (priority feedback)
    gate_on: np.ndarray  # (B,) bool: data resources or legacy systems (mechanisms.gates)
    ready_at: np.ndarray  # (B, N, K) first step the pair may go live; (B, 1, 1) if off
    gate_cost: np.ndarray  # (B, T + 1) resources and migrations paid in step t


class State(NamedTuple):
    """What changes during a run."""

    source: np.ndarray  # (B, N, K) int8 Source
    sol: np.ndarray  # (B, N, K) solution id (-1: none)
    quality: np.ndarray  # (B, N, K) quality of the solution serving the pair
    fit: np.ndarray  # (B, N, K)
    step: np.ndarray  # (B, N, K) step served (-1: not yet)
    local_quality: np.ndarray  # (B, N, K) quality where served locally, -inf elsewhere
    hazard: np.ndarray  # (B, N, K) cumulative local hazard (compared with ``clock``)
    dev_until: np.ndarray  # (B, N, K) step a development in progress serves (-1: waiting)
    dev_active: np.ndarray  # (B, N) developments in progress
    started: np.ndarray  # (B,) developments started (development_time > 0)
    counts: np.ndarray  # (B, N, K) neighbours served locally (sparse networks)
    local_count: np.ndarray  # (B, K) governments served locally
    local_best: np.ndarray  # (B, K) best quality among them (-inf: none)
    # solutions
    sol_service: np.ndarray  # (B, S)
    sol_quality: np.ndarray  # (B, S)
    sol_origin: np.ndarray  # (B, S) developing government, CONTRACTOR_ORIGIN or FOREIGN
    sol_step: np.ndarray  # (B, S)
    sol_users: np.ndarray  # (B, S) pairs ever served by the solution
    n_solutions: np.ndarray  # (B,)
    # per service
    best_sol: np.ndarray  # (B, K)
    best_quality: np.ndarray  # (B, K)
    first_dev_step: np.ndarray  # (B, K) first development (-1: none)
    first_sol_step: np.ndarray  # (B, K) first solution, developed or imported
    recognised: np.ndarray  # (B, K) bool
    pick: np.ndarray  # (B, K) the solution the province recognised (judged runs)
    n_recognised: np.ndarray  # (B,)
    n_solution_services: np.ndarray  # (B,) services with at least one solution
    # counters (cumulative)
    developments: np.ndarray  # (B,)
    duplicates: np.ndarray  # (B,)
    module_duplicates: np.ndarray  # (B,) duplicates that are contractor module builds
    reuses: np.ndarray  # (B,)
    cost: np.ndarray  # (B,)
    by_source: np.ndarray  # (B, 5) pairs ever served, by Source
    # served groups: 0 = local solutions, 1 = contractor deployments
    pairs: np.ndarray  # (B, 2)
    weight: np.ndarray  # (B, 2) sum of pair weights
    wquality: np.ndarray  # (B, 2) sum of pair weight * quality * fit
    per_gov: np.ndarray  # (B, 2, N) pairs served per government
    # the contractor
    module_sol: np.ndarray  # (B, K) solution id of each service's module
    order: np.ndarray  # (B, K) services in the order their modules were made
    cursor: np.ndarray  # (B, K) next rollout position of the m-th module made
    built: np.ndarray  # (B,) modules made (a prefix of ``order``)
    open_from: np.ndarray  # (B,) first module that may still have unserved pairs
    carry: np.ndarray  # (B,) fractional deployments carried
    outage_left: np.ndarray  # (B,) steps of the current outage still to run
    outages: np.ndarray  # (B,)
    lost_pair_steps: np.ndarray  # (B,)
    queue_step: np.ndarray  # (B, K) adopt mode: step the queued module is standardised
    queued: np.ndarray  # (B, K) bool
    n_queued: np.ndarray  # (B,)
    free_at: np.ndarray  # (B,) years: when the contractor can start the next adoption
    live_at: np.ndarray  # (B, N, K) step a deployment in progress serves (0: none);
    #                      (B, 1, 1) when no run of the batch has drive.deployment_time
    pending: np.ndarray  # (B, P) deployments in progress, as i * K + k, in deployment order
    n_pending: np.ndarray  # (B,)
    # national coupling
    foreign_share: np.ndarray  # (B, K) other provinces' local share per service
    foreign_quality: np.ndarray  # (B, K) best quality there
    cross_reuses: np.ndarray  # (B,)
    imported: np.ndarray  # (B,)
    recognised_at: np.ndarray  # (B, K) step recognised, for the national catalogue
    settled: np.ndarray  # (B,) bool
    # local failures
    gov_down: np.ndarray  # (B, N) steps of the government's local failure still to run
    gov_down_all: np.ndarray  # (B, N) bool: the failure takes down catalogue pairs too
    local_outages: np.ndarray  # (B,)
    cons_hazard: np.ndarray  # (B, N, K) cumulative migration hazard
    migrations: np.ndarray  # (B,)
    # the mechanisms of issues 19 and 22
    rank_mult: np.ndarray  # (B, N) hazard multiplier from the last published ranking
    first_pilot_step: np.ndarray  # (B, K) first solution by a pilot (-1: none)
    dead_h: np.ndarray  # (B, N, K) cumulative abandon hazard (inf: abandoned once)
    deadoptions: np.ndarray  # (B,)
    ministry_systems: np.ndarray  # (B,)
    price_factor: np.ndarray  # (B,) the current vendor's price factor (tendering)
    tenders: np.ndarray  # (B,)
    switches: np.ndarray  # (B,) tenders won by a challenger
    quality_offset: np.ndarray  # (B,) the current vendor's module quality offset (tendering)
    use_share: np.ndarray  # (B, K) share of governments serving k (traction.demand_growth)


SERIES: tuple[str, ...] = (
    "coverage",
    "coverage_weighted",
    "developments",
    "duplicate_developments",
    "reuses",
    "cost",
    "quality",
    "gini",
    "lagging_gap",
    "served_own",
    "served_peer",
    "served_catalogue",
    "served_contractor",
    "outage",
    "lost_pairs",
)
"""Recorded columns, in the order of the series array's second axis (after step, year)."""

(
    C_COVERAGE,
    C_WEIGHTED,
    C_DEVELOPMENTS,
    C_DUPLICATES,
    C_REUSES,
    C_COST,
    C_QUALITY,
    C_GINI,
    C_GAP,
    C_OWN,
    C_PEER,
    C_CATALOGUE,
    C_CONTRACTOR,
    C_OUTAGE,
    C_LOST,
) = range(len(SERIES))


class Series(NamedTuple):
    """What the recorder writes: row t of each run after step t (row 0: the start)."""

    values: np.ndarray  # (B, len(SERIES), T + 1)
    per_gov: np.ndarray  # (B, T + 1, N) recorded pairs per government (national runs), else
    #                      (B, 1, 1)


def empty_state(b: int, n: int, k: int, n_solutions: int, *, deploying: bool = False) -> State:
    """A batch with nothing served and no solution (``deploying``: some run's deployments
    take time to go live, so the arrays that track them get their full size)."""
    z = np.zeros
    return State(
        source=z((b, n, k), np.int8),
        sol=np.full((b, n, k), -1, np.int64),
        quality=z((b, n, k)),
        fit=z((b, n, k)),
        step=np.full((b, n, k), -1, np.int64),
        local_quality=np.full((b, n, k), -np.inf),
        hazard=z((b, n, k)),
        dev_until=z((b, n, k), np.int64),
        dev_active=z((b, n), np.int64),
        started=z(b, np.int64),
        counts=z((b, n, k), np.int32),
        local_count=z((b, k), np.int64),
        local_best=np.full((b, k), -np.inf),
        sol_service=z((b, n_solutions), np.int64),
        sol_quality=z((b, n_solutions)),
        sol_origin=z((b, n_solutions), np.int64),
        sol_step=z((b, n_solutions), np.int64),
        sol_users=z((b, n_solutions), np.int64),
        n_solutions=z(b, np.int64),
        best_sol=np.full((b, k), -1, np.int64),
        best_quality=np.full((b, k), -np.inf),
        first_dev_step=np.full((b, k), -1, np.int64),
        first_sol_step=np.full((b, k), -1, np.int64),
        recognised=z((b, k), np.bool_),
        pick=np.full((b, k), -1, np.int64),
        n_recognised=z(b, np.int64),
        n_solution_services=z(b, np.int64),
        developments=z(b, np.int64),
        duplicates=z(b, np.int64),
        module_duplicates=z(b, np.int64),
        reuses=z(b, np.int64),
        cost=z(b),
        by_source=z((b, len(Source)), np.int64),
        pairs=z((b, 2), np.int64),
        weight=z((b, 2)),
        wquality=z((b, 2)),
        per_gov=z((b, 2, n), np.int64),
        module_sol=np.full((b, k), -1, np.int64),
        order=np.full((b, k), -1, np.int64),
        cursor=z((b, k), np.int64),
        built=z(b, np.int64),
        open_from=z(b, np.int64),
        carry=z(b),
        outage_left=z(b, np.int64),
        outages=z(b, np.int64),
        lost_pair_steps=z(b, np.int64),
        queue_step=z((b, k), np.int64),
        queued=z((b, k), np.bool_),
        n_queued=z(b, np.int64),
        free_at=z(b),
        live_at=z((b, n, k) if deploying else (b, 1, 1), np.int32),
        pending=z((b, n * k if deploying else 1), np.int64),
        n_pending=z(b, np.int64),
        foreign_share=z((b, k)),
        foreign_quality=np.full((b, k), -np.inf),
        cross_reuses=z(b, np.int64),
        imported=z(b, np.int64),
        recognised_at=np.full((b, k), -1, np.int64),
        settled=z(b, np.bool_),
        gov_down=z((b, n), np.int64),
        gov_down_all=z((b, n), np.bool_),
        local_outages=z(b, np.int64),
        cons_hazard=z((b, n, k)),
        migrations=z(b, np.int64),
        rank_mult=np.ones((b, n)),
        first_pilot_step=np.full((b, k), -1, np.int64),
        dead_h=z((b, n, k)),
        deadoptions=z(b, np.int64),
        ministry_systems=z(b, np.int64),
        price_factor=np.ones(b),
        tenders=z(b, np.int64),
        switches=z(b, np.int64),
        quality_offset=z(b),
        use_share=z((b, k)),
    )

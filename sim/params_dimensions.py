"""Two of the four dimensions' tables: ``[support]`` (top-level design and list-based
management: the province, its catalogue, data resources, legacy systems) and
``[traction]`` (user-demand orientation), declared like every parameter
(:mod:`sim.params_base`) and assembled into the scenario by :mod:`sim.params`."""

from __future__ import annotations

from .params_base import MAX_RATE, MAX_YEARS, P, Section


class SupportParams(Section):
    """Top-level design and list-based management (the province)."""

    catalog_visibility: float = P(
        0.5,
        "probability",
        "Chance that a government about to develop finds an existing "
        "solution in the catalogue and reuses it instead.",
        ge=0,
        le=1,
    )
    promotion_rate: float = P(
        0.5,
        "1/year",
        "Catalogue reuse hazard (times c_eff) once a solution is recognised.",
        ge=0,
        le=MAX_RATE,
    )
    recognition_lag: float = P(
        1.0,
        "years",
        "Delay from the first development of a service to its recognition.",
        ge=0,
        le=MAX_YEARS,
    )
    standardization: float = P(
        0.5, "-", "Common standards: lowers reuse adaptation cost and raises reuse fit.", ge=0, le=1
    )
    consolidation_rate: float = P(
        0.0,
        "1/year",
        "Migration hazard of a locally served pair whose solution is worse than the standard "
        "(the recognised service's promoted solution; under the contractor rule its module) "
        "to that standard, at costs.migration. 0 = pairs keep their solution.",
        ge=0,
        le=MAX_RATE,
    )
    recognition_noise: float = P(
        0.0,
        "-",
        "S.d. of the province's error when it judges a solution's quality (one normal per "
        "solution, province stream): it recognises and promotes the best *observed* solution. "
        "0 = it sees quality exactly.",
        ge=0,
        le=1,
    )
    recognition_min_users: int = P(
        1,
        "governments",
        "The province recognises a service only once one of its solutions is in use by at "
        "least this many governments, and picks among those.",
        ge=1,
        le=100_000,
    )
    data_resources: int = P(
        0,
        "resources",
        "Shared data resources (issue 22): service k depends on resource k mod R if it is "
        "on the list (data_listing), else on one of its own; a pair cannot go live before "
        "its government has made the resource. 0 = services need no data resource.",
        ge=0,
        le=100_000,
    )
    data_listing: float = P(
        1.0,
        "probability",
        "Chance that a service is on the province's list of information resources, so it "
        "reuses its shared resource (else it needs a resource of its own).",
        ge=0,
        le=1,
    )
    data_rate: float = P(
        1.0,
        "1/year",
        "Hazard (times c_eff^hazard_elasticity) of a government making one data resource.",
        ge=0,
        le=MAX_RATE,
    )
    legacy_share: float = P(
        0.0,
        "-",
        "Share of pairs running a legacy system that must be migrated before the pair can go "
        "live (issue 22). 0 = no legacy systems.",
        ge=0,
        le=1,
    )
    legacy_rate: float = P(
        1.0,
        "1/year",
        "Hazard (times c_eff^hazard_elasticity) of a legacy migration attempt finishing.",
        ge=0,
        le=MAX_RATE,
    )
    legacy_risk: float = P(
        0.2,
        "probability",
        "Chance that a migration attempt fails and must be redone (and paid) again.",
        ge=0,
        le=0.95,
    )


class TractionParams(Section):
    """User-demand orientation."""

    demand_orientation: float = P(
        0.5,
        "-",
        "How strongly the contractor orders modules by demand (1 = strictly) and "
        "how much its standard modules fit local demand.",
        ge=0,
        le=1,
    )
    reuse_fit: float = P(
        0.7, "-", "Fit of a reused solution without standards (own development fits 1).", ge=0, le=1
    )
    contractor_fit: float = P(
        0.7, "-", "Fit of a contractor module at demand_orientation 0.", ge=0, le=1
    )
    feedback_rate: float = P(
        0.0,
        "1/year",
        "User feedback improving local solutions in use (issue 22): dq/dt = feedback_rate x "
        "(share of governments the solution serves) x (1 - q), for every locally made "
        "solution (contractor modules: drive.upgrade_rate). 0 = solutions never change.",
        ge=0,
        le=MAX_RATE,
    )
    demand_heterogeneity: float = P(
        0.0,
        "-",
        "Log-s.d. of each government's own demand for each service (issue 22): the pair's "
        "weight and development hazard are multiplied by exp(h Z - h^2 / 2) (mechanisms "
        "stream); the contractor still orders modules by provincial demand. 0 = the same "
        "demand everywhere.",
        ge=0,
        le=3,
    )
    demand_growth: float = P(
        0.0,
        "-",
        "Demand that grows with use (issue 22): a government's development hazard for "
        "service k is multiplied by 1 + demand_growth x u_k, u_k the share of governments "
        "that serve k at the start of the step. 0 = demand does not grow.",
        ge=0,
        le=MAX_RATE,
    )
    priority_feedback: float = P(
        0.0,
        "-",
        "User feedback moving the contractor's build priorities (issue 22): each module "
        "built is the unbuilt service of lowest (1 - w) x plan position + w x rank of "
        "observed demand (provincial demand x mean own demand x (1 + demand_growth x u_k)). "
        "0 = the plan fixed at the start.",
        ge=0,
        le=1,
    )

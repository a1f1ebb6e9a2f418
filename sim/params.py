"""Every scenario parameter, declared once: default, unit, allowed range and meaning.

The scenario file has one table per concern. The four dimensions of the source study
each live in one table, so a reader finds each dimension in one place:

* ``[support]``       top-level design and list-based management (catalogue, recognition,
  promotion, standards);
* ``[drive]``         market drive and government-enterprise cooperation (the contractor);
* ``[collaboration]`` grassroots innovation and the digital ecosystem (local development,
  peer learning, balancing support for lagging governments);
* ``[traction]``      user-demand orientation (what gets built first, how well it fits).

Pydantic validates types strictly (``years = "ten"`` is an error, never a coercion) and
rejects unknown keys; :mod:`sim.scenario` turns its errors into messages that name the file
and the dotted key. ``unit`` is stored in each field's JSON-schema extras so that
:mod:`sim.reference` can generate the parameter reference from this module alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
)

from .params_base import (
    MAX_PEOPLE,
    MAX_RATE,
    MAX_YEARS,
    NETWORKS,
    ROLLOUT_ORDERS,
    P,
    Section,
)
from .params_costs import CostsParams, NationalParams, RiskParams
from .params_diffusion import DiffusionParams
from .params_dimensions import SupportParams, TractionParams
from .rules import MIXED, RULES


class TimeParams(Section):
    years: float = P(
        10.0,
        "years",
        "Simulated horizon; the run has floor(years x steps_per_year) steps.",
        gt=0,
        le=200,
    )
    steps_per_year: int = P(
        12, "steps/year", "Time resolution; dt = 1 / steps_per_year.", ge=1, le=365
    )

    @field_validator("steps_per_year")
    @classmethod
    def _at_least_one_step(cls, v: int, info: ValidationInfo) -> int:
        years = info.data.get("years")
        if years is not None and years * v < 1 - 1e-9:
            raise ValueError(
                f"years x steps_per_year must be at least one step (got {years} x {v})"
            )
        return v


class PopulationParams(Section):
    source: str = P(
        "synthetic",
        "-",
        'Where local governments come from: "synthetic", or a CSV path (one row per '
        "prefecture; relative to the scenario file that names it).",
    )
    counties: str = P(
        "",
        "-",
        'Real local governments: "" (none), or a CSV path with one row per county-level '
        "government (names, prefecture, seat, centroid, population; relative to the scenario "
        "file), e.g. data/zhejiang_counties.csv. Needs population.source (the prefecture table: "
        "capacity from GDP per capita). Its borders are read from <stem>_contiguity.csv beside "
        "it (zhejiang_counties.csv -> zhejiang_contiguity.csv), its polygons for maps from "
        "<name>.geojson.",
    )
    n_agents: int = P(
        100, "governments", "Synthetic only: number of local governments.", ge=2, le=100_000
    )
    n_regions: int = P(10, "prefectures", "Synthetic only: number of prefectures.", ge=1, le=10_000)
    capacity_mean: float = P(0.5, "-", "Synthetic only: mean capacity c_i.", gt=0, le=1)
    capacity_spread: float = P(
        0.2,
        "-",
        "Synthetic: s.d. of capacity (Beta distribution); CSV: log-s.d. of "
        "within-prefecture noise. 0 = every government equal (synthetic) or equal to its "
        "prefecture (CSV).",
        ge=0,
        le=2,
    )
    population_sigma: float = P(
        0.8, "-", "Synthetic only: log-s.d. of government populations (lognormal).", ge=0, le=3
    )
    population_mean: float = P(
        400_000.0,
        "people",
        "Synthetic only: mean population of a local government.",
        gt=0,
        le=MAX_PEOPLE,
    )
    split_concentration: float = P(
        8.0,
        "-",
        "CSV only: Dirichlet concentration with which a prefecture's population "
        "splits among its local governments (large = equal shares).",
        gt=0,
        le=1e6,
    )
    capacity_elasticity: float = P(
        1.0,
        "-",
        "CSV and national scenarios: c = (GDP per capita / the highest) ^ elasticity; the "
        "highest is the province's richest prefecture, or nationally the richest province.",
        gt=0,
        le=5,
    )
    capacity_floor: float = P(
        0.05, "-", "Lowest capacity any government can have (keeps c_i in (0, 1]).", gt=0, le=1
    )
    network: NETWORKS = P(
        "hierarchy",
        "-",
        '"complete", "hierarchy" (same prefecture + links between prefecture '
        'seats), "small_world" (Watts-Strogatz), or with population.counties "contiguity" '
        "(shared borders; islands linked to the nearest unit of their prefecture) or "
        '"contiguity+hierarchy" (plus each government to its prefecture seat, seats to the '
        "capital's).",
    )
    mean_degree: int = P(
        6, "links", "small_world only: lattice degree before rewiring (even).", ge=2
    )
    rewiring: float = P(
        0.1, "-", "small_world only: Watts-Strogatz rewiring probability.", ge=0, le=1
    )

    # Cross-field checks are field validators (not a model validator) so that an error is
    # reported under its own dotted key; each reads only fields declared before it.
    @field_validator("counties")
    @classmethod
    def _counties_need_prefectures(cls, v: str, info: ValidationInfo) -> str:
        if v and info.data.get("source") == "synthetic":
            raise ValueError(
                "a county table needs population.source, the prefecture table "
                "(capacity from GDP per capita, counts of governments per prefecture)"
            )
        return v

    @field_validator("network")
    @classmethod
    def _contiguity_needs_counties(cls, v: str, info: ValidationInfo) -> str:
        if v.startswith("contiguity") and not info.data.get("counties"):
            raise ValueError(f'"{v}" needs real borders: set population.counties (a county table)')
        return v

    @field_validator("n_regions")
    @classmethod
    def _regions_fit(cls, v: int, info: ValidationInfo) -> int:
        n = info.data.get("n_agents")
        if info.data.get("source") == "synthetic" and n is not None and v > n:
            raise ValueError(f"n_regions ({v}) cannot exceed n_agents ({n})")
        return v

    @field_validator("capacity_spread")
    @classmethod
    def _beta_spread(cls, v: float, info: ValidationInfo) -> float:
        m = info.data.get("capacity_mean")
        if info.data.get("source") == "synthetic" and v > 0 and m is not None:
            limit = math.sqrt(m * (1 - m))
            if v >= limit:
                raise ValueError(
                    f"capacity_spread ({v}) must be below sqrt(capacity_mean * (1 - capacity_mean))"
                    f" = {limit:.3f} for a Beta distribution"
                )
        return v

    @field_validator("mean_degree")
    @classmethod
    def _degree(cls, v: int, info: ValidationInfo) -> int:
        if info.data.get("network") != "small_world":
            return v
        if v % 2:
            raise ValueError(f"must be even for small_world (got {v})")
        n = info.data.get("n_agents")
        if info.data.get("source") == "synthetic" and n is not None and v >= n:
            raise ValueError(f"must be below n_agents ({n}) for small_world (got {v})")
        return v


class ServicesParams(Section):
    count: int = P(20, "services", "K, the number of service domains to digitise.", ge=1, le=1000)
    demand_skew: float = P(
        1.0,
        "-",
        "Zipf exponent of service demand: weight of rank r ~ r^-skew; 0 = all equal.",
        ge=0,
        le=5,
    )
    demand_noise: float = P(
        0.0,
        "-",
        "Log-s.d. of random noise on each service's demand weight (services stream).",
        ge=0,
        le=3,
    )
    quality_mean: float = P(
        0.6, "-", "Mean quality of a locally developed solution at capacity 0.5.", ge=0, le=1
    )
    quality_sd: float = P(0.15, "-", "S.d. of local solution quality draws.", ge=0, le=1)
    quality_capacity_slope: float = P(
        0.3, "-", "Added to mean quality per unit of effective capacity above 0.5.", ge=0, le=2
    )


class DriveParams(Section):
    """Market drive and government-enterprise cooperation (the general contractor)."""

    build_time: float = P(
        1.0, "years", "Platform set-up before the first module is built.", ge=0, le=MAX_YEARS
    )
    build_rate: float = P(
        6.0, "modules/year", "Modules the contractor builds per year.", gt=0, le=MAX_RATE
    )
    contractor_capacity: float = P(
        200.0, "deployments/year", "(government, service) deployments per year.", ge=0, le=MAX_RATE
    )
    rollout_order: ROLLOUT_ORDERS = P(
        "population",
        "-",
        'Deployment order: "population" (demand), "capacity" (market), '
        '"lagging" (weakest first) or "random".',
    )
    market_competition: float = P(
        0.5, "-", "Competition in procurement: lowers the deployment price.", ge=0, le=1
    )
    crowding_out: float = P(
        0.7,
        "-",
        "Share of local development and peer learning suppressed under the contractor rule.",
        ge=0,
        le=1,
    )
    contractor_quality: float = P(0.75, "-", "Quality of every contractor module.", ge=0, le=1)
    failure_rate: float = P(
        0.2, "1/year", "Platform outage hazard once anything is deployed.", ge=0, le=MAX_RATE
    )
    outage_duration: float = P(
        0.05,
        "years",
        "Length of an outage (rounded to whole steps, at least one).",
        ge=0,
        le=MAX_YEARS,
    )
    absorption: float = P(
        0.0,
        "-",
        "How much a contractor deployment's fit and time to go live depend on the receiving "
        "government's capacity: with a = 1 - absorption x (1 - c_eff), the fit is multiplied "
        "and drive.deployment_time divided by a. 0 = not at all.",
        ge=0,
        le=1,
    )
    deployment_time: float = P(
        0.0,
        "years",
        "Time from a contractor deployment until it serves, at a government of effective "
        "capacity 1 (longer elsewhere with drive.absorption; rounded to whole steps). The "
        'pair is "in deployment" meanwhile (paid, not served, no local development). 0 = it '
        "serves in the step it is deployed.",
        ge=0,
        le=MAX_YEARS,
    )
    # issue 19: mechanisms in place of one-sided settings (neutral defaults: as before)
    crowding_timing: Literal["start", "plan"] = P(
        "start",
        "-",
        'When drive.crowding_out acts on a service: "start" = on every service from year 0; '
        '"plan" = only once its module is announced (drive.crowding_anticipation years before '
        "it is ready) or live, following the contractor's build plan.",
    )
    crowding_anticipation: float = P(
        1.0,
        "years",
        'With crowding_timing = "plan": how long before a module is ready counties stop '
        "investing in the service (the plan is announced).",
        ge=0,
        le=MAX_YEARS,
    )
    module_quality_sd: float = P(
        0.0,
        "-",
        "S.d. of each module's quality around drive.contractor_quality (one normal per "
        "module, mechanisms stream; clipped to [0, 1]). 0 = every module the same.",
        ge=0,
        le=1,
    )
    upgrade_rate: float = P(
        0.0,
        "1/year",
        "Upgrades of contractor modules from feedback in use: dq/dt = upgrade_rate x "
        "(share of governments the module serves) x (1 - q). 0 = modules never change.",
        ge=0,
        le=MAX_RATE,
    )
    contract_period: float = P(
        0.0,
        "years",
        "Tendering (issue 22): every contract_period years drive.bidders vendors bid a price "
        "factor exp(bid_sd x Z) each; a challenger wins if its bid on the pairs still to "
        "serve plus switching_cost per contractor-served pair is below the incumbent's bid. "
        "0 = one contract for the whole horizon.",
        ge=0,
        le=MAX_YEARS,
    )
    bidders: int = P(1, "vendors", "Vendors at each tender (incumbent included).", ge=1, le=100)
    bid_sd: float = P(0.2, "-", "Log-s.d. of a vendor's price factor at a tender.", ge=0, le=3)
    switching_cost: float = P(
        0.5, "cost units", "Per contractor-served pair, when the vendor changes.", ge=0, le=1e12
    )
    bid_quality_sd: float = P(
        0.0,
        "quality",
        "Quality competition at a tender (issue 22): each challenger offers modules whose "
        "quality differs from the base (drive.contractor_quality) by bid_quality_sd x Z; the "
        "incumbent keeps its own. The winner's offset applies to every module built after "
        "the tender (clipped to [0, 1]). 0 = vendors differ only in price.",
        ge=0,
        le=1,
    )
    quality_weight: float = P(
        1.0,
        "price factor per quality unit",
        "How the province trades quality against price at a tender: a bid's score per pair "
        "still to serve is its price factor minus quality_weight x its quality offset "
        "(with drive.bid_quality_sd > 0).",
        ge=0,
        le=100,
    )
    operator_share: float = P(
        0.0,
        "-",
        "Separation of management and operation (管运分离, issue 22): the share of the "
        "platform's operation contracted to an operator separate from the owner. It carries "
        "that share of the cost of outages (costs.outage), is paid operator_fee, and repairs "
        "at operator_repair: an outage lasts outage_duration x (1 - share + share x "
        "operator_repair). 0 = the owner operates.",
        ge=0,
        le=1,
    )
    operator_repair: float = P(
        0.5,
        "-",
        "An operator's repair time as a multiple of outage_duration (its service-level "
        "agreement; below 1: faster than the owner).",
        ge=0,
        le=MAX_RATE,
    )
    operator_fee: float = P(
        0.0,
        "cost units / pair-year",
        "The operator's fee per contractor-run pair and year, times operator_share "
        "(lifecycle_cost only).",
        ge=0,
        le=1e12,
    )
    absorption_scope: Literal["contractor", "all"] = P(
        "contractor",
        "-",
        'Which solutions taken from outside drive.absorption acts on: "contractor" = its '
        'deployments only; "all" = also peer, catalogue and imported copies (their fit is '
        "multiplied by 1 - absorption x (1 - c_eff)).",
    )


class CollaborationParams(Section):
    """Grassroots innovation and the digital ecosystem."""

    innovation_rate: float = P(
        0.05,
        "1/year",
        "Own-development hazard per unserved pair (times c_eff and demand priority). Bass p.",
        ge=0,
        le=MAX_RATE,
    )
    peer_learning: float = P(
        0.5,
        "1/year",
        "Peer-reuse hazard at full neighbour coverage (times c_eff). Bass q.",
        ge=0,
        le=MAX_RATE,
    )
    balancing: float = P(
        0.0, "-", "Support for lagging governments: c_eff = c + balancing * (1 - c).", ge=0, le=1
    )
    development_time: float = P(
        0.0,
        "years",
        "From starting a local development until it serves (rounded to whole steps); the pair "
        'is "in development" meanwhile (no hazard, no contractor deployment). 0 = it serves '
        "in the step it starts.",
        ge=0,
        le=MAX_YEARS,
    )
    local_budget: float = P(
        0.0,
        "developments",
        "Developments a government of capacity 1 can run at once, scaled by its effective "
        "capacity: at most max(1, round(local_budget x c_eff)); a development that fires "
        "with no free slot waits. Binds only with development_time > 0. 0 = unlimited.",
        ge=0,
        le=MAX_RATE,
    )
    hazard_elasticity: float = P(
        1.0,
        "-",
        "How local hazards (development, peer, promotion, imports) scale with effective "
        "capacity: each is proportional to c_eff ^ hazard_elasticity. 1 = linear (as before); "
        "0 = capacity does not matter for the pace of adoption.",
        ge=0,
        le=5,
    )
    reinvention_sd: float = P(
        0.0,
        "-",
        "Reinvention (issue 22): a peer or catalogue copy is a new variant of quality "
        "clip(original + reinvention_sd x Z) (mechanisms stream), listed in the catalogue, so "
        "improvements flow back to later copies. 0 = a copy is the original.",
        ge=0,
        le=1,
    )


class Scenario(Section):
    """A fully resolved scenario: what :func:`sim.load_scenario` returns."""

    name: str = P("unnamed", "-", "Short name shown in outputs.")
    description: str = P("", "-", "What the scenario shows and what to notice.")
    rule: Literal["grassroots", "contractor", "hybrid", "mixed"] = P(
        "grassroots",
        "-",
        'Default allocation rule; "mixed" (national scenarios only): each province its own.',
    )
    seed: int = P(0, "-", "Default root seed (numpy SeedSequence).", ge=0)
    time: TimeParams = Field(default_factory=TimeParams)
    population: PopulationParams = Field(default_factory=PopulationParams)
    services: ServicesParams = Field(default_factory=ServicesParams)
    support: SupportParams = Field(default_factory=SupportParams)
    drive: DriveParams = Field(default_factory=DriveParams)
    collaboration: CollaborationParams = Field(default_factory=CollaborationParams)
    traction: TractionParams = Field(default_factory=TractionParams)
    costs: CostsParams = Field(default_factory=CostsParams)
    risk: RiskParams = Field(default_factory=RiskParams)
    diffusion: DiffusionParams = Field(default_factory=DiffusionParams)
    national: NationalParams = Field(default_factory=NationalParams, validate_default=True)

    # Set by the loader: the file it came from and the prefecture table read from a CSV
    # source (parsed once here, so that sweeps do not re-read files per run).
    _path: str | None = PrivateAttr(default=None)
    _prefectures: Any = PrivateAttr(default=None)
    _provinces: Any = PrivateAttr(default=None)

    @field_validator("national")
    @classmethod
    def _national(cls, v: NationalParams, info: ValidationInfo) -> NationalParams:
        if not v.source and info.data.get("rule") == MIXED:
            raise ValueError(
                'rule "mixed" needs a national scenario: set national.source (a CSV of provinces)'
            )
        pop = info.data.get("population")
        if v.source and pop is not None and pop.source != "synthetic":
            raise ValueError(
                "a national scenario draws its governments from national.source; "
                "remove population.source"
            )
        return v

    @property
    def path(self) -> str | None:
        """The scenario file this came from (None when built in code)."""
        return self._path

    @property
    def prefectures(self) -> Any:
        """The :class:`sim.world.population.PrefectureTable` of a CSV source, else None."""
        return self._prefectures

    @property
    def provinces(self) -> Any:
        """The :class:`sim.provinces.ProvinceTable` of a national scenario, else None."""
        return self._provinces

    @property
    def is_national(self) -> bool:
        return bool(self.national.source)

    @property
    def valid_rules(self) -> tuple[str, ...]:
        """Rules this scenario can run under (national scenarios add ``"mixed"``)."""
        return (MIXED, *RULES) if self.is_national else RULES

    @property
    def dt(self) -> float:
        return 1.0 / self.time.steps_per_year

    @property
    def n_steps(self) -> int:
        """Whole steps in the horizon: floor(years x steps_per_year), so the run never
        goes past ``time.years`` (the tolerance absorbs float error, e.g. 100/12 x 12)."""
        return math.floor(self.time.years * self.time.steps_per_year + 1e-9)


SECTIONS: dict[str, type[Section]] = {
    name: field.annotation  # type: ignore[misc]
    for name, field in Scenario.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, Section)
}
"""Table name -> parameter class, in file order."""


def parameter_keys() -> list[str]:
    """Every valid dotted key (``"drive.contractor_capacity"``, ``"rule"``, ...)."""
    keys = [k for k in Scenario.model_fields if k not in SECTIONS]
    for table, cls in SECTIONS.items():
        keys += [f"{table}.{k}" for k in cls.model_fields]
    return keys


def integer_keys(names: Iterable[str]) -> set[str]:
    """Those of the dotted keys ``names`` whose parameter is an integer: sampled values
    are rounded to the nearest integer before the scenario is validated (sweeps and
    calibration alike). Unknown keys are left out (they are reported elsewhere)."""
    out = set()
    for name in names:
        table, _, key = name.rpartition(".")
        cls = SECTIONS.get(table) if table else Scenario
        if cls is not None and key in cls.model_fields and cls.model_fields[key].annotation is int:
            out.add(name)
    return out

"""The ``[diffusion]`` table: the mechanisms of policy diffusion that issue 22 adds
(Shipan and Volden 2008; Berry and Berry; Heilmann 2008; Li and Zhou 2005; Volden 2006):
competition through published rankings, mandates with deadlines, designated pilots with
scale-up, learning from outcomes, de-adoption, and duplication by vertical ministries.
Every default switches its mechanism off (ODD §7.18)."""

from __future__ import annotations

from .params_base import MAX_RATE, MAX_YEARS, P, Section


class DiffusionParams(Section):
    """Mechanisms of diffusion (issue 22, item 5)."""

    ranking_pressure: float = P(
        0.0,
        "-",
        "Competition through published rankings: the province ranks governments by the "
        "share of services they serve, once every ranking_interval; a government ranked r-th "
        "from the top (0 = first) multiplies its local hazards by 1 + ranking_pressure x r / "
        "(N - 1) until the next ranking. 0 = no rankings.",
        ge=0,
        le=MAX_RATE,
    )
    ranking_interval: float = P(
        1.0,
        "years",
        "Time between published rankings (rounded to whole steps, at least one).",
        gt=0,
        le=MAX_YEARS,
    )
    mandate_rate: float = P(
        0.0,
        "1/year",
        "A mandate from above: from mandate_year on, every unserved pair of a mandated "
        "service has an added development hazard mandate_rate x c_eff^e x w(t), where w "
        "rises linearly from 0 to 1 until the deadline (mandate_year + mandate_deadline) and "
        "stays 1 after it. The pair complies through the development channel (a catalogue "
        "find where the rule has a catalogue, else its own development; crowded out like "
        "development under the contractor rule). 0 = no mandate.",
        ge=0,
        le=MAX_RATE,
    )
    mandate_year: float = P(
        0.0, "years", "When the mandate is issued (from the start of the run).", ge=0, le=MAX_YEARS
    )
    mandate_deadline: float = P(
        0.0,
        "years",
        "Years from the mandate's issue to its deadline (0 = full pressure at once).",
        ge=0,
        le=MAX_YEARS,
    )
    mandate_services: int = P(
        1000,
        "services",
        "The mandate covers the services of highest demand, this many (all if more).",
        ge=0,
        le=100_000,
    )
    pilot_count: int = P(
        0,
        "governments",
        "Designated pilots: the province designates the governments of highest capacity, "
        "this many; their development hazard is multiplied by 1 + pilot_boost, and a service "
        "whose first pilot solution exists is recognised pilot_lag years after it (scale-up "
        'from "point to surface"; rules with a province). 0 = no pilots.',
        ge=0,
        le=100_000,
    )
    pilot_boost: float = P(
        1.0,
        "-",
        "How much faster a pilot develops (its development hazard x 1 + pilot_boost).",
        ge=0,
        le=MAX_RATE,
    )
    pilot_lag: float = P(
        0.25,
        "years",
        "Recognition lag of a pilot's solution (scale-up), instead of recognition_lag.",
        ge=0,
        le=MAX_YEARS,
    )
    learning_weight: float = P(
        0.0,
        "-",
        "Learning from outcomes: the peer hazard is multiplied by (1 - w) + w x Q / "
        "services.quality_mean, Q the quality of the best solution among the neighbours "
        "that serve the service locally. 0 = copying depends on availability only.",
        ge=0,
        le=1,
    )
    deadoption_rate: float = P(
        0.0,
        "1/year",
        "De-adoption: a locally served pair whose quality x fit is below "
        "deadoption_threshold abandons its solution at this hazard (at most once per pair) and "
        "is unserved again, free to adopt anew. 0 = solutions are never abandoned.",
        ge=0,
        le=MAX_RATE,
    )
    deadoption_threshold: float = P(
        0.4, "-", "Quality x fit below which a local solution may be abandoned.", ge=0, le=1
    )
    ministry_services: int = P(
        0,
        "services",
        "Duplication by vertical ministries (条块): the services of highest demand, this "
        "many, each get a ministry's own vertical system at an exponential time of rate "
        "ministry_rate: a development and a duplicate (of the counties' systems for the "
        "service) at costs.module_build, that serves no county and is not in the catalogue. "
        "0 = none.",
        ge=0,
        le=100_000,
    )
    ministry_rate: float = P(
        0.5,
        "1/year",
        "Hazard of a ministry building its vertical system for one service.",
        ge=0,
        le=MAX_RATE,
    )

"""Parameter tables beyond the four dimensions: costs, risk and the national scenario
(declared like every parameter, :mod:`sim.params_base`; assembled into the scenario by
:mod:`sim.params`)."""

from __future__ import annotations

from .params_base import MAX_COST, MAX_RATE, MAX_YEARS, P, RuleName, Section


class CostsParams(Section):
    development: float = P(1.0, "cost units", "Cost of one local development.", ge=0, le=MAX_COST)
    adaptation: float = P(
        0.4,
        "x development",
        "Cost of adapting a reused solution, without standards.",
        ge=0,
        le=MAX_COST,
    )
    standardization_saving: float = P(
        0.75, "-", "Share of adaptation cost that full standardization removes.", ge=0, le=1
    )
    module_build: float = P(
        2.0, "cost units", "Cost of one contractor module build.", ge=0, le=MAX_COST
    )
    deployment: float = P(
        0.25,
        "cost units",
        "Price of one contractor deployment without competition.",
        ge=0,
        le=MAX_COST,
    )
    competition_discount: float = P(
        0.4, "-", "Share of the deployment price that full market competition removes.", ge=0, le=1
    )
    platform: float = P(
        10.0, "cost units", "One-off contractor platform set-up.", ge=0, le=MAX_COST
    )
    standardize: float = P(
        1.0,
        "cost units",
        "Hybrid rule: the contractor standardising one recognised local solution into a module.",
        ge=0,
        le=MAX_COST,
    )
    migration: float = P(
        0.0,
        "cost units",
        "Cost of migrating one pair to the standard solution (support.consolidation_rate).",
        ge=0,
        le=MAX_COST,
    )
    data_resource: float = P(
        0.5,
        "cost units",
        "A government making one shared data resource (support.data_resources).",
        ge=0,
        le=MAX_COST,
    )
    legacy_migration: float = P(
        0.3,
        "cost units",
        "One attempt at migrating a legacy system (support.legacy_share).",
        ge=0,
        le=MAX_COST,
    )
    crew: float = P(
        0.0,
        "cost units / (deployment/year) / year",
        "The contractor's crew: paid per unit of drive.contractor_capacity per year, from "
        "the start until every pair is served (lifecycle_cost only). 0 = free.",
        ge=0,
        le=MAX_COST,
    )
    operation_local: float = P(
        0.0,
        "cost units / pair-year",
        "Running cost of a locally run system (own, peer or catalogue solution) per served "
        "pair and year (lifecycle_cost only).",
        ge=0,
        le=MAX_COST,
    )
    outage: float = P(
        0.0,
        "cost units / pair-year",
        "Cost of service lost in outages, per pair and year down (lifecycle_cost only): the "
        "owner carries it for local failures, and for platform outages the share "
        "1 - drive.operator_share (the operator the rest). 0 = outages cost nothing.",
        ge=0,
        le=MAX_COST,
    )
    operation_shared: float = P(
        0.0,
        "cost units / pair-year",
        "Running cost of a contractor-run (shared platform) system per served pair and year "
        "(lifecycle_cost only).",
        ge=0,
        le=MAX_COST,
    )
    discount_rate: float = P(
        0.0, "1/year", "Discount rate of lifecycle_cost: (1 + rate) ^ -year.", ge=0, le=1
    )
    recognition: float = P(
        0.0,
        "cost units",
        "The province's cost of recognising one service (assessment, catalogue entry, "
        "promotion): grassroots and hybrid rules; in total_cost and lifecycle_cost.",
        ge=0,
        le=MAX_COST,
    )
    catalogue: float = P(
        0.0,
        "cost units/year",
        "The province's running cost of its catalogue, per year, under the rules that keep "
        "one (grassroots, hybrid; lifecycle_cost only).",
        ge=0,
        le=MAX_COST,
    )
    promotion: float = P(
        0.0,
        "cost units / (1/year) / year",
        "The price of promotion (issue 19): per year, per unit of support.promotion_rate, "
        "under the rule that promotes (grassroots; lifecycle_cost only). 0 = free, as "
        "before.",
        ge=0,
        le=MAX_COST,
    )
    visibility: float = P(
        0.0,
        "cost units / year",
        "The price of catalogue visibility (issue 19): per year, per unit of "
        "support.catalog_visibility (curation, search, mandatory checks), under the rules "
        "whose catalogue is searched (grassroots, hybrid; lifecycle_cost only). 0 = free.",
        ge=0,
        le=MAX_COST,
    )
    assessment: float = P(
        0.0,
        "cost units / round",
        "The price of fast recognition (issue 19): one assessment round every "
        "support.recognition_lag years (at most one a step), so assessment / lag per year, "
        "under the rules that recognise (grassroots, hybrid; lifecycle_cost only). 0 = free.",
        ge=0,
        le=MAX_COST,
    )


class RiskParams(Section):
    """Failures of locally run systems (the contractor's platform: drive.failure_rate)."""

    local_failure_rate: float = P(
        0.0,
        "1/year",
        "Failure hazard of each government's locally run systems, independent between "
        "governments; a failure takes down the government's locally served pairs. 0 = none.",
        ge=0,
        le=MAX_RATE,
    )
    local_outage_duration: float = P(
        0.05,
        "years",
        "Length of a local failure (rounded to whole steps, at least one).",
        ge=0,
        le=MAX_YEARS,
    )
    standard_protection: float = P(
        0.0,
        "-",
        "Share of local failures that spare pairs served from the provincial catalogue "
        "(standardised solutions): their failure hazard is local_failure_rate x "
        "(1 - standard_protection x support.standardization).",
        ge=0,
        le=1,
    )


class NationalParams(Section):
    """A country of provinces, each with its own rule (see :mod:`sim.core.national`)."""

    source: str = P(
        "",
        "-",
        "National scenarios only: CSV of provinces (one row per province; relative to the "
        'scenario file that names it). "" = a single-province scenario.',
    )
    default_rule: RuleName = P(
        "grassroots", "-", "Rule of every province that national.rules does not name."
    )
    rules: dict[str, RuleName] = P(
        {},
        "-",
        'Per-province rule table: province name -> rule, e.g. { Guangdong = "contractor" }.',
    )
    cross_learning: float = P(
        0.1,
        "x peer_learning",
        "Reuse across provinces relative to within: a pair's cross-province hazard is "
        "cross_learning x peer_learning x c_eff x the share of other provinces' governments "
        "using a local solution for the service (x (1 - crowding_out) under the contractor "
        "rule, like within-province peer learning).",
        ge=0,
        le=1,
    )
    sharing_lag: float = P(
        1.0,
        "years",
        "Delay from a service's recognition in one province to its best solution entering "
        "the catalogue of every other province that keeps one (grassroots, hybrid).",
        ge=0,
        le=MAX_YEARS,
    )

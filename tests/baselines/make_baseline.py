"""Freeze the outcome distributions of the engine as it is now (the statistical baseline).

Run from the repository root, once, before a rewrite that changes the random numbers:

    .venv/bin/python tests/baselines/make_baseline.py

It runs every scenario copied into ``tests/baselines/scenarios/`` (copies, so that later
edits of ``scenarios/`` do not move the baseline: every parameter is pinned by these files
and the parameter defaults, written out in full to ``<scenario>.params.json``) under each
rule on seeds 0..SEEDS-1 and writes one row per (rule, seed) with every scalar outcome to
``<scenario>.csv``. ``tests/test_baseline.py`` compares the current engine's outcome means
against these distributions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

import sim

HERE = Path(__file__).resolve().parent
SEEDS = 200
SCENARIOS = ("zhejiang", "guangdong", "teaching", "bass", "linear_rollout", "china")
RULES = {"china": ("mixed", "grassroots", "contractor", "hybrid")}


def main() -> None:
    names = sys.argv[1:] or SCENARIOS
    for name in names:
        scenario = sim.load_scenario(HERE / "scenarios" / f"{name}.toml")
        rules = RULES.get(name, sim.RULES)
        rows = []
        for rule in rules:
            for seed in range(SEEDS):
                rows.append({"rule": rule, "seed": seed, **sim.run_outcomes(scenario, rule, seed)})
            print(name, rule, "done", flush=True)
        pd.DataFrame(rows).to_csv(HERE / f"{name}.csv", index=False, float_format="%.17g")
        params = scenario.model_dump(mode="json")
        (HERE / f"{name}.params.json").write_text(json.dumps(params, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()

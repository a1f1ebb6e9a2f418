"""Make the numbers of docs/teaching.md from the page itself, so the worksheet cannot drift.

Usage (from the repository root)::

    python docs/make_teaching.py           # rewrite the generated blocks of docs/teaching.md
    python docs/make_teaching.py --check   # exit 1 if the doc differs from what the page shows

Every number is read from what the browser of ``sim viz`` receives: a
:class:`sim.interactive.app.Session` on ``scenarios/teaching.toml`` is driven as a teacher
drives the page (``set_mode``, ``set_value``, ``step``, ``to_end``; a slider move restarts the
run with the same seed), and the numbers are taken from its frames (the status line's coverage
chips are ``round(100 * coverage)``; the curves are the frame's ``series``). The text between
``<!-- BEGIN GENERATED name -->`` and ``<!-- END GENERATED name -->`` is rewritten (atomically);
everything else in the doc is left alone. ``tests/test_teaching_doc.py`` re-runs
:func:`facts` and fails when a block differs.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "teaching.md"
SCENARIO = ROOT / "scenarios" / "teaching.toml"
YEAR = 12  # steps per year in the teaching scenario (checked in facts())
OUTAGE_SHOT_FROM = 40  # the outage screenshot: the first outage step from here on (test_browser)


def _series(session: Any, rule: str) -> dict[str, list[float]]:
    """The whole history of ``rule``'s curves, as the browser holds it after a resync."""
    session.publish(resync=True)
    return session.frame["runs"][rule]["series"]


def _pct(x: float) -> int:
    """As the status line shows coverage: ``Math.round(100 * coverage)``."""
    return math.floor(100 * x + 0.5)  # JavaScript rounds halves up


def _t50(series: dict[str, list[float]]) -> float | None:
    """The first year on the coverage curve at or above 50% (None: never)."""
    for year, value in zip(series["year"], series["coverage"], strict=True):
        if value >= 0.5:
            return float(year)
    return None


def _end(session: Any, rule: str) -> dict[str, Any]:
    """Run to the end; the numbers the page shows there."""
    session.to_end()
    s = _series(session, rule)
    run = session.frame["runs"][rule]
    return {
        "duplicates": int(s["duplicate_developments"][-1]),
        "cost": float(s["cost"][-1]),
        "coverage": _pct(run["coverage"]),
        "t50": _t50(s),
    }


def facts() -> dict[str, Any]:
    """Every number docs/teaching.md quotes, computed as the page computes it."""
    from sim.interactive import app

    f: dict[str, Any] = {}
    s = app.Session(SCENARIO)
    try:
        assert s.base.time.steps_per_year == YEAR, "the doc's 'one year' is 12 steps"
        f["n"], f["services"] = int(s.base.population.n_agents), int(s.base.services.count)
        f["seed"] = int(s.base.seed)
        f["vis0"] = s.values.value["support.catalog_visibility"]
        f["fail0"] = s.values.value["drive.failure_rate"]
        # Exercise 1: grassroots, scenario values
        s.step(YEAR)
        f["cov_1y"] = _pct(s.frame["runs"]["grassroots"]["coverage"])
        s.step(YEAR)
        f["cov_2y"] = _pct(s.frame["runs"]["grassroots"]["coverage"])
        f["base"] = _end(s, "grassroots")
        for value, name in ((0.0, "peer0"), (1.6, "peer16")):
            s.set_value("collaboration.peer_learning", value)
            f[name] = _end(s, "grassroots")
        s.restore_defaults()
        # Exercise 2: the catalogue
        for value, name in ((0.9, "vis9"), (0.0, "vis_0"), (1.0, "vis1")):
            s.set_value("support.catalog_visibility", value)
            f[name] = _end(s, "grassroots")
        s.restore_defaults()
        # Things to try: balancing 0.8
        s.set_value("collaboration.balancing", 0.8)
        f["bal8"] = _end(s, "grassroots")
        s.restore_defaults()
        # Exercise 3: contractor, outage rate 1 per year
        s.set_mode("contractor")
        s.set_value("drive.failure_rate", 1.0)
        s.to_end()
        series = _series(s, "contractor")
        outages = []
        cov, down = series["coverage"], series["outage"]
        for t in range(1, len(down)):
            if down[t] > 0 and down[t - 1] <= 0:  # the first step of an outage
                outages.append(
                    {
                        "step": t,
                        "year": series["year"][t],
                        "before": _pct(cov[t - 1]),
                        "during": _pct(cov[t]),
                        "pairs": round((cov[t - 1] - cov[t]) * f["n"] * f["services"]),
                    }
                )
        f["outages"] = outages
        f["shot"] = next(t for t in range(OUTAGE_SHOT_FROM, len(down)) if down[t] > 0)
        s.restore_defaults()
        # Wrap-up: side by side, to the end
        s.set_mode(app.SIDE_BY_SIDE)
        s.to_end()
        f["side"] = {}
        for rule in s.frame["runs"]:
            sr = _series(s, rule)
            run = s.frame["runs"][rule]
            f["side"][rule] = {
                "coverage": _pct(run["coverage"]),
                "duplicates": int(sr["duplicate_developments"][-1]),
                "t50": _t50(sr),
            }
    finally:
        s.close()
    return f


def _y(x: float | None) -> str:
    return "never" if x is None else f"{x:.2f}"


def blocks(f: dict[str, Any]) -> dict[str, str]:
    """The generated blocks of the doc, from :func:`facts`."""
    b, p0, p16 = f["base"], f["peer0"], f["peer16"]
    v9, v0, v1, bal = f["vis9"], f["vis_0"], f["vis1"], f["bal8"]
    first, last = f["outages"][0], max(f["outages"], key=lambda o: o["pairs"])
    pairs = f["n"] * f["services"]
    side = f["side"]
    rules = list(side)
    out = {
        "seed": (
            f"Numbers below are for `scenarios/teaching.toml` with its seed ({f['seed']}), as the "
            "page shows them (they are generated by `docs/make_teaching.py` from the page's own "
            "session and checked by `tests/test_teaching_doc.py`); on another seed they differ a "
            "little, the patterns do not."
        ),
        "ex1": (
            f"**What students should see.** In the first year a few ▲ appear here and there — "
            f"only {f['cov_1y']}% of pairs are served after one year. Then ● and ■ multiply "
            f"around them, inside each prefecture first, and coverage passes 50% at "
            f"{_y(b['t50'])} years: an **S-curve** (below: two years in, {f['cov_2y']}% served "
            "and the curve bending upwards). Every county that has a service gives its "
            "neighbours a reason and a model to copy (peer learning), and once the province "
            "recognises a solution it promotes it through the catalogue. With *Peer learning* "
            f"at 0 the curve is flatter and reaches 50% only after {_y(p0['t50'])} years; at "
            f"1.6, after {_y(p16['t50'])} years."
        ),
        "ex1-figure": (
            "![Grassroots two years in: a few own developments, copies spreading around them "
            f"({f['cov_2y']}% served)](figures/teaching-grassroots.png)"
        ),
        "ex2-settings": (
            "**Settings.** Rule *grassroots*. Press *To the end* and note *Duplicate "
            f"developments* ({b['duplicates']}) and cost ({b['cost']:.0f}). Then move *Catalogue "
            f"visibility* from {f['vis0']:.2f} to 0.90 (the run restarts) and press *To the end* "
            "again. Try 0 and 1 too."
        ),
        "ex2": (
            "**What students should see.** With the catalogue more visible, far fewer "
            "governments build a service that already exists somewhere: duplicates fall from "
            f"{b['duplicates']} to {v9['duplicates']} (at 0: {v0['duplicates']}; at 1: "
            f"{v1['duplicates']}), cost falls from {b['cost']:.0f} to {v9['cost']:.0f}, and "
            + (
                f"coverage is **not** slower (50% still at {_y(b['t50'])} years)"
                if v9["t50"] == b["t50"]
                else f"coverage passes 50% at {_y(v9['t50'])} years instead of {_y(b['t50'])}"
            )
            + ". The map fills with ■ (catalogue) instead of ▲ (own development)."
        ),
        "ex2-figure": (
            f"![Catalogue visibility 0.9, at the end: ■ everywhere, {v9['duplicates']} "
            "duplicates](figures/teaching-catalogue.png)"
        ),
        "ex3": (
            "**What students should see.** During an outage every ◆ government is crossed out "
            "and the coverage curve drops for a month or two (a red band), then jumps back. "
            "Early outages barely show; late ones wipe out most of the province's services at "
            "once, because by then the contractor serves most of them: on this seed, with "
            f"*Outage rate* 1, the first outage (year {first['year']:.1f}) takes coverage from "
            f"{first['before']}% to {first['during']}% ({first['pairs']} government–services "
            f"cut), the largest (year {last['year']:.1f}) from {last['before']}% to "
            f"{last['during']}% ({last['pairs']} of the {pairs}). Under *grassroots* there are "
            "no outages (each county runs its own systems)."
        ),
        "ex3-figure": (
            f"![Contractor rule, outage rate 1.0: the outage of step {f['shot']} (year "
            f"{f['shot'] / YEAR:.1f}) takes every contractor service down]"
            "(figures/teaching-outage.png)"
        ),
        "wrapup-figure": (
            "![All three rules on the same seed, to the end: coverage "
            + " / ".join(f"{side[r]['coverage']}%" for r in rules)
            + ", duplicates "
            + " / ".join(str(side[r]["duplicates"]) for r in rules)
            + f" ({', '.join(rules)})](figures/teaching-side-by-side.png)"
        ),
        "try": (
            "* Open *About* (below) and try the scenario's own suggestions, e.g. *Balancing* "
            "0.8: the province helps lagging counties, and the grassroots rule ends at "
            f"{bal['coverage']}% instead of {b['coverage']}% and passes 50% at "
            f"{_y(bal['t50'])} years instead of {_y(b['t50'])}."
        ),
    }
    return out


BLOCK = re.compile(r"(<!-- BEGIN GENERATED (\S+) -->\n)(.*?)(\n<!-- END GENERATED \2 -->)", re.S)


def doc_blocks(text: str) -> dict[str, str]:
    """The generated blocks found in the doc's text."""
    return {m.group(2): m.group(3) for m in BLOCK.finditer(text)}


def rewrite(text: str, new: dict[str, str]) -> str:
    missing = set(new) - set(doc_blocks(text))
    if missing:
        raise SystemExit(f"{DOC}: no generated block for {sorted(missing)}")
    return BLOCK.sub(lambda m: m.group(1) + new.get(m.group(2), m.group(3)) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a difference")
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    new = rewrite(text, blocks(facts()))
    if args.check:
        if new != text:
            print(f"{DOC}: its numbers differ from the page's; run python docs/make_teaching.py")
            return 1
        return 0
    fd, tmp = tempfile.mkstemp(dir=DOC.parent, prefix=".teaching.", suffix=".md")
    with os.fdopen(fd, "w", encoding="utf-8") as sink:
        sink.write(new)
    os.replace(tmp, DOC)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Writing the sign atlas of a sweep folder: ``signs.csv``, ``importance.csv``,
``rules.csv``, ``facts.csv``, ``families.csv``, ``maps/*.png`` and ``report.md`` (last).

The computations are in :mod:`sim.analysis.atlas`; this module turns them into files and
sentences. ``DIR/atlas.json`` (written by ``sim atlas`` beside the sweep) holds the
atlas settings (interval level, tree depth) and the prior's reasons; without it the
defaults apply and the report lists no reasons.

``facts.csv`` (one row per contrast and outcome) is the sentence the docs quote: the
*dominant* sign is the more frequent of positive and negative; the fact "holds" in its
share of the space, "reverses" in the other's, and "reverses when" lists the tree's leaves
that predict the opposite sign (empty when none does).

``families.csv`` (one row per contrast, outcome and family) answers issue 22's "how does
each contrast respond to each family": the importance of a family is the sum of its
parameters' importances, each clipped at 0 (a negative permutation importance is noise:
shuffling the column happened to help), and ``share`` is that sum over the sum of all
families' (0 when nothing decides the sign). Families come from ``atlas.json`` (the prior's
``family`` of each parameter), else from the key's table.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import write_csv, write_text
from ..outcomes import BY_NAME
from .atlas import Atlas, compute_atlas
from .sweeps import Sweep, load_sweep

SETTINGS = "atlas.json"
FILES = ("signs.csv", "importance.csv", "rules.csv", "facts.csv", "families.csv", "maps")
FACTS_COLUMNS = (
    "contrast", "outcome", "holds", "better", "holds_share", "reverses_share",
    "unclear_share", "n_points", "reverses_when", "decided_by", "accuracy",
)  # fmt: skip
FAMILY_COLUMNS = ("contrast", "outcome", "family", "importance", "share", "parameters", "top")
COLOURS = {1: "#2b6cb0", -1: "#c53030", 0: "#a0aec0"}


def read_settings(folder: Path) -> dict[str, Any]:
    path = folder / SETTINGS
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def analyze_atlas(folder: Path, *, maps: bool = True) -> Atlas:
    """Compute the atlas of the complete sweep in ``folder`` and write its files (each
    atomically, the maps folder as a whole, ``report.md`` last)."""
    from ..outputs import replace_folder

    sweep = load_sweep(Path(folder))
    settings = read_settings(sweep.path)
    directions = {o: BY_NAME[o].direction for o in sweep.outcomes if o in BY_NAME}
    atlas = compute_atlas(
        sweep,
        level=float(settings.get("level", 0.95)),
        max_depth=int(settings.get("max_depth", 2)),
        directions=directions,
    )
    facts = facts_table(atlas)
    families = family_table(atlas.importance, settings.get("families") or {})
    tmp = Path(tempfile.mkdtemp(prefix=".atlas.tmp-", dir=sweep.path))
    try:
        drawn = draw_maps(sweep, atlas, tmp / "maps") if maps else []
        (sweep.path / "report.md").unlink(missing_ok=True)  # no report: the rest is in motion
        write_csv(sweep.path / "signs.csv", atlas.signs)
        write_csv(sweep.path / "importance.csv", atlas.importance)
        write_csv(sweep.path / "rules.csv", atlas.rules)
        write_csv(sweep.path / "facts.csv", facts)
        write_csv(sweep.path / "families.csv", families)
        if maps:
            replace_folder(tmp / "maps", sweep.path / "maps")
        text = render(sweep, atlas, facts, settings, drawn, families)
        write_text(sweep.path / "report.md", text)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return atlas


# --------------------------------------------------------------------------- facts


def _better(contrast: str, direction: str, sign: str) -> str:
    """Which rule the sign favours (``""`` for an outcome without a direction)."""
    a, _, b = (s.strip() for s in contrast.partition(" - "))
    if direction not in ("max", "min") or sign not in ("positive", "negative"):
        return ""
    a_higher = sign == "positive"
    return a if a_higher == (direction == "max") else b


def facts_table(atlas: Atlas) -> pd.DataFrame:
    """One sentence's numbers per contrast and outcome (see the module docstring)."""
    rows = []
    for s in atlas.signs.itertuples(index=False):
        holds = "positive" if s.positive >= s.negative else "negative"
        other = "negative" if holds == "positive" else "positive"
        key = (atlas.rules.contrast == s.contrast) & (atlas.rules.outcome == s.outcome)
        leaves = atlas.rules[key]
        reverses = " or ".join(
            f"({c})" if " and " in c else c for c in leaves[leaves.sign == other].condition if c
        )
        imp = atlas.importance[
            (atlas.importance.contrast == s.contrast) & (atlas.importance.outcome == s.outcome)
        ]
        top = imp[imp.importance > 0].sort_values("rank").head(2)
        rows.append({
            "contrast": s.contrast, "outcome": s.outcome, "holds": holds,
            "better": _better(s.contrast, s.direction, holds),
            "holds_share": getattr(s, holds), "reverses_share": getattr(s, other),
            "unclear_share": s.unclear, "n_points": s.n_points, "reverses_when": reverses,
            "decided_by": ", ".join(top.parameter),
            "accuracy": float(leaves.accuracy.iloc[0]) if len(leaves) else math.nan,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(FACTS_COLUMNS))


def family_of(name: str, families: dict[str, str]) -> str:
    """A parameter's family: the recorded one, else its key's table."""
    return families.get(name) or name.partition(".")[0]


def family_table(importance: pd.DataFrame, families: dict[str, str]) -> pd.DataFrame:
    """Summed importance by family per contrast and outcome (see the module docstring);
    families in the order they first appear among the parameters, rows of one contrast and
    outcome together."""
    rows = []
    for (contrast, outcome), group in importance.groupby(["contrast", "outcome"], sort=False):
        fam = [family_of(p, families) for p in group.parameter]
        clipped = np.clip(group.importance.to_numpy(dtype=float), 0.0, None)
        total = float(clipped.sum())
        for family in dict.fromkeys(fam):
            mine = np.array([f == family for f in fam])
            value = float(clipped[mine].sum())
            best = group[mine].sort_values("rank").iloc[0]
            rows.append({
                "contrast": contrast, "outcome": outcome, "family": family,
                "importance": value, "share": value / total if total > 0 else 0.0,
                "parameters": int(mine.sum()),
                "top": best.parameter if best.importance > 0 else "",
            })  # fmt: skip
    return pd.DataFrame(rows, columns=list(FAMILY_COLUMNS))


def family_lines(families: pd.DataFrame, *, contrast: str) -> list[str]:
    """A markdown table of one contrast: a row per outcome, a column per family, each cell
    the family's share of the summed importance (its most important parameter in the
    text)."""
    sub = families[families.contrast == contrast]
    names = list(dict.fromkeys(sub.family))
    lines = ["| outcome | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for outcome, group in sub.groupby("outcome", sort=False):
        share = dict(zip(group.family, group.share, strict=True))
        lines.append(f"| `{outcome}` | " + " | ".join(pct(share.get(n, 0.0)) for n in names)
                     + " |")  # fmt: skip
    return lines


def pct(v: float) -> str:
    """A share as a whole percentage; "<1%" for a share above 0 that rounds to 0."""
    if not math.isfinite(v):
        return "–"
    return "<1%" if 0 < v < 0.005 else f"{100 * v:.0f}%"


def sentence(fact: Any) -> str:
    """``fact`` (a row of facts.csv) as the sentence the docs quote."""
    who = f" ({fact.better} better)" if isinstance(fact.better, str) and fact.better else ""
    text = (
        f"`{fact.outcome}` ({fact.contrast}) is {fact.holds}{who} in {pct(fact.holds_share)} "
        f"of the plausible space, the other way in {pct(fact.reverses_share)}, not "
        f"distinguishable in {pct(fact.unclear_share)}"
    )
    when = fact.reverses_when if isinstance(fact.reverses_when, str) else ""
    if fact.reverses_share == 0:
        return text + "; it never reverses in the sampled space."
    if when:
        return text + f"; it reverses when {when}."
    return text + "; it reverses only at scattered points (no shallow rule separates them)."


# --------------------------------------------------------------------------- maps


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def map_name(contrast: str, outcome: str) -> str:
    return f"{slug(outcome)}__{slug(contrast)}.png"


def draw_maps(sweep: Sweep, atlas: Atlas, folder: Path) -> list[str]:
    """A 2-D sign map per contrast and outcome over its two most important parameters:
    every design point, coloured by its sign."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    if len(sweep.parameters) < 2:
        return []
    X = np.asarray(sweep.X, dtype=float)
    drawn = []
    for (contrast, outcome), s in atlas.point_signs.items():
        imp = atlas.importance[
            (atlas.importance.contrast == contrast) & (atlas.importance.outcome == outcome)
        ].sort_values("rank")
        names = list(imp.parameter[:2]) if len(imp) >= 2 else sweep.parameters[:2]
        i, j = (sweep.parameters.index(n) for n in names)
        fig, ax = plt.subplots(figsize=(5.2, 4.2))
        for value, label in ((1, "positive"), (-1, "negative"), (0, "unclear")):
            m = s == value
            ax.scatter(X[m, i], X[m, j], s=12, c=COLOURS[value], label=f"{label} ({m.sum()})",
                       alpha=0.8, edgecolors="none")  # fmt: skip
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_title(f"{outcome}: sign of {contrast}", fontsize=10)
        ax.legend(fontsize=8, loc="best", framealpha=0.8)
        fig.tight_layout()
        name = map_name(contrast, outcome)
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        drawn.append(name)
    return drawn


# --------------------------------------------------------------------------- report


def render(
    sweep: Sweep,
    atlas: Atlas,
    facts: pd.DataFrame,
    settings: dict[str, Any],
    drawn: list[str],
    families: pd.DataFrame | None = None,
) -> str:
    m = sweep.manifest
    lines = [
        "# Sign atlas",
        "",
        f"- Design: {m['method']} over {len(sweep.parameters)} parameters, "
        f"{sweep.n_points:,} points x {sweep.replicates} paired replicates x "
        f"{len(sweep.rules)} rules ({sweep.n_runs:,} runs), seed {m.get('seed')}.",
        f"- A point's sign: the {100 * atlas.level:.0f}% Student-t interval of the mean "
        "paired difference (same seeds under every rule) excludes 0 (positive or negative), "
        f"else unclear. Shares with {100 * atlas.level:.0f}% Wilson intervals.",
        "- Importance: permutation importance (drop in out-of-fold accuracy) of a random "
        f"forest classifying the sign; rules: a decision tree of depth "
        f"{settings.get('max_depth', 2)}, its {4}-fold out-of-sample accuracy beside the "
        "accuracy of always guessing the most frequent sign.",
    ]
    if settings.get("priors"):
        lines.append(f"- Priors: `{settings['priors']}`.")
    lines += ["", "## What holds where", ""]
    for f in facts.itertuples(index=False):
        lines.append(f"- {sentence(f)}")
    lines += ["", "## Shares of the space", "",
              "| contrast | outcome | positive | negative | unclear | points |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for s in atlas.signs.itertuples(index=False):
        cells = [
            f"{pct(getattr(s, k))} [{pct(getattr(s, k + '_low'))}, {pct(getattr(s, k + '_high'))}]"
            for k in ("positive", "negative", "unclear")
        ]
        lines.append(f"| {s.contrast} | {s.outcome} | {' | '.join(cells)} | {s.n_points} |")
    if families is not None and len(families):
        lines += ["", "## Which families decide the sign", "",
                  "Each family's share of the summed permutation importance (negative "
                  "importances count 0); `families.csv` has the sums and each family's "
                  "most important parameter.", ""]  # fmt: skip
        for contrast in dict.fromkeys(families.contrast):
            lines += [f"{contrast}:", "", *family_lines(families, contrast=contrast), ""]
    lines += ["", "## What decides the sign, and the rules", ""]
    for (contrast, outcome), group in atlas.rules.groupby(["contrast", "outcome"], sort=False):
        imp = atlas.importance[
            (atlas.importance.contrast == contrast) & (atlas.importance.outcome == outcome)
        ].sort_values("rank")
        top = ", ".join(
            f"`{r.parameter}` {r.importance:.2f}" for r in imp.head(3).itertuples() if r.importance
        )
        g = group.iloc[0]
        lines.append(
            f"### {outcome} ({contrast})\n\nMost important: {top or 'nothing (one sign)'}. "
            f"Tree accuracy {g.accuracy:.2f} out of sample (baseline {g.baseline_accuracy:.2f})."
        )
        lines.append("")
        for r in group.itertuples(index=False):
            where = r.condition or "everywhere"
            lines.append(f"- {r.sign} when {where} ({r.n_points} points, {pct(r.purity)} pure)")
        name = map_name(contrast, outcome)
        if name in drawn:
            lines += ["", f"![sign map](maps/{name})"]
        lines.append("")
    reasons = settings.get("reasons") or {}
    if reasons:
        lines += [
            "## The plausible space",
            "",
            "| parameter | low | high | why |",
            "|---|---|---|---|",
        ]
        bounds = settings.get("bounds", {})
        for name, why in reasons.items():
            lo, hi = bounds.get(name, ["", ""])
            lines.append(f"| `{name}` | {lo} | {hi} | {why} |")
        lines.append("")
    return "\n".join(lines) + "\n"

"""Run the sign atlas of Zhejiang and Guangdong and write what the docs quote from it.

    python docs/make_atlas.py            # runs (or resumes) both atlases, then writes
    python docs/make_atlas.py --no-run   # only rewrites the docs from docs/atlas/*/

Steps:

1. ``sim atlas experiments/atlas_<province>.toml --out results/atlas_<province> --workers 1``
   for both provinces (resumable; the design is in the atlas files).
2. Copies ``signs.csv``, ``importance.csv``, ``rules.csv``, ``facts.csv`` and
   ``families.csv`` into
   ``docs/atlas/<province>/`` (committed) and the sign maps of speed and duplicates into
   ``docs/figures/atlas-<province>-<outcome>.png``.
3. Writes ``docs/atlas.md`` and the generated blocks ``atlas`` of
   ``docs/stylized-facts.md`` and ``README.md`` from those committed CSVs only
   (:func:`render_page`, :func:`render_block`, :func:`render_table`), so
   ``tests/test_atlas_docs.py`` can check that every number the docs quote equals the CSVs.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PROVINCES = ("zhejiang", "guangdong")
FILES = ("signs.csv", "importance.csv", "rules.csv", "facts.csv", "families.csv")
MAPS = ("t50_years", "duplicate_developments")
PAGE = DOCS / "atlas.md"
FACTS_DOC = DOCS / "stylized-facts.md"
README = ROOT / "README.md"
BEGIN, END = "<!-- BEGIN GENERATED atlas -->", "<!-- END GENERATED atlas -->"


def run(province: str) -> Path:
    out = ROOT / "results" / f"atlas_{province}"
    exp = ROOT / "experiments" / f"atlas_{province}.toml"
    cmd = [sys.executable, "-m", "sim", "atlas", str(exp), "--out", str(out), "--workers", "1"]
    if (out / "manifest.json").is_file():
        cmd.append("--resume")
    subprocess.run(cmd, check=True)
    return out


def collect(province: str, out: Path) -> None:
    target = DOCS / "atlas" / province
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(out / name, target / name)
    for outcome in MAPS:
        src = out / "maps" / f"{outcome}__grassroots_contractor.png"
        if src.is_file():
            shutil.copyfile(src, DOCS / "figures" / f"atlas-{province}-{outcome}.png")


def load(province: str) -> dict[str, pd.DataFrame]:
    folder = DOCS / "atlas" / province
    return {name[:-4]: pd.read_csv(folder / name, keep_default_na=False) for name in FILES}


def design(province: str) -> dict:
    """The atlas file's design and settings (replicates, level, tree depth): the page quotes
    them from the committed experiment files, not from memory."""
    from sim.io import read_toml

    data = read_toml(ROOT / "experiments" / f"atlas_{province}.toml")
    atlas = data.get("atlas", {})
    return {
        "method": data["design"]["method"],
        "replicates": int(data["design"]["replicates"]),
        "level": float(atlas.get("level", 0.95)),
        "max_depth": int(atlas.get("max_depth", 2)),
    }


def frontier() -> tuple[int, float]:
    """The frontier script's replicates and promotion price (quoted in the page)."""
    spec = importlib.util.spec_from_file_location("make_frontier", DOCS / "make_frontier.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return int(module.REPLICATES), float(module.PRICE["costs.promotion"])


def _sentence(fact) -> str:
    from sim.analysis.atlas_report import sentence

    return sentence(fact)


def render_block() -> str:
    """The generated block of docs/stylized-facts.md: one sentence per contrast, outcome
    and province."""
    lines = [BEGIN, ""]
    for province in PROVINCES:
        t = load(province)
        facts, n_par = t["facts"], t["importance"].parameter.nunique()
        lines.append(f"**{province.capitalize()}** (grassroots − contractor, "
                     f"{int(facts.n_points.iloc[0])} points of the {n_par}-parameter "
                     "plausible space):")  # fmt: skip
        lines.append("")
        for fact in facts.itertuples(index=False):
            lines.append(f"- {_sentence(fact)}")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def render_table() -> str:
    """The generated block of README.md: per outcome and province, the share of the
    plausible space where each rule is better and where the sign is unclear."""
    from sim.analysis.atlas_report import pct

    signs = {p: load(p)["signs"].set_index("outcome") for p in PROVINCES}
    lines = [BEGIN, "", "| outcome (better) | " + " | ".join(p.capitalize() for p in PROVINCES)
             + " |", "|---|" + "---|" * len(PROVINCES)]  # fmt: skip
    for outcome in signs[PROVINCES[0]].index:
        cells = []
        for p in PROVINCES:
            s = signs[p].loc[outcome]
            up = s.direction == "max"  # positive (grassroots higher) is grassroots better
            g, c = (s.positive, s.negative) if up else (s.negative, s.positive)
            cells.append(f"grassroots {pct(g)}, contractor {pct(c)}, unclear {pct(s.unclear)}")
        lines.append(f"| `{outcome}` ({signs[PROVINCES[0]].loc[outcome].direction}) | "
                     + " | ".join(cells) + " |")  # fmt: skip
    lines += ["", END]
    return "\n".join(lines)


def render_page() -> str:
    """docs/atlas.md, from the committed CSVs only."""
    from sim.analysis.atlas_report import family_lines, pct

    d = design(PROVINCES[0])
    assert all(design(p) == d for p in PROVINCES), "the provinces' atlases differ in design"
    level, method = f"{100 * d['level']:.0f}%", {"lhs": "a Latin hypercube", "sobol": "Sobol'"}
    lines = [
        "# The sign atlas: which rule wins where",
        "",
        "<!-- generated by docs/make_atlas.py from docs/atlas/*/; do not edit -->",
        "",
        "Each contrast of the study (grassroots − contractor), over the *plausible space* of",
        f"every parameter that acts on any rule: {method[d['method']]} over the prior files",
        "`scenarios/priors/zhejiang.toml` and `scenarios/priors/guangdong.toml` (each range",
        f"with its reason), {d['replicates']} paired replicates per point. A point's sign is",
        f"positive or negative when the {level} interval of its mean paired difference",
        f"excludes 0, else unclear; shares carry {level} Wilson intervals. Which parameters",
        "decide the sign: permutation importance of a random forest (out of fold); by",
        "family: the summed importance of a family's parameters (negative ones count 0) as a",
        "share of all (a family of many parameters collects some importance from noise alone:",
        "the `costs` parameters change no outcome but the costs, so their share of any other",
        "outcome shows that floor); where it holds: a decision tree of depth",
        f"{d['max_depth']} with its out-of-sample accuracy. Method: `sim/analysis/atlas.py`;",
        "reproduce with `python docs/make_atlas.py`.",
        "",
    ]
    for province in PROVINCES:
        t = load(province)
        lines += [f"## {province.capitalize()}", ""]
        lines += ["| outcome | positive | negative | unclear | points | decided by | "
                  "tree accuracy (baseline) |", "|---|---|---|---|---|---|---|"]  # fmt: skip
        facts = t["facts"].set_index("outcome")
        for s in t["signs"].itertuples(index=False):
            f = facts.loc[s.outcome]
            base = t["rules"][t["rules"].outcome == s.outcome].baseline_accuracy
            cells = [
                f"{pct(getattr(s, k))} [{pct(getattr(s, k + '_low'))}, "
                f"{pct(getattr(s, k + '_high'))}]"
                for k in ("positive", "negative", "unclear")
            ]
            decided = f.decided_by or "–"
            acc = f"{float(f.accuracy):.2f} ({float(base.iloc[0]):.2f})" if len(base) else "–"
            lines.append(f"| `{s.outcome}` | {' | '.join(cells)} | {s.n_points} | {decided} | "
                         f"{acc} |")  # fmt: skip
        lines += ["", "Which families decide the sign (share of the summed importance; "
                  "`families.csv` names each family's most important parameter):", ""]
        for contrast in dict.fromkeys(t["families"].contrast):
            lines += family_lines(t["families"], contrast=contrast)
        lines += ["", "In words:", ""]
        for fact in t["facts"].itertuples(index=False):
            lines.append(f"- {_sentence(fact)}")
        lines += ["", "The rules (one per leaf of each tree):", ""]
        for outcome, group in t["rules"].groupby("outcome", sort=False):
            for r in group.itertuples(index=False):
                where = r.condition or "everywhere"
                lines.append(f"- `{outcome}`: {r.sign} when {where} ({r.n_points} points, "
                             f"{pct(r.purity)} of them)")  # fmt: skip
        lines.append("")
        for outcome in MAPS:
            fig = f"figures/atlas-{province}-{outcome}.png"
            if (DOCS / fig).is_file():
                lines += [f"![{province}: sign of {outcome}]({fig})", ""]
    replicates, price = frontier()
    lines += [
        "## Each rule over its own lever",
        "",
        "What speed costs under each rule on Zhejiang (`python docs/make_frontier.py`,",
        f"{replicates} paired replicates a point): the contractor over its capacity,",
        "grassroots over its promotion rate priced at",
        f"`costs.promotion` = {price:g}. The contractor's speed stops improving where capacity",
        "no longer binds (modules come at `drive.build_rate`): beyond it, capacity buys cost",
        "only and value for money falls.",
        "",
        "![cost-effectiveness frontiers](figures/frontier-zhejiang.png)",
        "",
    ]
    return "\n".join(lines).rstrip() + "\n"


def _replace_block(path: Path, block: str) -> None:
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text:
        raise SystemExit(f"{path}: no {BEGIN} block")
    head, rest = text.split(BEGIN, 1)
    path.write_text(head + block + rest.split(END, 1)[1], encoding="utf-8")


def write_docs() -> None:
    PAGE.write_text(render_page(), encoding="utf-8")
    _replace_block(FACTS_DOC, render_block())
    _replace_block(README, render_table())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="only rewrite the docs")
    args = parser.parse_args(argv)
    if not args.no_run:
        for province in PROVINCES:
            collect(province, run(province))
    write_docs()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())

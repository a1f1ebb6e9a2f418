"""Write the generated parts of docs/calibration.md and README.md (issue 20).

* the table of derived statistics (from ``sim.calibrate.statistics.DERIVED``);
* the numbers of the model-choice benchmark (from benchmarks/choice-recovery-results.json,
  written by ``python benchmarks/choice_recovery.py``).

Each goes between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` markers.

    python docs/make_calibration.py           # rewrite the blocks
    python docs/make_calibration.py --check   # exit 1 if a block is out of date

tests/test_choice.py checks that the files hold what this script writes.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "calibration.md"
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "choice-recovery-results.json"
SHORT = {"collaboration.innovation_rate": "innovation rate",
         "drive.contractor_capacity": "contractor capacity"}  # fmt: skip


def _confusion(rules: list[str], matrix: list[list[int]]) -> list[str]:
    lines = ["| true \\ chosen | " + " | ".join(rules) + " |", "| --- |" + " ---: |" * len(rules)]
    for rule, row in zip(rules, matrix, strict=True):
        lines.append(f"| {rule} | " + " | ".join(str(int(v)) for v in row) + " |")
    return lines


def _coverage(c: dict[str, Any]) -> str:
    return "; ".join(
        f"{SHORT.get(k, k)} {v['in50']:.2f} (50%) and {v['in90']:.2f} (90%)"
        for k, v in c["coverage"].items()
    )


def _interval(x: Any) -> str:
    return "died out" if x is None else f"[{x[0]:.3g}, {x[1]:.3g}]"


def choice_block(d: dict[str, Any]) -> str:
    """The benchmark's numbers for docs/calibration.md."""
    rules, ref = d["rules"], d["reference"]
    basic, full = d["rf"]["basic"], d["rf"]["all"]
    lines = [
        f"`{d['command']}` ({d['machine']}): a reference table of {ref['runs']:,} Zhejiang "
        f"runs in {ref['seconds']:.0f} s (**{ref['runs_per_s']:.0f} runs/s**, one process, "
        f"batches of 256 runs), forests of {d['trees']} trees; {d['truths_per_rule']} truths "
        "per rule drawn from the priors for the check.",
        "",
        "| statistics | targets | out-of-bag accuracy | check accuracy | verdict named a "
        "winner | coverage of the 50% / 90% intervals |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, case in (("coverage and duplicates at years 1-8", basic),
                       ("... plus the derived statistics", full)):  # fmt: skip
        c = case["check"]
        lines.append(
            f"| {name} | {case['statistics']} | {case['oob_accuracy']:.3f} | "
            f"**{c['accuracy']:.3f}** | {c['decided']:.0%} | {_coverage(c)} |"
        )
    lines += ["", "Confusion matrix of the check, with the derived statistics:", ""]
    lines += _confusion(rules, full["check"]["confusion"])
    lines += ["", "and with coverage and duplicates only:", ""]
    lines += _confusion(rules, basic["check"]["confusion"])
    imp = ", ".join(f"`{k}` {v:.2f}" for k, v in list(full["importance"].items())[:5])
    lines += ["", f"The statistics the choice rested on (importance): {imp}.", ""]
    truth = d["truth"]
    values = ", ".join(f"{SHORT.get(k, k)} {v:g}" for k, v in truth["parameters"].items())
    lines.append(
        f"On the shipped data (truth: {truth['rule']}, {values}) the forests with the "
        f"derived statistics give {full['observed']['verdict'].removeprefix('Verdict: ')} "
        f"P({full['observed']['selected']}) = "
        f"{full['observed']['probabilities'][full['observed']['selected']]:.3f}; 90% "
        "intervals under the true rule: "
        + ", ".join(f"{SHORT.get(k, k)} {_interval(full['observed'][k])}" for k in d["parameters"])
        + "."
    )
    smc = d.get("smc")
    if smc:
        c = smc["check"]
        p = smc["observed"]["probabilities"]
        lines += [
            "",
            f"ABC-SMC on the same statistics ({smc['population']} particles, "
            f"{smc['generations']} generations, fixed-scale distance) on {c['truths']} of "
            f"those truths ({smc['seconds']:.0f} s): accuracy {c['accuracy']:.3f}, "
            f"coverage {_coverage(c)}. On the shipped data: "
            + ", ".join(f"P({r}) = {v:.3f}" for r, v in p.items())
            + "; 90% intervals under the true rule: "
            + ", ".join(
                f"{SHORT.get(k, k)} {_interval(smc['observed'][k])}" for k in d["parameters"]
            )
            + ".",
        ]
    return "\n".join(lines)


def readme_block(d: dict[str, Any]) -> str:
    full, basic, ref = d["rf"]["all"], d["rf"]["basic"], d["reference"]
    c = full["check"]
    return (
        f"On the shipped Zhejiang (`benchmarks/choice_recovery.py`): a reference table of "
        f"{ref['runs']:,} runs at {ref['runs_per_s']:.0f} runs/s; over "
        f"{d['truths_per_rule']} truths per rule from the priors the random forests choose "
        f"the right rule {c['accuracy']:.0%} of the time with the derived statistics "
        f"({basic['check']['accuracy']:.0%} with coverage and duplicates alone); coverage of "
        f"the 50% / 90% intervals: {_coverage(c)}."
    )


def statistics_block() -> str:
    sys.path.insert(0, str(ROOT))
    from sim.calibrate.statistics import table

    return table()


def blocks() -> dict[Path, dict[str, str]]:
    d = json.loads(RESULTS.read_text(encoding="utf-8"))
    return {
        DOC: {"statistics": statistics_block(), "choice": choice_block(d)},
        README: {"choice": readme_block(d)},
    }


def replace(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:begin -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"no <!-- {name}:begin/end --> markers")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def main(argv: list[str]) -> int:
    stale = []
    for path, parts in blocks().items():
        text = path.read_text(encoding="utf-8")
        new = text
        for name, body in parts.items():
            new = replace(new, name, body)
        if new != text:
            stale.append(path.name)
            if "--check" not in argv:
                path.write_text(new, encoding="utf-8")
    if "--check" in argv and stale:
        print("out of date: " + ", ".join(stale) + " (run python docs/make_calibration.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

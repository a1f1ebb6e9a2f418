"""Which rule explains the data — or "undecided between ...": the one place that decides.

A calibration names a winner only when three things agree (issue 20):

1. the winner's probability is high: P(selected | data) >= :data:`LEVEL`;
2. the answer is stable: it has settled (the last two ABC-SMC generations; for random
   forests, a second forest with another seed on half of the reference table) and does
   not change with the ABC seed — each *alternative* answer selects the same rule with a
   probability within :data:`SETTLED`;
3. the statistics can tell the winner from every other rule over the prior: in the
   (out-of-bag) confusion matrix, the two rules are taken for each other in at most
   :data:`CONFUSED` of their runs.

Otherwise the report says "undecided between" the rules that remain in play: the winner,
any rule with at least :data:`IN_PLAY` probability, the rules the alternatives selected,
and the rules confused with the winner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

LEVEL = 0.8
"""Probability the selected rule needs to be named the winner."""
SETTLED = 0.1
"""Largest change of the winner's probability between alternative answers."""
CONFUSED = 0.2
"""Largest share of two rules' runs taken for each other that still counts as separable."""
IN_PLAY = 0.1
"""Probability at which a rule stays in play in an undecided verdict."""


@dataclass(frozen=True)
class Answer:
    """One answer to "which rule": the selected rule and P(rule | data) of every rule."""

    selected: str
    probabilities: Mapping[str, float]

    @property
    def probability(self) -> float:
        return float(self.probabilities[self.selected])


@dataclass(frozen=True)
class Verdict:
    decided: bool
    rules: list[str]  # the winner alone, or the rules in play
    reasons: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        if self.decided:
            return f"**{self.rules[0]}**"
        return "**undecided between " + " and ".join(self.rules) + "**"

    def sentence(self) -> str:
        """The verdict and why, for report.md."""
        if self.decided:
            return f"Verdict: {self.text} (probability, stability and separability agree)."
        return f"Verdict: {self.text}: " + "; ".join(self.reasons) + "."


def pair_confusion(confusion: pd.DataFrame, a: str, b: str) -> float:
    """Share of the runs of rules a and b that were taken for the other one."""
    if a not in confusion.index or b not in confusion.index:
        return 0.0
    wrong = float(confusion.at[a, b] + confusion.at[b, a])
    total = float(confusion.loc[a].sum() + confusion.loc[b].sum())
    return wrong / total if total > 0 else 0.0


def verdict(
    answer: Answer,
    *,
    alternatives: Sequence[Answer] = (),
    confusion: pd.DataFrame | None = None,
    settled: bool = True,
) -> Verdict:
    """The verdict on ``answer`` (see the module docstring)."""
    rules = list(answer.probabilities)
    if len(rules) == 1:
        return Verdict(True, rules)
    win = answer.selected
    play = [win]
    reasons = []

    def add(rule: str) -> None:
        if rule not in play:
            play.append(rule)

    if answer.probability < LEVEL:
        reasons.append(f"P({win} | data) = {answer.probability:.2f} is below {LEVEL}")
        ranked = sorted(rules, key=lambda r: -answer.probabilities[r])
        for r in ranked:
            if answer.probabilities[r] >= IN_PLAY:
                add(r)
        if len(play) == 1:
            add(next(r for r in ranked if r != win))
    if not settled:
        reasons.append("the probabilities have not settled")
        for r in rules:
            if answer.probabilities[r] >= IN_PLAY:
                add(r)
    for alt in alternatives:
        if alt.selected != win:
            reasons.append(f"another seed selects {alt.selected}")
            add(alt.selected)
        elif abs(alt.probability - answer.probability) > SETTLED:
            reasons.append(
                f"P({win} | data) moves from {answer.probability:.2f} to {alt.probability:.2f} "
                "with another seed"
            )
    if confusion is not None:
        for r in rules:
            if r != win and (rate := pair_confusion(confusion, win, r)) > CONFUSED:
                reasons.append(f"the statistics confuse {win} and {r} in {rate:.0%} of their runs")
                add(r)
    if not reasons:
        return Verdict(True, [win])
    if len(play) == 1:  # unstable, but no other rule in play: name the runner-up
        add(max((r for r in rules if r != win), key=lambda r: answer.probabilities[r]))
    return Verdict(False, play, reasons)


__all__ = ["CONFUSED", "IN_PLAY", "LEVEL", "SETTLED", "Answer", "Verdict", "verdict"]

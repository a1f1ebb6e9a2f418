"""Class mode: the class plays the counties (HubNet for this model; issue 23).

One :class:`ClassRoom` per server (``sim viz --class``). The teacher's screen shows the
province, the rule, the round and the address students open; each student who opens it is
given a county (:meth:`ClassRoom.join`) and, each round, decides per service of that county
what it does (:data:`CHOICES`: develop our own, copy a neighbour's, take the province's
catalogue solution, or wait for the platform), within the county's budget of developments
per round (:meth:`ClassRoom.budget`). The teacher ends each round (:meth:`ClassRoom.next_round`):
the class's province then runs ``steps_per_round`` steps (a year) with the students' choices
in place of the rule's decisions for their counties (:mod:`sim.core.mechanisms.intent`), a
choice staying in force until the service is served or the student changes it; counties
nobody took are played by the rule. Beside it, the same province on the same seed runs
with the rule alone, so the end comparison (:meth:`ClassRoom.comparison`) shows what the
class's decisions changed.

A student is known by a token (in the address the page moves to after joining, so a reload,
a dropped connection or a new tab keeps the county); a choice is accepted only with the
token of the county's student, and the class's join token (``SIM_VIZ_JOIN``) is needed to
be given a county at all. The teacher's controls need the teacher's token
(``SIM_VIZ_TEACHER``).
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.arrays import Source
from ..core.mechanisms.intent import COPY, DEVELOP, MODEL, TAKE, WAIT
from ..errors import BadInput
from ..params import RULES, Scenario
from .model import DiffusionModel

CLASS_ENV = "SIM_VIZ_CLASS"  # "1": the page is the class mode (sim viz --class)
JOIN_ENV = "SIM_VIZ_JOIN"  # the students' join token
TEACHER_ENV = "SIM_VIZ_TEACHER"  # the teacher's token
CHOICES: dict[int, str] = {
    WAIT: "wait for the platform",
    DEVELOP: "develop our own",
    COPY: "copy a neighbour's",
    TAKE: "take the catalogue's",
}
"""What a student can choose per service (intent codes of :mod:`sim.core.mechanisms.intent`)."""
BUDGET_PER_CAPACITY = 3.0
"""Developments a county may start per round: max(1, round(3 x capacity)) (capacity ~0-1)."""
SOURCE_NAMES = {int(s): s.name.lower() for s in Source}
CLASS, MODEL_ONLY = "class", "model only"
"""The two runs' names (the teacher's map and curves)."""


@dataclass
class Student:
    """One student: their token, county and when they last acted."""

    token: str
    county: int
    joined: float = field(default_factory=time.monotonic)
    actions: int = 0


class ClassRoom:
    """The class's state; thread-safe (every method takes ``lock``). See the module docstring."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        rule: str | None = None,
        seed: int | None = None,
        join_token: str | None = None,
        teacher_token: str | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else int(seed)
        self.join_token = join_token or secrets.token_urlsafe(9)
        self.teacher_token = teacher_token or secrets.token_urlsafe(12)
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.version = 0  # bumped on every change: views wait on ``changed`` for it
        # bumped when the round, the rule or the end changes (what every student's page
        # shows of the class): students' pages wait on ``staged`` for it, so that one
        # student's click does not wake the 30 pages' watchers
        self.stage = 0
        self.staged = threading.Condition(self.lock)
        self.students: dict[str, Student] = {}
        self._sessions: dict[str, str] = {}  # browser session id -> student token
        self._start(rule or scenario.rule)

    def _start(self, rule: str) -> None:
        if rule not in RULES:
            raise BadInput.one("rule", "", f"unknown rule {rule!r}; valid: {', '.join(RULES)}")
        self.rule = rule
        self.runs = {
            CLASS: DiffusionModel(self.scenario, rule=rule, seed=self.seed),
            MODEL_ONLY: DiffusionModel(self.scenario, rule=rule, seed=self.seed),
        }
        world = self.runs[CLASS].engine.world
        self.n, self.k = world.n, int(self.scenario.services.count)
        self.steps_per_round = int(self.scenario.time.steps_per_year)
        self.rounds = -(-self.scenario.n_steps // self.steps_per_round)
        self.round = 0
        self.ended = False
        self.choices = np.full((self.n, self.k), WAIT, np.int64)
        # who gets which county: a fixed shuffle of the seed, so the first students are
        # spread over prefectures and rich and poor counties alike
        self.order = np.random.default_rng(self.seed).permutation(self.n)
        adjacency = world.network.adjacency
        self._indptr, self._indices = adjacency.indptr, adjacency.indices
        units = world.population.units
        zh = units["name_zh"].tolist() if units is not None and "name_zh" in units else None
        en = units["name"].tolist() if units is not None and "name" in units else None
        regions = np.asarray(world.population.region_names, dtype=object)[world.population.region]
        seen: dict[str, int] = {}
        self.names: list[tuple[str, str]] = []
        for i in range(self.n):
            if en is not None:
                self.names.append((str(zh[i]) if zh else "", str(en[i])))
            else:  # a synthetic province: "Prefecture 3 #2", as the map's tooltips
                seen[regions[i]] = seen.get(regions[i], 0) + 1
                self.names.append(("", f"{regions[i]} #{seen[regions[i]]}"))
        self.capacity = np.asarray(world.population.capacity, float)

    # -- tokens ---------------------------------------------------------------------------
    def is_teacher(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.teacher_token)

    def can_join(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.join_token)

    # -- students -------------------------------------------------------------------------
    def join(self, token: str | None = None, *, session: str | None = None) -> Student | None:
        """The student of ``token`` (a reload) or of this browser ``session`` (a page drawn
        twice), or a new student with the next free county; None when every county is taken."""
        with self.lock:
            if token and token in self.students:
                return self.students[token]
            if session and session in self._sessions:
                return self.students[self._sessions[session]]
            taken = {s.county for s in self.students.values()}
            free = [int(i) for i in self.order if int(i) not in taken]
            if not free:
                return None
            student = Student(secrets.token_urlsafe(12), free[0])
            self.students[student.token] = student
            if session:
                self._sessions[session] = student.token
            self._bump()
            return student

    def student(self, token: str | None) -> Student | None:
        with self.lock:
            return self.students.get(token or "")

    def budget(self, county: int) -> int:
        """Developments the county may have chosen at once (its capacity, rounded)."""
        return max(1, round(BUDGET_PER_CAPACITY * float(self.capacity[county])))

    def choose(self, token: str, service: int, choice: int) -> str | None:
        """Record a student's choice; returns None, or why it was refused."""
        with self.lock:
            student = self.students.get(token)
            if student is None:
                return "unknown student"
            if self.ended:
                return "the class has ended"
            if choice not in CHOICES or not 0 <= int(service) < self.k:
                return "no such choice"
            i, k = student.county, int(service)
            source = self.runs[CLASS].engine.state.source
            if source[i, k] != Source.NONE:
                return "this service is already served"
            if choice == DEVELOP and self.choices[i, k] != DEVELOP:
                pending = (self.choices[i] == DEVELOP) & (source[i] == Source.NONE)
                if int(pending.sum()) >= self.budget(i):
                    return f"budget: at most {self.budget(i)} developments at once"
            self.choices[i, k] = int(choice)
            student.actions += 1
            self._bump()
            return None

    def intent(self) -> np.ndarray:
        """The class run's intent: students' choices for their counties, the rule elsewhere."""
        claimed = np.zeros(self.n, bool)
        claimed[[s.county for s in self.students.values()]] = True
        return np.where(claimed[:, None], self.choices, MODEL)

    def view(self, county: int) -> dict[str, Any]:
        """What a student sees of their county: per service, how it is served, its choice,
        and what is on offer (neighbours with a solution, the catalogue)."""
        with self.lock:
            e = self.runs[CLASS].engine
            st = e.state
            local = (st.source == Source.OWN) | (st.source == Source.PEER)
            local |= st.source == Source.CATALOGUE
            nbrs = self._indices[self._indptr[county] : self._indptr[county + 1]]
            best = e.batch.state.best_sol[e.index]
            catalogue = (best >= 0) & (
                (e.batch.consts.visibility[e.index] > 0) | e.batch.state.recognised[e.index]
            )
            services = [
                {
                    "service": k,
                    "source": SOURCE_NAMES[int(st.source[county, k])],
                    "choice": int(self.choices[county, k]),
                    "neighbours": int(local[nbrs, k].sum()),
                    "catalogue": bool(catalogue[k]),
                }
                for k in range(self.k)
            ]
            zh, en = self.names[county]
            return {
                "county": county,
                "name": f"{zh} {en}".strip(),
                "neighbours": len(nbrs),
                "budget": self.budget(county),
                "capacity": float(self.capacity[county]),
                "round": self.round,
                "rounds": self.rounds,
                "rule": self.rule,
                "ended": self.ended,
                "services": services,
            }

    # -- the teacher ----------------------------------------------------------------------
    def set_rule(self, rule: str) -> None:
        """Choose the rule (before the first round only: it restarts both runs)."""
        with self.lock:
            if self.round == 0 and rule != self.rule:
                self._start(rule)
                self._bump(stage=True)

    def next_round(self) -> None:
        """Run one round (a year): the class's province with the choices, the other alone."""
        with self.lock:
            if self.ended or self.round >= self.rounds:
                return
            intent = self.intent()
            for _ in range(self.steps_per_round):
                self.runs[CLASS].step_with(intent)
                self.runs[MODEL_ONLY].step()
            self.round += 1
            if self.round >= self.rounds:
                self.ended = True
            self._bump(stage=True)

    def end(self) -> None:
        with self.lock:
            self.ended = True
            self._bump(stage=True)

    def comparison(self) -> list[tuple[str, str, str]]:
        """(outcome, the class's province, the model alone) for the end screen."""
        with self.lock:
            rows = []
            outcomes = {name: run.outcomes() for name, run in self.runs.items()}
            for key, label, fmt in (
                ("coverage_final", "coverage at the end", "{:.0%}"),
                ("t50_years", "years to half coverage", "{:.2f}"),
                ("duplicate_developments", "duplicate developments", "{:.0f}"),
                ("total_cost", "total cost", "{:.0f}"),
                ("lagging_gap", "gap rich - poor counties (coverage)", "{:.2f}"),
            ):
                rows.append(
                    (label, fmt.format(outcomes[CLASS][key]), fmt.format(outcomes[MODEL_ONLY][key]))
                )
            return rows

    def copies(self) -> list[tuple[str, str, int]]:
        """Who copied whom among the students' counties: (copier, origin, services), the
        origin being the county whose development the copied solution is."""
        with self.lock:
            e = self.runs[CLASS].engine
            st, b = e.batch.state, e.index
            out: dict[tuple[int, int], int] = {}
            for s in self.students.values():
                i = s.county
                for k in range(self.k):
                    if st.source[b, i, k] in (Source.PEER, Source.CATALOGUE):
                        origin = int(st.sol_origin[b, st.sol[b, i, k]])
                        if 0 <= origin < self.n and origin != i:
                            out[(i, origin)] = out.get((i, origin), 0) + 1
            label = [f"{zh} {en}".strip() for zh, en in self.names]
            return [(label[i], label[j], m) for (i, j), m in sorted(out.items())]

    def _bump(self, *, stage: bool = False) -> None:
        self.version += 1
        self.changed.notify_all()
        if stage:
            self.stage += 1
            self.staged.notify_all()

    def wait(self, version: int, timeout: float = 5.0) -> int:
        """Block until the version differs from ``version`` (or ``timeout``); the new one."""
        with self.changed:
            self.changed.wait_for(lambda: self.version != version, timeout=timeout)
            return self.version

    def wait_stage(self, stage: int, timeout: float = 5.0) -> int:
        """Block until the round, the rule or the end changes from ``stage`` (or
        ``timeout``); the new stage."""
        with self.staged:
            self.staged.wait_for(lambda: self.stage != stage, timeout=timeout)
            return self.stage


_ROOM: ClassRoom | None = None
_ROOM_LOCK = threading.Lock()


def classroom(scenario_loader: Any = None) -> ClassRoom:
    """The server's class (created on first use from ``sim viz --class``'s environment)."""
    global _ROOM
    with _ROOM_LOCK:
        if _ROOM is None:
            scenario = scenario_loader()
            _ROOM = ClassRoom(
                scenario,
                join_token=os.environ.get(JOIN_ENV) or None,
                teacher_token=os.environ.get(TEACHER_ENV) or None,
            )
        return _ROOM

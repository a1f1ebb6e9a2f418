"""A student's page in class mode, drawn by the browser from one small state object.

The page (``sim/interactive/student_view.vue``, a Vue template) is one widget with one
synced value, ``room``: :meth:`sim.interactive.classroom.ClassRoom.view` of the student's
county (name, round, rule, budget, per service how it is served, the choice and what is on
offer) plus the message of a refused choice and how many of the student's clicks have been
answered (so that every click is answered by a new state, even a refusal repeated). The
server sets it on the widget itself (:class:`StudentScreen`) when the student chooses and
when a round, the rule or the end changes, instead of re-rendering the page through
Solara: after the teacher's *Next round* every student's page changes, and 30 re-renders
of about 40 components each kept the server's Python (one thread at a time) busy for a
second or two, while the students' clicks waited behind them (issue 23). A push is one
message of about 1 KB per page.

The choice buttons keep the CSS classes of the page they replace (``sim-choice``,
``sim-choice-<service>-<code>``, ``sim-chosen`` on the chosen one; ``sim-county``,
``sim-round``), so browser tests and the classroom benchmark find them as before.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import ipyvuetify
import traitlets

if TYPE_CHECKING:
    from .classroom import ClassRoom


class StudentPanel(ipyvuetify.VuetifyTemplate):
    """The student's county (see the module docstring); ``choose([service, code])`` from
    the browser calls ``on_choose``."""

    template_file = (__file__, "student_view.vue")

    room = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    choices = traitlets.List([]).tag(sync=True)  # [[code, label], ...]: sent once
    on_choose = traitlets.Callable(None, allow_none=True)

    def vue_choose(self, data: Any = None) -> None:
        """A click on a choice button: ``data`` is ``[service, code]``."""
        try:
            service, code = (int(x) for x in data)
        except (TypeError, ValueError):
            return  # not what the page sends: ignore
        if self.on_choose is not None:
            self.on_choose(service, code)


def element() -> Any:
    """A :class:`StudentPanel` element for a Solara component; its ``room`` is set on the
    widget by :class:`StudentScreen`, not by re-rendering."""
    from .classroom import CHOICES

    return StudentPanel.element(choices=[[code, label] for code, label in CHOICES.items()])


class StudentScreen:
    """What one student's page shows, pushed to its :class:`StudentPanel` (thread-safe: the
    student's clicks and the round watcher both push)."""

    def __init__(self, cls: ClassRoom, token: str, panel: StudentPanel) -> None:
        self.cls, self.token, self.panel = cls, token, panel
        self.message: str | None = None
        self.answered = 0  # the student's clicks answered: each answer is a new state
        self.lock = threading.Lock()
        panel.on_choose = self.choose
        self.push()

    def choose(self, service: int, code: int) -> None:
        """Record the choice in the class (or why not) and send the page its new state: the
        choice is in the class's intent before the echo leaves."""
        message = self.cls.choose(self.token, service, code)
        with self.lock:
            self.message = message
            self.answered += 1
            self._push()

    def push(self) -> None:
        """Send the page the county's current state (a round, the rule or the end changed)."""
        with self.lock:
            self._push()

    def _push(self) -> None:
        student = self.cls.student(self.token)
        if student is None:
            return
        view = self.cls.view(student.county)
        self.panel.room = {**view, "message": self.message, "answered": self.answered}

    def detach(self) -> None:
        self.panel.on_choose = None


__all__ = ["StudentPanel", "StudentScreen", "element"]

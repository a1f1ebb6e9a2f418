"""The pages of class mode (``sim viz --class``): the teacher's screen and a student's.

Which page a browser gets depends on its address (:func:`ClassPage`): ``?teacher=<token>``
is the teacher's screen; ``?join=<token>`` gives a new student a county and moves the page
to ``?student=<token>``, the address that keeps the county across reloads and dropped
connections; anything else is asked for the class's address. The state is the server's one
:class:`~sim.interactive.classroom.ClassRoom`; each page waits for its changes in a thread of
its own. The teacher's screen re-renders when a change concerns it (:func:`_use_changes`); a
student's page is rendered once and then only sent its county's new state on the student's
own choices and on each round (:func:`_on_rounds`, :mod:`sim.interactive.student_view`), so
that *Next round* with 30 students costs 30 small messages, not 30 re-renders. The teacher's map
and curves are the teaching page's widget (:mod:`sim.interactive.live_view`) with two runs:
the class's province and the same province with the rule alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import cast
from urllib.parse import parse_qs

import solara

from ..params import RULES
from ..scenario import load_scenario
from . import env, live, live_view, student_view, viz
from .classroom import CLASS, ClassRoom, classroom
from .env import scenario_overrides, scenario_path

COLOURS = ("#e76f51", "#264653")
"""The class's province and the model alone, on the teacher's map and curves."""
CSS = """
.sim-class h2 { margin: 6px 0; }
.sim-class .sim-choice.v-btn { margin: 2px; text-transform: none; }
.sim-class td, .sim-class th { padding: 2px 10px; text-align: left; }
.sim-class .sim-qr svg { width: 180px; height: 180px; }
.sim-class .sim-big { font-size: 20px; }
"""


def _room() -> ClassRoom:
    return classroom(lambda: load_scenario(scenario_path(), scenario_overrides()))


def _use_changes(cls: ClassRoom, key: Callable[[], tuple]) -> tuple:
    """``key()`` of the class, re-rendering this page when it changes: a thread per page
    waits for the class's changes and re-renders only when they concern the page (a
    student's page: the round, the rule, the end; not every other student's click)."""
    current, set_current = solara.use_state(key())

    def watch(cancel: threading.Event) -> None:
        seen = cls.version
        while not cancel.is_set():
            seen = cls.wait(seen, timeout=1.0)
            now = key()
            if now != current:
                set_current(now)
                return

    solara.use_thread(watch, dependencies=[current], intrusive_cancel=False)
    return current


def _on_rounds(cls: ClassRoom, call: Callable[[], None]) -> None:
    """Call ``call()`` (in a thread of this page) once at the start and whenever the round,
    the rule or the end changes (:attr:`ClassRoom.stage`; the students' clicks do not wake
    it): a student's page is pushed its new state this way, without a Solara re-render
    (:mod:`sim.interactive.student_view`)."""

    def watch(cancel: threading.Event) -> None:
        seen = None
        while not cancel.is_set():
            now = cls.stage
            if now != seen:
                seen = now
                call()
            cls.wait_stage(now, timeout=1.0)

    solara.use_thread(watch, dependencies=[], intrusive_cancel=False)


def addresses(cls: ClassRoom) -> list[str]:
    """Where students open the class (the join token in each address)."""
    urls = env.urls() or ["http://127.0.0.1:8765/"]
    return [f"{url}?join={cls.join_token}" for url in urls]


@solara.component
def ClassPage() -> None:
    """Solara's page in class mode: the teacher's screen, a student's, or a join request."""
    router = solara.use_router()
    params = {k: v[0] for k, v in parse_qs(router.search or "").items()}
    cls = _room()
    solara.Style(CSS)
    with solara.Column(classes=["sim-class"], style={"padding": "12px"}):
        if cls.is_teacher(params.get("teacher")):
            TeacherView(cls)
        elif cls.student(params.get("student")) is not None:
            StudentView(cls, params["student"])
        elif cls.can_join(params.get("join")):
            Join(cls, lambda token: router.push(f"{router.path}?student={token}"))
        else:
            solara.HTML(
                tag="div",
                unsafe_innerHTML="<h2>Class mode</h2>Ask your teacher for the class's address.",
            )


@solara.component
def Join(cls: ClassRoom, go: Callable[[str], None]) -> None:
    student = solara.use_memo(lambda: cls.join(session=solara.get_session_id()), [])
    token = None if student is None else student.token
    solara.use_effect(lambda: go(token) if token else None, [token])
    if student is None:
        solara.HTML(
            tag="div", unsafe_innerHTML="<h2>Every county is taken</h2>Watch the teacher's screen."
        )
    else:
        solara.HTML(tag="div", unsafe_innerHTML="Joining…")


@solara.component
def StudentView(cls: ClassRoom, token: str) -> None:
    """A student's county: per service, how it is served and what to do this round. Drawn
    by the browser from the state the server pushes (:mod:`sim.interactive.student_view`):
    the page is rendered by Solara once; the student's choices and the rounds only send it
    a new state."""
    student = cls.student(token)
    assert student is not None
    zh, en = cls.names[student.county]
    solara.Title(f"{zh} {en}".strip() + " — class mode")
    panel = student_view.element()
    screen = solara.use_ref(cast(student_view.StudentScreen | None, None))

    def attach() -> Callable[[], None]:
        widget = cast(student_view.StudentPanel, solara.get_widget(panel))
        screen.current = student_view.StudentScreen(cls, token, widget)
        return screen.current.detach

    solara.use_effect(attach, [token])

    def push() -> None:
        if screen.current is not None:
            screen.current.push()

    _on_rounds(cls, push)


@solara.component
def TeacherView(cls: ClassRoom) -> None:
    """The projector: province, rule, round, the join address and QR code, the controls, the
    map and curves of the class beside the model alone, and the comparison at the end."""
    import segno

    version = _use_changes(cls, lambda: (cls.round, cls.ended, cls.rule, len(cls.students)))
    urls = addresses(cls)
    qr = solara.use_memo(lambda: segno.make(urls[0], error="m").svg_inline(scale=4), [urls[0]])
    solara.Title(f"Class mode: {cls.scenario.name}")
    with solara.Row(style={"align-items": "flex-start", "gap": "24px"}):
        Header(cls, urls, len(cls.students), cls.round, cls.rule, cls.ended)
        solara.HTML(tag="div", unsafe_innerHTML=qr, classes=["sim-qr"])
    ClassMap(cls, version)
    if cls.ended:
        Comparison(cls, version)


@solara.component
def ClassMap(cls: ClassRoom, version: tuple) -> None:
    """The map and curves: the class's province beside the model alone (live_view)."""
    view = live_view.element()

    def layout() -> dict:
        scene = live.layout(
            cls.runs,
            viz.positions(cls.runs[CLASS].engine.world),
            shapes=live.shapes_for(cls.runs[CLASS]),
        )
        return {**scene, "colours": list(COLOURS)}

    scene = solara.use_memo(layout, [id(cls.runs[CLASS])])

    def draw() -> None:
        widget = cast(live_view.LiveView, solara.get_widget(view))
        with cls.lock:
            frame = live.frame(cls.runs, layout_id=int(scene["id"]), since=0)
        with widget.hold_sync():
            widget.scene = scene
            widget.frame = frame

    solara.use_effect(draw, [version, id(scene)])


@solara.component
def Header(
    cls: ClassRoom, urls: list[str], joined: int, round_: int, rule: str, ended: bool
) -> None:
    """Province, rule, round, students, the address; the rule (before round 1), Next round
    and End the class."""
    with solara.Column():
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f"<h2>{cls.scenario.name} · rule <span class='sim-rule'>{rule}</span></h2>"
                f"<div class='sim-big'>Round <b class='sim-round'>{round_}</b> of "
                f"{cls.rounds} · <span class='sim-joined'>{joined}</span> of {cls.n} "
                "counties taken by students</div><div>Students open: "
                + ", ".join(f"<b>{u}</b>" for u in urls)
                + "</div>"
            ),
        )
        with solara.Row():
            if round_ == 0:
                solara.ToggleButtonsSingle(value=rule, values=list(RULES), on_value=cls.set_rule)
            solara.Button(
                "Next round",
                color="primary",
                on_click=cls.next_round,
                disabled=ended,
                classes=["sim-next-round"],
            )
            solara.Button(
                "End the class",
                outlined=True,
                on_click=cls.end,
                disabled=ended,
                classes=["sim-end-class"],
            )


@solara.component
def Comparison(cls: ClassRoom, version: tuple) -> None:
    """The end: the class's province beside the model alone, and who copied whom."""
    rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in cls.comparison())
    copies = "".join(f"<li>{a} copied {b} ({m})</li>" for a, b, m in cls.copies()[:20])
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            "<h2>The class's province beside the model alone (same seed)</h2>"
            "<table class='sim-comparison'><tr><th></th><th>class</th><th>model only</th></tr>"
            f"{rows}</table><h3>Who copied whom</h3><ul>{copies or '<li>nobody</li>'}</ul>"
        ),
    )


__all__ = ["ClassPage", "addresses"]

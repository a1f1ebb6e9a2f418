"""The browser app of ``sim viz``: a Solara page for showing diffusion in class.

Laid out like a NetLogo model: controls and sliders on the left, the view (a map of the
local governments) and live plots in the middle, and an *About* tab with what the model
shows, how it works, things to notice and things to try (from the scenario's
``description``). Beyond NetLogo: all three rules side by side on the same seed, their
curves on one plot.

Built from Mesa and Solara: the run is a :class:`mesa.Model` (:class:`TeachingModel`,
holding one :class:`sim.DiffusionModel` per rule shown), the page is a Solara component.
It does not use Mesa's ``SolaraViz`` layout itself: that page holds one model, applies
slider changes only on *Reset* and cannot stop its play thread from outside, so a slider
moved during play would keep stepping the new model in the old thread. Here a slider or
rule change restarts the run at year 0 at once (same seed: what changes is the parameter).

The server does not draw: after each step it sends the session's browser the new state
(:mod:`sim.interactive.live`), and the browser draws the map and the curves
(:mod:`sim.interactive.live_view`, ECharts), so one laptop serves a class. Each browser
session gets its own :class:`Session` (created in :func:`Page`), so students on one server
never step each other's model, and its models are released when the session ends (tab
closed, or the connection lost for ``SOLARA_KERNEL_CULL_TIMEOUT``). Nothing happens at
import time beyond definitions; the scenario comes from the ``SIM_VIZ_SCENARIO``
environment variable that ``sim viz`` sets (default: ``scenarios/teaching.toml`` here).
"""

from __future__ import annotations

import gc
import json
import math
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, cast

import mesa
import solara
import solara.lab

from ..errors import BadInput
from ..params import RULES, SECTIONS, Scenario
from ..rules import COLOURS
from ..scenario import load_scenario
from . import live, live_view, viz
from .about import about_html, about_markdown, about_sections  # noqa: F401  (the page's API)
from .env import (  # noqa: F401  (the page's API)
    DEFAULT_SCENARIO,
    OVERRIDES_ENV,
    SCENARIO_ENV,
    URLS_ENV,
    scenario_overrides,
    scenario_path,
)
from .model import DiffusionModel

SIDE_BY_SIDE = "side by side"
MODES: tuple[str, ...] = (*RULES, SIDE_BY_SIDE)
MAX_STEPS_PER_FRAME = 24
FRAMES_PER_SECOND = 5.0
"""Frames sent per second to a playing session (30 sessions: 150 frames/s in all)."""


# ---- parameters shown as sliders ------------------------------------------------------
@dataclass(frozen=True)
class Knob:
    """A slider for one scenario parameter (``key`` is the dotted key, as in ``--set``)."""

    key: str
    label: str
    dimension: str
    high: float | None = None  # None: about three times the scenario's value
    fallback: float = 1.0  # upper end when the scenario's value is 0
    main: bool = False

    def default(self, scenario: Scenario) -> float:
        table, name = self.key.split(".")
        return float(getattr(getattr(scenario, table), name))

    def limits(self, scenario: Scenario) -> tuple[float, float, float]:
        """(low, high, step) for this scenario."""
        value = self.default(scenario)
        high = (
            self.high if self.high is not None else _nice(3 * value if value > 0 else self.fallback)
        )
        high = max(high, value)
        return 0.0, high, _nice(high / 20, down=True)

    def description(self) -> str:
        table, name = self.key.split(".")
        return str(SECTIONS[table].model_fields[name].description or "")


KNOBS: tuple[Knob, ...] = (
    Knob("support.catalog_visibility", "Catalogue visibility", "Support", high=1.0, main=True),
    Knob("drive.contractor_capacity", "Contractor capacity (per year)", "Drive", main=True),
    Knob("collaboration.innovation_rate", "Innovation rate", "Collaboration", main=True),
    Knob("traction.demand_orientation", "Demand orientation", "Traction", high=1.0, main=True),
    Knob("collaboration.peer_learning", "Peer learning", "Collaboration"),
    Knob("collaboration.balancing", "Balancing (help for lagging)", "Collaboration", high=1.0),
    Knob("drive.failure_rate", "Outage rate (per year)", "Drive"),
    Knob("support.promotion_rate", "Catalogue promotion rate", "Support"),
    # the fair comparison (issue 12): the grassroots rule's own delays and risks
    Knob("collaboration.development_time", "County build time (years)", "Collaboration"),
    Knob("risk.local_failure_rate", "County system failure rate (per year)", "Collaboration"),
)
"""The main parameter of each of the study's four dimensions, then a few more."""
DIMENSIONS = {
    "Support": "top-level design, the catalogue",
    "Drive": "the contractor",
    "Collaboration": "grassroots innovation",
    "Traction": "user demand",
}


def _nice(x: float, *, down: bool = False) -> float:
    """A round number (1, 2, 2.5 or 5 x 10^k) at or above ``x`` (at or below if ``down``)."""
    if x <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(x))
    steps = (1.0, 2.0, 2.5, 5.0, 10.0)
    if down:
        return max(s * power for s in steps if s * power <= x * (1 + 1e-9))
    return min(s * power for s in steps if s * power >= x * (1 - 1e-9))


# ---- the Mesa model the page steps ----------------------------------------------------
class TeachingModel(mesa.Model):
    """One :class:`sim.DiffusionModel` per rule shown, all on the same seed, stepped together.

    ``rule`` is a rule name or ``"side by side"`` (every rule). Under one seed every rule
    faces the same province, network and demands, so differences come from the rule alone.
    """

    alive: ClassVar[weakref.WeakSet[DiffusionModel]] = weakref.WeakSet()
    """Every run still in memory (the server reports the count as sessions close)."""

    def __init__(self, scenario: Scenario, rule: str = "grassroots", seed: int | None = None):
        if rule not in MODES:
            raise BadInput.one("rule", "", f"unknown rule {rule!r}; valid: {', '.join(MODES)}")
        seed = scenario.seed if seed is None else int(seed)
        super().__init__(rng=seed)
        self.params = scenario  # not self.scenario: Mesa's own since Mesa 3.5
        self.mode = rule
        self.seed = seed
        rules = RULES if rule == SIDE_BY_SIDE else (rule,)
        self.runs: dict[str, DiffusionModel] = {
            r: DiffusionModel(scenario, rule=r, seed=seed) for r in rules
        }
        TeachingModel.alive.update(self.runs.values())
        first = next(iter(self.runs.values())).engine
        self.positions = viz.positions(first.world)
        self.running = True

    def step(self) -> None:
        for run in self.runs.values():
            if run.running:
                run.step()
        self.running = any(run.running for run in self.runs.values())

    @property
    def engines(self) -> dict[str, Any]:
        """Rule -> :class:`sim.core.engine.Engine` of each run shown."""
        return {rule: run.engine for rule, run in self.runs.items()}

    @property
    def t(self) -> int:
        return max(run.engine.t for run in self.runs.values())

    @property
    def n_steps(self) -> int:
        return self.params.n_steps

    @property
    def year(self) -> float:
        return self.t * self.params.dt

    def coverage(self) -> dict[str, float]:
        return {rule: run.coverage for rule, run in self.runs.items()}

    def release(self) -> None:
        """Forget this model in Mesa's class-level agent-id registry; call when the page drops
        it. Mesa up to 3.4.1 keeps every model that ever created an agent alive in
        ``Agent._ids``; Mesa 3.4.2 removed that registry (nothing to do there)."""
        ids = getattr(mesa.Agent, "_ids", None)
        if ids is not None:
            for run in self.runs.values():
                ids.pop(run, None)


# ---- per-session state ------------------------------------------------------------------
class Session:
    """One browser session's state: the settings, the model, the play switch and what the
    browser draws (``layout`` when a run starts, ``frame`` after each step;
    :mod:`sim.interactive.live`).

    The settings, the model and the play switch are Solara reactive values created for this
    session only; ``layout`` and ``frame`` are plain values that the session sets on the
    browser's widget itself (:meth:`attach`, :meth:`publish`). Steps run under ``lock``, and
    each publishes one frame with the curves' points since the previous frame, in order: a
    click on *Step* advances exactly one step. :meth:`close` ends the session (the page
    calls it when the browser session closes).
    """

    def __init__(self, path: str | Path, overrides: dict[str, Any] | None = None) -> None:
        self.path = str(path)
        self.overrides = dict(overrides or {})
        self.base = load_scenario(self.path, self.overrides)
        self.mode = solara.reactive(self.base.rule)
        self.seed = solara.reactive(int(self.base.seed))
        self.values = solara.reactive(self.defaults())
        self.lock = threading.RLock()
        self.closed = False
        self._current = TeachingModel(self.base, self.base.rule, self.base.seed)
        self._sent = 0  # the first step whose curve points the browser has not been sent
        self.view: live_view.LiveView | None = None  # the browser's widget, once attached
        self.model = solara.reactive(self._current)
        self.layout = self._layout(self._current)
        self.frame = self._frame(self._current, 0)
        self.done = solara.reactive(False)
        self.playing = solara.reactive(False)
        self.speed = solara.reactive(1.0)  # simulated years per second of play
        self.error = solara.reactive(cast(str | None, None))
        with _registry_lock:
            _OPEN.add(self)

    def defaults(self) -> dict[str, float]:
        return {k.key: k.default(self.base) for k in KNOBS}

    def _layout(self, model: TeachingModel) -> dict[str, Any]:
        first = next(iter(model.runs.values()))
        layout = live.layout(model.runs, model.positions, shapes=live.shapes_for(first))
        self._layout_id = int(layout["id"])
        return layout

    def _frame(self, model: TeachingModel, since: int) -> dict[str, Any]:
        frame = live.frame(model.runs, layout_id=self._layout_id, since=since)
        self._sent = model.t + 1
        return frame

    # -- what the browser draws: set on its widget directly, not through a re-render of the
    # page (Solara re-renders walk the whole page: ~8 ms a frame instead of ~0.5 ms) --
    def attach(self, view: live_view.LiveView | None) -> None:
        """Draw into ``view`` (None: detach); it gets the layout and the whole history."""
        with self.lock:
            self.view = view
            if view is not None and not self.closed:
                self.frame = self._frame(self._current, 0)
                with view.hold_sync():
                    view.scene = self.layout
                    view.frame = self.frame

    def publish(self, *, resync: bool = False) -> None:
        """Send the browser the latest step (from step 0 if ``resync``)."""
        with self.lock:
            if self.closed:
                return
            model = self._current
            self.frame = self._frame(model, 0 if resync else self._sent)
            if self.view is not None:
                self.view.frame = self.frame
            done = not model.running
        if self.done.value != done:
            self.done.value = done

    def resync(self) -> None:
        """The browser lacks earlier points (it reconnected): send the whole history."""
        self.publish(resync=True)

    def rebuild(self) -> None:
        """Start again at year 0 with the current rule, seed and parameter values."""
        self.playing.value = False
        try:
            scenario = load_scenario(self.path, {**self.overrides, **self.values.value})
            model = TeachingModel(scenario, self.mode.value, self.seed.value)
        except BadInput as exc:
            self.error.value = "; ".join(str(p) for p in exc.problems)
            return
        with self.lock:
            if self.closed:
                model.release()
                return
            old, self._current = self._current, model
            self.layout = self._layout(model)
            self.attach(self.view)
        old.release()
        self.model.value = model
        self.error.value = None
        if self.done.value:
            self.done.value = False

    reset = rebuild

    def step(self, n: int = 1) -> None:
        """Advance ``n`` steps (fewer at the end of the run) and send one frame."""
        with self.lock:
            model = self._current
            for _ in range(n):
                if not model.running:
                    break
                model.step()
            self.publish()

    def to_end(self) -> None:
        self.playing.value = False
        self.step(self._current.n_steps)

    def set_mode(self, mode: str) -> None:
        self.mode.value = mode
        self.rebuild()

    def set_seed(self, seed: int) -> None:
        self.seed.value = int(seed)
        self.rebuild()

    def set_value(self, key: str, value: float) -> None:
        self.values.value = {**self.values.value, key: float(value)}
        self.rebuild()

    def restore_defaults(self) -> None:
        self.values.value = self.defaults()
        self.seed.value = int(self.base.seed)
        self.rebuild()

    def play(self, cancel: threading.Event) -> None:
        """Step at ``speed`` simulated years per second until paused, done or cancelled,
        sending at most :data:`FRAMES_PER_SECOND` frames a second (several steps a frame
        when the speed asks for more)."""
        model = self._current
        dt = model.params.dt
        due, last = 0.0, time.monotonic()
        while self.playing.value and not cancel.is_set() and not self.closed:
            if model is not self._current:
                return
            if not model.running:
                self.playing.value = False
                return
            now = time.monotonic()
            speed = max(self.speed.value, 1e-3)
            due += (now - last) * speed / dt
            last = now
            n = min(int(due), MAX_STEPS_PER_FRAME)
            if n:
                due = min(due - n, 1.0)  # a slow frame does not make the next one jump
                self.step(n)
            cancel.wait(max(1.0 / FRAMES_PER_SECOND, (1.0 - due) * dt / speed))

    def close(self) -> None:
        """End the session: stop playing and release its model (Mesa's registry), so that a
        closed browser session leaves nothing behind. Idempotent."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            model = self._current
        model.release()
        with _registry_lock:
            _OPEN.discard(self)
        _report_soon()


# ---- sessions and models alive (printed by the server after a session closes) ----------
_registry_lock = threading.Lock()
_OPEN: weakref.WeakSet[Session] = weakref.WeakSet()
_report_timer: threading.Timer | None = None


def alive() -> tuple[int, int]:
    """(open sessions, Mesa models still in memory) after a garbage collection."""
    gc.collect()
    with _registry_lock:
        return len(_OPEN), len(TeachingModel.alive)


def _report_soon(delay: float = 2.0) -> None:
    """Print the counts once the closing sessions are torn down (one line per burst)."""
    global _report_timer

    def report() -> None:
        global _report_timer
        with _registry_lock:
            _report_timer = None
        sessions, models = alive()
        print(f"sim viz: sessions open: {sessions}, models alive: {models}", flush=True)

    with _registry_lock:
        if _report_timer is None:
            _report_timer = threading.Timer(delay, report)
            _report_timer.daemon = True
            # Solara ties every new thread to the page that creates it (its kernel context),
            # which would keep the closing page alive while we count: detach this one
            _report_timer.current_context = None  # type: ignore[attr-defined]
            _report_timer.start()


# ---- components -------------------------------------------------------------------------
CSS = (
    """
.sim-status { font-size: 20px; line-height: 1.6; }
.sim-chip { display: inline-block; padding: 2px 12px; margin: 2px 8px 2px 0; border-radius: 14px;
            color: white; font-weight: 600; }
.sim-outage { background: #d62828; color: white; font-weight: 700; padding: 4px 12px;
              border-radius: 6px; display: inline-block; }
.sim-dimension { font-weight: 700; margin-top: 10px; }
.sim-dimension span { font-weight: 400; color: #666; }
.sim-label { font-size: 20px; }
.sim-rules .v-btn { font-size: 16px !important; height: 40px !important; }
.sim-rules .v-btn.v-item--active { color: white !important; }
.sim-rules .v-btn.v-item--active::before { opacity: 0 !important; }
"""
    + "".join(
        f".sim-rules .v-btn:nth-child({i}).v-item--active {{ background: {colour} !important; }}\n"
        for i, colour in enumerate([*(COLOURS.get(r, "#444") for r in RULES), "#37474f"], start=1)
    )
    + """
.sim-main { padding-bottom: 48px; }
.v-slider__thumb-label { font-size: 13px; }
"""
)


@solara.component
def View(session: Session) -> None:
    """The status line, map and curves: drawn by the browser from the session's frames,
    which the session sets on this widget itself (:meth:`Session.attach`)."""
    view = live_view.element(on_resync=session.resync)

    def attach() -> Callable[[], None]:
        widget = cast(live_view.LiveView, solara.get_widget(view))
        session.attach(widget)
        return lambda: session.attach(None)

    solara.use_effect(attach, [session])


@solara.component
def Controls(session: Session) -> None:
    """Play, Step, To the end, Reset and the speed. Re-rendered only when playing starts or
    stops or the run ends, never per frame: a re-render re-binds the buttons' click events,
    and clicks during that moment would be lost; the speed slider keeps its focus."""
    playing = session.playing.value
    done = session.done.value
    with solara.Card("Run", margin=0):
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            solara.Button(
                "❚❚ Pause" if playing else "▶ Play",
                color="primary",
                on_click=lambda: session.playing.set(not playing),
                disabled=done and not playing,
                classes=["sim-play"],
            )
            solara.Button(
                "Step",
                color="primary",
                outlined=True,
                on_click=session.step,
                disabled=playing or done,
                classes=["sim-step"],
            )
            solara.Button(
                "To the end",
                outlined=True,
                on_click=session.to_end,
                disabled=playing or done,
                classes=["sim-end"],
            )
            solara.Button("Reset", outlined=True, on_click=session.reset, classes=["sim-reset"])
        solara.SliderFloat(
            f"Speed: {session.speed.value:.2f} years/second",
            value=session.speed,
            min=0.25,
            max=4.0,
            step=0.25,
        )


@solara.component
def RuleChooser(session: Session) -> None:
    with solara.Row(gap="12px", style={"align-items": "center"}):
        solara.HTML(unsafe_innerHTML="<b>Rule</b>", classes=["sim-label"])
        solara.ToggleButtonsSingle(
            value=session.mode.value,
            values=list(MODES),
            on_value=session.set_mode,
            classes=["sim-rules"],
        )


@solara.component
def KnobSlider(session: Session, knob: Knob) -> None:
    low, high, step = knob.limits(session.base)
    value = session.values.value[knob.key]
    decimals = max(0, -math.floor(math.log10(step)))
    solara.SliderFloat(
        f"{knob.label}: {value:.{decimals}f}",
        value=value,
        min=low,
        max=high,
        step=step,
        on_value=lambda v: session.set_value(knob.key, v),
    )


@solara.component
def Parameters(session: Session) -> None:
    with solara.Card("Parameters", margin=0):
        for knob in KNOBS:
            if knob.main:
                solara.HTML(
                    unsafe_innerHTML=(
                        f'<div class="sim-dimension">{knob.dimension} '
                        f"<span>({DIMENSIONS[knob.dimension]})</span></div>"
                    )
                )
                KnobSlider(session, knob)
        with solara.Details("More parameters"):
            for knob in KNOBS:
                if not knob.main:
                    KnobSlider(session, knob)
        solara.SliderInt(
            f"Seed: {session.seed.value}",
            value=session.seed.value,
            min=0,
            max=max(99, session.base.seed),
            on_value=session.set_seed,
        )
        solara.Button(
            "Scenario values", text=True, on_click=session.restore_defaults, icon_name="mdi-undo"
        )


@solara.component
def Teaching(session: Session) -> None:
    """The whole page for one session (tests render this with their own session)."""

    def play(cancel: threading.Event) -> None:
        session.play(cancel)

    solara.use_thread(
        play,
        dependencies=[session.playing.value, id(session.model.value)],
        intrusive_cancel=False,
    )
    # when the browser session ends (tab closed, or the server culls a lost connection),
    # Solara unmounts the page: release the session's models
    solara.use_effect(lambda: session.close, [session])
    solara.Style(CSS)
    solara.Title(f"Reform diffusion: {session.base.name}")
    with solara.AppBar():
        solara.AppBarTitle(f"How digital-government reforms spread — {session.base.name}")
    with solara.Sidebar(), solara.Column(gap="12px"):
        Controls(session)
        Parameters(session)
    with solara.Column(gap="6px", style={"padding": "0 12px"}, classes=["sim-main"]):
        if session.error.value:
            solara.Error(session.error.value)
        with solara.lab.Tabs():
            with solara.lab.Tab("Model"):
                RuleChooser(session)
                View(session)
            with solara.lab.Tab("About"):
                solara.HTML(
                    unsafe_innerHTML=about_html(
                        session.base, urls=json.loads(os.environ.get(URLS_ENV) or "[]")
                    ),
                    style={"font-size": "17px"},
                    classes=["sim-about"],
                )


@solara.component
def Page() -> None:
    """Solara's entry point: a new :class:`Session` for every browser session."""
    if os.environ.get("SIM_VIZ_CLASS"):  # sim viz --class: the class plays the counties
        from .class_page import ClassPage

        ClassPage()
    else:
        OwnSession()


@solara.component
def OwnSession() -> None:
    session = solara.use_memo(lambda: Session(scenario_path(), scenario_overrides()), [])
    Teaching(session)


# ---- the server: sim.interactive.server ----------------------------------------------------
from .server import serve  # noqa: E402,F401  (sim viz calls app.serve)

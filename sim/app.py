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

Each browser session gets its own :class:`Session` (created in :func:`Page`), so students
on one server never step each other's model. Nothing happens at import time beyond
definitions; the scenario comes from the ``SIM_VIZ_SCENARIO`` environment variable that
``sim viz`` sets (default: ``scenarios/teaching.toml`` of this repository).
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import mesa
import solara
import solara.lab

from . import viz
from .compare import COLOURS
from .errors import BadInput
from .model import DiffusionModel
from .params import RULES, SECTIONS, Scenario
from .scenario import load_scenario

SCENARIO_ENV = "SIM_VIZ_SCENARIO"
OVERRIDES_ENV = "SIM_VIZ_SET"  # JSON object of dotted key -> value (sim viz --set)
DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "teaching.toml"
SIDE_BY_SIDE = "side by side"
MODES: tuple[str, ...] = (*RULES, SIDE_BY_SIDE)
MAX_STEPS_PER_FRAME = 24


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
        """Rule -> :class:`sim.engine.Engine` of each run shown."""
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
def scenario_path() -> str:
    """The scenario ``sim viz`` was started with (``$SIM_VIZ_SCENARIO``), else teaching.toml."""
    return os.environ.get(SCENARIO_ENV) or str(DEFAULT_SCENARIO)


def scenario_overrides() -> dict[str, Any]:
    """The ``--set`` overrides ``sim viz`` was started with (``$SIM_VIZ_SET``, JSON)."""
    return dict(json.loads(os.environ.get(OVERRIDES_ENV) or "{}"))


class Session:
    """One browser session's state: the settings, the model and the play switch.

    All fields are Solara reactive values created for this session only.
    """

    def __init__(self, path: str | Path, overrides: dict[str, Any] | None = None) -> None:
        self.path = str(path)
        self.overrides = dict(overrides or {})
        self.base = load_scenario(self.path, self.overrides)
        self.mode = solara.reactive(self.base.rule)
        self.seed = solara.reactive(int(self.base.seed))
        self.values = solara.reactive(self.defaults())
        self.model = solara.reactive(TeachingModel(self.base, self.base.rule, self.base.seed))
        self.playing = solara.reactive(False)
        self.speed = solara.reactive(1.0)  # simulated years per second of play
        self.tick = solara.reactive(0)  # bumped after each step: the model changed in place
        self.error = solara.reactive(cast(str | None, None))
        self.lock = threading.RLock()

    def defaults(self) -> dict[str, float]:
        return {k.key: k.default(self.base) for k in KNOBS}

    # -- actions (buttons, sliders, the play thread) --
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
            old, self.model.value = self.model.value, model
        old.release()
        self.error.value = None
        self.tick.value += 1

    reset = rebuild

    def step(self, n: int = 1) -> None:
        with self.lock:
            model = self.model.value
            for _ in range(n):
                if not model.running:
                    break
                model.step()
        self.tick.value += 1

    def to_end(self) -> None:
        self.playing.value = False
        self.step(self.model.value.n_steps)

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
        """Step at ``speed`` simulated years per second until paused, done or cancelled."""
        model = self.model.value
        dt = model.params.dt
        due, last = 0.0, time.monotonic()
        while self.playing.value and not cancel.is_set() and model is self.model.value:
            if not model.running:
                self.playing.value = False
                return
            now = time.monotonic()
            due += (now - last) * self.speed.value / dt
            last = now
            n = min(int(due), MAX_STEPS_PER_FRAME)
            if n == 0:
                cancel.wait(min(0.05, (1 - due) * dt / max(self.speed.value, 1e-3)))
                continue
            due -= n
            due = min(due, 1.0)  # a slow frame does not make the next one jump
            self.step(n)


# ---- the About panel ------------------------------------------------------------------
HOW_IT_WORKS = """
Each marker is a county-level **local government**; each needs the same set of digital
**services**. A government offers a service once it has it, by one of four routes
(the marker shows the route most of its services took, the fill how many it has):

* **own development** (▲) — it builds the service itself (likelier the richer it is);
* **peer reuse** (●) — it copies a neighbour's solution (likelier the more neighbours have one);
* **catalogue** (■) — it takes a solution the province recognised and listed;
* **contractor** (◆) — the province's general contractor deploys a standard module.

**Grassroots rule** (Zhejiang): governments develop and copy; after a lag the province
recognises the best solution of each service, lists it in a catalogue and promotes it.
**Contractor rule** (Guangdong's EPC model): one contractor first builds a platform, then
one module after another, and deploys them at a fixed number of deployments per year; local
activity is crowded out, and when the platform fails every service it runs goes dark at once
(red crosses on the map, red bands on the coverage plot). **Hybrid rule**: grassroots
innovation, and each recognised solution is standardised and deployed by the contractor.
"""

HOW_TO_USE = """
Pick a rule, or **side by side** to run all three on the same random numbers. **▶** plays,
**Step** advances one time step, **To the end** jumps to the last year, **Reset** starts
again. Moving a slider or changing the seed restarts the run at year 0 with the new value.
The curves show coverage (how much of the province is served), **duplicate developments**
(the same service built again where a solution already existed) and cumulative **cost**.
"""

_SECTION = re.compile(r"(What it shows|How it works|Things to notice|Things to try)\s*:", re.I)


def about_sections(description: str) -> dict[str, str]:
    """Split a scenario description into NetLogo-style sections.

    Text before the first heading is "What is it?"; headings recognised: "What it shows:",
    "How it works:", "Things to notice:", "Things to try:" (case-insensitive).
    """
    text = " ".join(description.split())
    parts = _SECTION.split(text)
    sections = {"What is it?": parts[0].strip()}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.strip()
        sections[heading.strip().capitalize()] = body[:1].upper() + body[1:]
    return {k: v for k, v in sections.items() if v}


def _bullets(text: str) -> str:
    """Turn "a; b; c." into a Markdown list (Things to try are ;-separated in scenarios)."""
    items = [i.strip().rstrip(".") for i in text.split(";") if i.strip()]
    if len(items) < 2:
        return text
    return "\n".join(f"* {_code_keys(i)}" for i in items)


def _code_keys(text: str) -> str:
    """Set dotted parameter keys (support.catalog_visibility) in code type."""
    return re.sub(r"\b([a-z_]+\.[a-z_]+)\b", r"`\1`", text)


def about_markdown(scenario: Scenario) -> str:
    sections = about_sections(scenario.description)
    out = [f"## {scenario.name}: what is it?", sections.pop("What is it?", "")]
    if "What it shows" in sections:
        out += ["### What it shows", sections.pop("What it shows")]
    out += ["### How it works", sections.pop("How it works", HOW_IT_WORKS.strip())]
    if "Things to notice" in sections:
        out += ["### Things to notice", _bullets(sections.pop("Things to notice"))]
    if "Things to try" in sections:
        out += ["### Things to try", _bullets(sections.pop("Things to try"))]
    for heading, body in sections.items():
        out += [f"### {heading}", body]
    out += ["### How to use this page", HOW_TO_USE.strip()]
    out += [
        "### Credits",
        "reform-diffusion-sim; the rules follow Qi Zhiwei and Zhang Liying (2025), "
        "*Practical Experience and Reform Implications of High-quality Construction of "
        "Digital Government*. The full model description is docs/ODD.md. Built with Mesa "
        "and Solara.",
    ]
    return "\n\n".join(out)


# ---- figures ----------------------------------------------------------------------------
def map_png(model: TeachingModel) -> bytes:
    """The map: one panel per rule shown, a shared legend and colour scale."""
    return viz.png(viz.map_figure(model.engines, model.positions))


def curves_png(model: TeachingModel) -> bytes:
    """Coverage, duplicates and cost: stacked beside one map, in a row under three."""
    return viz.png(viz.curves_figure(model.engines))


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
def Status(session: Session) -> None:
    """Year, coverage per rule (coloured like its curve) and the outage alarm."""
    session.tick.value  # noqa: B018  (re-render after every step)
    model = session.model.value
    chips = " ".join(
        f'<span class="sim-chip" style="background:{COLOURS.get(rule, "#444")}">'
        f"{rule} {cov:.0%}</span>"
        for rule, cov in model.coverage().items()
    )
    down = [rule for rule, e in model.engines.items() if viz.is_down(e)]
    which = f" ({', '.join(down)})" if len(model.runs) > 1 else ""
    alarm = (
        f' <span class="sim-outage">OUTAGE{which}: every contractor-run service is down</span>'
        if down
        else ""
    )
    solara.HTML(
        unsafe_innerHTML=(
            f'<div class="sim-status">Year <b>{model.year:.1f}</b> of {model.params.time.years:g}'
            f" (step {model.t} of {model.n_steps}) &nbsp; coverage: {chips}{alarm}</div>"
        )
    )


@solara.component
def View(session: Session) -> None:
    """The map and the curves, re-drawn after every step."""
    tick = session.tick.value
    model = session.model.value
    key = (id(model), tick, model.t)
    map_image = solara.use_memo(lambda: map_png(model), [key])
    curve_image = solara.use_memo(lambda: curves_png(model), [key])
    if len(model.runs) == 1:
        with solara.Columns([7, 5], gutters_dense=True):
            solara.Image(map_image, width="100%", classes=["sim-map"])
            solara.Image(curve_image, width="100%", classes=["sim-curves"])
    else:
        solara.Image(map_image, width="100%", classes=["sim-map"])
        solara.Image(curve_image, width="100%", classes=["sim-curves"])


@solara.component
def Controls(session: Session) -> None:
    session.tick.value  # noqa: B018
    model = session.model.value
    playing = session.playing.value
    done = not model.running
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
                Status(session)
                View(session)
            with solara.lab.Tab("About"):
                solara.Markdown(about_markdown(session.base), style={"font-size": "17px"})


@solara.component
def Page() -> None:
    """Solara's entry point: a new :class:`Session` for every browser session."""
    session = solara.use_memo(lambda: Session(scenario_path(), scenario_overrides()), [])
    Teaching(session)


# ---- the server -------------------------------------------------------------------------
def serve(host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run this page with Solara's server (production mode, no browser opened, no version
    check) until interrupted. Set ``$SIM_VIZ_SCENARIO`` first to choose the scenario."""
    from solara.__main__ import run as solara_run

    args = [
        "sim.app",
        f"--host={host}",
        f"--port={port}",
        "--production",
        "--no-open",
        "--no-check-version",
    ]
    solara_run.main(args=args, prog_name="sim viz", standalone_mode=False)

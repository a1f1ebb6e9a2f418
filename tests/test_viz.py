"""The teaching views without a browser: the Solara page (rendered with Solara's test
helpers), the drawing code, and ``sim animate``.

The page tests need the ``viz`` extra (``pip install -e '.[dev,viz]'``); they fail, not
skip, without it, so that a CI without the extra does not pass silently.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import sim
from sim.cli import app as cli
from sim.interactive.animate import frame_steps
from sim.params import RULES

ROOT = Path(__file__).resolve().parent.parent
TEACHING = str(ROOT / "scenarios" / "teaching.toml")
runner = CliRunner()


def _solara():
    try:
        import ipyvuetify
        import ipywidgets
        import solara
    except ImportError:  # pragma: no cover - a setup error, reported as a failure
        pytest.fail("the viz extra is not installed: pip install -e '.[dev,viz]'")
    from sim.interactive import app

    return solara, ipyvuetify, ipywidgets, app


@pytest.fixture
def page():
    """A rendered page with its own session: (session, render context)."""
    solara, _, _, app = _solara()
    session = app.Session(TEACHING)
    element = solara.AppLayout(children=[app.Teaching(session)])
    _box, rc = solara.render(element, handle_error=False)
    yield session, rc
    rc.close()


def _button(rc, label: str):
    _, v, _, _ = _solara()
    found = [w for w in rc.find(v.Btn).widgets if label in w.children]
    assert len(found) == 1, f"{len(found)} buttons {label!r}"
    return found[0]


def _choose_rule(rc, mode: str) -> None:
    """What clicking a rule button does in the browser: set the toggle group's value."""
    _, v, _, app = _solara()
    toggle = rc.find(v.BtnToggle)
    toggle.assert_single()
    toggle.widget.v_model = app.MODES.index(mode)


def _view(rc):
    """The browser widget of the map and curves (its ``scene`` and latest ``frame``)."""
    from sim.interactive.live_view import LiveView

    found = rc.find(LiveView)
    found.assert_single()
    return found.widget


def _drawn(rc) -> tuple:
    """What the browser draws now: the step, and each rule's services and main sources."""
    frame = _view(rc).frame
    runs = frame["runs"]
    return frame["step"], {r: (tuple(v["served"]), tuple(v["main"])) for r, v in runs.items()}


def _slider(rc, label_start: str):
    _, v, _, _ = _solara()
    matches = [w for w in rc.find(v.Slider).widgets if str(w.label).startswith(label_start)]
    assert len(matches) == 1, [w.label for w in rc.find(v.Slider).widgets]
    return matches[0]


# ---- the page -------------------------------------------------------------------------
def test_page_renders_controls_view_and_about(page) -> None:
    session, rc = page
    _, v, _, app = _solara()
    for label in ("▶ Play", "Step", "To the end", "Reset", *app.MODES):
        _button(rc, label)
    view = _view(rc)  # the map and the curves: drawn by the browser from scene and frame
    assert view.scene["rules"] == ["grassroots"] and view.scene["n"] == 60
    assert view.frame["layout"] == view.scene["id"] and view.frame["step"] == 0
    assert len(view.scene["x"]) == 60 and len(view.frame["runs"]["grassroots"]["served"]) == 60
    labels = [w.label for w in rc.find(v.Slider).widgets]
    for knob in app.KNOBS:
        assert any(str(label).startswith(knob.label) for label in labels), knob
    assert any(str(label).startswith("Seed") for label in labels)
    about = app.about_markdown(session.base)
    for heading in ("What it shows", "How it works", "Things to notice", "Things to try"):
        assert f"### {heading}" in about
    assert "`support.catalog_visibility`" in about


def test_step_advances_the_model_and_redraws(page) -> None:
    session, rc = page
    before = _drawn(rc)
    model = session.model.value
    step = _button(rc, "Step")
    points: dict[str, list[float]] = {c: [] for c in ("year", "coverage", "cost")}
    for c in points:
        points[c] += _view(rc).frame["runs"]["grassroots"]["series"][c]
    for i in range(1, 7):
        step.click()
        frame = _view(rc).frame
        assert frame["step"] == i and frame["from"] == i  # one click, one step, new points only
        for c in points:
            points[c] += frame["runs"]["grassroots"]["series"][c]
    assert session.model.value is model and model.t == 6
    assert (model.runs["grassroots"].sources != 0).any()
    reference = sim.run(sim.load_scenario(TEACHING), rule="grassroots").timeseries
    assert model.runs["grassroots"].coverage == pytest.approx(reference["coverage"][6])
    for c, got in points.items():  # the browser's curves, put together from the frames
        assert got == list(reference[c][:7]), c
    served = np.array(_view(rc).frame["runs"]["grassroots"]["served"])
    assert np.array_equal(served, (model.runs["grassroots"].sources != 0).sum(axis=1))
    assert _drawn(rc) != before


def test_reset_restores_the_initial_state(page) -> None:
    session, rc = page
    initial = _drawn(rc)
    first_scene = _view(rc).scene["id"]
    for _ in range(5):
        _button(rc, "Step").click()
    _button(rc, "Reset").click()
    model = session.model.value
    assert model.t == 0
    assert not (model.runs["grassroots"].sources != 0).any()
    assert _view(rc).scene["id"] != first_scene  # a new run: the browser starts afresh
    assert _view(rc).frame["from"] == 0
    assert _drawn(rc) == initial  # same seed: the same map


def test_slider_changes_the_model_parameter(page) -> None:
    session, rc = page
    for _ in range(3):
        _button(rc, "Step").click()
    slider = _slider(rc, "Catalogue visibility")
    slider.v_model = 0.9
    model = session.model.value
    assert model.params.support.catalog_visibility == pytest.approx(0.9)
    assert model.t == 0  # a new parameter starts the run again
    assert str(_slider(rc, "Catalogue visibility").label).endswith("0.90")
    _slider(rc, "Contractor capacity").v_model = 40.0
    assert session.model.value.params.drive.contractor_capacity == pytest.approx(40.0)
    assert session.model.value.params.support.catalog_visibility == pytest.approx(0.9)
    _slider(rc, "Seed").v_model = 3
    assert session.model.value.seed == 3
    _button(rc, "Scenario values").click()
    assert session.model.value.params.support.catalog_visibility == pytest.approx(0.5)
    assert session.model.value.seed == session.base.seed


def test_side_by_side_runs_every_rule_on_the_same_seed(page) -> None:
    session, rc = page
    _choose_rule(rc, "side by side")
    model = session.model.value
    assert tuple(model.runs) == RULES
    for _ in range(4):
        _button(rc, "Step").click()
    worlds = [e.world for e in model.engines.values()]
    for w in worlds[1:]:
        assert np.array_equal(w.population.capacity, worlds[0].population.capacity)
    assert {run.t for run in model.runs.values()} == {4}
    assert _view(rc).scene["rules"] == list(RULES)
    assert set(_view(rc).frame["runs"]) == set(RULES)
    _choose_rule(rc, "contractor")
    assert tuple(session.model.value.runs) == ("contractor",)


def test_to_the_end_and_play() -> None:
    _, _, _, app = _solara()
    session = app.Session(TEACHING, {"time.years": 1})
    session.to_end()
    assert session.model.value.t == 12 and not session.model.value.running
    session.reset()
    session.speed.value = 4.0  # 48 steps a second
    session.playing.value = True
    cancel = threading.Event()
    thread = threading.Thread(target=session.play, args=(cancel,))
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert session.model.value.t == 12  # played to the end, then stopped itself
    assert session.playing.value is False
    session.reset()
    session.speed.value = 0.25
    session.playing.value = True
    thread = threading.Thread(target=session.play, args=(cancel,))
    thread.start()
    time.sleep(0.3)
    cancel.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and session.model.value.t < 12


def test_each_session_has_its_own_model() -> None:
    solara, _, _, app = _solara()
    _, rc_a = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    _, rc_b = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    before_b = _drawn(rc_b)
    for _ in range(4):
        _button(rc_a, "Step").click()
    assert _drawn(rc_b) == before_b and before_b[0] == 0
    assert _drawn(rc_a)[0] == 4
    rc_a.close()
    rc_b.close()


def test_closing_the_page_ends_the_session() -> None:
    """When Solara closes a browser session's page, its session stops playing and releases
    its models: nothing but the page kept them (on Mesa <= 3.4.1 Mesa's Agent._ids did)."""
    import gc
    import weakref

    import mesa

    solara, _, _, app = _solara()
    session = app.Session(TEACHING, {"time.years": 20})
    _, rc = solara.render(solara.AppLayout(children=[app.Teaching(session)]), handle_error=False)
    runs = [weakref.ref(r) for r in session.model.value.runs.values()]
    session.speed.value = 4.0
    session.playing.value = True  # the page's play thread starts
    deadline = time.monotonic() + 20  # a loaded machine may take a while for the first step
    while session.model.value.t == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    rc.close()
    assert session.closed
    t = session.model.value.t
    assert 0 < t < session.model.value.n_steps
    time.sleep(0.5)
    assert session.model.value.t == t  # the play thread has stopped
    registry = getattr(mesa.Agent, "_ids", {})
    assert not any(r() in registry for r in runs)
    del session, rc
    gc.collect()
    # the test's own kernel context still holds the reactive values; the server's page
    # ends its context too (tests/test_browser.py checks the models are gone there)
    assert all(r() is None or r() not in registry for r in runs)


def test_frames_after_a_gap_resend_the_history() -> None:
    """A frame says from which step its points are; a browser that lacks earlier points
    asks again (a reconnect) and gets the whole history."""
    _, _, _, app = _solara()
    session = app.Session(TEACHING)
    for _ in range(3):
        session.step()
    years = session.frame["runs"]["grassroots"]["series"]["year"]
    assert session.frame["from"] == 3 and len(years) == 1
    session.resync()
    years = session.frame["runs"]["grassroots"]["series"]["year"]
    assert session.frame["from"] == 0 and len(years) == 4
    assert years[-1] == pytest.approx(3 * session.base.dt)
    session.close()


def test_about_sections_and_knob_limits() -> None:
    _, _, _, app = _solara()
    sections = app.about_sections(
        "A small province. What it shows: curves. Things to notice: duplicates. "
        "Things to try: raise a.b; set c.d to 1."
    )
    assert sections == {
        "What is it?": "A small province.",
        "What it shows": "Curves.",
        "Things to notice": "Duplicates.",
        "Things to try": "Raise a.b; set c.d to 1.",
    }
    base = sim.load_scenario(TEACHING)
    knob = next(k for k in app.KNOBS if k.key == "drive.contractor_capacity")
    low, high, step = knob.limits(base)
    assert low == 0 and high >= 3 * base.drive.contractor_capacity and 0 < step <= high / 20
    assert [k.main for k in app.KNOBS].count(True) == 4
    assert {k.dimension for k in app.KNOBS if k.main} == set(app.DIMENSIONS)


def test_release_frees_the_models() -> None:
    """After ``release()`` nothing in Mesa keeps a dropped teaching model alive (Mesa up to
    3.4.1 holds every model in the class-level ``Agent._ids``; 3.4.2 removed it)."""
    import gc
    import weakref

    _, _, _, app = _solara()
    s = sim.load_scenario(ROOT / "scenarios" / "teaching.toml")
    model = app.TeachingModel(s, "side by side", seed=1)
    model.step()
    refs = [weakref.ref(run) for run in model.runs.values()]
    model.release()
    del model
    gc.collect()
    assert all(r() is None for r in refs)


# ---- drawing --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["teaching", "zhejiang", "guangdong"])
def test_map_positions(name: str) -> None:
    from sim.core.engine import Engine
    from sim.interactive import viz

    s = sim.load_scenario(ROOT / "scenarios" / f"{name}.toml")
    world = Engine(s).world
    pos = viz.positions(world)
    assert pos.shape == (world.n, 2) and np.isfinite(pos).all()
    gaps = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    assert gaps.min() > 0  # no two governments on the same spot
    if name != "teaching":  # seats: the map keeps the province's geography
        lon = world.population.lon
        assert np.corrcoef(pos[:, 0], lon)[0, 1] > 0.95


# ---- sim animate ----------------------------------------------------------------------
def test_frame_steps() -> None:
    assert frame_steps(12, 1) == list(range(13))
    assert frame_steps(12, 5) == [0, 5, 10, 12]
    assert frame_steps(12, 12) == [0, 12]


@pytest.mark.parametrize("mode", [["--rule", "contractor"], ["--side-by-side"]])
def test_animate_writes_a_gif(tmp_path: Path, mode: list[str]) -> None:
    out = tmp_path / "slides" / "diffusion.gif"
    args = ["animate", TEACHING, *mode, "--set", "time.years=1", "--every", "3"]
    result = runner.invoke(cli, [*args, "--out", str(out), "--fps", "5", "--dpi", "40"])
    assert result.exit_code == 0, result.output
    assert "5 frames" in result.output
    with Image.open(out) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 5  # steps 0, 3, 6, 9, 12
        assert gif.info["duration"] == 200
        assert gif.info.get("loop") == 0


def test_animate_bad_input_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import animation

    cases = [
        (["--out", str(tmp_path / "a.avi")], "must end in .gif or .mp4"),
        (["--rule", "hybrid", "--side-by-side", "--out", str(tmp_path / "a.gif")], "not both"),
        (["--rule", "central", "--out", str(tmp_path / "a.gif")], "unknown rule"),
        (["--set", "support.catalog_visibility=2", "--out", str(tmp_path / "a.gif")], "catalog"),
    ]
    for extra, message in cases:
        result = runner.invoke(cli, ["animate", TEACHING, *extra])
        assert result.exit_code == 2, result.output
        assert message in result.output
    monkeypatch.setattr(animation.writers, "is_available", lambda name: False)
    result = runner.invoke(cli, ["animate", TEACHING, "--out", str(tmp_path / "a.mp4")])
    assert result.exit_code == 2 and "ffmpeg" in result.output
    assert not list(tmp_path.iterdir())  # nothing written


def test_viz_bad_scenario_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["viz", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "file not found" in result.output
    result = runner.invoke(cli, ["viz", TEACHING, "--set", "drive.build_rate=0"])
    assert result.exit_code == 2 and "drive.build_rate" in result.output


# ---- serving a classroom ----------------------------------------------------------------
def _fake_interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """A teacher's laptop: loopback, Wi-Fi on the classroom network, a link-local address,
    an IPv6 address and a container bridge that is down."""
    import socket
    from types import SimpleNamespace as NS

    import psutil

    def addr(family, address):
        return NS(family=family, address=address)

    monkeypatch.setattr(
        psutil,
        "net_if_addrs",
        lambda: {
            "lo": [addr(socket.AF_INET, "127.0.0.1")],
            "wlan0": [
                addr(socket.AF_INET, "192.168.1.20"),
                addr(socket.AF_INET6, "fe80::1"),
                addr(socket.AF_INET, "169.254.3.4"),
            ],
            "docker0": [addr(socket.AF_INET, "172.17.0.1")],
        },
    )
    monkeypatch.setattr(
        psutil,
        "net_if_stats",
        lambda: {"lo": NS(isup=True), "wlan0": NS(isup=True), "docker0": NS(isup=False)},
    )


def test_classroom_addresses_and_qr_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.interactive import room

    _fake_interfaces(monkeypatch)
    assert room.lan_addresses() == ["192.168.1.20"]
    assert room.urls("0.0.0.0", 8765) == ["http://192.168.1.20:8765/"]
    assert room.urls("127.0.0.1", 8800) == ["http://127.0.0.1:8800/"]
    text = room.banner("0.0.0.0", 8765)
    assert "http://192.168.1.20:8765/" in text and "http://127.0.0.1:8765/" in text
    code = room.qr_code("http://192.168.1.20:8765/").splitlines()
    assert set("".join(code)) <= {"█", "▀", "▄", " "}
    # a QR code is square: n modules + 2 x border wide, half as many lines (two rows a line)
    width = len(code[0])
    assert all(len(line) == width for line in code) and len(code) == (width + 1) // 2
    monkeypatch.setattr(room, "lan_addresses", lambda: [])
    assert "no network address" in room.banner("0.0.0.0", 8765)
    assert room.banner("127.0.0.1", 8765).startswith("sim viz: open http://127.0.0.1:8765/")


def test_viz_prints_the_classroom_address(monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, _, app = _solara()
    _fake_interfaces(monkeypatch)
    served = []
    monkeypatch.setattr(
        app, "serve", lambda host, port, **kw: served.append((host, port, kw.get("token")))
    )
    for name in ("SIM_VIZ_SCENARIO", "SIM_VIZ_SET", "SIM_VIZ_URLS", "SOLARA_KERNEL_CULL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)  # sim viz sets them: restored afterwards
    result = runner.invoke(cli, ["viz", TEACHING, "--host", "0.0.0.0", "--port", "8765"])
    assert result.exit_code == 0, result.output
    (host, port, token), *_ = served
    assert (host, port) == ("0.0.0.0", 8765) and token  # off loopback: a join token
    assert f"http://192.168.1.20:8765/?join={token}" in result.output and "█" in result.output
    served.clear()
    result = runner.invoke(cli, ["viz", TEACHING, "--port", "8765"])  # loopback: no token
    assert served == [("127.0.0.1", 8765, None)], result.output
    about = app.about_markdown(sim.load_scenario(TEACHING), urls=["http://192.168.1.20:8765/"])
    assert "--host 0.0.0.0" in about and "http://192.168.1.20:8765/" in about


# ---- polygons (real boundaries) ------------------------------------------------------------
def squares_geojson(path: Path, *, n_missing: int = 0) -> Path:
    """A GeoJSON file with a square around each teaching government's map position: stand-in
    boundaries (the real county ones come with county-based scenarios)."""
    import json

    from sim.core.engine import Engine
    from sim.interactive import viz

    world = Engine(sim.load_scenario(TEACHING)).world
    pos = viz.positions(world)
    gaps = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    h = 0.4 * gaps.min(axis=1)
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"County {i}"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[x - r, y - r], [x + r, y - r], [x + r, y + r], [x - r, y + r], [x - r, y - r]]
                ],
            },
        }
        for i, ((x, y), r) in enumerate(zip(pos.tolist(), h.tolist(), strict=True))
    ]
    features = features[: len(features) - n_missing]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_polygons_replace_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.errors import BadInput
    from sim.interactive import live

    _, _, _, app = _solara()
    good = squares_geojson(tmp_path / "squares.geojson")
    monkeypatch.setenv(live.SHAPES_ENV, str(good))
    session = app.Session(TEACHING)
    scene = session.layout
    assert scene["shapes"] is not None and scene["edges"] == []
    features = scene["shapes"]["features"]
    assert [f["properties"]["sim_id"] for f in features] == [f"g{i}" for i in range(60)]
    assert scene["names"][:2] == ["County 0", "County 1"]
    session.close()
    with pytest.raises(BadInput, match="59 features for 60"):
        live.load_shapes(squares_geojson(tmp_path / "short.geojson", n_missing=1), n=60)
    (tmp_path / "broken.geojson").write_text("{")
    with pytest.raises(BadInput, match="cannot read"):
        live.load_shapes(tmp_path / "broken.geojson", n=60)
    codes = list(range(100, 160))  # matched by adcode when governments have codes
    shuffled = json.loads(good.read_text())
    for code, f in zip(codes, shuffled["features"], strict=True):
        f["properties"]["adcode"] = code
    shuffled["features"].reverse()
    (tmp_path / "coded.geojson").write_text(json.dumps(shuffled))
    ordered = live.load_shapes(tmp_path / "coded.geojson", n=60, keys=codes)
    assert [f["properties"]["adcode"] for f in ordered["features"]] == codes
    monkeypatch.setenv(live.SHAPES_ENV, str(tmp_path / "short.geojson"))
    monkeypatch.setattr(app, "serve", lambda **_: pytest.fail("served a bad file"))
    for name in ("SIM_VIZ_SCENARIO", "SIM_VIZ_SET", "SIM_VIZ_URLS", "SOLARA_KERNEL_CULL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(cli, ["viz", TEACHING])
    assert result.exit_code == 2 and "short.geojson" in result.output


def test_county_scenarios_draw_their_own_boundaries() -> None:
    """The real Zhejiang draws its 90 county polygons, in the governments' order (matched
    by adcode); a synthetic province draws points."""
    from sim.interactive import live

    s = sim.load_scenario(ROOT / "scenarios" / "zhejiang.toml")
    model = sim.DiffusionModel(s, rule="grassroots", seed=1)
    shapes = live.shapes_for(model)
    assert shapes is not None and len(shapes["features"]) == 90
    codes = model.engine.agents()["adcode"].tolist()
    assert [f["properties"]["adcode"] for f in shapes["features"]] == codes
    teaching = sim.DiffusionModel(sim.load_scenario(TEACHING), rule="grassroots", seed=1)
    assert live.shapes_for(teaching) is None


def test_animation_frames_draw_county_polygons() -> None:
    """``sim animate`` on a county scenario fills the real polygons by coverage (one patch
    per county); a synthetic scenario draws points."""
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure

    from sim.core.engine import Engine
    from sim.interactive import maps

    s = sim.load_scenario(ROOT / "scenarios" / "zhejiang.toml", {"time.years": 1})
    shapes = maps.county_shapes(s)
    assert shapes is not None and len(shapes[1]) == 90
    engine = Engine(s, "grassroots", 3).run()
    ax = Figure().add_subplot()
    maps.draw_frame(ax, engine, shapes, title="grassroots")
    patches = [c for c in ax.collections if isinstance(c, PatchCollection)]
    assert sum(len(c.get_paths()) for c in patches) == 90
    assert maps.county_shapes(sim.load_scenario(TEACHING)) is None


def test_end_of_run_maps_differ_between_rules() -> None:
    """At the end of the teaching run the contractor and the hybrid serve everything, so a
    coverage fill is the same dark green in every panel; the year each government reached
    half of its services (what the map shows at the end, issue 23) differs between the
    rules, and matches agents.csv's t50_years."""
    from sim.interactive import live

    _, _, _, app = _solara()
    model = app.TeachingModel(sim.load_scenario(TEACHING), app.SIDE_BY_SIDE)
    while model.running:
        model.step()
    runs = live.frame(model.runs, layout_id=0)["runs"]
    served = {rule: runs[rule]["served"] for rule in runs}
    assert served["contractor"] == served["hybrid"]  # all full: the old fill could not tell
    half = {
        rule: np.array([np.nan if y is None else y for y in runs[rule]["half"]]) for rule in runs
    }
    for a, b in (("grassroots", "contractor"), ("contractor", "hybrid"), ("grassroots", "hybrid")):
        assert not np.array_equal(half[a], half[b], equal_nan=True), (a, b)
    expected = model.runs["grassroots"].engine.agents()["t50_years"].to_numpy()
    np.testing.assert_allclose(half["grassroots"], expected, atol=1e-3)
    model.release()


def test_about_is_html_without_math() -> None:
    """The About tab is converted to HTML on the server: Solara's Markdown component would
    load KaTeX, which the offline assets lack (404s and a page error in the browser)."""
    _, _, _, app = _solara()
    html = app.about_html(sim.load_scenario(TEACHING), urls=["http://192.168.1.20:8765/"])
    assert "<h3>How it works</h3>" in html and "<strong>http://192.168.1.20:8765/</strong>" in html
    assert "katex" not in html.lower()


def test_server_is_quiet() -> None:
    """Solara's samesite warning is filtered; a second disconnect of a page is a no-op, not
    an AssertionError in the log (sim.interactive.server)."""
    import warnings

    from solara.server import kernel_context

    from sim.interactive import server

    server.quiet_solara()
    server.quiet_solara()  # idempotent
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn(
            "Cookies with samesite=none require https, but ...", UserWarning, stacklevel=1
        )
    assert not caught

    class Fake:
        lock = threading.Lock()
        page_status: ClassVar[dict] = {"p": kernel_context.PageStatus.DISCONNECTED}

    async def disconnect():  # as in the server: inside its event loop
        return kernel_context.VirtualKernelContext.page_disconnect(Fake(), "p")  # type: ignore[arg-type]

    future = asyncio.run(disconnect())
    assert future.done()

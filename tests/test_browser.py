"""``sim viz`` in a real browser: Debian's Chromium driven by Playwright, offline.

One ``sim viz`` subprocess for the module, with no way to fetch anything from the internet
(Solara's asset source points at a closed port, and the browser refuses any request that
leaves the server), and one headless Chromium; each test opens browser contexts (one per
student). The tests check that the map and the curves (drawn by the browser, counted by
their ``data-step``) change on Step and on Play, that 20 fast clicks make 20 steps, that the
speed slider keeps its value and focus while playing, that 10 sessions each see their own
model and that closing them releases their models (the server reports what is left), and
that boundaries are drawn as polygons. Playwright's own browser download needs the
internet, so the system Chromium is used (``.ci/run`` installs it with apt-get); the tests
are skipped, saying so, only when no Chromium can be found.

Run as a script to refresh the teaching guide's screenshots::

    python tests/test_browser.py docs/figures
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # without these, Chromium's own connections are
    "--disable-component-update",  # refused by a closed network and slow everything down
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--mute-audio",
]
VIEWPORT = {"width": 1366, "height": 768}  # a common classroom projector


def find_chromium() -> str | None:
    """``$SIM_CHROMIUM``, Debian's /usr/bin/chromium, or a chromium on the PATH."""
    for candidate in (
        os.environ.get("SIM_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_viz(
    log: Path, *extra: str, timeout: float = 40.0, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``sim viz`` in a subprocess; yields its URL once it answers; always stops it."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", "viz", str(TEACHING), "--port", str(port), *extra],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise AssertionError(f"sim viz exited {proc.returncode}:\n{log.read_text()}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except urllib.error.HTTPError as refused:
                    if refused.code == 403:  # it answers, and wants the class's token
                        break
                except OSError:
                    pass
                text = log.read_text(errors="replace")
                if "preparing the compiled model" in text and "ready" not in text:
                    # a one-time compile (a cold kernel cache, e.g. this file run alone):
                    # it says so, and the page is served after it; the wait starts then
                    deadline = time.monotonic() + timeout
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"sim viz did not answer in {timeout} s:\n{log.read_text()}"
                    )
                time.sleep(0.25)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@contextmanager
def chromium_browser(executable: str) -> Iterator[object]:
    """A headless Chromium (Playwright), closed afterwards."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a setup error, reported as a failure
        pytest.fail("playwright is not installed: pip install -e '.[dev,viz]'")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def browser(executable: str) -> Iterator[object]:
    """A headless Chromium page (Playwright) at the classroom viewport."""
    with chromium_browser(executable) as chromium:
        page = chromium.new_page(viewport=VIEWPORT)
        page.set_default_timeout(20_000)
        yield page


def status(page) -> str:
    return page.locator(".sim-status").inner_text()


def drawn_step(page, what: str = ".sim-map") -> int:
    """The step the map (or the curves) shows, as drawn by the browser (``data-step``)."""
    return int(page.locator(what).get_attribute("data-step") or -1)


def wait_for_step(page, step: int) -> None:
    """Until the status line says ``step`` and the map and curves have drawn it."""
    page.wait_for_function(
        """s => document.querySelector('.sim-status')?.innerText.includes(`(step ${s} of`)
             && document.querySelector('.sim-map')?.getAttribute('data-step') === String(s)
             && document.querySelector('.sim-curves')?.getAttribute('data-step') === String(s)""",
        arg=step,
    )


# ---- the tests: one server (offline) and one Chromium for the module ----------------------
SERVER_ENV = {"SOLARA_ASSETS_CDN": "http://127.0.0.1:9/", "SOLARA_KERNEL_CULL_TIMEOUT": "2s"}
"""Offline: where Solara would fetch an asset it does not have is a closed port, so the page
can only work from the assets installed with the packages (a classroom with no internet).
A browser session whose connection drops without closing its tab ends after 2 s (10 min in
``sim viz``), so that the test sees it end."""


NOISE = ("Traceback", "Error", "Warning", "warn(")
"""What a quiet server log does not contain (Solara's samesite warning, an AssertionError
on a dropped connection, ...)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found: apt-get install chromium (or set SIM_CHROMIUM)")
    log = tmp_path_factory.mktemp("viz") / "viz.log"
    with running_viz(log, env=SERVER_ENV) as url, chromium_browser(executable) as chromium:
        yield url, log, chromium
    noise = [line for line in log.read_text().splitlines() if any(n in line for n in NOISE)]
    assert not noise, f"the server log is not quiet: {noise[:5]}"


class Pages:
    """Browser contexts (each one a student's browser session) that record any request that
    failed or left the server; closes them all at the end."""

    def __init__(self, url: str, chromium) -> None:
        self.url, self.chromium = url, chromium
        self.contexts: list = []
        self.failed: list[str] = []

    def open(self, count: int = 1) -> list:
        """``count`` new browser sessions, loaded side by side (a class arriving): each in a
        browser context of its own, as each student has a browser (tabs of one context would
        be background tabs, which Chromium does not draw)."""
        opened = []
        for _ in range(count):
            context = self.chromium.new_context(viewport=VIEWPORT)
            self.contexts.append(context)
            context.route("**/*", self._route)
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
            # a quiet page: no console errors, no uncaught exceptions (warnings are Solara's
            # own: its navigator widget is an old-style Vue script)
            page.on(
                "console",
                lambda m: self.failed.append(f"console: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: self.failed.append(f"page error: {e}"))
            page.on(
                "response",
                lambda r: self.failed.append(f"{r.url}: {r.status}") if r.status >= 400 else None,
            )
            page.goto(self.url, wait_until="commit")
            opened.append(page)
        for page in opened:
            page.locator("button.sim-step").wait_for()
            wait_for_step(page, 0)
        return opened

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.url) or url.startswith("ws"):
            route.continue_()
        else:  # anything from the internet: refused and reported
            self.failed.append(f"external: {url}")
            route.abort()

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


@pytest.fixture
def pages(server):
    url, _, chromium = server
    opened = Pages(url, chromium)
    yield opened
    opened.close()
    assert not opened.failed, f"requests failed, left the server or errors: {opened.failed[:5]}"


def test_step_draws_map_and_curves_offline(pages, tmp_path: Path) -> None:
    (page,) = pages.open()
    curves = page.locator(".sim-curves")
    before = curves.screenshot()
    for step in range(1, 9):
        page.locator("button.sim-step").click()
        wait_for_step(page, step)
    after = curves.screenshot()
    assert after != before, "the curves did not change after 8 steps"
    assert "step 8 of 96" in status(page)
    assert "grassroots 0%" not in status(page)  # something was served
    shot = tmp_path / "viz.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    page.get_by_role("tab", name="About").click()  # was: KaTeX 404s and a page error
    page.locator(".sim-about h3", has_text="How it works").wait_for()
    page.wait_for_timeout(1000)
    if os.environ.get("SIM_SCREENSHOTS"):
        keep = Path(os.environ["SIM_SCREENSHOTS"])
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, keep / "browser-test.png")


def test_no_click_is_lost(pages) -> None:
    (page,) = pages.open()
    step = page.locator("button.sim-step")
    for _ in range(20):  # as fast as Playwright clicks, without waiting for a frame
        step.click()
    wait_for_step(page, 20)
    page.wait_for_timeout(1000)
    assert drawn_step(page) == 20 and "(step 20 of 96)" in status(page)


def test_play_draws_frames_and_the_speed_slider_keeps_focus(pages) -> None:
    (page,) = pages.open()
    map_before = page.locator(".sim-map").screenshot()
    page.locator("button.sim-play").click()
    seen = set()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        seen.add(drawn_step(page))
        page.wait_for_timeout(50)
    assert len(seen) >= 4, f"frames drawn in 3 s of play: {sorted(seen)}"
    # the speed slider, moved with the keyboard while playing, keeps its value and focus
    thumb = page.locator(".v-input__slider", has_text="Speed").locator(".v-slider__thumb-container")
    thumb.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
    page.wait_for_timeout(1500)  # frames keep coming meanwhile
    assert page.locator(".v-input__slider", has_text="Speed: 1.75 years/second").count() == 1
    focused = page.evaluate(
        "() => !!document.activeElement?.closest('.v-input__slider')?.innerText.includes('Speed')"
    )
    assert focused, "the speed slider lost its focus while playing"
    if "Pause" in page.locator("button.sim-play").inner_text():  # not yet at the end (8 years)
        page.locator("button.sim-play").click()
    assert page.locator(".sim-map").screenshot() != map_before


def test_the_map_shows_when_half_was_reached_at_the_end(pages) -> None:
    """At the end every government has every service under the contractor rule: the fill
    turns to the year each reached half of them (issue 23), and the teacher can switch back."""
    (page,) = pages.open()
    assert page.locator(".sim-fill-served.sim-fill-on").count() == 1
    page.locator("button.sim-end").click()
    wait_for_step(page, 96)
    page.locator(".sim-fill-half.sim-fill-on").wait_for()
    page.locator(".sim-fill-served").click()
    page.locator(".sim-fill-served.sim-fill-on").wait_for()


@pytest.mark.slow
def test_sessions_have_their_own_models_and_release_them(pages, server) -> None:
    _, log, _ = server
    opened = pages.open(10)
    for i, page in enumerate(opened):  # page i takes i steps
        for _ in range(i):
            page.locator("button.sim-step").click()
    for i, page in enumerate(opened):
        wait_for_step(page, i)
        assert f"(step {i} of 96)" in status(page)
    seen = len(log.read_text())
    for page in opened[:5]:  # five students close their tabs (the page says so)
        page.close(run_before_unload=True)
    pages.close()  # five browsers just go away (their connection drops)
    deadline = time.monotonic() + 30
    # printed by the server once the closed sessions are torn down (after a gc.collect())
    while "sessions open: 0, models alive: 0" not in log.read_text()[seen:]:
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.5)


def test_polygons_are_drawn(server, tmp_path: Path) -> None:
    """With boundaries (here squares standing in for counties), the map is polygons filled
    by coverage; it still changes on Step."""
    from tests.test_viz import squares_geojson

    _, _, chromium = server
    shapes = squares_geojson(tmp_path / "squares.geojson")
    env = {**SERVER_ENV, "SIM_VIZ_SHAPES": str(shapes)}
    with running_viz(tmp_path / "viz.log", env=env) as url:
        pages = Pages(url, chromium)
        try:
            (page,) = pages.open()
            assert page.evaluate("document.querySelector('.sim-live').__vue__.polygons")
            before = page.locator(".sim-map").screenshot()
            for _ in range(12):
                page.locator("button.sim-step").click()
            wait_for_step(page, 12)
            assert page.locator(".sim-map").screenshot() != before
        finally:
            pages.close()
        assert not pages.failed, pages.failed[:5]


def test_class_mode(server, tmp_path: Path) -> None:
    """``sim viz --class``: hostile requests are refused; the teacher's screen and a
    student's page work together (a choice reaches the model, a reload keeps the county,
    the rounds and the end comparison); no console errors."""
    import re

    _, _, chromium = server
    log = tmp_path / "class.log"
    with running_viz(log, "--class", env=SERVER_ENV) as url:
        text = log.read_text()
        teacher = re.search(r"(http://\S+\?teacher=\S+)", text).group(1)  # type: ignore[union-attr]
        join = re.search(r"(http://\S+\?join=\S+)", text).group(1)  # type: ignore[union-attr]
        for path in ("", "?join=wrong", "?teacher=wrong"):  # no token, wrong tokens: 403
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url + path, timeout=10)
            assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{join.split('?')[0]}resourcez?verbose", timeout=10)
        assert refused.value.code in (403, 404)
        pages = Pages(url, chromium)
        try:
            context = chromium.new_context(viewport=VIEWPORT)
            pages.contexts.append(context)
            screen = context.new_page()
            screen.goto(teacher)
            screen.locator(".sim-next-round").wait_for(timeout=60_000)
            student_context = chromium.new_context(viewport=VIEWPORT)
            pages.contexts.append(student_context)
            student = student_context.new_page()
            errors: list[str] = []
            for page in (screen, student):
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on(
                    "response",
                    lambda r: errors.append(f"{r.url}: {r.status}") if r.status >= 400 else None,
                )
            student.goto(join)
            county = student.locator(".sim-county").inner_text(timeout=60_000)
            student.wait_for_url("**/?student=*")
            student.locator(".sim-choice-0-1").click()  # develop service 1
            student.locator(".sim-choice-0-1.sim-chosen").wait_for()
            screen.locator(".sim-joined", has_text="1").wait_for()
            screen.locator(".sim-next-round").click()
            student.locator(".sim-round", has_text="1").wait_for()
            assert "Service 1: served (own)" in student.locator(".sim-class").inner_text()
            student.reload()  # the county is kept
            assert student.locator(".sim-county").inner_text(timeout=60_000) == county
            screen.locator(".sim-end-class").click()
            screen.locator(".sim-comparison").wait_for()
            assert "duplicate developments" in screen.locator(".sim-comparison").inner_text()
            assert not errors, errors[:8]
        finally:
            pages.close()
    noise = [line for line in log.read_text().splitlines() if any(n in line for n in NOISE)]
    assert not noise, noise[:5]


# ---- screenshots for docs/teaching.md ----------------------------------------------------
def _press_slider(page, label: str, key: str, times: int, expect: str) -> None:
    """Move a slider with the keyboard, like a teacher at the projector, and wait until the
    page shows the new value and has restarted the run."""
    slider = page.locator(".v-input__slider", has_text=label).locator(".v-slider__thumb-container")
    slider.focus()
    for _ in range(times):
        page.keyboard.press(key)
        page.wait_for_timeout(200)
    page.locator(".v-input__slider", has_text=f"{label}: {expect}").wait_for()
    page.wait_for_timeout(1500)  # the last restart
    wait_for_step(page, 0)


def _run_to(page, step: int) -> None:
    """Click Step, one step at a time, until the status shows ``step``."""
    current = int(status(page).split("(step ")[1].split()[0])
    for target in range(current + 1, step + 1):
        page.locator("button.sim-step").click()
        wait_for_step(page, target)


def take_figures(folder: Path) -> list[Path]:
    """The screenshots of docs/teaching.md, from the real page."""
    executable = find_chromium()
    if executable is None:
        raise SystemExit("no Chromium found: apt-get install chromium")
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def shoot(page, name: str) -> None:
        page.wait_for_timeout(800)
        path = folder / f"teaching-{name}.png"
        page.screenshot(path=str(path))
        shots.append(path)

    log = folder / ".viz.log"
    try:
        with running_viz(log) as url, browser(executable) as page:
            page.goto(url)
            page.locator("button.sim-step").wait_for()
            # 1: the grassroots S-curve, two years in
            _run_to(page, 24)
            shoot(page, "grassroots")
            # 2: the three rules side by side, to the end
            page.get_by_role("button", name="side by side").click()
            wait_for_step(page, 0)
            page.locator("button.sim-end").click()
            wait_for_step(page, 96)
            shoot(page, "side-by-side")
            # 3: the catalogue: visibility up, duplicates down
            page.get_by_role("button", name="grassroots").click()
            wait_for_step(page, 0)
            _press_slider(page, "Catalogue visibility", "ArrowRight", 8, "0.90")
            page.locator("button.sim-end").click()
            wait_for_step(page, 96)
            shoot(page, "catalogue")
            # 4: outages under the contractor rule
            page.locator("text=Scenario values").click()
            page.get_by_role("button", name="contractor").click()
            wait_for_step(page, 0)
            page.locator("text=More parameters").click()
            _press_slider(page, "Outage rate (per year)", "ArrowRight", 5, "1.0")
            _run_to(page, 40)
            while "OUTAGE" not in status(page):  # stop in the middle of an outage
                _run_to(page, int(status(page).split("(step ")[1].split()[0]) + 1)
            shoot(page, "outage")
            # 5: the About tab
            page.get_by_role("tab", name="About").click()
            shoot(page, "about")
        shots += _class_figures(folder, executable)
    finally:
        log.unlink(missing_ok=True)
    return shots


def _class_figures(folder: Path, executable: str) -> list[Path]:
    """Class mode: the teacher's screen and a student's page, two rounds in, four students."""
    import re

    log = folder / ".class.log"
    shots = []
    try:
        with running_viz(log, "--class") as _, chromium_browser(executable) as chromium:
            text = log.read_text()
            teacher = re.search(r"(http://\S+\?teacher=\S+)", text).group(1)  # type: ignore[union-attr]
            join = re.search(r"(http://\S+\?join=\S+)", text).group(1)  # type: ignore[union-attr]
            screen = chromium.new_context(viewport=VIEWPORT).new_page()
            screen.set_default_timeout(60_000)
            screen.goto(teacher)
            screen.locator(".sim-next-round").wait_for()
            students = []
            for _ in range(4):
                student = chromium.new_context(viewport=VIEWPORT).new_page()
                student.set_default_timeout(60_000)
                student.goto(join)
                student.locator(".sim-county").wait_for()
                students.append(student)
            for r in (1, 2):
                for i, student in enumerate(students):
                    code = 1 if r == 1 else (2 if i % 2 else 3)  # develop, then copy/catalogue
                    anyk = ", ".join(f".sim-choice-{k}-{code}" for k in range(64))  # any service
                    buttons = student.locator(f":is({anyk}):not(.sim-chosen)")
                    if buttons.count():
                        buttons.first.click()
                        student.wait_for_timeout(300)
                screen.locator(".sim-next-round").click()
                for student in students:
                    student.locator(".sim-round", has_text=str(r)).wait_for()
            for page, name in ((students[0], "class-student"), (screen, "class-teacher")):
                page.wait_for_timeout(1500)
                path = folder / f"teaching-{name}.png"
                page.screenshot(path=str(path))
                shots.append(path)
    finally:
        log.unlink(missing_ok=True)
    return shots


if __name__ == "__main__":
    for written in take_figures(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/figures")):
        print(written)

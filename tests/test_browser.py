"""``sim viz`` in a real browser: Debian's Chromium driven by Playwright, no network.

Starts ``sim viz`` on a free port as a subprocess, loads the page headless, clicks *Step*
several times, checks that the coverage plot changed and saves a screenshot (under pytest's
``tmp_path``; set ``SIM_SCREENSHOTS=folder`` to keep it). Playwright's own browser download
needs the internet, so the test uses the system Chromium (``.ci/run`` installs it with
apt-get); it is skipped, saying so, only when no Chromium can be found.

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
def running_viz(log: Path, *extra: str, timeout: float = 40.0) -> Iterator[str]:
    """``sim viz`` in a subprocess; yields its URL once it answers; always stops it."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
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
                except OSError:
                    pass
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
def browser(executable: str) -> Iterator[object]:
    """A headless Chromium page (Playwright) at the classroom viewport."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a setup error, reported as a failure
        pytest.fail("playwright is not installed: pip install -e '.[dev,viz]'")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport=VIEWPORT)
            page.set_default_timeout(20_000)
            yield page
        finally:
            chromium.close()


def status(page) -> str:
    return page.locator(".sim-status").inner_text()


def wait_for_step(page, step: int) -> None:
    page.wait_for_function(
        "s => document.querySelector('.sim-status')?.innerText.includes(s)",
        arg=f"(step {step} of",
    )


def test_viz_steps_in_a_real_browser(tmp_path: Path) -> None:
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found: apt-get install chromium (or set SIM_CHROMIUM)")
    failed: list[str] = []
    with running_viz(tmp_path / "viz.log") as url, browser(executable) as page:
        page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
        page.on(
            "response", lambda r: failed.append(f"{r.url}: {r.status}") if r.status >= 400 else None
        )
        page.goto(url)
        page.locator("button.sim-step").wait_for()
        wait_for_step(page, 0)
        curves = page.locator("img.sim-curves")
        curves.wait_for()
        page.wait_for_timeout(300)
        before = curves.screenshot()
        for step in range(1, 9):
            page.locator("button.sim-step").click()
            wait_for_step(page, step)
        page.wait_for_timeout(500)  # the new image is a fresh blob: let it load
        after = curves.screenshot()
        assert after != before, "the coverage plot did not change after 8 steps"
        assert "step 8 of 96" in status(page)
        assert "grassroots 0%" not in status(page)  # something was served
        shot = tmp_path / "viz.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        if os.environ.get("SIM_SCREENSHOTS"):
            keep = Path(os.environ["SIM_SCREENSHOTS"])
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, keep / "browser-test.png")
    assert not failed, f"requests failed (is solara-assets installed?): {failed[:5]}"


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
    finally:
        log.unlink(missing_ok=True)
    return shots


if __name__ == "__main__":
    for written in take_figures(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/figures")):
        print(written)

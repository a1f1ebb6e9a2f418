"""A class of 30 on one laptop: ``sim viz`` serving many students at once.

Usage (from the repository root)::

    python benchmarks/classroom.py play     # 30 sessions on Play at 1 year/s (about 1.5 min)
    python benchmarks/classroom.py memory   # 10 rounds of opening and closing 10 sessions
    python benchmarks/classroom.py play --sessions 10 --browsers 10 --seconds 10

**play**: starts ``sim viz scenarios/teaching.toml --set time.years=60`` (so that Play lasts
60 s at 1 year/s), opens ``--sessions`` - 1 sessions and clicks *Play* in each (speed 1
simulated year per second, the default), then measures over ``--seconds``: frames per
second that each session receives, steps per second each advances (12 at 1 year/s), and
the server's CPU (user + system seconds per second, from psutil: 1.0 is one core busy).
Then, while they play, it opens the last session in a real Chromium and measures how long
the page takes to appear (until the map has drawn step 0). Sessions are websocket clients
(``benchmarks/students.py``: the server's work without a browser's drawing) except
``--browsers`` of them, which are real Chromium contexts (Playwright, Debian's
/usr/bin/chromium) whose drawn frames are counted from the map's ``data-step``.

**memory**: ``--rounds`` rounds; each opens ``--sessions`` sessions, steps each a few
times, closes them as a closed tab does, waits for the server to report the sessions gone,
and records the server's resident memory (RSS).

Results are printed as Markdown tables, with the machine's load; ``--out FILE`` also writes
them. The numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from students import Student

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEACHING = ROOT / "scenarios" / "teaching.toml"
CHROMIUM = os.environ.get("SIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}
COUNT_FRAMES = """
window.__simFrames = [];
document.addEventListener("DOMContentLoaded", () => {
  new MutationObserver((changes) => {
    for (const c of changes) {
      if (c.target.classList.contains("sim-map")) {
        window.__simFrames.push([performance.now(), Number(c.target.getAttribute("data-step"))]);
      }
    }
  }).observe(document.body, { attributes: true, attributeFilter: ["data-step"], subtree: true });
});
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(log: Path, *extra: str) -> Iterator[tuple[str, psutil.Process]]:
    """``sim viz`` in a subprocess (its own process group); yields its URL and process."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SOLARA_KERNEL_CULL_TIMEOUT": "10s"}
    env["SIM_VIZ_MAX_PER_CLIENT"] = "200"  # every session comes from this one machine
    command = [sys.executable, "-m", "sim", "viz", str(TEACHING), "--port", str(port), *extra]
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"sim viz did not start:\n{log.read_text()}") from None
                time.sleep(0.25)
        yield url, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


@contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url: str, *, timeout: float = 180.0):
    """A new browser session (context); returns (page, seconds until the map drew step 0)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(COUNT_FRAMES)
    page = context.new_page()
    page.set_default_timeout(timeout * 1000)
    start = time.monotonic()
    page.goto(url)
    page.wait_for_function(
        "document.querySelector('.sim-map')?.getAttribute('data-step') === '0'",
        timeout=timeout * 1000,
    )
    return page, time.monotonic() - start


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def play(args: argparse.Namespace) -> str:
    log = Path(args.log)
    n_ws = args.sessions - 1 - args.browsers
    rows: list[str] = []
    with server(log, "--set", "time.years=60") as (url, proc), chromium() as browser:
        before = load()
        students = [Student(url) for _ in range(n_ws)]
        opened = [s.wait_ready() for s in students]
        pages = [open_page(browser, url)[0] for _ in range(args.browsers)]
        for s in students:
            s.click("sim-play")
        for page in pages:
            page.locator("button.sim-play").click()
        time.sleep(3)  # all playing
        t0, cpu0 = time.monotonic(), cpu_seconds(proc)
        marks = [(len(s.frames), s.step()) for s in students]
        drawn = [page.evaluate("window.__simFrames.length") for page in pages]
        steps = [int(p.locator(".sim-map").get_attribute("data-step")) for p in pages]
        time.sleep(args.seconds)
        elapsed = time.monotonic() - t0
        cpu = (cpu_seconds(proc) - cpu0) / elapsed
        fps = [(len(s.frames) - m[0]) / elapsed for s, m in zip(students, marks, strict=True)]
        sps = [(s.step() - m[1]) / elapsed for s, m in zip(students, marks, strict=True)]
        drawn_fps = [
            (p.evaluate("window.__simFrames.length") - d) / elapsed
            for p, d in zip(pages, drawn, strict=True)
        ]
        sps += [
            (int(p.locator(".sim-map").get_attribute("data-step")) - s) / elapsed
            for p, s in zip(pages, steps, strict=True)
        ]
        # a new student arrives while the others play
        cpu1, t1 = cpu_seconds(proc), time.monotonic()
        _, appear = open_page(browser, url)
        cpu_during = (cpu_seconds(proc) - cpu1) / (time.monotonic() - t1)
        rss = proc.memory_info().rss / 2**20
        after = load()
    rows += [
        f"`sim viz` with {args.sessions} sessions on Play at 1 year/s "
        f"({n_ws} websocket clients, {args.browsers} Chromium contexts; then one more "
        f"Chromium page), measured over {elapsed:.1f} s.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| frames/s received per session: min / median / max | {spread(fps)} |",
        f"| frames/s drawn per Chromium session: min / median / max | {spread(drawn_fps)} |",
        f"| steps/s per session (12 = 1 year/s): min / median | {min(sps):.1f} / "
        f"{statistics.median(sps):.1f} |",
        f"| server CPU while playing (cores) | {cpu:.2f} |",
        f"| a new page appears (map drawn) while {args.sessions - 1} play | {appear:.1f} s |",
        f"| server CPU while that page loads (cores) | {cpu_during:.2f} |",
        f"| server RSS at the end | {rss:.0f} MiB |",
        f"| time for a websocket session to get its first frame (median, at start) | "
        f"{statistics.median(opened) if opened else float('nan'):.1f} s |",
        "",
        f"Machine: {before} before, {after} after.",
    ]
    return "\n".join(rows)


def memory(args: argparse.Namespace) -> str:
    log = Path(args.log)
    rows = [
        f"Server memory over {args.rounds} rounds of opening and closing {args.sessions} "
        "sessions (each steps 5 times, then closes as a closed tab does).",
        "",
        "| after round | sessions open | models alive | server RSS (MiB) |",
        "| --- | --- | --- | --- |",
    ]
    with server(log) as (url, proc):
        warm = Student(url)
        warm.wait_ready()
        warm.close()
        time.sleep(3)
        rss = proc.memory_info().rss / 2**20
        rows.append(f"| 0 (one session opened and closed) | | | {rss:.0f} |")
        for round_ in range(1, args.rounds + 1):
            reports = log.read_text().count("sessions open:")
            students = [Student(url) for _ in range(args.sessions)]
            for s in students:
                s.wait_ready()
                for _ in range(5):
                    s.click("sim-step")
            for s in students:
                s.close()
            deadline = time.monotonic() + 120
            while True:
                lines = [ln for ln in log.read_text().splitlines() if "sessions open:" in ln]
                if len(lines) > reports and "sessions open: 0," in lines[-1]:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"sessions did not close:\n{log.read_text()[-2000:]}")
                time.sleep(0.5)
            counts = lines[-1].split("sessions open: ")[1]
            sessions, models = (part.split(": ")[-1] for part in counts.split(", "))
            rss = proc.memory_info().rss / 2**20
            rows.append(f"| {round_} | {sessions} | {models} | {rss:.0f} |")
    rows += ["", f"Machine: {load()}."]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["play", "memory"])
    parser.add_argument("--sessions", type=int, default=None, help="30 (play), 10 (memory)")
    parser.add_argument("--browsers", type=int, default=0, help="real Chromium sessions (play)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measurement window (play)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds (memory)")
    parser.add_argument("--log", default="/tmp/sim-viz-classroom.log", help="server log")
    parser.add_argument("--out", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args()
    if args.sessions is None:
        args.sessions = 30 if args.mode == "play" else 10
    text = play(args) if args.mode == "play" else memory(args)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

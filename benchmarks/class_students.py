"""Class mode with a class of 30 on one machine: does every student's action reach the model
within a second? (issue 23)

Starts ``sim viz --class`` on the teaching scenario, then 30 students: ``--browsers`` of
them real Chromium pages (Playwright, Debian's ``/usr/bin/chromium``), the others websocket
clients that speak the page's protocol (:mod:`benchmarks.students`: they join with the
class's token, are given a county, and click the page's choice buttons: the ``choose``
event of the student's page, :mod:`sim.interactive.student_view`), plus the teacher's
screen as a websocket client. Each round every student makes ``--actions`` choices (a random
unserved service, a random choice); an action's time is from the click leaving the client to
the page's echo arriving (the page's state showing the choice, which draws the button as
chosen), which is after the server has recorded the choice in the class's intent (what the
next round's steps use): an upper bound on the time for the action to reach the model. Then
the teacher presses *Next round* and the time until every student's page shows the new
round is taken. Times are given as median / 95th percentile / worst.

    python benchmarks/class_students.py                 # 30 websocket students
    python benchmarks/class_students.py --browsers 2    # 28 websocket + 2 Chromium
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.classroom import chromium, cpu_seconds, load, server  # noqa: E402
from benchmarks.students import Student  # noqa: E402


def room(student: Student) -> dict | None:
    """The state of the student's page (:mod:`sim.interactive.student_view`): the widget's
    ``room``, which the server sets on the student's choices and on each round."""
    with student.lock:
        for state in student.states.values():
            if state.get("room"):
                return state["room"]
    return None


def offered(student: Student, k: int) -> bool:
    """Whether the page shows choice buttons for service ``k`` (not served, not ended)."""
    r = room(student)
    return r is not None and not r["ended"] and r["services"][k]["source"] == "none"


def chosen(student: Student, k: int, code: int) -> bool:
    r = room(student)
    return r is not None and r["services"][k]["choice"] == code


def choose(student: Student, k: int, code: int) -> None:
    """A click on the choice button: the page's ``choose([service, code])`` event."""
    with student.lock:
        comm = next(c for c, state in student.states.items() if state.get("room"))
    event = {"method": "custom", "content": {"event": "choose", "data": [k, code]}}
    student._send("comm_msg", {"comm_id": comm, "data": event})


def at_round(student: Student, round_: int) -> bool:
    r = room(student)
    return r is not None and r["round"] == round_


def wait(predicate, timeout: float = 60.0) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError("no echo in time")
        time.sleep(0.005)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--browsers", type=int, default=0, help="of them, Chromium pages")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--actions", type=int, default=2, help="choices per student per round")
    parser.add_argument("--log", default="/tmp/sim-viz-class.log")
    args = parser.parse_args()
    rng = random.Random(1)
    log = Path(args.log)
    with server(log, "--class") as (url, process):
        deadline = time.monotonic() + 60
        while "?join=" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        text = log.read_text()
        join = re.search(r"\?join=(\S+)", text).group(1)  # type: ignore[union-attr]
        teacher_token = re.search(r"\?teacher=(\S+)", text).group(1)  # type: ignore[union-attr]
        load_before = load()
        teacher = Student(url, path=f"?teacher={teacher_token}")
        wait(lambda: teacher.button("sim-next-round") is not None, 180)
        n_ws = args.students - args.browsers
        opened = time.monotonic()
        students = [Student(url, path=f"?join={join}") for _ in range(n_ws)]
        for s in students:
            wait(lambda s=s: offered(s, 0), 300)
        joined = time.monotonic() - opened
        pages = []
        with chromium() as browser:
            for _ in range(args.browsers):
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                page = context.new_page()
                page.set_default_timeout(180_000)
                page.goto(f"{url}?join={join}")
                page.locator(".sim-choice-0-1").wait_for()
                pages.append(page)
            latencies: list[float] = []
            browser_latencies: list[float] = []
            rounds: list[float] = []
            refused = 0
            cpu0 = cpu_seconds(process)
            t0 = time.monotonic()
            for r in range(args.rounds):
                for a in range(args.actions):
                    for s in students:
                        for _attempt in range(20):
                            # developing is bounded by the county's budget (a refused
                            # choice is not echoed): one develop per student and round
                            k, code = (
                                rng.randrange(8),
                                rng.choice((1, 2, 3, 4) if a == 0 else (2, 3, 4)),
                            )
                            if offered(s, k) and not chosen(s, k, code):
                                break
                        else:
                            continue
                        before = room(s)
                        choose(s, k, code)
                        # the echo: the page's new state (a refused choice, over the
                        # county's budget, is echoed too, with the reason; counted apart)
                        latencies.append(wait(lambda s=s, before=before: room(s) is not before))
                        if not chosen(s, k, code):
                            refused += 1
                    for page in pages:  # copy, catalogue or wait: never over budget
                        for _attempt in range(20):
                            k, code = rng.randrange(8), rng.choice((2, 3, 4))
                            name = f"sim-choice-{k}-{code}"
                            if page.locator(f".{name}:not(.sim-chosen)").count():
                                break
                        else:
                            continue
                        start = time.monotonic()
                        page.locator(f".{name}").click()
                        page.locator(f".{name}.sim-chosen").wait_for()
                        browser_latencies.append(time.monotonic() - start)
                start = time.monotonic()
                teacher.click("sim-next-round")
                for s in students:
                    wait(lambda s=s, r=r: at_round(s, r + 1))
                rounds.append(time.monotonic() - start)
            busy = (cpu_seconds(process) - cpu0) / (time.monotonic() - t0)
        rss = process.memory_info().rss / 2**20

    def spread(values: list[float]) -> str:  # median / 95th percentile / worst
        if not values:
            return "-"
        # inclusive: within the values measured (with n = 3 rounds, near the worst)
        p95 = (
            values[0]
            if len(values) == 1
            else statistics.quantiles(values, n=20, method="inclusive")[-1]
        )
        return (
            f"{statistics.median(values):.3f} / {p95:.3f} / {max(values):.3f} (n = {len(values)})"
        )

    print(f"| measure | {n_ws} websocket + {args.browsers} Chromium students |")
    print("| --- | --- |")
    print(f"| action reaches the model, echoed (s), websocket | {spread(latencies)} |")
    print(
        f"| the same, Chromium pages (click to chosen button drawn) | {spread(browser_latencies)} |"
    )
    print(f"| Next round until every websocket student shows it (s) | {spread(rounds)} |")
    print(f"| {n_ws} websocket students joined and drawn (s) | {joined:.1f} |")
    print(f"| of the websocket actions, refused (over budget) and echoed as such | {refused} |")
    print(f"| server CPU during the rounds (cores) | {busy:.2f} |")
    print(f"| server RSS at the end (MiB) | {rss:.0f} |")
    print(f"\nload before: {load_before}; after: {load()}")


if __name__ == "__main__":
    main()

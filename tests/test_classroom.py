"""Class mode without a browser (issue 23): :class:`sim.interactive.classroom.ClassRoom`.

Students get distinct counties, keep them with their token, can act only for their own
county and within its budget; the teacher's rounds run the class's province with the
choices and the same province with the rule alone; with nobody playing the two are the same
run; the end comparison and "who copied whom" come from the runs. Also the tokens (a wrong
join or teacher token is refused) and ``sim viz --class``'s banner.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.core.arrays import Source
from sim.core.mechanisms.intent import COPY, DEVELOP, TAKE, WAIT
from sim.interactive.classroom import CLASS, MODEL_ONLY, ClassRoom

TEACHING = Path(__file__).resolve().parents[1] / "scenarios" / "teaching.toml"


def _room(**kw) -> ClassRoom:
    return ClassRoom(sim.load_scenario(TEACHING), join_token="j", teacher_token="t", **kw)


def test_students_get_their_own_counties_and_keep_them() -> None:
    room = _room()
    students = [room.join() for _ in range(30)]
    assert len({s.county for s in students}) == 30
    again = room.join(students[3].token)  # a reload with the token
    assert again is students[3]
    assert room.can_join("j") and not room.can_join("x") and not room.can_join(None)
    assert room.is_teacher("t") and not room.is_teacher("j") and not room.is_teacher("")
    full = _room()
    for _ in range(full.n):
        assert full.join() is not None
    assert full.join() is None  # every county taken


def test_a_student_acts_only_for_their_county_within_its_budget() -> None:
    room = _room()
    a, b = room.join(), room.join()
    assert room.choose("not-a-token", 0, DEVELOP) == "unknown student"
    assert room.choose(a.token, 0, 99) == "no such choice"
    budget = room.budget(a.county)
    for k in range(budget):
        assert room.choose(a.token, k, DEVELOP) is None
    assert "budget" in (room.choose(a.token, budget, DEVELOP) or "")
    assert room.choose(a.token, budget, COPY) is None
    # b's choices are b's: a's do not touch b's county
    assert (room.choices[b.county] == WAIT).all()
    room.next_round()
    source = room.runs[CLASS].engine.state.source
    assert (source[a.county, :budget] == Source.OWN).all()
    # a waiting county does nothing locally under the grassroots rule
    assert (source[b.county] == Source.NONE).all()
    assert "already served" in (room.choose(a.token, 0, WAIT) or "")


def test_nobody_playing_is_the_model_alone() -> None:
    room = _room()
    for _ in range(3):
        room.next_round()
    assert room.round == 3
    for column, values in room.runs[CLASS].engine.recorder.data.items():
        np.testing.assert_array_equal(values, room.runs[MODEL_ONLY].engine.recorder.data[column])


def test_rounds_compare_the_class_with_the_model() -> None:
    room = _room()
    players = [room.join() for _ in range(10)]
    for p in players:  # every student develops what the budget allows, every round
        for k in range(room.k):
            room.choose(p.token, k, DEVELOP)
    room.set_rule("contractor")  # before the first round: allowed, restarts
    assert room.rule == "contractor"
    room.set_rule("grassroots")
    room.next_round()
    room.set_rule("contractor")  # after it: ignored
    assert room.rule == "grassroots"
    while not room.ended:
        for p in players:
            for k in range(room.k):
                room.choose(p.token, k, TAKE if k % 2 else DEVELOP)
        room.next_round()
    assert room.round == room.rounds
    rows = dict((label, (c, m)) for label, c, m in room.comparison())
    assert rows["duplicate developments"][0] != rows["duplicate developments"][1]
    assert "class has ended" in (room.choose(players[0].token, 0, WAIT) or "")
    copies = room.copies()
    assert all(n > 0 for _, _, n in copies)


def test_a_students_page_is_sent_its_state() -> None:
    """The student's page is one widget whose state the server sets (student_view): a click
    is recorded in the class before the page's new state shows it; a refusal is answered
    too, with the reason, even when repeated; a round sends the new round."""
    pytest.importorskip("ipyvuetify", reason="the viz extra draws the student's page")
    from sim.interactive.student_view import StudentPanel, StudentScreen

    room = _room()
    a = room.join()
    panel = StudentPanel()
    screen = StudentScreen(room, a.token, panel)
    assert panel.room["round"] == 0 and panel.room["county"] == a.county
    panel.vue_choose([0, DEVELOP])
    assert room.choices[a.county, 0] == DEVELOP
    assert panel.room["services"][0]["choice"] == DEVELOP and panel.room["message"] is None
    budget = room.budget(a.county)
    for k in range(1, budget + 1):
        panel.vue_choose([k, DEVELOP])
    refused = panel.room
    assert "budget" in refused["message"] and refused["services"][budget]["choice"] == WAIT
    panel.vue_choose([budget, DEVELOP])  # the same refusal again: still answered
    assert panel.room["answered"] == refused["answered"] + 1 == budget + 2
    panel.vue_choose(["x"])  # not what the page sends: ignored
    assert panel.room["answered"] == budget + 2
    room.next_round()
    assert panel.room["round"] == 0  # the page's watcher pushes (class_page._on_rounds)
    screen.push()
    assert panel.room["round"] == 1 and panel.room["services"][0]["source"] == "own"


def test_views_wait_for_changes() -> None:
    room = _room()
    seen = room.version
    room.join()
    assert room.wait(seen, timeout=0.1) != seen
    assert room.wait(room.version, timeout=0.05) == room.version  # no change: times out
    # students' pages wait for the round, the rule or the end only, not for every click
    stage = room.stage
    room.choose(room.join().token, 0, DEVELOP)
    assert room.wait_stage(stage, timeout=0.05) == stage
    room.next_round()
    assert room.wait_stage(stage, timeout=0.1) == stage + 1
    room.end()
    assert room.stage == stage + 2


def test_class_banner_shows_both_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.interactive import room

    monkeypatch.setattr(room, "lan_addresses", lambda: ["192.168.1.20"])
    text = room.class_banner("0.0.0.0", 8765, join="J", teacher="T")
    assert "http://127.0.0.1:8765/?teacher=T" in text
    assert "http://192.168.1.20:8765/?join=J" in text and "█" in text

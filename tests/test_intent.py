"""Class mode's hook in the model (issue 23): per-pair choices instead of the rule.

:mod:`sim.core.mechanisms.intent`. An all-``MODEL`` intent reproduces the model bit for bit
(every rule); each choice does what it says through the model's own ledger (a development is
registered, paid and counted as a duplicate where one exists; a copy needs a neighbour with
a local solution; the catalogue needs a solution and a rule with a catalogue); ``WAIT``
keeps a county's pairs from local events without storing up hazard; the contractor still
deploys to waiting pairs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.core.arrays import Source
from sim.core.engine import Engine
from sim.core.mechanisms.intent import COPY, DEVELOP, MODEL, TAKE, WAIT

TEACHING = Path(__file__).resolve().parents[1] / "scenarios" / "teaching.toml"


def _scenario(**overrides):
    return sim.load_scenario(TEACHING, overrides)


@pytest.mark.parametrize("rule", ["grassroots", "contractor", "hybrid"])
def test_neutral_intent_reproduces_the_model(rule: str) -> None:
    s = _scenario()
    plain, hooked = Engine(s, rule=rule), Engine(s, rule=rule)
    plain.run()
    neutral = np.zeros((s.population.n_agents, s.services.count), np.int64)
    for _ in range(s.n_steps):
        hooked.step(intent=neutral)
    for column, values in plain.recorder.data.items():
        np.testing.assert_array_equal(values, hooked.recorder.data[column], err_msg=column)
    np.testing.assert_array_equal(plain.state.source, hooked.state.source)


def test_choices_act_through_the_ledger() -> None:
    s = _scenario()
    e = Engine(s, rule="grassroots")
    n, k = s.population.n_agents, s.services.count
    intent = np.full((n, k), MODEL, np.int64)
    intent[0, :] = WAIT
    intent[0, 0] = DEVELOP
    e.step(intent=intent)
    assert e.state.source[0, 0] == Source.OWN
    assert (e.state.source[0, 1:] == Source.NONE).all()  # waiting: nothing else
    data = e.recorder.data
    assert data["developments"][1] >= 1
    # a second development of the same service elsewhere is a duplicate
    dup_before = int(data["duplicate_developments"][1])
    intent2 = np.full((n, k), MODEL, np.int64)
    intent2[1, 0] = DEVELOP
    e.step(intent=intent2)
    assert int(e.recorder.data["duplicate_developments"][2]) >= dup_before + 1
    # the catalogue under the contractor rule: there is none, the pair stays unserved
    c = Engine(s, rule="contractor")
    take = np.full((n, k), MODEL, np.int64)
    take[5, :] = TAKE
    c.step(intent=take)
    assert (c.state.source[5] == Source.NONE).all()


def test_copy_takes_a_neighbours_solution_and_wait_stores_nothing() -> None:
    s = _scenario()
    e = Engine(s, rule="grassroots")
    n, k = s.population.n_agents, s.services.count
    net = e.world.network
    indptr, indices = net.adjacency.indptr, net.adjacency.indices
    j = int(indices[indptr[3]])  # a neighbour of county 3
    intent = np.full((n, k), MODEL, np.int64)
    intent[3, :] = WAIT
    intent[j, 2] = DEVELOP
    e.step(intent=intent)
    assert e.state.hazard[3].sum() == 0.0  # waiting stores up no hazard
    intent[j, 2] = MODEL
    intent[3, 2] = COPY
    e.step(intent=intent)
    assert e.state.source[3, 2] == Source.PEER
    assert e.state.sol[3, 2] == e.state.sol[j, 2]


def test_the_contractor_deploys_to_waiting_counties() -> None:
    s = _scenario()
    e = Engine(s, rule="contractor")
    wait = np.full((s.population.n_agents, s.services.count), WAIT, np.int64)
    for _ in range(s.n_steps):
        e.step(intent=wait)
    source = e.state.source
    assert (source == Source.CONTRACTOR).mean() > 0.9
    local = (source == Source.OWN) | (source == Source.PEER)
    assert not (local | (source == Source.CATALOGUE)).any()  # nobody acted locally


def test_the_mesa_model_takes_choices_through_its_own_step() -> None:
    """``DiffusionModel.step_with``: the choices reach the engine, Mesa's clock advances (on
    Mesa 3.5, ``Model.step`` is wrapped and passes no arguments), and the next plain step is
    the rule's again (the choices do not stick)."""
    from sim.interactive.model import DiffusionModel

    s = _scenario()
    model, engine = DiffusionModel(s, rule="grassroots"), Engine(s, rule="grassroots")
    n, k = s.population.n_agents, s.services.count
    intent = np.full((n, k), WAIT, np.int64)
    intent[0, 0] = DEVELOP
    model.step_with(intent)
    engine.step(intent=intent)
    assert model.steps == 1 and model.intent is None
    assert model.sources[0, 0] == Source.OWN
    model.step()
    engine.step()
    np.testing.assert_array_equal(model.sources, engine.state.source)
    for column, values in engine.recorder.data.items():
        np.testing.assert_array_equal(values, model.engine.recorder.data[column], err_msg=column)

"""The province: list-based management and recognition.

Every solution is recorded in the provincial catalogue as soon as it exists (what
``support.catalog_visibility`` lets a government find). A service is *recognised*
``support.recognition_lag`` years after its first solution is present (developed, or in a
national scenario imported from another province); from then on the province
promotes its best solution (grassroots rule) or hands it to the contractor to standardise
and deploy (hybrid rule). This component runs first in every step, so recognition reads the
start-of-step state: a service whose first solution appears in step s is recognised from
step ``s + ceil(lag / dt) + 1`` on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .base import Context


@dataclass
class Province:
    down = False

    def setup(self, ctx: Context) -> None:
        self._lag_steps = math.ceil(ctx.scenario.support.recognition_lag / ctx.dt - 1e-9)

    def step(self, ctx: Context, t: int) -> None:
        st = ctx.state
        # The mask only changes while some service with a solution is still unrecognised.
        if st.n_recognised < st.n_solution_services:
            first = st.first_sol_step
            st.recognised = (first >= 0) & (first <= t - 1 - self._lag_steps)
            st.n_recognised = int(np.count_nonzero(st.recognised))

    def end_step(self) -> None:
        pass

    def settled(self, ctx: Context) -> bool:
        return ctx.state.n_recognised == ctx.state.n_solution_services

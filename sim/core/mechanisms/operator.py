"""An operator separate from the owner (管运分离; issue 22, drive; ODD 7.18.19).

With ``drive.operator_share`` w > 0 part of the platform's operation is contracted to an
operator. Nothing here is compiled: the operator acts through two constants and the
lifecycle cost.

* **Repair.** An outage lasts ``outage_duration x (1 - w + w x operator_repair)`` years
  (rounded to whole steps as before, at least one): an operator bound by a service-level
  agreement repairs in its contractual time.
* **Who carries outages.** Service lost in outages costs ``costs.outage`` per pair-year
  down. The owner carries all of it for locally run systems (local failures) and the share
  1 - w for the platform's outages; the operator carries the rest (a transfer the public
  does not pay), and is paid ``operator_fee`` x w per contractor-run pair and year.

At w = 0 and ``costs.outage`` = 0 (the defaults) the run and its lifecycle cost are as
before, bit for bit.
"""

from __future__ import annotations

import math
from typing import Any


def outage_steps(s: Any, never: int) -> int:
    """Whole steps an outage of the platform lasts (``drive.outage_duration``, shortened or
    lengthened by a separate operator's repair time)."""
    d = s.drive
    years = d.outage_duration
    if d.operator_share > 0:
        years = years * (1.0 - d.operator_share + d.operator_share * d.operator_repair)
    return max(1, math.floor(min(years / s.dt, never) + 0.5))


def lifecycle_terms(s: Any, operation_shared: float) -> dict[str, float]:
    """The lifecycle cost's operator terms (``RunSetup.extra``): the shared platform's
    running cost with the operator's fee, the cost of lost service and the owner's share
    of the platform's part of it."""
    d = s.drive
    return {
        "operation_shared": operation_shared + d.operator_share * d.operator_fee,
        "outage": s.costs.outage,
        "owner_share": 1.0 - d.operator_share,
    }

"""``sim calibrate``: fit the model to observed diffusion and weigh the rules against it.

Approximate Bayesian computation — random forests on a reference table (the default) or
sequential Monte Carlo (ABC-SMC, ``pyabc``) — gives a posterior over the candidate rules
and, for each rule, over the parameters in one run.

* :mod:`.config`  — the calibration file (TOML) and its validation;
* :mod:`.targets` — the observed data (targets CSV) and the summary statistics of a run;
* :mod:`.statistics` — derived statistics that tell the rules apart (issue 20);
* :mod:`.smc`     — priors, distance, the runs and the seeded sampler around ``pyabc``;
* :mod:`.report`  — the output folder: CSV tables, figures and ``report.md``;
* :mod:`.reference`, :mod:`.forest`, :mod:`.amortised` — ABC random forests
  (``[abc] method = "rf"``): the reference table, the forests, the output folder;
* :mod:`.check` — ``--check``: N truths per rule, calibrated; :mod:`.verdict` — a winner,
  or "undecided between ...".

Everything heavy (pyabc, matplotlib) is imported inside functions: importing this package
does no work and needs no optional dependency.
"""

from __future__ import annotations

from .config import Calibration, load_calibration

__all__ = ["Calibration", "calibrate", "load_calibration"]


def calibrate(*args, **kwargs):
    """See :func:`sim.calibrate.run.calibrate` (imported lazily: it needs pyabc)."""
    from .run import calibrate as _calibrate

    return _calibrate(*args, **kwargs)

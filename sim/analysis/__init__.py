"""Analysing finished sweeps: sensitivity indices, convergence, who wins, figures, report.

* :mod:`~sim.analysis.sweeps`: reading a sweep folder (manifest, runs);
* :mod:`~sim.analysis.indices`: sensitivity indices and convergence (SALib);
* :mod:`~sim.analysis.wins`: win shares and selection maps;
* :mod:`~sim.analysis.report`: ``report.md``;
* :mod:`~sim.analysis.atlas` and :mod:`~sim.analysis.atlas_report`: the sign atlas
  (``sim atlas``: signs, importance, rules, sign maps; scikit-learn, imported lazily);
* :mod:`~sim.analysis.figures`: the figures (they take the analysis's data).

May import: the bottom layer (io, errors, rules, outcomes). Never the core engine,
experiments or interactive layers: an analysis reads files, it runs nothing.
"""

from __future__ import annotations

from pathlib import Path

from ..io import write_csv, write_text
from .indices import Analysis, compute, noise_share
from .report import Figures, figure_name, render_report
from .sweeps import COLUMNS, DELTA_RESAMPLES, Sweep, load_sweep
from .wins import selection_map, win_shares

__all__ = [
    "COLUMNS",
    "DELTA_RESAMPLES",
    "Analysis",
    "Sweep",
    "analyze",
    "compute",
    "figure_name",
    "load_sweep",
    "noise_share",
    "selection_map",
    "win_shares",
]

# --------------------------------------------------------------------------- entry point


def analyze(
    dir: Path,
    *,
    figures: bool = True,
    num_resamples: int = 100,
    delta_resamples: int = DELTA_RESAMPLES,
) -> None:
    """Analyse the complete sweep in ``dir``: write indices.csv, convergence.csv (Sobol'),
    figures/*.png and report.md (last). Raises :class:`BadInput` for a folder that is not a
    complete sweep."""
    import os
    import shutil
    import tempfile

    from ..outputs import replace_folder

    sweep = load_sweep(Path(dir))
    result = compute(sweep, num_resamples=num_resamples, delta_resamples=delta_resamples)
    folder = sweep.path
    # Everything is written into a temporary folder first and then moved into place (the
    # figures folder as a whole, report.md last), so an interrupted or failing analysis
    # leaves the previous one, not new indices beside old figures.
    tmp = Path(tempfile.mkdtemp(prefix=".analysis.tmp-", dir=folder))
    try:
        write_csv(tmp / "indices.csv", result.indices)
        if result.convergence is not None:
            write_csv(tmp / "convergence.csv", result.convergence)
        drawn: Figures = []
        if figures:
            from .figures import draw_all

            drawn = draw_all(result, tmp / "figures")
        write_text(tmp / "report.md", render_report(result, drawn))
        (folder / "report.md").unlink(missing_ok=True)  # no report: the rest is in motion
        os.replace(tmp / "indices.csv", folder / "indices.csv")
        if result.convergence is not None:
            os.replace(tmp / "convergence.csv", folder / "convergence.csv")
        else:
            (folder / "convergence.csv").unlink(missing_ok=True)  # of an earlier design
        if figures:
            replace_folder(tmp / "figures", folder / "figures")
        os.replace(tmp / "report.md", folder / "report.md")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

"""``sim atlas``: the sign atlas of the rules over a province's plausible space."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import BadInput
from .common import (
    ForceSweepOpt,
    MaxMemoryOpt,
    SchedulerOpt,
    ShardOpt,
    WorkersOpt,
    _fail,
    _say,
    app,
    out,
)
from .sweeps import run_with_progress


@app.command()
def atlas(
    experiment: Annotated[
        Path,
        typer.Argument(help="Atlas file (TOML): an experiment with priors.", show_default=False),
    ],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: results/<file>).")
    ] = None,
    workers: WorkersOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an unfinished atlas.")] = False,
    force: ForceSweepOpt = False,
    scheduler: SchedulerOpt = None,
    shard: ShardOpt = None,
    maps: Annotated[bool, typer.Option("--maps/--no-maps", help="Draw the 2-D sign maps.")] = True,
    max_memory: MaxMemoryOpt = None,
) -> None:
    """Where each contrast is positive, negative or unclear over the plausible parameter
    space, which parameters decide it, as rules: signs.csv, importance.csv, rules.csv,
    facts.csv, maps/, report.md. Run again on a finished folder to re-analyse it."""
    from .. import limits
    from ..experiments.atlas import load_atlas, prepare_folder, write_settings

    try:
        limits.set_memory_limit(max_memory)
        spec = load_atlas(experiment)
    except BadInput as exc:
        raise _fail(exc) from None
    folder = out_dir or Path("results") / experiment.stem
    prepare_folder(spec, folder, force=force)
    result, part = run_with_progress(
        spec.experiment, folder, experiment=experiment, workers=workers, resume=resume,
        extend=None, force=force, scheduler=scheduler, shard=shard, batch=True,
        command="atlas",
    )  # fmt: skip
    write_settings(spec, folder)
    if part is not None or not result.complete:
        return
    from ..analysis.atlas_report import analyze_atlas

    try:
        analyze_atlas(folder, maps=maps)
    except BadInput as exc:
        raise _fail(exc) from None
    _say(out, f"wrote {folder}/ (signs.csv, importance.csv, rules.csv, facts.csv, "
              f"{'maps/, ' if maps else ''}report.md)")  # fmt: skip

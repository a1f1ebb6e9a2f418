"""``sim animate``: the teaching view (map and curves) as a GIF or MP4 for slides.

One frame per time step (or every ``every``-th step, always ending on the last one): the
map of local governments on the left (one per rule with ``side_by_side``) and the coverage,
duplicate and cost curves up to that step. Drawn with :mod:`sim.interactive.viz`, like the
browser app.
GIFs are written with matplotlib's Pillow writer; MP4 needs ``ffmpeg`` on the PATH.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib import rc_context
from matplotlib.figure import Figure

from ..core.engine import Engine
from ..errors import BadInput
from ..io import atomic_write
from ..params import Scenario
from . import maps as county_maps
from . import viz

FORMATS = (".gif", ".mp4")


def frame_steps(n_steps: int, every: int = 1) -> list[int]:
    """The steps shown: 0, every, 2 x every, ... and always the last step."""
    steps = list(range(0, n_steps + 1, max(every, 1)))
    if steps[-1] != n_steps:
        steps.append(n_steps)
    return steps


def check_output(out: Path) -> str:
    """The writer for ``out`` ("pillow" or "ffmpeg"); BadInput if it cannot be written."""
    from matplotlib import animation

    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise BadInput.one(str(out), "--out", "must end in .gif or .mp4")
    if suffix == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise BadInput.one(
                str(out),
                "--out",
                "writing .mp4 needs ffmpeg, which is not on the PATH: install it "
                "(e.g. apt-get install ffmpeg) or write a .gif",
            )
        return "ffmpeg"
    return "pillow"


def _layout(engines: dict[str, Engine]) -> tuple[Figure, list, list]:
    """The frame's figure, its map axes and its three curve axes."""
    n = len(engines)
    with rc_context(viz.STYLE):
        if n == 1:
            fig = Figure(figsize=(12.8, 7.2))
            maps = [fig.add_axes((0.01, 0.1, 0.5, 0.8))]
            viz.coverage_colourbar(fig, (0.52, 0.3, 0.012, 0.45))
            curves = [fig.add_axes((0.64, 0.68 - i * 0.29, 0.34, 0.22)) for i in range(3)]
        else:
            fig = Figure(figsize=(13.5, 8.6))
            width = 0.9 / n
            maps = [fig.add_axes((0.01 + i * width, 0.42, width - 0.01, 0.49)) for i in range(n)]
            viz.coverage_colourbar(fig, (0.93, 0.5, 0.01, 0.33))
            curves = [fig.add_axes((0.05 + i * 0.33, 0.08, 0.27, 0.24)) for i in range(3)]
        if n == 1:
            viz.map_legend(fig, loc="lower left", ncol=5)
        else:
            viz.map_legend(fig, loc="center", ncol=5, anchor=(0.5, 0.385))
    return fig, maps, curves


def animate(
    scenario: Scenario,
    out: Path,
    *,
    rules: Sequence[str],
    seed: int | None = None,
    fps: int = 8,
    every: int = 1,
    dpi: int = 80,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the animation of ``rules`` (same seed) to ``out``; return the number of frames.

    ``progress(done, total)`` is called after each frame.
    """
    writer_name = check_output(out)
    engines = {rule: Engine(scenario, rule=rule, seed=seed) for rule in rules}
    first = next(iter(engines.values()))
    pos = viz.positions(first.world)
    shapes = county_maps.county_shapes(scenario)  # county scenarios: their real polygons
    steps = frame_steps(scenario.n_steps, every)
    fig, maps, curves = _layout(engines)
    what = "same seed" if len(engines) > 1 else "rule"
    names = " vs ".join(engines)

    def draw() -> None:
        with rc_context(viz.STYLE):
            for ax, (rule, engine) in zip(maps, engines.items(), strict=True):
                if shapes is not None:
                    county_maps.draw_frame(ax, engine, shapes, title=rule)
                else:
                    viz.draw_map(ax, engine, pos, title=rule)
            viz.draw_curves(curves, engines, short=True, xlabel_all=len(engines) > 1)
            fig.suptitle(
                f"{scenario.name} · {what}: {names} · seed {first.seed} · "
                f"year {first.t * scenario.dt:.1f}",
                fontsize=15,
                fontweight="bold",
            )

    def write(tmp: Path) -> None:
        from matplotlib import animation

        if writer_name == "ffmpeg":
            writer: animation.AbstractMovieWriter = animation.FFMpegWriter(fps=fps)
        else:
            writer = animation.PillowWriter(fps=fps)
        with writer.saving(fig, str(tmp), dpi=dpi):
            for i, step in enumerate(steps):
                for engine in engines.values():
                    while engine.t < step:
                        engine.step()
                draw()
                writer.grab_frame()
                if progress is not None:
                    progress(i + 1, len(steps))

    atomic_write(out, write)
    return len(steps)

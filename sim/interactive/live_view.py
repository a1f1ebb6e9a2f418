"""The browser widget of the teaching page: ``sim/interactive/live_view.vue`` drawn with ECharts.

A Vue template (ipyvuetify, as Solara's own ``FigureEcharts``) with two synced values,
``scene`` (the layout) and ``frame`` (see :mod:`sim.interactive.live`). ECharts is loaded from the
server's copy, which the ``solara-assets`` package installs, so the page draws without
internet. The map's
element has the CSS class ``sim-map`` and the curves' ``sim-curves``; each carries
``data-step``, the step it shows, set once the browser has drawn it (tests and benchmarks
count frames with it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipyvuetify
import traitlets

ECHARTS_ASSET = "echarts@5.4.0/dist/echarts.min.js"
"""Path of ECharts under solara's asset folder (``solara-assets`` ships it; same as in .vue)."""


class LiveView(ipyvuetify.VuetifyTemplate):
    """Map and curves of one session (see the module docstring)."""

    template_file = (__file__, "live_view.vue")

    # the layout (live.layout); not named "layout", which is every ipywidget's CSS box
    scene = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    frame = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    on_resync = traitlets.Callable(None, allow_none=True)

    @traitlets.default("cdn")
    def _cdn(self) -> str | None:
        import solara.settings

        # None: the page's own asset route (/_solara/cdn), served from solara-assets' copy
        return None if solara.settings.assets.proxy else str(solara.settings.assets.cdn)

    def vue_resync(self, have: Any = None) -> None:
        """The browser found a gap in the curves (a reconnect): send everything again."""
        if self.on_resync is not None:
            self.on_resync()


def element(*, on_resync: Callable[[], None] | None = None) -> Any:
    """A :class:`LiveView` element for a Solara component; its ``scene`` and ``frame`` are
    set on the widget by the session, not by re-rendering."""
    return LiveView.element(on_resync=on_resync)

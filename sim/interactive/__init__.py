"""Interactive use: the Mesa model, the teaching app in the browser, and animations.

* :mod:`~sim.interactive.model`: :class:`DiffusionModel`, a Mesa model that steps the
  engine one step at a time, and :mod:`~sim.interactive.agents` (its agents: they receive
  their model, they do not import it);
* :mod:`~sim.interactive.app`: ``sim viz`` (Solara); :mod:`~sim.interactive.viz`: the
  drawings it and :mod:`~sim.interactive.animate` (``sim animate``) share.

May import: :mod:`sim.core`, :mod:`sim.world`, the public API and the bottom layer.
"""

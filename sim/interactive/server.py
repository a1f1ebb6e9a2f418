"""Running the teaching page with Solara's server, quietly.

:func:`serve` starts Solara (production mode, no browser opened, no version check) on the
page of :mod:`sim.interactive.app`. Two things of Solara 1.58 that a teacher would otherwise
see in the terminal are dealt with here, narrowly:

* every page load over plain http on a non-``localhost`` name printed a 12-line warning that
  cookies with ``samesite=none`` need https; Solara then uses ``samesite=lax``, which is
  right for this page (it is never embedded in another site's frame): the warning is
  filtered by its text;
* a browser whose websocket dropped twice (a laptop lid, a flaky classroom network) made
  Solara's ``page_disconnect`` raise ``AssertionError: cannot disconnect a page that is in
  state DISCONNECTED`` into the log: a second disconnect of a page already disconnected is
  now a no-op (the first one already scheduled the session's end).
"""

from __future__ import annotations

import asyncio
import functools
import warnings
from typing import Any

SAMESITE_WARNING = r"Cookies with samesite=none require https"


def quiet_solara() -> None:
    """Apply the two fixes of the module docstring (idempotent)."""
    warnings.filterwarnings("ignore", message=SAMESITE_WARNING, category=UserWarning)
    from solara.server import kernel_context

    context = kernel_context.VirtualKernelContext
    original = context.page_disconnect
    if getattr(original, "_sim_quiet", False):
        return

    @functools.wraps(original)
    def page_disconnect(self: Any, page_id: str) -> Any:
        with self.lock:
            already = self.page_status.get(page_id) == kernel_context.PageStatus.DISCONNECTED
        if already:
            future: asyncio.Future[None] = asyncio.Future()
            future.set_result(None)
            return future
        return original(self, page_id)

    page_disconnect._sim_quiet = True  # type: ignore[attr-defined]
    context.page_disconnect = page_disconnect  # type: ignore[method-assign]


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    token: str | None = None,
    also: tuple[str, ...] = (),
) -> None:
    """Run the page with Solara's server until interrupted, behind
    :class:`sim.interactive.guard.Guard` (``token``: the join token the page needs, None on
    the machine's own address; ``also``: the teacher's). Set ``$SIM_VIZ_SCENARIO`` first to
    choose the scenario."""
    import importlib
    import os

    from .guard import MAX_PER_CLIENT, Guard

    # Solara registers the page when its server module is imported: name it first
    os.environ["SOLARA_APP"] = "sim.interactive.app"
    solara_app = importlib.import_module("solara.server.starlette")
    from solara.__main__ import run as solara_run

    quiet_solara()
    if not isinstance(solara_app.app, Guard):  # uvicorn imports "solara.server.starlette:app"
        limit = int(os.environ.get("SIM_VIZ_MAX_PER_CLIENT") or MAX_PER_CLIENT)
        solara_app.app = Guard(solara_app.app, token=token, also=also, max_per_client=limit)
    args = [
        "sim.interactive.app",
        f"--host={host}",
        f"--port={port}",
        "--production",
        "--no-open",
        "--no-check-version",
    ]
    solara_run.main(args=args, prog_name="sim viz", standalone_mode=False)

"""A student's browser session of ``sim viz`` without a browser: a websocket client.

Speaks just enough of the protocol of Solara's page (Jupyter kernel messages over one
websocket) to start the teaching page, click its buttons and count the frames the server
sends to the map's widget. It does not draw, so it measures the server alone: use it when
a real browser per student (Playwright) would make the browser, not the server, the
bottleneck on the benchmark machine. Used by ``benchmarks/classroom.py``.

What it does, as the browser does: ``GET /`` for the session cookie; open the websocket
``/jupyter/api/kernels/<kernel id>/channels?session_id=<page id>``; open the comm
``solara.control`` and send it ``{"method": "run"}``; keep every widget's state from the
``comm_open`` and ``update`` messages; a click is an ipyvue ``custom`` event message to the
button's comm; closing the tab is ``POST /_solara/api/close/<kernel id>``.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

from websockets.sync.client import connect


class Student:
    """One browser session (see the module docstring). Thread-safe counters."""

    def __init__(self, url: str, *, timeout: float = 120.0, path: str = "") -> None:
        """``path``: what follows the address, as in the browser's address bar (class mode:
        ``?join=<token>``)."""
        self.url = url.rstrip("/") + "/"
        self.path = path
        self.kernel_id = str(uuid.uuid4())
        self.page_id = str(uuid.uuid4())
        self.lock = threading.Lock()
        self.states: dict[str, dict[str, Any]] = {}  # comm id -> widget state
        self.view: str | None = None  # comm id of the map widget (live_view.LiveView)
        self.frames: list[tuple[float, int]] = []  # (arrival time, step) of every frame
        self.opened = time.monotonic()
        self.first_frame: float | None = None
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            cookies = response.headers.get_all("set-cookie") or []
        cookie = "; ".join(c.split(";", 1)[0] for c in cookies)
        host = self.url.split("://", 1)[1].rstrip("/")
        self.ws = connect(
            f"ws://{host}/jupyter/api/kernels/{self.kernel_id}/channels?session_id={self.page_id}",
            additional_headers={"Cookie": cookie},
            max_size=None,
            open_timeout=timeout,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        control = str(uuid.uuid4())
        self._send("comm_open", {"comm_id": control, "target_name": "solara.control", "data": {}})
        run = {"method": "run", "args": {"path": path, "appName": None, "themes": None}}
        self._send("comm_msg", {"comm_id": control, "data": run})

    # ---- the wire ----------------------------------------------------------------------
    def _send(self, msg_type: str, content: dict[str, Any]) -> None:
        message = {
            "header": {
                "msg_id": str(uuid.uuid4()),
                "msg_type": msg_type,
                "session": self.page_id,
                "username": "",
                "date": datetime.now(UTC).isoformat(),
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
        self.ws.send(json.dumps(message))

    def _read(self) -> None:
        try:
            for raw in self.ws:
                if isinstance(raw, bytes):  # binary messages carry buffers (images): skip
                    continue
                self._receive(json.loads(raw))
        except Exception:  # the connection closed
            return

    def _receive(self, message: dict[str, Any]) -> None:
        kind = message.get("msg_type") or message["header"]["msg_type"]
        content = message.get("content", {})
        if kind == "comm_open":
            state = dict(content.get("data", {}).get("state", {}))
            with self.lock:
                self.states[content["comm_id"]] = state
                if "frame" in state and "scene" in state:
                    self.view = content["comm_id"]
            self._frame(content["comm_id"], state)
        elif kind == "comm_close":  # a widget gone from the page (its button too)
            with self.lock:
                self.states.pop(content.get("comm_id"), None)
        elif kind == "comm_msg":
            data = content.get("data", {})
            if data.get("method") == "update":
                with self.lock:
                    self.states.setdefault(content["comm_id"], {}).update(data.get("state", {}))
                self._frame(content["comm_id"], data.get("state", {}))

    def _frame(self, comm: str, state: dict[str, Any]) -> None:
        frame = state.get("frame")
        if comm != self.view or not frame:
            return
        now = time.monotonic()
        with self.lock:
            self.frames.append((now, int(frame["step"])))
            if self.first_frame is None:
                self.first_frame = now

    # ---- what a student does -------------------------------------------------------------
    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds from opening until the first frame arrived (the page has appeared)."""
        deadline = time.monotonic() + timeout
        buttons = ("sim-play", "sim-step", "sim-end", "sim-reset")
        while self.first_frame is None or any(self.button(b) is None for b in buttons):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no frame from {self.url} in {timeout} s")
            time.sleep(0.05)
        return self.first_frame - self.opened

    def button(self, css_class: str) -> str | None:
        with self.lock:
            for comm, state in self.states.items():
                if css_class in str(state.get("class_", "")).split():
                    return comm
        return None

    def click(self, css_class: str) -> None:
        comm = self.button(css_class)
        if comm is None:
            raise LookupError(f"no button .{css_class}")
        event = {"method": "custom", "content": {"event": "click", "data": {}}}
        self._send("comm_msg", {"comm_id": comm, "data": event})

    def step(self) -> int:
        """The latest step the server has sent (-1 before the first frame)."""
        with self.lock:
            return self.frames[-1][1] if self.frames else -1

    def close(self) -> None:
        """Close the tab: the page's close signal, then the connection."""
        request = urllib.request.Request(
            f"{self.url}_solara/api/close/{self.kernel_id}?session_id={self.page_id}",
            method="POST",
            data=b"",
        )
        try:
            urllib.request.urlopen(request, timeout=30).close()
        finally:
            self.ws.close()

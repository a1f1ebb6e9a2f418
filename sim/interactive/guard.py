"""A classroom server that admits only the class (issue 24, item 3): an ASGI wrapper around
Solara's server.

:class:`Guard` sits in front of Solara's Starlette app (:func:`sim.interactive.server.serve`
installs it) and, on every address:

* refuses **diagnostic routes** (``/resourcez``, which shows the host's CPU and memory, and
  ``/readyz``): 404;
* refuses a **websocket from another origin**: a browser sends ``Origin`` with every
  websocket; one that is not this server (``http://<Host>``) is a web page elsewhere trying
  to open sessions here, refused before the handshake (403);
* bounds **sessions per client**: at most ``max_per_client`` open websockets per client
  address (:data:`MAX_PER_CLIENT`; a student's few tabs, not a flood);
* bounds **message sizes**: a websocket message over :data:`MAX_MESSAGE` bytes closes that
  connection (1009), an HTTP request body over it is refused (413).

With a ``token`` (``sim viz`` on a non-loopback address, or ``--class``), the page and its
websocket also need the **join token**: a request whose address carries ``?join=<token>``
(or, in class mode, the teacher's ``?teacher=<token>``) gets a cookie that admits the
browser from then on; the page without it, and a websocket without the cookie, are refused
(403). The QR code and the printed addresses carry the token. The page's static files
(JavaScript, CSS, fonts) are not secret and are served to anyone.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

DIAGNOSTIC = ("/resourcez", "/readyz")
MAX_PER_CLIENT = 12
"""Open websockets (pages) per client address."""
MAX_MESSAGE = 256 * 1024
"""Bytes of one websocket message or HTTP request body."""
COOKIE = "sim_viz_admit"
PUBLIC = ("/static/", "/_solara/cdn/", "/jupyter/nbextensions/", "/favicon")
"""Paths served without the token: the page's assets, the same for everyone."""


class Guard:
    """See the module docstring. ``token``: the join token (None: no token needed);
    ``also``: other tokens that admit (the teacher's)."""

    def __init__(
        self,
        app: App,
        *,
        token: str | None = None,
        also: tuple[str, ...] = (),
        max_per_client: int = MAX_PER_CLIENT,
        max_message: int = MAX_MESSAGE,
    ) -> None:
        self.app = app
        self.tokens = tuple(t for t in (token, *also) if t)
        self.admit = token
        self.max_per_client = max_per_client
        self.max_message = max_message
        self.open: dict[str, int] = {}
        self.lock = threading.Lock()

    # -- checks ---------------------------------------------------------------------------
    def _admitted(self, scope: Scope) -> tuple[bool, bool]:
        """(admitted, by a token in the address: set the cookie)."""
        if not self.tokens:
            return True, False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        for key in ("join", "teacher"):
            for value in query.get(key, []):
                if any(hmac.compare_digest(value, t) for t in self.tokens):
                    return True, True
        cookie = SimpleCookie()
        try:
            cookie.load(_header(scope, b"cookie"))
        except Exception:  # a malformed cookie header admits nothing
            return False, False
        given = cookie.get(COOKIE)
        ok = given is not None and hmac.compare_digest(given.value, str(self.admit))
        return ok, False

    def _same_origin(self, scope: Scope) -> bool:
        origin = _header(scope, b"origin")
        if not origin:  # not a browser: a browser always sends Origin with a websocket
            return True
        host = _header(scope, b"host")
        return origin in (f"http://{host}", f"https://{host}")

    # -- ASGI -----------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            return await self.app(scope, receive, send)
        path = str(scope.get("path", ""))
        if path.rstrip("/") in DIAGNOSTIC:
            return await _refuse(scope, receive, send, 404, "not found")
        public = any(p in path for p in PUBLIC)
        admitted, by_token = (True, False) if public else self._admitted(scope)
        if kind == "http":
            if not admitted:
                return await _refuse(
                    scope, receive, send, 403, "Ask your teacher for the class's address."
                )
            length = _header(scope, b"content-length")
            if length.isdigit() and int(length) > self.max_message:
                return await _refuse(scope, receive, send, 413, "request too large")
            if by_token:
                send = _with_cookie(send, f"{COOKIE}={self.admit}; Path=/; SameSite=Strict")
            return await self.app(scope, _bounded(receive, self.max_message), send)
        if kind == "websocket":
            if not admitted or not self._same_origin(scope):
                return await _refuse(scope, receive, send, 403, "forbidden")
            client = (scope.get("client") or ("?", 0))[0]
            with self.lock:
                if self.open.get(client, 0) >= self.max_per_client:
                    full = True
                else:
                    full = False
                    self.open[client] = self.open.get(client, 0) + 1
            if full:
                return await _refuse(scope, receive, send, 429, "too many sessions")
            try:
                return await self.app(scope, self._limit(receive, send), send)
            finally:
                with self.lock:
                    self.open[client] -= 1
                    if not self.open[client]:
                        del self.open[client]
        return await self.app(scope, receive, send)

    def _limit(self, receive: Receive, send: Send) -> Receive:
        limit = self.max_message

        async def checked() -> Message:
            message = await receive()
            if message.get("type") == "websocket.receive":
                size = len(message.get("bytes") or b"") + len(message.get("text") or "")
                if size > limit:
                    await send({"type": "websocket.close", "code": 1009})
                    return {"type": "websocket.disconnect", "code": 1009}
            return message

        return checked


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _with_cookie(send: Send, cookie: str) -> Send:
    async def sending(message: Message) -> None:
        if message.get("type") == "http.response.start":
            headers = list(message.get("headers", []))
            headers.append((b"set-cookie", cookie.encode("latin-1")))
            message = {**message, "headers": headers}
        await send(message)

    return sending


def _bounded(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return bounded


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
    """An HTTP answer (a websocket: its handshake refused; the server answers 403)."""
    body = text.encode()
    if scope["type"] == "websocket":  # closed before it is accepted: the server answers 403
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008})
        return
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

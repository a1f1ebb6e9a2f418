"""A classroom server that admits only the class (issue 24, item 3): hostile HTTP and
websocket requests against :class:`sim.interactive.guard.Guard` on the loopback address.

The guard wraps a small Starlette app with the shapes of Solara's (a page, ``/resourcez``,
a static file, an echoing websocket) served by uvicorn in a thread, as ``sim viz`` serves
Solara's: no token, a wrong token, a foreign ``Origin``, a flood of sessions from one
client, an oversized message and an oversized body are refused; the join token in the
address admits the browser (a cookie) from then on, page and websocket alike.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from sim.interactive.guard import COOKIE, Guard

TOKEN, TEACHER = "join-token", "teacher-token"


async def page(request):
    return PlainTextResponse("the page")


async def echo(websocket):
    await websocket.accept()
    while True:
        text = await websocket.receive_text()
        await websocket.send_text(text)


def _app() -> Starlette:
    return Starlette(
        routes=[
            Route("/", page, methods=["GET", "POST"]),
            Route("/resourcez", page),
            Route("/readyz", page),
            Route("/static/app.js", page),
            WebSocketRoute("/jupyter/api/kernels/k/channels", echo),
        ]
    )


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    guarded = Guard(_app(), token=TOKEN, also=(TEACHER,), max_per_client=3, max_message=1000)
    config = uvicorn.Config(guarded, host="127.0.0.1", port=port, log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _get(url: str, path: str, **headers: str) -> tuple[int, str, str]:
    request = urllib.request.Request(f"http://{url}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers.get("set-cookie", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), ""


def _ws(url: str, **headers: str):
    return connect(
        f"ws://{url}/jupyter/api/kernels/k/channels", additional_headers=headers, open_timeout=10
    )


def test_no_diagnostic_routes(url: str) -> None:
    cookie = f"{COOKIE}={TOKEN}"
    assert _get(url, "/resourcez?verbose", Cookie=cookie)[0] == 404
    assert _get(url, "/resourcez/", Cookie=cookie)[0] == 404
    assert _get(url, "/readyz", Cookie=cookie)[0] == 404


def test_the_page_needs_the_join_token(url: str) -> None:
    assert _get(url, "/")[0] == 403
    assert _get(url, "/?join=wrong")[0] == 403
    assert _get(url, "/", Cookie=f"{COOKIE}=wrong")[0] == 403
    assert _get(url, "/", Cookie="garbage;;==\x7f")[0] == 403
    status, body, cookie = _get(url, f"/?join={TOKEN}")
    assert status == 200 and body == "the page" and cookie.startswith(f"{COOKIE}={TOKEN}")
    assert _get(url, f"/?teacher={TEACHER}")[0] == 200
    assert _get(url, "/", Cookie=f"{COOKIE}={TOKEN}")[0] == 200  # the cookie admits
    assert _get(url, "/static/app.js")[0] == 200  # assets are public


def test_websockets_need_the_cookie_and_this_origin(url: str) -> None:
    cookie = f"{COOKIE}={TOKEN}"
    with pytest.raises(InvalidStatus):
        _ws(url)  # no cookie
    with pytest.raises(InvalidStatus):
        _ws(url, Cookie=cookie, Origin="http://evil.example")  # another site's page
    with _ws(url, Cookie=cookie, Origin=f"http://{url}") as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"


def test_sessions_per_client_and_message_sizes_are_bounded(url: str) -> None:
    cookie = f"{COOKIE}={TOKEN}"
    with ExitStack() as opened:
        for _ in range(3):
            opened.enter_context(_ws(url, Cookie=cookie))
        with pytest.raises(InvalidStatus):
            _ws(url, Cookie=cookie)  # the fourth from this client
    time.sleep(0.2)
    with _ws(url, Cookie=cookie) as ws:  # closed ones are counted out
        ws.send("x" * 5000)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    body = b"x" * 5000
    request = urllib.request.Request(
        f"http://{url}/", data=body, headers={"Cookie": cookie}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 413


def test_without_a_token_everyone_is_admitted_but_not_to_diagnostics() -> None:
    guard = Guard(_app())
    assert guard._admitted({"query_string": b"", "headers": []}) == (True, False)

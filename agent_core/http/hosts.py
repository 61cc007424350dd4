"""ALLOWED_HOSTS: answer only requests addressed to this server's own names.

A page on another site can make a browser send requests to a local server by pointing a DNS
name it controls at 127.0.0.1 (DNS rebinding); the Host header still carries that name, so
refusing unknown hosts closes the door. Settings are read per request from the shared
runtime, so the same middleware serves the dashboard's server and the headless API.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from agent_core.http.errors import ApiError
from agent_core.runtime import Runtime


class AllowedHosts:
    """ASGI middleware: 400 in the API's error shape for a Host header not in ALLOWED_HOSTS."""

    def __init__(self, app: ASGIApp, runtime: Callable[[], Runtime]) -> None:
        self.app = app
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            allowed = self._runtime().settings.host_names
            host = Headers(scope=scope).get("host", "").rsplit(":", 1)[0].strip("[]").lower()
            if allowed and host not in allowed:
                response = ApiError(
                    400, "unknown_host", f"this server does not answer to {host!r}"
                ).response()
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def same_origin(connection: HTTPConnection) -> bool:
    """A request (or WebSocket) from a page of this site: its Origin (or Referer) names the
    host it was sent to. Browsers always send one across sites; other clients are no CSRF risk."""
    origin = connection.headers.get("origin") or connection.headers.get("referer")
    if not origin:
        return True
    return urlsplit(origin).netloc == connection.headers.get("host", "")

"""The part of a Supabase project in front of PostgREST: `/rest/v1/*` on one port, the `apikey`
header checked the way Supabase's gateway checks it, every request recorded.

Supabase's gateway (Kong) cannot run here, and what the store needs of it is small: the path
prefix, the key check and its 401. Everything behind it is the real PostgREST. Tests read
the recorded requests (is every one scoped to a tenant?) and switch `available` off to cut
the network in the middle of a run.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Collection
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REST_PREFIX = "/rest/v1/"
# Connection-level headers, and those each hop sets for itself (date, server).
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "host",
    "content-length",
    "te",
    "upgrade",
    "date",
    "server",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the gateway passed it on."""

    method: str
    target: str
    params: tuple[tuple[str, str], ...]
    body: Any
    status: int
    """What PostgREST answered."""

    def has_param(self, name: str, prefix: str) -> bool:
        """True when a query parameter `name` starts with `prefix` (e.g. tenant_id, "eq.")."""
        return any(key == name and value.startswith(prefix) for key, value in self.params)


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5; a burst of new connections (40 sign-ins at
    # once) overflows it and the kernel resets some of them, which no real gateway does.
    request_queue_size = 128
    daemon_threads = True


class Gateway:
    """Serves `/rest/v1/*` on 127.0.0.1 and forwards it to PostgREST at `upstream_port`."""

    def __init__(self, upstream_port: int, api_keys: Collection[str]) -> None:
        self.requests: list[RecordedRequest] = []
        self.available = True
        self._upstream_port = upstream_port
        self._api_keys = frozenset(api_keys)
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """What SUPABASE_URL is for this project."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop serving and free the port."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def _record(self, method: str, path: str, query: str, raw: bytes, status: int) -> None:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        params = tuple(parse_qsl(query, keep_blank_values=True))
        request = RecordedRequest(method, path.removeprefix(REST_PREFIX), params, body, status)
        with self._lock:
            self.requests.append(request)

    def _refusal(self, headers: dict[str, str]) -> tuple[int, dict[str, str]] | None:
        """Supabase's answer when the apikey header is missing or not one of the project's keys."""
        key = headers.get("apikey")
        if key is None:
            return 401, {"message": "No API key found in request", "hint": "No `apikey` request header"}
        if key not in self._api_keys:
            return 401, {
                "message": "Invalid API key",
                "hint": "Double check your Supabase `anon` or `service_role` API key.",
            }
        return None

    def _forward(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection("127.0.0.1", self._upstream_port, timeout=60)
        try:
            passed = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
            upstream.request(method, "/" + path.removeprefix(REST_PREFIX), body=raw or None, headers=passed)
            response = upstream.getresponse()
            body = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return response.status, kept, body
        finally:
            upstream.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without this, Nagle's algorithm
            # and delayed ACKs add ~40 ms to every keep-alive response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if not gateway.available:
                    # The connection drops with no answer, as when the network goes.
                    self.close_connection = True
                    return
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                json_type = [("Content-Type", "application/json")]
                if not parts.path.startswith(REST_PREFIX):
                    status, kept, body = 404, json_type, json.dumps({"message": "no Route matched"}).encode()
                elif refusal := gateway._refusal(headers):
                    status, kept, body = refusal[0], json_type, json.dumps(refusal[1]).encode()
                else:
                    path = parts.path + (f"?{parts.query}" if parts.query else "")
                    status, kept, body = gateway._forward(self.command, path, headers, raw)
                    gateway._record(self.command, parts.path, parts.query, raw, status)
                self.send_response(status)
                for name, value in kept:
                    self.send_header(name, value)
                if status != 204:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        return Handler

"""The chat call's HTTP: one streamed `POST …/chat/completions` over connections kept alive
from one call to the next, on the standard library's `http.client`.

Through the `openai` client's request path (its option transforms, request building and
httpx's layers) a model call cost the adapter about four times the CPU it costs here, where
the adapter's own serialised body is sent as it is (`benchmarks/model_call.py`). What a
caller relies on stays the client's: its base URL, key, headers and retry count are read
from the configured `OpenAI` client, and its retry rules are kept — connection errors,
timeouts before an answer, 408, 409, 429 and 5xx (or what `x-should-retry` says) are tried
again after the server's `Retry-After` (up to two minutes) or 0.5 s doubling to 8 s less up
to a quarter. A proxy from HTTPS_PROXY / HTTP_PROXY (minus NO_PROXY) is used as httpx would.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import math
import random
import select
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from agent_core.errors import ModelError, ModelUnavailableError
from agent_core.llm.base import Interrupt

if TYPE_CHECKING:
    from openai import OpenAI

_RETRIED_STATUSES = frozenset({408, 409, 429})
_MAX_RETRY_AFTER_SECONDS = 120.0
_FIRST_RETRY_SECONDS = 0.5
_LONGEST_RETRY_SECONDS = 8.0
_ERROR_BODY_BYTES = 65_536
_PIECE_BYTES = 65_536

TIMED_OUT = "the model did not answer in time (a local model may need a longer OPENAI_FIRST_TOKEN_SECONDS)"
UNREACHABLE = "cannot reach the model server (check OPENAI_BASE_URL)"
LATE = "the model did not finish its answer in time"
WOKEN = "the wait for the model was cut short"


def status_error(status: int, message: str) -> ModelError | ModelUnavailableError:
    """What an HTTP error status from the model server means for a turn, and what to do."""
    if status == 401:
        return ModelError("the model server rejected OPENAI_API_KEY")
    if status == 429:
        return ModelUnavailableError("the model is rate-limited; try again shortly")
    if status >= 500:
        return ModelUnavailableError(f"the model server failed (HTTP {status})")
    return ModelError(f"the model server refused the request (HTTP {status}): {message}")


def retry_after(headers: http.client.HTTPMessage) -> float | None:
    """The wait a server asked for (`retry-after-ms`, or `retry-after` in seconds or as a
    date), as the openai client reads it; None when it asked for none it could read."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) / divisor
        except ValueError:
            continue
    when = email.utils.parsedate_tz(headers.get("retry-after") or "")
    return None if when is None else float(email.utils.mktime_tz(when) - time.time())


def should_retry(status: int, headers: http.client.HTTPMessage) -> bool:
    """Whether the openai client would try this answer again."""
    asked = retry_after(headers)
    if asked is not None and math.isfinite(asked) and asked > _MAX_RETRY_AFTER_SECONDS:
        return False
    said = headers.get("x-should-retry")
    if said in ("true", "false"):
        return said == "true"
    return status in _RETRIED_STATUSES or status >= 500


def retry_wait(attempt: int, headers: http.client.HTTPMessage | None) -> float:
    """Seconds to wait before retry number `attempt + 1`: the server's ask when it made a
    sensible one, else the client's exponential back-off with jitter."""
    asked = retry_after(headers) if headers is not None else None
    if asked is not None and math.isfinite(asked) and 0 < asked <= _MAX_RETRY_AFTER_SECONDS:
        return asked
    backoff = min(_FIRST_RETRY_SECONDS * 2.0**attempt, _LONGEST_RETRY_SECONDS)
    return backoff * (1 - 0.25 * random.random())


@dataclass(frozen=True, slots=True)
class _Route:
    """Where a request goes: the server itself, or a proxy in front of it."""

    host: str
    port: int
    path: str
    proxy: tuple[str, int] | None
    tls: ssl.SSLContext | None

    @classmethod
    def for_url(cls, url: str) -> _Route:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the model server's URL must be http(s)://host/…, not {url!r}")
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        path = parts.path.rstrip("/") + "/chat/completions"
        proxy = None
        proxies = urllib.request.getproxies_environment()
        chosen = proxies.get(parts.scheme)
        if chosen and not urllib.request.proxy_bypass(parts.hostname):
            through = urlsplit(chosen if "://" in chosen else f"http://{chosen}")
            proxy = (through.hostname or "", through.port or 80)
        return cls(parts.hostname, port, path, proxy, ssl.create_default_context() if https else None)

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        """A new, not yet opened connection."""
        host, port = self.proxy or (self.host, self.port)
        connection: http.client.HTTPConnection
        if self.tls is not None:
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=self.tls)
            if self.proxy:
                connection.set_tunnel(self.host, self.port)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        return connection

    @property
    def target(self) -> str:
        """The request line's target: absolute through a plain-HTTP proxy."""
        if self.proxy and self.tls is None:
            return f"http://{self.host}:{self.port}{self.path}"
        return self.path


class ModelConnections:
    """Streams chat-completion requests to one server, keeping idle connections for the
    next call (a model call should not pay for a TCP or TLS handshake)."""

    def __init__(
        self, url: str, headers: dict[str, str], *, max_retries: int, connect_seconds: float
    ) -> None:
        self._route = _Route.for_url(url)
        self._headers = headers
        self._max_retries = max_retries
        self._connect_seconds = connect_seconds
        self._lock = threading.Lock()
        self._idle: list[http.client.HTTPConnection] = []

    @classmethod
    def for_client(cls, client: OpenAI, connect_seconds: float) -> ModelConnections:
        """Connections to the server `client` is configured for, with its key, headers and
        retry count."""
        headers = {
            name: value
            for name, value in {**client.default_headers, **client.auth_headers}.items()
            if isinstance(value, str)
        }
        return cls(
            str(client.base_url), headers, max_retries=client.max_retries, connect_seconds=connect_seconds
        )

    @contextmanager
    def stream(
        self,
        body: bytes,
        *,
        first_bytes_seconds: float,
        silence_seconds: float,
        deadline: float,
        interrupt: Interrupt | None = None,
    ) -> Iterator[Iterator[bytes]]:
        """POST `body` and yield the answer's body as pieces, as they arrive (a piece may be
        a few bytes or many lines; a connection cut mid-answer ends them early). Waits up
        to `first_bytes_seconds` for the answer to begin and `silence_seconds` between pieces
        after that, never past `deadline` (a `time.monotonic()` value); retries what the
        openai client retries, within it. When `interrupt` wakes it, the socket is shut down:
        a wait for the answer raises ModelUnavailableError, a wait between pieces ends them.
        (Only opening a new connection is not woken: it is bounded by its own timeout.)
        Raises ModelError or ModelUnavailableError with what to do. The connection is kept
        for the next call only when the answer was read to its end."""
        wake = _Wake()
        with interrupt.waking(wake) if interrupt is not None else nullcontext():
            response, connection, sock = self._answer(body, first_bytes_seconds, deadline, wake)
            reading = _Reading(response, sock, silence_seconds, deadline)
            try:
                yield reading.pieces()
            finally:
                # Let go of the socket first: a late wake must not cut another call's answer.
                wake.watch(None)
                if reading.ended and not response.will_close and not wake.woken:
                    with self._lock:
                        self._idle.append(connection)
                else:
                    connection.close()

    def _answer(
        self, body: bytes, first_bytes_seconds: float, deadline: float, wake: _Wake
    ) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection, socket.socket]:
        attempt = 0
        while True:
            connection, kept = self._connection(deadline)
            asked: http.client.HTTPMessage | None = None
            try:
                response, sock = self._send(connection, body, _bounded(first_bytes_seconds, deadline), wake)
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if wake.woken:
                    raise ModelUnavailableError(WOKEN) from exc
                timed_out = isinstance(exc, TimeoutError)
                if kept and not timed_out:
                    continue  # the server closed a kept connection: not a failed attempt
                if attempt >= self._max_retries:
                    raise ModelUnavailableError(TIMED_OUT if timed_out else UNREACHABLE) from exc
            else:
                if response.status == 200:
                    kind = response.headers.get("content-type", "")
                    if kind.startswith("text/event-stream"):
                        return response, connection, sock
                    connection.close()
                    raise ModelError(f"the model server did not stream its answer (got {kind or 'no type'})")
                message = _error_message(response)
                connection.close()
                if attempt >= self._max_retries or not should_retry(response.status, response.headers):
                    raise status_error(response.status, message)
                asked = response.headers
            wait = retry_wait(attempt, asked)
            if time.monotonic() + wait > deadline:
                raise ModelUnavailableError(LATE)
            if wake.pause(wait):
                raise ModelUnavailableError(WOKEN)
            attempt += 1

    def _connection(self, deadline: float) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection the server has not closed, else a new one; and whether it
        was kept."""
        while True:
            with self._lock:
                kept = self._idle.pop() if self._idle else None
            if kept is None:
                return self._route.connect(_bounded(self._connect_seconds, deadline)), False
            if kept.sock is not None and not _readable(kept.sock):
                return kept, True
            kept.close()  # closed by the server while idle (or it sent what nobody asked for)

    def _send(
        self, connection: http.client.HTTPConnection, body: bytes, first_bytes_seconds: float, wake: _Wake
    ) -> tuple[http.client.HTTPResponse, socket.socket]:
        if connection.sock is None:
            connection.connect()
        # Kept here: a connection whose answer ends it lets go of its socket on getresponse.
        sock: socket.socket = connection.sock
        wake.watch(sock)
        connection.request("POST", self._route.target, body, self._headers)
        sock.settimeout(first_bytes_seconds)
        return connection.getresponse(), sock


class _Wake:
    """Ends a call's wait from another thread by shutting its socket down (a blocked read
    then returns at once) or ending its pause before a retry; remembers that it did, so the
    call does not retry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._event = threading.Event()

    @property
    def woken(self) -> bool:
        """Whether a wake came."""
        return self._event.is_set()

    def __call__(self) -> None:
        with self._lock:
            self._event.set()
            sock = self._sock
        if sock is not None:
            _shut(sock)

    def pause(self, seconds: float) -> bool:
        """Wait `seconds` before a retry; True when a wake ended the pause."""
        return self._event.wait(seconds)

    def watch(self, sock: socket.socket | None) -> None:
        """The socket a wake shuts down from now on (None: none); shut at once when woken."""
        with self._lock:
            self._sock = sock
            woken = self._event.is_set()
        if woken and sock is not None:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):  # closed already
        sock.shutdown(socket.SHUT_RDWR)


def _bounded(seconds: float, deadline: float) -> float:
    """A socket timeout of `seconds`, cut to what is left before `deadline`."""
    return max(min(seconds, deadline - time.monotonic()), 0.001)


class _Reading:
    """One answer's body, read piece by piece."""

    def __init__(
        self, response: http.client.HTTPResponse, sock: socket.socket, silence_seconds: float, deadline: float
    ) -> None:
        self._response = response
        self._sock = sock
        self._silence_seconds = silence_seconds
        self._deadline = deadline
        self.ended = False
        """Whether the body was read to its end (so its connection can serve another call)."""

    def pieces(self) -> Iterator[bytes]:
        began = False
        while True:
            try:
                piece = self._response.read1(_PIECE_BYTES)
            except TimeoutError:
                if time.monotonic() >= self._deadline:
                    raise ModelUnavailableError(LATE) from None
                if began:
                    raise ModelUnavailableError(
                        f"the model went silent for more than {self._silence_seconds:g} s"
                        " in the middle of its answer"
                    ) from None
                raise ModelUnavailableError(TIMED_OUT) from None
            except (OSError, http.client.HTTPException):
                return  # cut off mid-answer: what came is all there is
            if not piece:
                self.ended = True
                return
            left = self._deadline - time.monotonic()
            if left < 0:
                # Checked on every piece, not every line: a server trickling bytes that never
                # end a line cannot outlive the deadline.
                raise ModelUnavailableError(LATE)
            if not began or left < self._silence_seconds:
                began = True
                self._sock.settimeout(_bounded(self._silence_seconds, self._deadline))
            yield piece


def _readable(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _error_message(response: http.client.HTTPResponse) -> str:
    """The server's own words for an error answer (its JSON `error.message` when it sent
    one), read within a bound."""
    try:
        raw = response.read(_ERROR_BODY_BYTES)
    except (OSError, http.client.HTTPException):
        return f"HTTP {response.status}"
    text = raw.decode("utf-8", "replace").strip()
    try:
        error = json.loads(text).get("error")
    except (ValueError, AttributeError):
        return text[:500] or f"HTTP {response.status}"
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:500]
    return text[:500]

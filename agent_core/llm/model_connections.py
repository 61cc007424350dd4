"""The chat call's HTTP: one streamed `POST …/chat/completions` over connections kept alive
from one call to the next. The standard library's `http.client` opens them (TCP, TLS, a
proxy's tunnel); the request goes out as one write of its prepared head and body, and the
answer is read with httptools' C parser (the one uvicorn serves with).

Through the `openai` client's request path (its option transforms, request building and
httpx's layers) a model call cost the adapter about four times the CPU it costs here, where
the adapter's own serialised body is sent as it is (`benchmarks/model_call.py`); http.client's
header checks and `email`-based parsing were a third of what was left. What a
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
import re
import select
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httptools

from agent_core.errors import ConfigError, ModelError, ModelUnavailableError
from agent_core.llm.base import Interrupt

if TYPE_CHECKING:
    from openai import OpenAI

_RETRIED_STATUSES = frozenset({408, 409, 429})
_MAX_RETRY_AFTER_SECONDS = 120.0
_FIRST_RETRY_SECONDS = 0.5
_LONGEST_RETRY_SECONDS = 8.0
_ERROR_BODY_BYTES = 65_536
_PIECE_BYTES = 65_536
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")

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


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The wait a server asked for (`retry-after-ms`, or `retry-after` in seconds or as a
    date), as the openai client reads it; None when it asked for none it could read. Header
    names in lower case."""
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


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    """Whether the openai client would try this answer again."""
    asked = retry_after(headers)
    if asked is not None and math.isfinite(asked) and asked > _MAX_RETRY_AFTER_SECONDS:
        return False
    said = headers.get("x-should-retry")
    if said in ("true", "false"):
        return said == "true"
    return status in _RETRIED_STATUSES or status >= 500


def retry_wait(attempt: int, headers: Mapping[str, str] | None) -> float:
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

    def request_head(self, headers: Mapping[str, str]) -> bytes:
        """The request's line and headers up to its Content-Length (which follows): the
        target absolute through a plain-HTTP proxy, as http.client would write them."""
        default_port = 443 if self.tls is not None else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port != default_port:
            host = f"{host}:{self.port}"
        target = f"http://{host}{self.path}" if self.proxy and self.tls is None else self.path
        lines = [f"POST {target} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
        for name, value in headers.items():
            if not _HEADER_NAME.fullmatch(name) or not _HEADER_VALUE.fullmatch(value):
                raise ConfigError(
                    f"the model request header {name!r} cannot be sent: its name or value holds"
                    " characters HTTP headers cannot carry (a line break, or beyond Latin-1)"
                )
            lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n").encode("latin-1")


class ModelConnections:
    """Streams chat-completion requests to one server, keeping idle connections for the
    next call (a model call should not pay for a TCP or TLS handshake)."""

    def __init__(
        self, url: str, headers: dict[str, str], *, max_retries: int, connect_seconds: float
    ) -> None:
        self._route = _Route.for_url(url)
        self._head = self._route.request_head(headers)
        self._max_retries = max_retries
        self._connect_seconds = connect_seconds
        self._lock = threading.Lock()
        self._idle: list[http.client.HTTPConnection] = []
        self._closed = False

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
            answer, connection = self._answer(body, first_bytes_seconds, deadline, wake)
            reading = _Reading(answer, silence_seconds, deadline)
            try:
                yield reading.pieces()
            finally:
                # Let go of the socket first: a late wake must not cut another call's answer.
                wake.watch(None)
                if not self._kept(connection, reading.ended and answer.reusable and not wake.woken):
                    connection.close()

    def close(self) -> None:
        """Close the idle connections; a call still answering closes its own when it ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _kept(self, connection: http.client.HTTPConnection, reusable: bool) -> bool:
        with self._lock:
            if reusable and not self._closed:
                self._idle.append(connection)
                return True
        return False

    def _answer(
        self, body: bytes, first_bytes_seconds: float, deadline: float, wake: _Wake
    ) -> tuple[_Answer, http.client.HTTPConnection]:
        attempt = 0
        while True:
            connection, kept = self._connection(deadline)
            asked: Mapping[str, str] | None = None
            try:
                answer = self._send(connection, body, _bounded(first_bytes_seconds, deadline), wake)
            except (OSError, http.client.HTTPException, httptools.HttpParserError) as exc:
                connection.close()
                if wake.woken:
                    raise ModelUnavailableError(WOKEN) from exc
                timed_out = isinstance(exc, TimeoutError)
                if kept and not timed_out:
                    continue  # the server closed a kept connection: not a failed attempt
                if attempt >= self._max_retries:
                    raise ModelUnavailableError(TIMED_OUT if timed_out else UNREACHABLE) from exc
            else:
                if answer.status == 200:
                    kind = answer.headers.get("content-type", "")
                    if kind.startswith("text/event-stream"):
                        return answer, connection
                    connection.close()
                    raise ModelError(f"the model server did not stream its answer (got {kind or 'no type'})")
                message = _error_message(answer)
                connection.close()
                if attempt >= self._max_retries or not should_retry(answer.status, answer.headers):
                    raise status_error(answer.status, message)
                asked = answer.headers
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
    ) -> _Answer:
        if connection.sock is None:
            connection.connect()
        sock: socket.socket = connection.sock
        wake.watch(sock)
        sock.settimeout(first_bytes_seconds)
        sock.sendall(b"%sContent-Length: %d\r\n\r\n%s" % (self._head, len(body), body))
        answer = _Answer(sock)
        answer.begin()
        return answer


class _Answer:
    """One answer read from its socket through httptools' parser: its status and headers
    (names in lower case) first, then its body's pieces as they arrive."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.status = 0
        self.headers: dict[str, str] = {}
        self.complete = False
        """Whether the whole body arrived."""
        self.reusable = False
        """Whether the connection may carry another request: the answer ended as HTTP says,
        the server keeps the connection, and nothing came after the answer."""
        self._headed = False
        self._pending: list[bytes] = []
        self._parser = httptools.HttpResponseParser(self)

    def begin(self) -> None:
        """Read until the status and headers are in. OSError when the connection ends first,
        TimeoutError when the socket's timeout passes, HttpParserError for what is not HTTP."""
        while not self._headed:
            if not self._receive():
                raise ConnectionResetError("the server closed the connection without answering")

    def read1(self) -> bytes:
        """The body's next piece, waiting for it; b"" at the body's end. OSError when the
        connection is cut before that end."""
        while not self._pending:
            if self.complete:
                return b""
            if not self._receive():
                if "content-length" in self.headers or "chunked" in self.headers.get("transfer-encoding", ""):
                    raise ConnectionResetError("the answer was cut off")
                self.complete = True  # a body without a length ends with its connection
        piece = b"".join(self._pending)
        self._pending.clear()
        return piece

    def read(self, limit: int) -> bytes:
        """Up to `limit` bytes of the body (what came when the connection is cut)."""
        pieces: list[bytes] = []
        size = 0
        with suppress(OSError, httptools.HttpParserError):
            while size < limit and (piece := self.read1()):
                pieces.append(piece)
                size += len(piece)
        return b"".join(pieces)[:limit]

    def _receive(self) -> bool:
        data = self.sock.recv(_PIECE_BYTES)
        if data:
            try:
                self._parser.feed_data(data)
            except httptools.HttpParserError:
                if not self.complete:
                    raise
                self.reusable = False  # what came after the answer is not HTTP: the answer stands
        return bool(data)

    # httptools' callbacks
    def on_message_begin(self) -> None:
        self.reusable = False  # a second answer nobody asked for: the connection is not kept

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self._headed = self.status >= 200

    def on_body(self, body: bytes) -> None:
        self._pending.append(body)

    def on_message_complete(self) -> None:
        if self.status < 200:  # an interim answer (100 Continue): the real one follows
            self.headers.clear()
            return
        self.complete = True
        self.reusable = self._parser.should_keep_alive()


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

    def __init__(self, answer: _Answer, silence_seconds: float, deadline: float) -> None:
        self._answer = answer
        self._silence_seconds = silence_seconds
        self._deadline = deadline
        self.ended = False
        """Whether the body was read to its end (so its connection can serve another call)."""

    def pieces(self) -> Iterator[bytes]:
        began = False
        while True:
            try:
                piece = self._answer.read1()
            except TimeoutError:
                if time.monotonic() >= self._deadline:
                    raise ModelUnavailableError(LATE) from None
                if began:
                    raise ModelUnavailableError(
                        f"the model went silent for more than {self._silence_seconds:g} s"
                        " in the middle of its answer"
                    ) from None
                raise ModelUnavailableError(TIMED_OUT) from None
            except (OSError, httptools.HttpParserError):
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
                self._answer.sock.settimeout(_bounded(self._silence_seconds, self._deadline))
            yield piece


def _readable(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _error_message(answer: _Answer) -> str:
    """The server's own words for an error answer (its JSON `error.message` when it sent
    one), read within a bound."""
    text = answer.read(_ERROR_BODY_BYTES).decode("utf-8", "replace").strip()
    try:
        error = json.loads(text).get("error")
    except (ValueError, AttributeError):
        return text[:500] or f"HTTP {answer.status}"
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])[:500]
    return text[:500]

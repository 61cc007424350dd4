"""Loopback helpers for tests and benchmarks that start servers."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.request


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bound_socket() -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1, for a server in this process to listen
    on: bound from the start, so no other process takes the port between a probe and the
    server's own bind (as with `free_port`, which programs started apart need)."""
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    return bound


def wait_for_http(url: str, timeout: float = 60.0) -> bool:
    """Poll `url` until it answers 200; False when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


class TcpProxy:
    """Forwards 127.0.0.1:`port` to a server, until `cut()` drops every connection through it
    and refuses new ones (the network between a client and its server going away), or
    `stall()` lets nothing more through either way while every connection stays open (a
    partition: packets dropped, nobody told) until `heal()`."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = threading.Event()
        self._stalled = threading.Event()
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def _accept(self) -> None:
        while not self._cut.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                client.close()
                return
            if self._stalled.is_set():
                with self._lock:
                    self._open.append(client)  # accepted, never answered
                continue
            try:
                server = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                # Stalled, nothing is read: what was sent waits, as TCP keeps it through a
                # partition, and goes on once it heals.
                while self._stalled.is_set() and not self._cut.is_set():
                    time.sleep(0.02)
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def stall(self) -> None:
        """Let nothing more through, keeping every connection open and accepting new ones."""
        self._stalled.set()

    def heal(self) -> None:
        """Forward again; what waited goes on (connections opened while stalled never do)."""
        self._stalled.clear()

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self._cut.set()
        # Shutting the listener down wakes the thread blocked in accept(); close alone does not.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for end in self._open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self._open.clear()

"""Loopback helpers for tests and benchmarks that start servers."""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import threading
import time
import urllib.request
from pathlib import Path

# Ports are handed out below the kernel's ephemeral range, where it never picks one for a
# bind to port 0 or for an outgoing connection's own end: a port found free here cannot become
# some connection's source port (the test processes open many) before the program it is for
# binds it. Each process takes its own block of ports (pytest-xdist's worker number, else its
# pid), so two test processes never hand out the same one.
_LOWEST_PORT = 10_000
_BLOCK_SIZE = 1_000
_handed_out = itertools.count()


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default, and below the IANA range other systems use


def port_block(worker: str | None = None) -> range:
    """The ports a process hands out, below the ephemeral range: the block of pytest-xdist's
    `worker` ("gw1"; by default this process's, from its environment), else of this pid."""
    worker = os.environ.get("PYTEST_XDIST_WORKER") if worker is None else worker
    index = int(worker.removeprefix("gw")) if worker else os.getpid()
    blocks = max(1, (_ephemeral_floor() - _LOWEST_PORT) // _BLOCK_SIZE)
    first = _LOWEST_PORT + (index % blocks) * _BLOCK_SIZE
    return range(first, first + _BLOCK_SIZE)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, for a program started apart
    to bind: from this process's block, each in turn, skipping any that is taken."""
    block = port_block()
    for _ in block:
        port = block[next(_handed_out) % len(block)]
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port on 127.0.0.1 in {block.start}–{block.stop - 1}")


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

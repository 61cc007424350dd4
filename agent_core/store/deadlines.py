"""Deadlines for database operations whose server may go silent.

A connection to a server behind a partition (or a proxy that stopped forwarding) blocks in
a read that no client timeout ends: psycopg's synchronous waits have none, and TCP itself
may never notice. One thread per process keeps every running operation's deadline and, when
one passes, shuts the socket of the connection that operation is waiting on: the read ends
at once with an error, the operation fails as the store being unavailable, and the broken
connection is discarded by the pool.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


class HasSocket(Protocol):
    """A connection that can say which socket it reads from (psycopg's Connection)."""

    def fileno(self) -> int:
        """The socket's file descriptor."""
        ...


@dataclass(slots=True)
class Guard:
    """One guarded wait; `severed` once its deadline passed and its connection was shut."""

    connection: HasSocket
    severed: bool = False


class Deadlines:
    """Shuts the connection of each guarded wait still running at its deadline."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._due: list[tuple[float, int]] = []
        self._running: dict[int, Guard] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def guard(self, connection: HasSocket, deadline: float) -> Iterator[Guard]:
        """Wait on `connection` until `deadline` (time.monotonic()) at the latest."""
        guard = Guard(connection)
        token = next(self._ids)
        with self._changed:
            self._running[token] = guard
            earliest = not self._due or deadline < self._due[0][0]
            heapq.heappush(self._due, (deadline, token))
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="store-deadlines", daemon=True)
                self._thread.start()
            elif earliest:
                self._changed.notify()
        try:
            yield guard
        finally:
            with self._changed:
                self._running.pop(token, None)

    def _watch(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                while self._due and self._due[0][0] <= now:
                    _, token = heapq.heappop(self._due)
                    guard = self._running.pop(token, None)
                    if guard is not None:
                        guard.severed = True
                        _shut(guard.connection)
                self._changed.wait(self._due[0][0] - now if self._due else None)


def _shut(connection: HasSocket) -> None:
    """End every read and write on the connection's socket (its owner closes it later)."""
    with contextlib.suppress(OSError, ValueError):
        duplicate = socket.socket(fileno=os.dup(connection.fileno()))
        with duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)

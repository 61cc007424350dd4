"""The load both API load benchmarks make: N conversations, each on its own kept-alive
connection, sending tool turns back to back for a fixed time.

The generator shares the machine's cores with what it measures, so it is kept light. Each
conversation has a client of its own (one connection: a shared pool looks through every
connection on each request, which at 200 conversations cost the generator ~17 ms of CPU per
turn and made it the bottleneck), built without a TLS context (the API is plain HTTP on
loopback; building one loads the CA bundle, ~20 ms of CPU per client), and opens its
connection before the clock starts, so the first seconds do not measure 200 handshakes.
`pin_apart` keeps the generator (and the model stand-in) off the cores of what is measured.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from agent_core.store.demo_data import DEMO_TENANT_ID


def pin_apart(measured: Iterable[int], helpers: Iterable[int]) -> str:
    """Run the `measured` processes on every core but the last, and the `helpers` and this
    process (the load generator) on the last, so the measured CPU is not spent waiting for a
    core they hold. Every thread is pinned, and the threads each starts later inherit its
    cores. Says where each runs; with one core, nothing is pinned."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return "one core: the load generator and the model share it with the API"
    served, spare = set(cores[:-1]), {cores[-1]}
    for pids, where in ((measured, served), ([*helpers, os.getpid()], spare)):
        for pid in pids:
            for task in Path(f"/proc/{pid}/task").iterdir():
                with suppress(ProcessLookupError):  # a thread that ended meanwhile
                    os.sched_setaffinity(int(task.name), where)
    return f"the API on core(s) {sorted(served)}; the load generator and the model on core {cores[-1]}"


@dataclass
class LoadResult:
    """What one run of the load got back."""

    latencies: list[float] = field(default_factory=list)
    """Seconds per answered turn, in the order they ended."""
    errors: dict[str, int] = field(default_factory=dict)
    """Failed turns by kind: an HTTP status, or the client's error class."""

    @property
    def turns(self) -> int:
        """Turns answered with 200."""
        return len(self.latencies)

    def failed(self, kind: str) -> None:
        """Count a turn that failed with `kind`."""
        self.errors[kind] = self.errors.get(kind, 0) + 1


class Conversations:
    """`count` clients of the API at `url`, connected on entry; `run` loads them.

    `message(i)` is conversation i's message; with `follow`, each turn continues its
    conversation (the API's conversation id from the last answer), else each starts one.
    """

    def __init__(self, url: str, count: int, message: Callable[[int], str], *, follow: bool) -> None:
        self._url = url
        self._count = count
        self._message = message
        self._follow = follow
        self._clients: list[httpx.AsyncClient] = []

    async def __aenter__(self) -> Self:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._clients = [
            httpx.AsyncClient(base_url=self._url, timeout=60, limits=limits, verify=False)
            for _ in range(self._count)
        ]
        try:
            await asyncio.gather(*(client.get("/api/health") for client in self._clients))
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients))

    async def run(self, seconds: float) -> LoadResult:
        """Every conversation sends turns, one after another, until `seconds` have passed."""
        result = LoadResult()
        stop_at = time.monotonic() + seconds

        async def conversation(i: int, client: httpx.AsyncClient) -> None:
            conversation_id: str | None = None
            while time.monotonic() < stop_at:
                body = {"tenantId": str(DEMO_TENANT_ID), "message": self._message(i)}
                if conversation_id is not None:
                    body["conversationId"] = conversation_id
                started = time.perf_counter()
                try:
                    response = await client.post("/api/chat", json=body)
                except httpx.TransportError as exc:
                    result.failed(type(exc).__name__)
                    continue
                if response.status_code != 200:
                    result.failed(str(response.status_code))
                    continue
                result.latencies.append(time.perf_counter() - started)
                if self._follow:
                    conversation_id = response.json()["conversationId"]

        await asyncio.gather(*(conversation(i, client) for i, client in enumerate(self._clients)))
        return result

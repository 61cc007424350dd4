"""Listeners whose behaviour each test chooses, what the store says of their runs, and a
process killed while it runs one."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from agent_core.domain import Event, RunStatus
from agent_core.events.bus import RetryPolicy
from agent_core.store.base import Store
from tests.conftest import ROOT

FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)


@dataclass
class ScriptedListener:
    """A listener whose behaviour each test chooses."""

    name: str
    behaviour: Callable[[Event], None] = lambda event: None
    events: frozenset[str] = frozenset({"tour.booked", "note.taken"})
    seen: list[Event] = field(default_factory=list)

    def handle(self, event: Event) -> None:
        self.seen.append(event)
        self.behaviour(event)


def blocked_until(release: threading.Event) -> Callable[[Event], None]:
    def wait(event: Event) -> None:
        release.wait(10)

    return wait


def runs_of(store: Store, tenant_id: UUID) -> list[tuple[str, str, RunStatus, int]]:
    return [
        (record.event.name, run.listener, run.status, run.attempts)
        for record in store.events.find(tenant_id, limit=1000)
        for run in record.runs
    ]


_HOLDS_A_RUN = """
import sys, time
from datetime import timedelta
from uuid import UUID
from agent_core.domain import EventName
from agent_core.events.bus import EventBus
from agent_core.store.postgres import PostgresStore

class Stuck:
    name = sys.argv[3]
    events = frozenset({"tour.booked"})
    def handle(self, event):
        print("running", event.id, flush=True)
        time.sleep(60)

transport = None
if len(sys.argv) > 4:
    from agent_core.events.nats_transport import NatsRunTransport
    transport = NatsRunTransport(sys.argv[4], ack_wait=1.0)
bus = EventBus(
    PostgresStore(sys.argv[1]), [Stuck()], stale_after=timedelta(seconds=1), reconcile_every=0.2,
    transport=transport,
)
bus.start()
bus.emit(EventName.TOUR_BOOKED, UUID(sys.argv[2]), {"name": "Zoë"})
time.sleep(60)
"""


def killed_while_running(
    postgres_url: str, tenant_id: UUID, listener: str, nats_url: str | None = None
) -> None:
    """A process (its bus on NATS when `nats_url` is given) commits a booking, starts running
    its `listener` run, and is SIGKILLed in the middle of it."""
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            _HOLDS_A_RUN,
            postgres_url,
            str(tenant_id),
            listener,
            *([nats_url] if nats_url else []),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().startswith("running")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)

"""Listeners whose behaviour each test chooses, and what the store says of their runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from agent_core.domain import Event, RunStatus
from agent_core.events.bus import RetryPolicy
from agent_core.store.base import Store

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
        for record in store.list_events(tenant_id, limit=1000)
        for run in record.runs
    ]

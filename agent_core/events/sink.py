"""What the agent needs from an event bus: events to store with its writes, and delivery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from agent_core.domain import EventName, JsonDict, OutboxEvent


class EventPublisher(Protocol):
    """Builds events for the store to write in the same transaction as the change they
    describe, and delivers them once that transaction committed."""

    def outbox(self, name: EventName, tenant_id: UUID, payload: JsonDict) -> OutboxEvent:
        """A new event with the listeners that will run on it (no I/O)."""
        ...

    def deliver(self, events: Sequence[OutboxEvent]) -> None:
        """Hand committed events to their listeners; must return quickly and never raise."""
        ...

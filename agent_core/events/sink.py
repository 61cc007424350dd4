"""What the agent needs from an event bus: a non-blocking `emit`."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from agent_core.domain import EventName, JsonDict


class EventSink(Protocol):
    """Accepts named events for a tenant; must return quickly and never raise into the turn."""

    def emit(self, name: EventName, tenant_id: UUID, payload: JsonDict) -> None:
        """Queue the event for persistence and listeners."""
        ...

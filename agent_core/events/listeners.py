"""Listeners with effects a user can see: outbox rows an integration would drain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent_core.domain import Event, EventName, JsonDict
from agent_core.store.base import Store


@dataclass(frozen=True)
class OutboxListener:
    """On one event, queue one outbox message (once per event, however often it runs)."""

    name: str
    events: frozenset[EventName]
    kind: str
    store: Store
    build: Callable[[Event], JsonDict]

    def handle(self, event: Event) -> None:
        self.store.events.add_outbox(event.tenant_id, self.kind, event.id, self.build(event))


_TEMPLATES = {
    EventName.TOUR_BOOKED: "booking_confirmation",
    EventName.TOUR_CANCELLED: "booking_cancelled",
    EventName.TOUR_RESCHEDULED: "booking_rescheduled",
}


def _booking_confirmation(event: Event) -> JsonDict:
    """What the customer is told of a booking, its cancellation, or its new date and place."""
    p = event.payload
    return {
        "template": _TEMPLATES[EventName(event.name)],
        "customer_name": p.get("name"),
        "date": p.get("date"),
        "location": p.get("location"),
        "booking_id": p.get("booking_id"),
    }


def _crm_sync(event: Event) -> JsonDict:
    p = event.payload
    return {
        "operation": "upsert_contact",
        "contact_id": p.get("contact_id"),
        "name": p.get("name"),
        "email": p.get("email"),
        "phone": p.get("phone"),
    }


def default_listeners(store: Store) -> list[OutboxListener]:
    """Booking confirmations (made, cancelled, moved) and CRM sync, both queued in the outbox."""
    return [
        OutboxListener(
            "booking_confirmation",
            frozenset(_TEMPLATES),
            "booking_confirmation",
            store,
            _booking_confirmation,
        ),
        OutboxListener("crm_sync", frozenset({EventName.CONTACT_UPDATED}), "crm_sync", store, _crm_sync),
    ]

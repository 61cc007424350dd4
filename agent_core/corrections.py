"""Corrections to a tenant's records, as one acting principal: a facade of the `Workspace`
(`workspace.corrections`) that checks and audits through its guard. An operator cancels or
moves a booking, corrects or merges contacts and deletes a note; each change is validated as
the agent's tools validate theirs, commits with its audit entry and its event (the customer
or the CRM learns of it), and names who made it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date
from typing import TypeVar
from uuid import UUID

from agent_core.access.forms import TourMove, parse_like_a_tool
from agent_core.access.models import Action, AuditAction
from agent_core.clock import Clock
from agent_core.domain import (
    ChangedBy,
    Contact,
    EventName,
    JsonDict,
    OutboxEvent,
    Tour,
    TourChange,
    TourChangeKind,
    TourStatus,
)
from agent_core.errors import ConflictError, InvalidInputError, NotFoundError
from agent_core.events.bus import EventBus
from agent_core.guard import Guard
from agent_core.store.base import Store
from agent_core.store.matching import name_key
from agent_core.store.refusals import UNKNOWN_CONTACT, UNKNOWN_NOTE
from agent_core.tenant_settings import settings_from
from agent_core.tools.update_contact import UpdateContactArgs, contact_summary

RecordT = TypeVar("RecordT")


class Corrections:
    """Bookings, contacts and notes, corrected by hand."""

    def __init__(self, guard: Guard, store: Store, bus: EventBus, clock: Clock) -> None:
        self._guard = guard
        self._store = store
        self._bus = bus
        self._clock = clock

    def tour(self, tenant_id: UUID, tour_id: UUID) -> Tour | None:
        """One booking of a tenant the principal may read, or None."""
        self._guard.require(Action.READ, tenant_id)
        return self._store.get_tour(tenant_id, tour_id)

    def tour_history(self, tenant_id: UUID, tour_id: UUID) -> list[TourChange]:
        """A booking's cancellation and moves, oldest first."""
        self._guard.require(Action.READ, tenant_id)
        return self._store.list_tour_changes(tenant_id, tour_id)

    def cancel_tour(self, tenant_id: UUID, tour_id: UUID) -> Tour:
        """Cancel a booking; the customer is told (the confirmation listener)."""
        tour = self._booked_tour(tenant_id, tour_id)
        return self._change_tour(tour, TourChange.cancel(tour, self._operator()), AuditAction.TOUR_CANCELLED)

    def reschedule_tour(
        self, tenant_id: UUID, tour_id: UUID, new_date: date | str, new_location: str | None = None
    ) -> Tour:
        """Move a booking to a new date (and place), validated like the agent's tool."""
        tour = self._booked_tour(tenant_id, tour_id)
        move = parse_like_a_tool(
            TourMove, "move", self._business_today(tenant_id), new_date=new_date, new_location=new_location
        )
        new_location = move.new_location or tour.location
        if move.new_date == tour.tour_date and name_key(new_location) == name_key(tour.location):
            raise ConflictError("the booking is already on that day at that place", "unchanged")
        change = TourChange.move(tour, move.new_date, new_location, self._operator())
        return self._change_tour(tour, change, AuditAction.TOUR_RESCHEDULED)

    def correct_contact(
        self, tenant_id: UUID, contact_id: UUID, name: str, email: str | None, phone: str | None
    ) -> Contact:
        """Replace a contact's name, email and phone (blank clears one), validated like the
        agent's tool; the CRM learns of it."""
        self._guard.require(Action.CORRECT, tenant_id)
        before = self._contact(tenant_id, contact_id)
        fields = parse_like_a_tool(
            UpdateContactArgs,
            "contact",
            self._clock.today(),
            phone_region=settings_from(self._guard.tenant(tenant_id).settings).phone_region,
            name=name,
            email=email,
            phone=phone,
        )
        after = replace(before, name=fields.name, email=fields.email, phone=fields.phone)
        audit = self._guard.audit_entry(
            AuditAction.CONTACT_CORRECTED,
            f"contact {contact_id}",
            tenant_id=tenant_id,
            before=contact_summary(before),
            after=contact_summary(after),
        )
        return self._write_with_event(
            tenant_id,
            EventName.CONTACT_UPDATED,
            contact_summary,
            lambda describe: self._store.update_contact(tenant_id, after, audit=audit, events=describe),
        )

    def merge_contacts(self, tenant_id: UUID, keep_id: UUID, drop_id: UUID) -> Contact:
        """Fold `drop_id` into `keep_id` (one person, one contact): the kept one takes the
        email and phone it lacks."""
        self._guard.require(Action.CORRECT, tenant_id)
        kept, dropped = self._contact(tenant_id, keep_id), self._contact(tenant_id, drop_id)
        if keep_id == drop_id:
            raise InvalidInputError("pick two different contacts to merge")
        audit = self._guard.audit_entry(
            AuditAction.CONTACTS_MERGED,
            f"contact {keep_id}",
            tenant_id=tenant_id,
            before={"kept": contact_summary(kept), "merged": contact_summary(dropped)},
        )
        return self._write_with_event(
            tenant_id,
            EventName.CONTACT_UPDATED,
            contact_summary,
            lambda describe: self._store.merge_contacts(
                tenant_id, keep_id, drop_id, audit=audit, events=describe
            ),
        )

    def delete_note(self, tenant_id: UUID, note_id: UUID) -> None:
        """Remove a note the agent should not have taken."""
        self._guard.require(Action.CORRECT, tenant_id)
        note = self._store.get_note(tenant_id, note_id)
        if note is None:
            raise UNKNOWN_NOTE(note_id)
        audit = self._guard.audit_entry(
            AuditAction.NOTE_DELETED, f"note {note_id}", tenant_id=tenant_id, before={"content": note.content}
        )
        self._store.delete_note(tenant_id, note_id, audit=audit)

    def contact(self, tenant_id: UUID, contact_id: UUID) -> Contact:
        """One contact of a tenant the principal may read."""
        self._guard.require(Action.READ, tenant_id)
        return self._contact(tenant_id, contact_id)

    def _contact(self, tenant_id: UUID, contact_id: UUID) -> Contact:
        contact = self._store.get_contact(tenant_id, contact_id)
        if contact is None:
            raise UNKNOWN_CONTACT(contact_id)
        return contact

    def _write_with_event(
        self,
        tenant_id: UUID,
        name: EventName,
        payload: Callable[[RecordT], JsonDict],
        write: Callable[[Callable[[RecordT], list[OutboxEvent]]], RecordT],
    ) -> RecordT:
        """Run a correction whose event — described from what it wrote, naming who did it —
        commits with it; deliver the event once committed."""
        events: list[OutboxEvent] = []

        def describe(record: RecordT) -> list[OutboxEvent]:
            body = {**payload(record), "by": self._guard.principal.label}
            events[:] = [self._bus.outbox(name, tenant_id, body)]
            return events

        written = write(describe)
        self._bus.deliver(events)
        return written

    def _business_today(self, tenant_id: UUID) -> date:
        """Today where the business is (its timezone setting), as the agent's tools see it."""
        now = self._clock.now()
        return settings_from(self._guard.tenant(tenant_id).settings).today(now, now.tzinfo or UTC)

    def _booked_tour(self, tenant_id: UUID, tour_id: UUID) -> Tour:
        self._guard.require(Action.CORRECT, tenant_id)
        tour = self._store.get_tour(tenant_id, tour_id)
        if tour is None:
            raise NotFoundError(f"unknown booking {tour_id}")
        if tour.status is not TourStatus.BOOKED:
            raise ConflictError("this booking is cancelled already", "already_cancelled")
        return tour

    def _operator(self) -> ChangedBy:
        return ChangedBy("operator", self._guard.principal.label)

    def _change_tour(self, before: Tour, change: TourChange, action: AuditAction) -> Tour:
        tenant_id = before.tenant_id
        audit = self._guard.audit_entry(
            action,
            f"booking {change.tour_id}",
            tenant_id=tenant_id,
            before=before.summary(),
            after=change.applied(before).summary(),
        )
        cancelled = change.kind is TourChangeKind.CANCELLED
        previous = {"previous_date": before.tour_date.isoformat(), "previous_location": before.location}
        return self._write_with_event(
            tenant_id,
            EventName.TOUR_CANCELLED if cancelled else EventName.TOUR_RESCHEDULED,
            lambda tour: {**tour.summary(), **previous},
            lambda describe: self._store.change_tour(tenant_id, change, audit=audit, events=describe),
        )

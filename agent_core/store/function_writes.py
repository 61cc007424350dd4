"""The writes of the PostgreSQL family as the SQL functions of schema.sql make them: the one
place of their rules there (users, keys, audit and drafts are in `function_access.py`).

`app_start_turn`, `app_run_tool_call` and `app_finish_turn` each write one step of a turn in
one transaction; tenants, leases, booking corrections, contacts, notes, prompts and events
have theirs (idempotency keys and recordings are store roles of their own:
`idempotency.py`, `voice_turns.py`). Supabase calls them over PostgREST; PostgreSQL
calls the same functions over its own connection, so a rule (who may start a turn, a call
claimed once, a booking checked against what is there when it is written) is written once,
in SQL. A tool runs against `StagedWrites`: it reads what is there now and only stages its
writes, which the function applies together with the call's record, or refuses when a
booking it looked at changed (the tool then runs again).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import UTC, date, tzinfo
from typing import Any
from uuid import UUID

from agent_core.access.models import AuditEntry
from agent_core.clock import utcnow
from agent_core.domain import (
    Channel,
    ChatMessage,
    Contact,
    JsonDict,
    Note,
    OutboxEvent,
    PromptVersion,
    Tenant,
    ToolCallRecord,
    ToolCallRequest,
    Tour,
    TourChange,
    TurnOrigin,
    by_agent,
)
from agent_core.errors import (
    InvalidInputError,
    NotFoundError,
)
from agent_core.ids import new_id
from agent_core.store.base import (
    DEFAULT_LEASE_SECONDS,
    ToolEvents,
    ToolExecution,
    ToolFailure,
    TurnOutcome,
    TurnStart,
    tenant_created,
    with_version,
)
from agent_core.store.conversation_log import Outcome
from agent_core.store.event_log import events_json
from agent_core.store.function_access import audit_json
from agent_core.store.matching import (
    already_booked,
    contact_keys,
    detail_keys,
    merge_details,
    name_key,
    resolve_contact,
    same_booking,
)
from agent_core.store.refusals import StaleBooking
from agent_core.store.rows import (
    as_uuid,
    contact_from_row,
    prompt_version_from_row,
    tenant_from_row,
    tool_call_from_row,
    tour_from_row,
)

_STALE_BOOKING_RETRIES = 3


def contact_json(contact: Contact) -> JsonDict:
    """A contact's values and match keys as the SQL functions read them."""
    return {
        "id": str(contact.id),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        **contact_keys(contact),
    }


class FunctionWrites(ABC):
    """The writes of the PostgreSQL family through its SQL functions — a turn's steps, the
    tenants, leases, records, prompts and events — for a store that says how
    it calls a function and how it reads what a tool looks at."""

    _max_rows: int = 1000
    """The most rows one function call hands back (PostgREST's Max rows on Supabase)."""
    # The store's own methods these writes use (annotations only: the store's are what runs).
    get_tour: Callable[[UUID, UUID], Tour | None]
    get_contact: Callable[[UUID, UUID], Contact | None]
    append_message: Callable[[UUID, UUID, UUID, ChatMessage], None]

    @abstractmethod
    def _rpc(self, function: str, arguments: dict[str, Any]) -> Any:
        """Call `public.<function>` with named arguments; its result as JSON would give it.
        Errors the function raises on purpose come out as `function_error` gives them."""

    @abstractmethod
    def _live_bookings(self, tenant_id: UUID, key: str, from_date: date, on: date | None) -> list[Tour]:
        """The tenant's live bookings of the customer with the folded name `key`, from
        `from_date` (on `on` only, when given), by date then id."""

    @abstractmethod
    def _latest_customer(self, tenant_id: UUID, conversation_id: UUID) -> str | None:
        """The customer of the conversation's latest booking, if it made one."""

    @abstractmethod
    def _contacts_matching(self, tenant_id: UUID, lookup: dict[str, str | None]) -> list[Contact]:
        """The tenant's contacts sharing any of the match keys in `lookup` (None: no key), by id."""

    def _same_booking(
        self, tenant_id: UUID, customer_name: str, tour_date: date, location: str
    ) -> tuple[Tour | None, list[str]]:
        """This customer's live booking on that day at that place, if any, and the ids of
        all the customer's live bookings that day (found by the folded name): what the SQL
        functions compare with what is there when they write."""
        booked = self._live_bookings(tenant_id, name_key(customer_name), tour_date, tour_date)
        same = next((t for t in booked if same_booking(t, customer_name, location)), None)
        return same, [str(t.id) for t in booked]

    def start_turn(
        self,
        tenant_id: UUID,
        conversation_id: UUID | None,
        user_message: str,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        events: Callable[[TurnStart], Sequence[OutboxEvent]] = lambda _: (),
        retry_of: UUID | None = None,
        origin: TurnOrigin | None = None,
        zone: tzinfo = UTC,
    ) -> TurnStart:
        start = TurnStart(conversation_id or new_id(), new_id())
        arguments = {
            "p_tenant": str(tenant_id),
            "p_conversation": None if conversation_id is None else str(conversation_id),
            "p_new_conversation": str(start.conversation_id),
            "p_turn": str(start.turn_id),
            "p_message": user_message,
            "p_lease_seconds": lease_seconds,
            "p_events": events_json(events(start)),
            "p_retry_of": None if retry_of is None else str(retry_of),
            "p_channel": (origin.channel if origin else Channel.UNKNOWN).value,
            "p_started_by": origin.started_by if origin else None,
            # This process's day: the database's clock stamps the start a moment later.
            "p_day": utcnow().astimezone(zone).date().isoformat(),
            "p_spoken": bool(origin and origin.spoken),
        }
        self._rpc("app_start_turn", arguments)
        return start

    def run_tool_call(
        self,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        call: ToolCallRequest,
        execute: ToolExecution,
        events: ToolEvents = lambda _: (),
        asked: ChatMessage | None = None,
        outcome: Outcome | None = None,
    ) -> tuple[ToolCallRecord, bool]:
        if asked is not None:
            # app_run_tool_call takes no message: it goes first, on its own.
            self.append_message(tenant_id, conversation_id, turn_id, asked)
        for _ in range(_STALE_BOOKING_RETRIES):
            try:
                return self._run_tool_call_once(
                    tenant_id, conversation_id, turn_id, call, execute, events, outcome
                )
            except StaleBooking:
                continue  # nothing was written: the tool runs again and finds that booking
        return self._run_tool_call_once(tenant_id, conversation_id, turn_id, call, execute, events, outcome)

    def _run_tool_call_once(
        self,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        call: ToolCallRequest,
        execute: ToolExecution,
        events: ToolEvents,
        outcome: Outcome | None,
    ) -> tuple[ToolCallRecord, bool]:
        # The tool only stages its writes; the function claims the call id and applies them,
        # or, for a call id executed before, returns the stored record and writes nothing new.
        staged = StagedWrites(self, tenant_id, conversation_id)
        started = time.perf_counter()
        try:
            result: JsonDict | None = execute(staged)
            error = None
        except ToolFailure as failure:
            result, error = None, str(failure)
        record = ToolCallRecord.finished(call, result, error, (time.perf_counter() - started) * 1000)
        row = self._rpc(
            "app_run_tool_call",
            {
                "p_tenant": str(tenant_id),
                "p_conversation": str(conversation_id),
                "p_turn": str(turn_id),
                "p_call": {
                    "id": call.id,
                    "name": call.name,
                    "arguments": call.arguments,
                    "arguments_hash": call.fingerprint,
                    "outcome": outcome and outcome.value,
                },
                "p_outcome": {
                    "status": record.status.value,
                    "result": result,
                    "error": error,
                    "duration_ms": record.duration_ms,
                    "model_content": record.model_content,
                },
                "p_writes": staged.writes if error is None else {},
                "p_events": events_json(events(record)),
            },
        )
        return tool_call_from_row(row), bool(row["replayed"])

    def finish_turn(
        self,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        reply: ChatMessage | None,
        outcome: TurnOutcome,
        events: Sequence[OutboxEvent] = (),
    ) -> None:
        self._rpc(
            "app_finish_turn",
            {
                "p_tenant": str(tenant_id),
                "p_conversation": str(conversation_id),
                "p_turn": str(turn_id),
                "p_reply": None if reply is None else reply.content,
                "p_outcome": {
                    "status": outcome.status,
                    "reply": outcome.reply,
                    "model": outcome.model,
                    "prompt_tokens": outcome.usage.prompt_tokens,
                    "completion_tokens": outcome.usage.completion_tokens,
                    "model_calls": outcome.model_calls,
                    "latency_ms": outcome.latency_ms,
                    "model_ms": outcome.model_ms,
                    "tools_ms": outcome.tools_ms,
                    "withheld_claims": list(outcome.withheld_claims) or None,
                    "error": outcome.error,
                },
                "p_events": events_json(events),
            },
        )

    def create_tenant(self, name: str, system_prompt: str, *, audit: AuditEntry) -> Tenant:
        tenant_id = new_id()
        try:
            rows = self._rpc(
                "app_create_tenant",
                {
                    "p_id": str(tenant_id),
                    "p_name": name,
                    "p_prompt": system_prompt,
                    "p_audit": audit_json(tenant_created(audit, tenant_id)),
                },
            )
        except InvalidInputError:
            raise InvalidInputError(f"a tenant named {name!r} already exists") from None
        return tenant_from_row(rows[0])

    def update_tenant_settings(self, tenant_id: UUID, settings: JsonDict, *, audit: AuditEntry) -> Tenant:
        rows = self._rpc(
            "app_update_tenant_settings",
            {"p_tenant": str(tenant_id), "p_settings": settings, "p_audit": audit_json(audit)},
        )
        return tenant_from_row(rows[0])

    def renew_turn_leases(self, turn_ids: Sequence[UUID], lease_seconds: float) -> int:
        if not turn_ids:
            return 0
        renewed = self._rpc(
            "app_renew_turns", {"p_turns": [str(t) for t in turn_ids], "p_lease_seconds": lease_seconds}
        )
        return int(renewed or 0)

    def fail_expired_turns(self, error: str, listeners: Sequence[str]) -> list[TurnStart]:
        closed: list[TurnStart] = []
        while True:
            rows = self._rpc(
                "app_fail_expired_turns",
                {"p_error": error, "p_listeners": list(listeners), "p_limit": self._max_rows},
            )
            closed += [TurnStart(as_uuid(r["conversation_id"]), as_uuid(r["turn_id"])) for r in rows or []]
            if len(rows or []) < self._max_rows:
                return closed

    def change_tour(
        self,
        tenant_id: UUID,
        change: TourChange,
        *,
        audit: AuditEntry,
        events: Callable[[Tour], Sequence[OutboxEvent]],
    ) -> Tour:
        tour = self.get_tour(tenant_id, change.tour_id)
        if tour is None:
            raise NotFoundError(f"unknown booking {change.tour_id}")
        seen: list[str] = []
        if change.to_date is not None and change.to_location is not None:
            to_date, to_location = change.to_date, change.to_location
            taken, seen = self._same_booking(tenant_id, tour.customer_name, to_date, to_location)
            if taken is not None and taken.id != tour.id:
                raise InvalidInputError(already_booked(taken))
        rows = self._rpc(
            "app_change_tour",
            {
                "p_tenant": str(tenant_id),
                # app_change_tour refuses if the customer has a booking that day this check missed.
                "p_change": {**change.values(), "name_key": name_key(tour.customer_name), "seen": seen},
                "p_audit": audit_json(audit),
                # The events describe the booking as the change leaves it.
                "p_events": events_json(events(change.applied(tour))),
            },
        )
        return tour_from_row(rows[0])

    def update_contact(
        self,
        tenant_id: UUID,
        contact: Contact,
        *,
        audit: AuditEntry,
        events: Callable[[Contact], Sequence[OutboxEvent]],
    ) -> Contact:
        try:
            rows = self._rpc(
                "app_update_contact",
                {
                    "p_tenant": str(tenant_id),
                    "p_contact": contact_json(contact),
                    "p_audit": audit_json(audit),
                    "p_events": events_json(events(contact)),
                },
            )
        except InvalidInputError:
            raise InvalidInputError(
                f"another contact is already named {contact.name!r}: merge the two instead"
            ) from None
        return contact_from_row(rows[0])

    def merge_contacts(
        self,
        tenant_id: UUID,
        keep_id: UUID,
        drop_id: UUID,
        *,
        audit: AuditEntry,
        events: Callable[[Contact], Sequence[OutboxEvent]],
    ) -> Contact:
        kept, dropped = self.get_contact(tenant_id, keep_id), self.get_contact(tenant_id, drop_id)
        if kept is None or dropped is None or keep_id == drop_id:
            raise NotFoundError("unknown contact, or the same contact twice")
        rows = self._rpc(
            "app_merge_contacts",
            {
                "p_tenant": str(tenant_id),
                "p_keep": str(keep_id),
                "p_drop": str(drop_id),
                "p_audit": audit_json(audit),
                "p_events": events_json(events(merge_details(kept, dropped))),
            },
        )
        return contact_from_row(rows[0])

    def delete_note(self, tenant_id: UUID, note_id: UUID, *, audit: AuditEntry) -> None:
        self._rpc(
            "app_delete_note",
            {"p_tenant": str(tenant_id), "p_note": str(note_id), "p_audit": audit_json(audit)},
        )

    def update_system_prompt(
        self, tenant_id: UUID, prompt: str, author: str, *, audit: AuditEntry, replaces: int
    ) -> PromptVersion:
        # The function puts the version it assigns into the entry's `after`.
        rows = self._rpc(
            "app_update_prompt",
            {
                "p_tenant": str(tenant_id),
                "p_prompt": prompt,
                "p_author": author,
                "p_audit": audit_json(with_version(audit, 0)),
                "p_replaces": replaces,
            },
        )
        return prompt_version_from_row(rows[0])


class StagedWrites:
    """A tool's writes, collected and sent to app_run_tool_call only if the tool succeeds."""

    def __init__(self, store: FunctionWrites, tenant_id: UUID, conversation_id: UUID) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._conversation_id = conversation_id
        self.writes: dict[str, list[JsonDict]] = {
            "tours": [],
            "notes": [],
            "contacts": [],
            "tour_changes": [],
        }

    def find_tours(self, customer_name: str, on: date | None, from_date: date) -> list[Tour]:
        return self._store._live_bookings(self._tenant_id, name_key(customer_name), from_date, on)

    def cancel_tour(self, tour: Tour) -> Tour:
        return self._stage(tour, TourChange.cancel(tour, by_agent(self._conversation_id)))

    def reschedule_tour(self, tour: Tour, new_date: date, new_location: str) -> Tour:
        taken, _ = self._store._same_booking(self._tenant_id, tour.customer_name, new_date, new_location)
        if taken is not None and taken.id != tour.id:
            raise ToolFailure(already_booked(taken))
        return self._stage(
            tour, TourChange.move(tour, new_date, new_location, by_agent(self._conversation_id))
        )

    def _stage(self, tour: Tour, change: TourChange) -> Tour:
        # app_run_tool_call applies it only to the booking as it is now, or asks for a rerun.
        self.writes["tour_changes"].append(change.values())
        return change.applied(tour)

    def add_tour(self, customer_name: str, tour_date: date, location: str) -> tuple[Tour, bool]:
        existing, seen = self._store._same_booking(self._tenant_id, customer_name, tour_date, location)
        if existing is not None:
            return existing, False
        tour = Tour(
            new_id(),
            self._tenant_id,
            customer_name,
            tour_date,
            location,
            self._conversation_id,
            utcnow(),
        )
        self.writes["tours"].append(
            {
                "id": str(tour.id),
                "customer_name": customer_name,
                "name_key": name_key(customer_name),
                "tour_date": tour_date.isoformat(),
                "location": location,
                # app_run_tool_call asks for a rerun if the customer has a booking that day
                # this check missed.
                "seen": seen,
            }
        )
        return tour, True

    def add_note(self, content: str) -> Note:
        customer = self._store._latest_customer(self._tenant_id, self._conversation_id)
        note = Note(new_id(), self._tenant_id, content, self._conversation_id, utcnow(), customer)
        self.writes["notes"].append({"id": str(note.id), "content": content, "customer_name": customer})
        return note

    def upsert_contact(self, name: str, email: str | None, phone: str | None) -> tuple[Contact, bool]:
        lookup = detail_keys(name, email, phone)
        found = self._store._contacts_matching(self._tenant_id, lookup)
        match = resolve_contact(found, self._tenant_id, name, email, phone, utcnow())
        self.writes["contacts"].append(
            {
                **contact_json(match.contact),
                # app_run_tool_call asks for a rerun if a contact matching these details
                # appeared after this look.
                "lookup": lookup,
                "seen": [str(c.id) for c in found],
            }
        )
        return match.contact, match.created

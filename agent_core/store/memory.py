"""In-memory store: no I/O at all, for unit tests and for measuring the agent loop alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from agent_core.domain import (
    ChatMessage,
    Contact,
    ConversationSummary,
    Event,
    EventRecord,
    JsonDict,
    ListenerRun,
    Note,
    OutboxMessage,
    PromptVersion,
    RunStatus,
    Tenant,
    ToolCallRecord,
    ToolCallRequest,
    ToolCallStatus,
    Tour,
    decode_arguments,
)
from agent_core.errors import InvalidInputError, NotFoundError
from agent_core.store.base import (
    DEFAULT_QUERY,
    ToolExecution,
    ToolFailure,
    TurnOutcome,
    TurnStart,
    name_key,
    utcnow,
)
from agent_core.store.demo_data import DEMO_TENANTS
from agent_core.store.records import CONTACTS, NOTES, TOURS, Page, RecordQuery, TableSpec

R = TypeVar("R", Tour, Note, Contact)


@dataclass(slots=True)
class _Conversation:
    tenant_id: UUID
    summary: ConversationSummary
    messages: list[ChatMessage] = field(default_factory=list)
    updated: float = 0.0


class _StagedWriter:
    """Collects a tool's writes and applies them only if the tool succeeds."""

    def __init__(self, store: InMemoryStore, tenant_id: UUID, conversation_id: UUID) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._conversation_id = conversation_id
        self.pending: list[Callable[[], None]] = []

    def add_tour(self, customer_name: str, tour_date: date, location: str) -> Tour:
        tour = Tour(
            uuid4(),
            self._tenant_id,
            customer_name,
            tour_date,
            location,
            self._conversation_id,
            utcnow(),
        )
        self.pending.append(lambda: self._store._tours.append(tour))
        return tour

    def add_note(self, content: str) -> Note:
        note = Note(uuid4(), self._tenant_id, content, self._conversation_id, utcnow())
        self.pending.append(lambda: self._store._notes.append(note))
        return note

    def upsert_contact(self, name: str, email: str | None, phone: str | None) -> tuple[Contact, bool]:
        key = (self._tenant_id, name_key(name))
        now = utcnow()
        existing = self._store._contacts.get(key)
        if existing is None:
            contact = Contact(uuid4(), self._tenant_id, name, email, phone, now, now)
        else:
            contact = replace(
                existing,
                name=name,
                email=email if email is not None else existing.email,
                phone=phone if phone is not None else existing.phone,
                updated_at=now,
            )
        self.pending.append(lambda: self._store._contacts.__setitem__(key, contact))
        return contact, existing is None


class InMemoryStore:
    """Implements the Store protocol with dicts behind one lock."""

    backend = "memory"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tenants: dict[UUID, Tenant] = {}
        self._conversations: dict[UUID, _Conversation] = {}
        self._tool_calls: dict[tuple[UUID, str], tuple[UUID, ToolCallRecord]] = {}
        self._turns: dict[UUID, tuple[UUID, TurnOutcome | None]] = {}
        self._tours: list[Tour] = []
        self._notes: list[Note] = []
        self._contacts: dict[tuple[UUID, str], Contact] = {}
        self._prompt_versions: dict[UUID, list[PromptVersion]] = {}
        self._events: list[Event] = []
        self._runs: dict[tuple[UUID, str], ListenerRun] = {}
        self._outbox: list[OutboxMessage] = []
        now = utcnow()
        for tenant_id, name, prompt in DEMO_TENANTS:
            self._tenants[tenant_id] = Tenant(tenant_id, name, prompt, now)
            self._prompt_versions[tenant_id] = [PromptVersion(tenant_id, 1, prompt, "seed", now)]

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None

    def get_tenant(self, tenant_id: UUID) -> Tenant | None:
        return self._tenants.get(tenant_id)

    def list_tenants(self) -> list[Tenant]:
        with self._lock:
            return sorted(self._tenants.values(), key=lambda t: t.name)

    def create_tenant(self, name: str, system_prompt: str) -> Tenant:
        with self._lock:
            if any(t.name.lower() == name.lower() for t in self._tenants.values()):
                raise InvalidInputError(f"a tenant named {name!r} already exists")
            tenant = Tenant(uuid4(), name, system_prompt, utcnow())
            self._tenants[tenant.id] = tenant
            self._prompt_versions[tenant.id] = [
                PromptVersion(tenant.id, 1, system_prompt, "created", tenant.created_at)
            ]
            return tenant

    def _conversation(self, tenant_id: UUID, conversation_id: UUID) -> _Conversation:
        conversation = self._conversations.get(conversation_id)
        if conversation is None or conversation.tenant_id != tenant_id:
            raise NotFoundError(f"conversation {conversation_id} not found for this tenant")
        return conversation

    def start_turn(self, tenant_id: UUID, conversation_id: UUID | None, user_message: str) -> TurnStart:
        with self._lock:
            if conversation_id is None:
                conversation_id = uuid4()
                summary = ConversationSummary(conversation_id, tenant_id, utcnow(), 0, "")
                self._conversations[conversation_id] = _Conversation(tenant_id, summary)
            conversation = self._conversation(tenant_id, conversation_id)
            conversation.messages.append(ChatMessage("user", user_message))
            conversation.updated = time.monotonic()
            turn_id = uuid4()
            self._turns[turn_id] = (tenant_id, None)
            return TurnStart(conversation_id, turn_id)

    def load_history(self, tenant_id: UUID, conversation_id: UUID, limit: int) -> list[ChatMessage]:
        with self._lock:
            return self._conversation(tenant_id, conversation_id).messages[-limit:]

    def append_message(
        self, tenant_id: UUID, conversation_id: UUID, turn_id: UUID, message: ChatMessage
    ) -> None:
        with self._lock:
            self._conversation(tenant_id, conversation_id).messages.append(message)

    def run_tool_call(
        self,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        call: ToolCallRequest,
        execute: ToolExecution,
    ) -> tuple[ToolCallRecord, bool]:
        with self._lock:
            conversation = self._conversation(tenant_id, conversation_id)
            known = self._tool_calls.get((tenant_id, call.id))
            existing = None if known is None else known[1]
            if existing is None:
                writer = _StagedWriter(self, tenant_id, conversation_id)
                started = time.perf_counter()
                try:
                    result: JsonDict | None = execute(writer)
                    error = None
                except ToolFailure as failure:
                    result, error = None, str(failure)
                duration_ms = (time.perf_counter() - started) * 1000
                if error is None:
                    for apply in writer.pending:
                        apply()
                status = ToolCallStatus.SUCCEEDED if error is None else ToolCallStatus.FAILED
                record = ToolCallRecord(
                    call.id, call.name, decode_arguments(call.arguments), status, result, error, duration_ms
                )
                self._tool_calls[(tenant_id, call.id)] = (conversation_id, record)
            else:
                record = existing
            conversation.messages.append(ChatMessage("tool", record.to_model_content(), tool_call_id=call.id))
            return record, existing is not None

    def finish_turn(
        self,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        reply: ChatMessage | None,
        outcome: TurnOutcome,
    ) -> None:
        with self._lock:
            conversation = self._conversation(tenant_id, conversation_id)
            if reply is not None:
                conversation.messages.append(reply)
            self._turns[turn_id] = (tenant_id, outcome)

    def get_tool_call(self, tenant_id: UUID, call_id: str) -> ToolCallRecord | None:
        known = self._tool_calls.get((tenant_id, call_id))
        return None if known is None else known[1]

    def list_tool_calls(self, tenant_id: UUID, conversation_id: UUID) -> list[ToolCallRecord]:
        with self._lock:
            return [
                record
                for (tenant, _), (conversation, record) in self._tool_calls.items()
                if tenant == tenant_id and conversation == conversation_id
            ]

    def list_messages(self, tenant_id: UUID, conversation_id: UUID) -> list[ChatMessage]:
        with self._lock:
            conversation = self._conversations.get(conversation_id)
            if conversation is None or conversation.tenant_id != tenant_id:
                return []
            return list(conversation.messages)

    def list_conversations(
        self, tenant_id: UUID, limit: int = 50, offset: int = 0
    ) -> list[ConversationSummary]:
        with self._lock:
            mine = [c for c in self._conversations.values() if c.tenant_id == tenant_id]
            mine.sort(key=lambda c: c.updated, reverse=True)
            return [
                replace(
                    c.summary,
                    message_count=len(c.messages),
                    last_message=next((m.content for m in reversed(c.messages) if m.role == "user"), ""),
                )
                for c in mine[offset : offset + limit]
            ]

    def list_tours(self, tenant_id: UUID, query: RecordQuery = DEFAULT_QUERY) -> Page[Tour]:
        with self._lock:
            mine = [t for t in self._tours if t.tenant_id == tenant_id]
        return _query(mine, TOURS, query)

    def list_notes(self, tenant_id: UUID, query: RecordQuery = DEFAULT_QUERY) -> Page[Note]:
        with self._lock:
            mine = [n for n in self._notes if n.tenant_id == tenant_id]
        return _query(mine, NOTES, query)

    def list_contacts(self, tenant_id: UUID, query: RecordQuery = DEFAULT_QUERY) -> Page[Contact]:
        with self._lock:
            mine = [c for (t, _), c in self._contacts.items() if t == tenant_id]
        return _query(mine, CONTACTS, query)

    def update_system_prompt(self, tenant_id: UUID, prompt: str, author: str) -> PromptVersion:
        with self._lock:
            tenant = self._tenants.get(tenant_id)
            if tenant is None:
                raise NotFoundError(f"unknown tenant {tenant_id}")
            versions = self._prompt_versions.setdefault(tenant_id, [])
            version = PromptVersion(tenant_id, len(versions) + 1, prompt, author, utcnow())
            versions.append(version)
            self._tenants[tenant_id] = replace(tenant, system_prompt=prompt)
            return version

    def list_prompt_versions(self, tenant_id: UUID) -> list[PromptVersion]:
        with self._lock:
            return list(reversed(self._prompt_versions.get(tenant_id, [])))

    def save_events(self, batch: Sequence[tuple[Event, Sequence[str]]]) -> None:
        with self._lock:
            now = utcnow()
            for event, listeners in batch:
                self._events.append(replace(event, seq=len(self._events) + 1))
                for listener in listeners:
                    self._runs[(event.id, listener)] = ListenerRun(
                        event.id, listener, RunStatus.PENDING, 0, None, None, now
                    )

    def claim_listener_run(self, tenant_id: UUID, event_id: UUID, listener: str) -> bool:
        with self._lock:
            run = self._runs.get((event_id, listener))
            if (
                run is None
                or run.status is not RunStatus.PENDING
                or self._event_tenant(event_id) != tenant_id
            ):
                return False
            self._runs[(event_id, listener)] = replace(run, status=RunStatus.RUNNING, updated_at=utcnow())
            return True

    def finish_listener_run(
        self,
        tenant_id: UUID,
        event_id: UUID,
        listener: str,
        status: RunStatus,
        attempts: int,
        last_error: str | None,
        duration_ms: float,
    ) -> None:
        with self._lock:
            run = self._runs[(event_id, listener)]
            if self._event_tenant(event_id) != tenant_id:
                return
            self._runs[(event_id, listener)] = replace(
                run,
                status=status,
                attempts=run.attempts + attempts,
                last_error=last_error,
                duration_ms=duration_ms,
                updated_at=utcnow(),
            )

    def pending_listener_runs(self, limit: int = 1000) -> list[tuple[Event, str]]:
        with self._lock:
            by_id = {e.id: e for e in self._events}
            pending = [
                (by_id[key[0]], key[1]) for key, run in self._runs.items() if run.status is RunStatus.PENDING
            ]
        pending.sort(key=lambda item: item[0].seq)
        return pending[:limit]

    def requeue_stale_runs(self, older_than: datetime) -> int:
        with self._lock:
            stale = [
                k
                for k, r in self._runs.items()
                if r.status is RunStatus.RUNNING and r.updated_at < older_than
            ]
            for key in stale:
                self._runs[key] = replace(self._runs[key], status=RunStatus.PENDING, updated_at=utcnow())
            return len(stale)

    def reset_failed_runs(self, tenant_id: UUID, event_id: UUID) -> list[str]:
        with self._lock:
            names = sorted(
                listener
                for (eid, listener), run in self._runs.items()
                if eid == event_id and run.status is RunStatus.FAILED and self._event_tenant(eid) == tenant_id
            )
            for listener in names:
                run = self._runs[(event_id, listener)]
                self._runs[(event_id, listener)] = replace(run, status=RunStatus.PENDING, updated_at=utcnow())
            return names

    def _event_tenant(self, event_id: UUID) -> UUID | None:
        return next((e.tenant_id for e in self._events if e.id == event_id), None)

    def _record(self, event: Event) -> EventRecord:
        runs = sorted(
            (run for (eid, _), run in self._runs.items() if eid == event.id),
            key=lambda r: r.listener,
        )
        return EventRecord(event, tuple(runs))

    def list_events(
        self,
        tenant_id: UUID,
        *,
        after_seq: int = 0,
        limit: int = 100,
        newest_first: bool = False,
        names: Sequence[str] = (),
        status: RunStatus | None = None,
        since: datetime | None = None,
    ) -> list[EventRecord]:
        with self._lock:
            records = [
                self._record(e)
                for e in self._events
                if e.tenant_id == tenant_id
                and e.seq > after_seq
                and (not names or e.name in names)
                and (since is None or e.created_at >= since)
            ]
        if status is not None:
            records = [r for r in records if any(run.status is status for run in r.runs)]
        if newest_first:
            records.reverse()
        return records[:limit]

    def get_event(self, tenant_id: UUID, event_id: UUID) -> EventRecord | None:
        with self._lock:
            event = next((e for e in self._events if e.id == event_id and e.tenant_id == tenant_id), None)
            return None if event is None else self._record(event)

    def add_outbox(self, tenant_id: UUID, kind: str, event_id: UUID, payload: JsonDict) -> bool:
        with self._lock:
            if any(m.event_id == event_id and m.kind == kind for m in self._outbox):
                return False
            self._outbox.append(OutboxMessage(uuid4(), tenant_id, kind, event_id, payload, utcnow()))
            return True

    def list_outbox(self, tenant_id: UUID, limit: int = 100) -> list[OutboxMessage]:
        with self._lock:
            return [m for m in reversed(self._outbox) if m.tenant_id == tenant_id][:limit]


def _query(records: list[R], spec: TableSpec, query: RecordQuery) -> Page[R]:
    """The same semantics as the SQL stores' queries, over a list."""
    query = query.checked(spec)
    needle = query.search.strip().casefold()
    low, high = query.bounds(spec)

    def keep(record: R) -> bool:
        if needle and not any(needle in (getattr(record, c) or "").casefold() for c in spec.search_columns):
            return False
        value = getattr(record, spec.date_column)
        if low is not None and value < low:
            return False
        return high is None or (value < high if spec.date_is_timestamp else value <= high)

    def key(record: R) -> tuple[bool, Any]:
        value = getattr(record, query.sort or spec.default_sort)
        return value is None, value.casefold() if isinstance(value, str) else value

    kept = [r for r in records if keep(r)]
    present = sorted((r for r in kept if not key(r)[0]), key=key, reverse=query.descending)
    missing = [r for r in kept if key(r)[0]]
    rows = present + missing
    return Page(rows[query.offset : query.offset + query.limit], len(rows))

"""The store logic of the SQL backends: SQLite's reads and writes, PostgreSQL's reads.

Statements are written once with `:name` parameters; each backend supplies a session
that runs them in its own dialect and returns rows as dicts. Values come back as the
backend stores them (SQLite: text) and are normalised here. PostgreSQL overrides the writes
with its SQL functions (`function_writes.py`, `function_access.py`), the ones Supabase calls.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, suppress
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cached_property
from typing import cast
from uuid import UUID

from agent_core.access.models import AuditEntry
from agent_core.clock import utcnow
from agent_core.domain import (
    Channel,
    ChatMessage,
    Contact,
    ConversationSummary,
    Event,
    EventName,
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
    TurnRecord,
    by_agent,
)
from agent_core.errors import (
    InvalidInputError,
    NotFoundError,
)
from agent_core.ids import new_id
from agent_core.store.analytics import Analytics, AnalyticsQuery, compute
from agent_core.store.base import (
    DEFAULT_LEASE_SECONDS,
    ToolEvents,
    ToolExecution,
    ToolFailure,
    TurnOutcome,
    TurnStart,
    tenant_created,
    turn_failed_payload,
    with_version,
)
from agent_core.store.conversation_log import (
    BROAD_SEARCH,
    COLUMNS,
    ConversationOverview,
    ConversationQuery,
    Outcome,
    TextSearch,
    filters,
    messages_containing,
    overview_from_row,
)
from agent_core.store.event_log import EventLog, SqlEvents, insert_events
from agent_core.store.idempotency import IdempotencyStore, SqlIdempotency
from agent_core.store.matching import (
    already_booked,
    contact_keys,
    detail_keys,
    merge_details,
    name_key,
    resolve_contact,
)
from agent_core.store.records import Page, RecordPages, RecordQuery, TableSpec, like_pattern
from agent_core.store.refusals import (
    BOOKING_CHANGED,
    CONVERSATION_BUSY,
    NOT_RETRYABLE,
    PROMPT_CHANGED,
    UNKNOWN_CONTACT,
    UNKNOWN_CONVERSATION,
    UNKNOWN_NOTE,
    UNKNOWN_TENANT,
)
from agent_core.store.rows import (
    Row,
    as_uuid,
    contact_from_row,
    conversation_from_row,
    message_from_row,
    note_from_row,
    prompt_version_from_row,
    tenant_from_row,
    tool_call_from_row,
    tour_change_from_row,
    tour_from_row,
    turn_from_row,
)
from agent_core.store.sql_backend import SqlSession, fetch_one
from agent_core.store.sql_scenarios import SqlScenarios
from agent_core.store.tool_reads import contacts_matching, latest_customer, live_bookings
from agent_core.store.tour_changes import apply_tour_change, live_booking
from agent_core.store.voice_turns import Rpc, SqlVoiceTurns, VoiceTurnStore

_TOOL_CALL_COLUMNS = "call_id, name, arguments, status, result, error, duration_ms, model_content"
_TOOL_CALL_KEY = (
    "tenant_id = :tenant_id AND conversation_id = :conversation_id AND call_id = :call_id"
    " AND arguments_hash = :arguments_hash"
)
_INSERT_MESSAGE = (
    "INSERT INTO messages (tenant_id, conversation_id, turn_id, role, content, tool_calls,"
    " tool_call_id, created_at) VALUES (:tenant_id, :conversation_id, :turn_id, :role,"
    " :content, :tool_calls, :tool_call_id, :created_at)"
)


class _SqlTenantWriter:
    """TenantWriter over an open SQLite transaction; the tenant is fixed at construction.
    (SQLite runs one writer at a time, so what a tool reads stays true until it commits.)"""

    def __init__(self, session: SqlSession, tenant_id: UUID, conversation_id: UUID) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._conversation_id = conversation_id

    def add_tour(self, customer_name: str, tour_date: date, location: str) -> tuple[Tour, bool]:
        existing = self._live_booking(customer_name, tour_date, location)
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
        self._session.execute(
            "INSERT INTO tours (id, tenant_id, customer_name, name_key, tour_date, location,"
            " conversation_id, created_at) VALUES (:id, :tenant_id, :customer_name, :name_key,"
            " :tour_date, :location, :conversation_id, :created_at)",
            {
                "id": tour.id,
                "tenant_id": tour.tenant_id,
                "customer_name": customer_name,
                "name_key": name_key(customer_name),
                "tour_date": tour_date,
                "location": location,
                "conversation_id": tour.conversation_id,
                "created_at": tour.created_at,
            },
        )
        return tour, True

    def _live_booking(self, customer_name: str, tour_date: date, location: str) -> Tour | None:
        return live_booking(self._session, self._tenant_id, customer_name, tour_date, location)

    def find_tours(self, customer_name: str, on: date | None, from_date: date) -> list[Tour]:
        return live_bookings(self._session, self._tenant_id, name_key(customer_name), from_date, on)

    def cancel_tour(self, tour: Tour) -> Tour:
        return self._change(tour, TourChange.cancel(tour, by_agent(self._conversation_id)))

    def reschedule_tour(self, tour: Tour, new_date: date, new_location: str) -> Tour:
        taken = self._live_booking(tour.customer_name, new_date, new_location)
        if taken is not None and taken.id != tour.id:
            raise ToolFailure(already_booked(taken))
        change = TourChange.move(tour, new_date, new_location, by_agent(self._conversation_id))
        return self._change(tour, change)

    def _change(self, tour: Tour, change: TourChange) -> Tour:
        changed = apply_tour_change(self._session, self._tenant_id, change)
        if changed is None:
            raise ToolFailure("that booking changed in the meantime; look it up again")
        return changed

    def add_note(self, content: str) -> Note:
        customer = latest_customer(self._session, self._tenant_id, self._conversation_id)
        note = Note(new_id(), self._tenant_id, content, self._conversation_id, utcnow(), customer)
        self._session.execute(
            "INSERT INTO notes (id, tenant_id, content, conversation_id, created_at, customer_name)"
            " VALUES (:id, :tenant_id, :content, :conversation_id, :created_at, :customer_name)",
            {
                "id": note.id,
                "tenant_id": note.tenant_id,
                "content": content,
                "conversation_id": note.conversation_id,
                "created_at": note.created_at,
                "customer_name": customer,
            },
        )
        return note

    def upsert_contact(self, name: str, email: str | None, phone: str | None) -> tuple[Contact, bool]:
        found = contacts_matching(self._session, self._tenant_id, detail_keys(name, email, phone))
        match = resolve_contact(found, self._tenant_id, name, email, phone, utcnow())
        values = _contact_values(self._tenant_id, match.contact, match.contact.updated_at)
        if match.created:
            self._session.execute(
                "INSERT INTO contacts (id, tenant_id, name, name_key, email, email_key, phone, phone_key,"
                " created_at, updated_at) VALUES (:id, :tenant_id, :name, :name_key, :email, :email_key,"
                " :phone, :phone_key, :now, :now)",
                values,
            )
        else:
            self._session.execute(UPDATE_CONTACT, values)
        return match.contact, match.created


def _contact_values(tenant_id: UUID, contact: Contact, now: datetime) -> dict[str, object]:
    """The parameters of `UPDATE_CONTACT` for a contact as it is to be stored at `now`."""
    return {
        "id": contact.id,
        "tenant_id": tenant_id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "now": now,
        **contact_keys(contact),
    }


UPDATE_CONTACT = (
    "UPDATE contacts SET name_key = CASE WHEN name = :name THEN name_key ELSE :name_key END, name = :name,"
    " email = :email, email_key = :email_key, phone = :phone, phone_key = :phone_key, updated_at = :now"
    " WHERE tenant_id = :tenant_id AND id = :id"
)
"""Write a contact's values and match keys (`contact_keys`) by its id. A name left as it is
keeps its key: a contact that migration 6 kept apart from its accentless twin keeps its own."""


class SqlStore(RecordPages, SqlScenarios):
    """Store implementation over any `SqlSession`; subclasses supply connections. Its writes
    are SQLite's rules (one writer at a time); PostgreSQL reads through it, and writes through
    its SQL functions instead (`FunctionWrites`, `FunctionAccess`) where a write is more than
    one statement."""

    backend: str = "sql"

    broad_search = BROAD_SEARCH
    """Conversations containing a searched text from which the search is broad (see TextSearch)."""

    # Each role is built once, on first use, over this store's connections.

    @cached_property
    def idempotency(self) -> IdempotencyStore:
        """Idempotency-Keys, in this store's database."""
        return SqlIdempotency(self._transaction, self._one_statement, self._json_param, self._functions())

    @cached_property
    def events(self) -> EventLog:
        """Events with their listener runs, and the outbox, in this store's database."""
        return SqlEvents(
            self._transaction,
            self._one_statement,
            self._reader,
            self._json_param,
            self._write_audit,
            self._functions(),
        )

    @cached_property
    def voice_turns(self) -> VoiceTurnStore:
        """Spoken turns' timings and recordings, in this store's database."""
        return SqlVoiceTurns(self._transaction, self._reader, self._write_audit, self._functions())

    def _functions(self) -> Rpc | None:
        """How a role calls this database's SQL functions, for the writes that are one there
        (None: SQLite, whose writes are Python)."""
        return None

    def analytics(self, query: AnalyticsQuery) -> Analytics:
        query = query.checked()
        with self._rollups_reader() as session:
            return compute(session, query)

    def _rollups_reader(self) -> AbstractContextManager[SqlSession]:
        """A session that reads the daily rollups with every finished turn counted in them."""
        return self._reader()

    def _fold(self, expression: str, search: str) -> str:
        """SQL that case-folds a text expression (Unicode-aware) to match a folded `search`."""
        return f"lower({expression})"

    def _text_match(self, text: str) -> TextSearch:
        """How this backend finds the conversations with a message containing `text`."""
        return TextSearch(messages_containing(self._fold, text), {})

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def ping(self) -> None:
        with self._reader() as session:
            session.query("SELECT 1 AS ok")

    # -- tenants -----------------------------------------------------------------

    def get_tenant(self, tenant_id: UUID) -> Tenant | None:
        with self._reader() as session:
            rows = session.query("SELECT * FROM tenants WHERE id = :id", {"id": tenant_id})
        return tenant_from_row(rows[0]) if rows else None

    def list_tenants(self) -> list[Tenant]:
        with self._reader() as session:
            rows = session.query("SELECT * FROM tenants ORDER BY name")
        return [tenant_from_row(row) for row in rows]

    def create_tenant(self, name: str, system_prompt: str, *, audit: AuditEntry) -> Tenant:
        tenant = Tenant(new_id(), name, system_prompt, utcnow())
        try:
            with self._transaction() as session:
                session.execute(
                    "INSERT INTO tenants (id, name, system_prompt, created_at)"
                    " VALUES (:id, :name, :system_prompt, :created_at)",
                    {
                        "id": tenant.id,
                        "name": name,
                        "system_prompt": system_prompt,
                        "created_at": tenant.created_at,
                    },
                )
                self._insert_prompt_version(
                    session, tenant.id, 1, system_prompt, "created", tenant.created_at
                )
                self._write_audit(session, tenant_created(audit, tenant.id))
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise InvalidInputError(f"a tenant named {name!r} already exists") from None
            raise
        return tenant

    def update_tenant_settings(self, tenant_id: UUID, settings: JsonDict, *, audit: AuditEntry) -> Tenant:
        with self._transaction() as session:
            if not session.execute(
                "UPDATE tenants SET settings = :settings WHERE id = :id",
                {"settings": self._json_param(settings), "id": tenant_id},
            ):
                raise UNKNOWN_TENANT(tenant_id)
            self._write_audit(session, audit)
            rows = session.query("SELECT * FROM tenants WHERE id = :id", {"id": tenant_id})
        return tenant_from_row(rows[0])

    # -- turns -------------------------------------------------------------------

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
        now = utcnow()
        turn_id = new_id()
        with self._transaction() as session:
            if conversation_id is None:
                conversation_id = new_id()
                session.execute(
                    "INSERT INTO conversations (id, tenant_id, created_at, updated_at)"
                    " VALUES (:id, :tenant_id, :now, :now)",
                    {"id": conversation_id, "tenant_id": tenant_id, "now": now},
                )
            else:
                # The write lock this update takes makes concurrent starts on one conversation
                # take turns, so the check below sees the other's turn.
                if not session.execute(
                    "UPDATE conversations SET updated_at = :now WHERE tenant_id = :tenant_id AND id = :id",
                    {"id": conversation_id, "tenant_id": tenant_id, "now": now},
                ):
                    raise UNKNOWN_CONVERSATION(conversation_id)
                if session.query(
                    "SELECT 1 AS busy FROM turns WHERE tenant_id = :tenant_id"
                    " AND conversation_id = :conversation_id AND status = 'running'"
                    " AND lease_expires_at > :now",
                    {"tenant_id": tenant_id, "conversation_id": conversation_id, "now": now},
                ):
                    raise CONVERSATION_BUSY(conversation_id)
            if retry_of is not None:
                self._check_retry(session, tenant_id, conversation_id, retry_of, user_message)
            session.execute(
                "INSERT INTO turns (id, tenant_id, conversation_id, status, user_message, started_at,"
                " lease_expires_at, retry_of, channel, started_by, day, spoken) VALUES (:id, :tenant_id,"
                " :conversation_id, 'running', :message, :now, :lease, :retry_of, :channel, :started_by,"
                " :day, :spoken)",
                {
                    "id": turn_id,
                    "tenant_id": tenant_id,
                    "conversation_id": conversation_id,
                    "message": user_message,
                    "now": now,
                    "lease": now + timedelta(seconds=lease_seconds),
                    "retry_of": retry_of,
                    "channel": (origin.channel if origin else Channel.UNKNOWN).value,
                    "started_by": origin.started_by if origin else None,
                    "day": now.astimezone(zone).date(),
                    "spoken": bool(origin and origin.spoken),
                },
            )
            if retry_of is None:
                # A retry answers the message already stored: one message, however many tries.
                self._insert_message(
                    session, tenant_id, conversation_id, turn_id, ChatMessage("user", user_message), now
                )
            start = TurnStart(conversation_id, turn_id)
            insert_events(session, events(start), self._json_param)
        return start

    def _check_retry(
        self, session: SqlSession, tenant_id: UUID, conversation_id: UUID, retry_of: UUID, message: str
    ) -> None:
        latest = session.query(
            "SELECT id, status, user_message FROM turns WHERE tenant_id = :tenant_id"
            " AND conversation_id = :conversation_id ORDER BY started_at DESC, id DESC LIMIT 1",
            {"tenant_id": tenant_id, "conversation_id": conversation_id},
        )
        if not (
            latest
            and str(latest[0]["id"]) == str(retry_of)
            and latest[0]["status"] == "failed"
            and latest[0]["user_message"] == message
        ):
            raise NOT_RETRYABLE()

    def renew_turn_leases(self, turn_ids: Sequence[UUID], lease_seconds: float) -> int:
        if not turn_ids:
            return 0
        params: dict[str, object] = {f"t{i}": turn_id for i, turn_id in enumerate(turn_ids)}
        params["lease"] = utcnow() + timedelta(seconds=lease_seconds)
        with self._one_statement() as session:
            return session.execute(
                "UPDATE turns SET lease_expires_at = :lease WHERE status = 'running' AND id IN ("
                + ", ".join(f":t{i}" for i in range(len(turn_ids)))
                + ")",
                params,
            )

    def fail_expired_turns(self, error: str, listeners: Sequence[str]) -> list[TurnStart]:
        now = utcnow()
        closed = []
        expired = "status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < :now)"
        with self._transaction() as session:
            rows = session.query(
                f"SELECT id, tenant_id, conversation_id FROM turns WHERE {expired} ORDER BY started_at",
                {"now": now},
            )
            for row in rows:
                turn = TurnStart(as_uuid(row["conversation_id"]), as_uuid(row["id"]))
                tenant_id = as_uuid(row["tenant_id"])
                session.execute(
                    "UPDATE turns SET status = 'failed', error = :error, finished_at = :now,"
                    " lease_expires_at = NULL WHERE id = :id",
                    {"error": error, "now": now, "id": turn.turn_id},
                )
                event = Event(
                    new_id(), tenant_id, EventName.TURN_FAILED, turn_failed_payload(turn, error), now
                )
                insert_events(session, [OutboxEvent(event, tuple(listeners))], self._json_param)
                closed.append(turn)
        return closed

    def load_history(self, tenant_id: UUID, conversation_id: UUID, limit: int) -> list[ChatMessage]:
        with self._reader() as session:
            rows = session.query(
                "SELECT role, content, tool_calls, tool_call_id FROM messages"
                " WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id"
                " ORDER BY id DESC LIMIT :limit",
                {"tenant_id": tenant_id, "conversation_id": conversation_id, "limit": limit},
            )
        return [message_from_row(row) for row in reversed(rows)]

    def append_message(
        self, tenant_id: UUID, conversation_id: UUID, turn_id: UUID, message: ChatMessage
    ) -> None:
        with self._one_statement() as session:
            self._insert_message(session, tenant_id, conversation_id, turn_id, message, utcnow())

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
        key = {
            "tenant_id": tenant_id,
            "conversation_id": conversation_id,
            "call_id": call.id,
            "arguments_hash": call.fingerprint,
        }
        now = utcnow()
        try:
            with self._transaction() as session:
                if asked is not None:
                    self._insert_message(session, tenant_id, conversation_id, turn_id, asked, now)
                # The transaction holds the write lock from its start, so no other writer can
                # record this call between the look-up and the insert: the call is claimed and
                # recorded by one insert of the finished row (a running row would only ever be
                # seen by this transaction).
                rows = session.query(
                    f"SELECT {_TOOL_CALL_COLUMNS} FROM tool_calls WHERE {_TOOL_CALL_KEY}", key
                )
                replayed = bool(rows)
                if replayed:
                    record = tool_call_from_row(rows[0])
                else:
                    record = self._execute_claimed(session, key, call, execute)
                    self._insert_tool_call(session, key, turn_id, call, record, now, outcome)
                    insert_events(session, events(record), self._json_param)
                self._insert_message(
                    session,
                    tenant_id,
                    conversation_id,
                    turn_id,
                    ChatMessage("tool", record.model_content, tool_call_id=call.id),
                    now,
                )
        except BaseException:
            if asked is not None:
                # Rolled back with the call; kept on its own, so the next turn tells the model
                # the call was interrupted (when the database takes it at all).
                with suppress(Exception):
                    self.append_message(tenant_id, conversation_id, turn_id, asked)
            raise
        return record, replayed

    def _execute_claimed(
        self,
        session: SqlSession,
        key: Mapping[str, object],
        call: ToolCallRequest,
        execute: ToolExecution,
    ) -> ToolCallRecord:
        writer = _SqlTenantWriter(session, cast(UUID, key["tenant_id"]), cast(UUID, key["conversation_id"]))
        started = time.perf_counter()
        # A savepoint makes a refused call write nothing even if the tool wrote before refusing.
        session.execute("SAVEPOINT tool_call")
        try:
            result: JsonDict | None = execute(writer)
            error = None
            session.execute("RELEASE SAVEPOINT tool_call")
        except ToolFailure as failure:
            session.execute("ROLLBACK TO SAVEPOINT tool_call")
            result, error = None, str(failure)
        return ToolCallRecord.finished(call, result, error, (time.perf_counter() - started) * 1000)

    def _insert_tool_call(
        self,
        session: SqlSession,
        key: Mapping[str, object],
        turn_id: UUID,
        call: ToolCallRequest,
        record: ToolCallRecord,
        now: datetime,
        outcome: Outcome | None,
    ) -> None:
        """The call as it ended: its row is written once, after it ran."""
        session.execute(
            "INSERT INTO tool_calls (tenant_id, call_id, turn_id, conversation_id, name, arguments,"
            " arguments_hash, status, result, error, duration_ms, model_content, created_at, outcome)"
            " VALUES (:tenant_id, :call_id, :turn_id, :conversation_id, :name, :arguments,"
            " :arguments_hash, :status, :result, :error, :duration_ms, :model_content, :now, :outcome)",
            {
                **key,
                "turn_id": turn_id,
                "name": call.name,
                "arguments": call.arguments,
                "status": record.status.value,
                "result": None if record.result is None else self._json_param(record.result),
                "error": record.error,
                "duration_ms": record.duration_ms,
                "model_content": record.model_content,
                "now": now,
                "outcome": outcome and outcome.value,
            },
        )

    def finish_turn(
        self,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        reply: ChatMessage | None,
        outcome: TurnOutcome,
        events: Sequence[OutboxEvent] = (),
    ) -> None:
        now = utcnow()
        with self._transaction() as session:
            if reply is not None:
                self._insert_message(session, tenant_id, conversation_id, turn_id, reply, now)
            insert_events(session, events, self._json_param)
            session.execute(
                "UPDATE turns SET status = :status, reply = :reply, model = :model,"
                " prompt_tokens = :prompt_tokens, completion_tokens = :completion_tokens,"
                " model_calls = :model_calls, latency_ms = :latency_ms, error = :error,"
                " model_ms = :model_ms, tools_ms = :tools_ms, withheld_claims = :withheld_claims,"
                " finished_at = :now, lease_expires_at = NULL WHERE tenant_id = :tenant_id AND id = :id",
                {
                    "status": outcome.status,
                    "reply": outcome.reply,
                    "model": outcome.model,
                    "prompt_tokens": outcome.usage.prompt_tokens,
                    "completion_tokens": outcome.usage.completion_tokens,
                    "model_calls": outcome.model_calls,
                    "latency_ms": outcome.latency_ms,
                    "error": outcome.error,
                    "model_ms": outcome.model_ms,
                    "tools_ms": outcome.tools_ms,
                    "withheld_claims": (
                        self._json_param(list(outcome.withheld_claims)) if outcome.withheld_claims else None
                    ),
                    "now": now,
                    "tenant_id": tenant_id,
                    "id": turn_id,
                },
            )
            self._turn_finished(session)

    def _turn_finished(self, session: SqlSession) -> None:
        """Upkeep a backend does at the end of some turns, in the transaction that finishes
        one (none here)."""

    def _insert_message(
        self,
        session: SqlSession,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        message: ChatMessage,
        now: datetime,
    ) -> None:
        calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls]
        session.execute(
            _INSERT_MESSAGE,
            {
                "tenant_id": tenant_id,
                "conversation_id": conversation_id,
                "turn_id": turn_id,
                "role": message.role,
                "content": message.content,
                "tool_calls": self._json_param(calls) if calls else None,
                "tool_call_id": message.tool_call_id,
                "created_at": now,
            },
        )

    # -- reads ---------------------------------------------------------------------

    def list_tool_calls(self, tenant_id: UUID, conversation_id: UUID) -> list[ToolCallRecord]:
        with self._reader() as session:
            rows = session.query(
                f"SELECT {_TOOL_CALL_COLUMNS} FROM tool_calls WHERE tenant_id = :tenant_id"
                " AND conversation_id = :conversation_id AND status <> 'running' ORDER BY created_at",
                {"tenant_id": tenant_id, "conversation_id": conversation_id},
            )
        return [tool_call_from_row(r) for r in rows]

    def list_messages(self, tenant_id: UUID, conversation_id: UUID) -> list[ChatMessage]:
        with self._reader() as session:
            rows = session.query(
                "SELECT role, content, tool_calls, tool_call_id FROM messages"
                " WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id ORDER BY id",
                {"tenant_id": tenant_id, "conversation_id": conversation_id},
            )
        return [message_from_row(row) for row in rows]

    def search_conversations(self, tenant_id: UUID, query: ConversationQuery) -> Page[ConversationOverview]:
        query = query.checked()
        with self._reader() as session:
            text = self._text_search(session, tenant_id, query.text.strip())
            conditions, params = filters(query, self._fold, text)
            params |= {"tenant_id": tenant_id, "limit": query.limit, "offset": query.offset}
            where = " AND ".join(conditions)
            rows = session.query(
                f"SELECT {COLUMNS} FROM conversations c WHERE {where}"
                " ORDER BY c.updated_at DESC, c.id LIMIT :limit OFFSET :offset",
                params,
            )
            broad = text is not None and text.broad
            # A broad text is counted up to the bound only: past it, "at least" is what the page says.
            counting = (
                f"SELECT count(*) AS n FROM (SELECT 1 FROM conversations c WHERE {where}"
                f" LIMIT {int(self.broad_search)}) bounded"
                if broad
                else f"SELECT count(*) AS n FROM conversations c WHERE {where}"
            )
            total = int(session.query(counting, params)[0]["n"])
        return Page(
            [overview_from_row(row) for row in rows], total, at_least=broad and total >= self.broad_search
        )

    def _text_search(self, session: SqlSession, tenant_id: UUID, text: str) -> TextSearch | None:
        """How to find the conversations containing `text` (None: no text searched), after a
        bounded count of them says whether it is a broad search."""
        if not text:
            return None
        search = self._text_match(text)
        found = session.query(
            search.probe(self.broad_search),
            {"tenant_id": tenant_id, "text": like_pattern(text), **search.params},
        )
        return replace(search, broad=int(found[0]["n"]) >= self.broad_search)

    def list_turns(self, tenant_id: UUID, conversation_id: UUID) -> list[TurnRecord]:
        with self._reader() as session:
            rows = session.query(
                "SELECT id, status, user_message, error, retry_of, started_at, withheld_claims, spoken"
                " FROM turns WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id"
                " ORDER BY started_at, id",
                {"tenant_id": tenant_id, "conversation_id": conversation_id},
            )
        return [turn_from_row(row) for row in rows]

    def list_conversations(
        self, tenant_id: UUID, limit: int = 50, offset: int = 0
    ) -> list[ConversationSummary]:
        with self._reader() as session:
            rows = session.query(
                "SELECT c.id, c.tenant_id, c.created_at,"
                " (SELECT count(*) FROM messages m WHERE m.tenant_id = c.tenant_id"
                "  AND m.conversation_id = c.id) AS message_count,"
                " COALESCE((SELECT m.content FROM messages m WHERE m.tenant_id = c.tenant_id"
                "  AND m.conversation_id = c.id AND m.role = 'user' ORDER BY m.id DESC LIMIT 1), '')"
                "  AS last_message"
                " FROM conversations c WHERE c.tenant_id = :tenant_id"
                " ORDER BY c.updated_at DESC, c.id LIMIT :limit OFFSET :offset",
                {"tenant_id": tenant_id, "limit": limit, "offset": offset},
            )
        return [conversation_from_row(r) for r in rows]

    def _page(self, spec: TableSpec, tenant_id: UUID, query: RecordQuery) -> tuple[list[Row], int]:
        query = query.checked(spec)
        conditions = ["tenant_id = :tenant_id"]
        params: dict[str, object] = {"tenant_id": tenant_id, "limit": query.limit, "offset": query.offset}
        if search := query.search.strip():
            params["pattern"] = like_pattern(search)
            folded = [self._fold(f"COALESCE({column}, '')", search) for column in spec.search_columns]
            matches = [f"{expression} LIKE :pattern ESCAPE '\\'" for expression in folded]
            conditions.append("(" + " OR ".join(matches) + ")")
        low, high = query.bounds(spec)
        if low is not None:
            conditions.append(f"{spec.date_column} >= :low")
            params["low"] = low
        if high is not None:
            conditions.append(f"{spec.date_column} {'<' if spec.date_is_timestamp else '<='} :high")
            params["high"] = high
        where = " AND ".join(conditions)
        sort = query.sort or spec.default_sort
        column = spec.sortable[sort]
        direction = "DESC" if query.descending else "ASC"
        # NULLs last in every backend (SQLite and Postgres disagree by default); only for
        # nullable columns, so the others keep using their index for the order.
        nulls_last = f"({column} IS NULL), " if sort in spec.nullable else ""
        with self._reader() as session:
            rows = session.query(
                f"SELECT * FROM {spec.table} WHERE {where}"
                f" ORDER BY {nulls_last}{column} {direction}, id {direction}"
                " LIMIT :limit OFFSET :offset",
                params,
            )
            total = session.query(f"SELECT count(*) AS n FROM {spec.table} WHERE {where}", params)
        return rows, int(total[0]["n"])

    def get_tour(self, tenant_id: UUID, tour_id: UUID) -> Tour | None:
        with self._reader() as session:
            row = fetch_one(session, "tours", tenant_id, tour_id)
        return tour_from_row(row) if row else None

    def list_tour_changes(self, tenant_id: UUID, tour_id: UUID) -> list[TourChange]:
        with self._reader() as session:
            rows = session.query(
                "SELECT * FROM tour_changes WHERE tenant_id = :tenant_id AND tour_id = :tour_id"
                " ORDER BY created_at",
                {"tenant_id": tenant_id, "tour_id": tour_id},
            )
        return [tour_change_from_row(r) for r in rows]

    def change_tour(
        self,
        tenant_id: UUID,
        change: TourChange,
        *,
        audit: AuditEntry,
        events: Callable[[Tour], Sequence[OutboxEvent]],
    ) -> Tour:
        with self._transaction() as session:
            if change.to_date is not None and change.to_location is not None:
                moving = fetch_one(session, "tours", tenant_id, change.tour_id)
                if moving:
                    name = tour_from_row(moving).customer_name
                    taken = live_booking(session, tenant_id, name, change.to_date, change.to_location)
                    if taken is not None and taken.id != change.tour_id:
                        raise InvalidInputError(already_booked(taken))
            tour = apply_tour_change(session, tenant_id, change)
            if tour is None:
                raise BOOKING_CHANGED()
            self._write_audit(session, audit)
            insert_events(session, events(tour), self._json_param)
        return tour

    def get_contact(self, tenant_id: UUID, contact_id: UUID) -> Contact | None:
        with self._reader() as session:
            row = fetch_one(session, "contacts", tenant_id, contact_id)
        return contact_from_row(row) if row else None

    def update_contact(
        self,
        tenant_id: UUID,
        contact: Contact,
        *,
        audit: AuditEntry,
        events: Callable[[Contact], Sequence[OutboxEvent]],
    ) -> Contact:
        try:
            with self._transaction() as session:
                if not session.execute(UPDATE_CONTACT, _contact_values(tenant_id, contact, utcnow())):
                    raise UNKNOWN_CONTACT(contact.id)
                row = fetch_one(session, "contacts", tenant_id, contact.id)
                assert row is not None
                updated = contact_from_row(row)
                self._write_audit(session, audit)
                insert_events(session, events(updated), self._json_param)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise InvalidInputError(
                    f"another contact is already named {contact.name!r}: merge the two instead"
                ) from None
            raise
        return updated

    def merge_contacts(
        self,
        tenant_id: UUID,
        keep_id: UUID,
        drop_id: UUID,
        *,
        audit: AuditEntry,
        events: Callable[[Contact], Sequence[OutboxEvent]],
    ) -> Contact:
        with self._transaction() as session:
            kept, dropped = (fetch_one(session, "contacts", tenant_id, i) for i in (keep_id, drop_id))
            if kept is None or dropped is None or keep_id == drop_id:
                raise NotFoundError("unknown contact, or the same contact twice")
            session.execute(
                "DELETE FROM contacts WHERE tenant_id = :tenant_id AND id = :id",
                {"tenant_id": tenant_id, "id": drop_id},
            )
            session.execute(
                UPDATE_CONTACT,
                _contact_values(
                    tenant_id, merge_details(contact_from_row(kept), contact_from_row(dropped)), utcnow()
                ),
            )
            row = fetch_one(session, "contacts", tenant_id, keep_id)
            assert row is not None
            merged = contact_from_row(row)
            self._write_audit(session, audit)
            insert_events(session, events(merged), self._json_param)
        return merged

    def get_note(self, tenant_id: UUID, note_id: UUID) -> Note | None:
        with self._reader() as session:
            row = fetch_one(session, "notes", tenant_id, note_id)
        return note_from_row(row) if row else None

    def delete_note(self, tenant_id: UUID, note_id: UUID, *, audit: AuditEntry) -> None:
        with self._transaction() as session:
            if not session.execute(
                "DELETE FROM notes WHERE tenant_id = :tenant_id AND id = :id",
                {"tenant_id": tenant_id, "id": note_id},
            ):
                raise UNKNOWN_NOTE(note_id)
            self._write_audit(session, audit)

    # -- prompts -----------------------------------------------------------------

    def _insert_prompt_version(
        self,
        session: SqlSession,
        tenant_id: UUID,
        version: int,
        prompt: str,
        author: str,
        now: datetime,
    ) -> None:
        session.execute(
            "INSERT INTO prompt_versions (tenant_id, version, prompt, author, created_at)"
            " VALUES (:tenant_id, :version, :prompt, :author, :now)",
            {
                "tenant_id": tenant_id,
                "version": version,
                "prompt": prompt,
                "author": author,
                "now": now,
            },
        )

    def update_system_prompt(
        self, tenant_id: UUID, prompt: str, author: str, *, audit: AuditEntry, replaces: int
    ) -> PromptVersion:
        now = utcnow()
        with self._transaction() as session:
            # The write lock stays to the end: publishers of one tenant take turns.
            if not session.execute(
                "UPDATE tenants SET system_prompt = :prompt WHERE id = :tenant_id",
                {"prompt": prompt, "tenant_id": tenant_id},
            ):
                raise UNKNOWN_TENANT(tenant_id)
            latest = session.query(
                "SELECT COALESCE(MAX(version), 0) AS v FROM prompt_versions WHERE tenant_id = :tenant_id",
                {"tenant_id": tenant_id},
            )
            if int(latest[0]["v"]) != replaces:
                raise PROMPT_CHANGED(int(latest[0]["v"]), replaces)
            version = replaces + 1
            self._insert_prompt_version(session, tenant_id, version, prompt, author, now)
            self._write_audit(session, with_version(audit, version))
            # The draft that held this text is what was just published.
            session.execute(
                "DELETE FROM prompt_drafts WHERE tenant_id = :tenant_id AND prompt = :prompt",
                {"tenant_id": tenant_id, "prompt": prompt},
            )
        return PromptVersion(tenant_id, version, prompt, author, now)

    def list_prompt_versions(self, tenant_id: UUID) -> list[PromptVersion]:
        with self._reader() as session:
            rows = session.query(
                "SELECT * FROM prompt_versions WHERE tenant_id = :tenant_id ORDER BY version DESC",
                {"tenant_id": tenant_id},
            )
        return [prompt_version_from_row(r) for r in rows]

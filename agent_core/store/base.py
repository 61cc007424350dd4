"""The store interface every backend implements (SQLite, PostgreSQL, Supabase).

Every method takes the tenant id explicitly and scopes all reads and writes to it; tools
only ever receive a `TenantWriter` already bound to the turn's tenant, so nothing a model
outputs can choose the tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, tzinfo
from typing import Protocol
from uuid import UUID

from agent_core.access.models import AuditEntry
from agent_core.domain import (
    ChatMessage,
    Contact,
    ConversationSummary,
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
    Usage,
)
from agent_core.store.access_store import AccessStore
from agent_core.store.analytics import Analytics, AnalyticsQuery
from agent_core.store.conversation_log import ConversationOverview, ConversationQuery, Outcome
from agent_core.store.event_log import EventLog
from agent_core.store.idempotency import IdempotencyStore
from agent_core.store.records import DEFAULT, Page, RecordQuery
from agent_core.store.scenario_store import ScenarioStore
from agent_core.store.voice_turns import VoiceTurnStore

"""Why a retry is refused: any other turn would answer a message out of its order."""


class ToolFailure(Exception):
    """Raised by a tool to refuse a call; the message goes back to the model and nothing is written."""


class TenantWriter(Protocol):
    """The writes a tool may make, bound to one tenant inside one open transaction."""

    def add_tour(self, customer_name: str, tour_date: date, location: str) -> tuple[Tour, bool]:
        """Book a tour; True when booked now, False when a live booking already holds the same
        customer, date and place (that booking is returned and nothing is written)."""
        ...

    def find_tours(self, customer_name: str, on: date | None, from_date: date) -> list[Tour]:
        """This customer's booked (not cancelled) tours from `from_date` on — only those on
        `on` when given — by date."""
        ...

    def cancel_tour(self, tour: Tour) -> Tour:
        """Cancel a booked tour as `find_tours` returned it (its change kept, by the agent);
        ToolFailure when it changed since."""
        ...

    def reschedule_tour(self, tour: Tour, new_date: date, new_location: str) -> Tour:
        """Move a booked tour as `find_tours` returned it; ToolFailure when it changed since or
        the customer already has a booking on that day at that place."""
        ...

    def add_note(self, content: str) -> Note:
        """Insert a note."""
        ...

    def upsert_contact(self, name: str, email: str | None, phone: str | None) -> tuple[Contact, bool]:
        """Create the contact or update its non-empty fields; True when it was created."""
        ...


DEFAULT_QUERY = DEFAULT

DEFAULT_LEASE_SECONDS = 30.0
"""How long a turn's lease lasts unless renewed: its process renews it every few seconds."""

ToolExecution = Callable[[TenantWriter], JsonDict]
"""Runs a tool inside the store's transaction: returns its result or raises ToolFailure."""

ToolEvents = Callable[[ToolCallRecord], Sequence[OutboxEvent]]
"""The events describing a tool call that just ran, stored in its transaction."""


@dataclass(frozen=True, slots=True)
class TurnStart:
    """Ids assigned when a turn begins."""

    conversation_id: UUID
    turn_id: UUID


def turn_failed_payload(turn: TurnStart, error: str) -> JsonDict:
    """The payload of `chat.turn.failed`, whoever closes the turn (its process or the reaper;
    the Supabase function app_fail_expired_turns writes the same keys)."""
    return {"conversation_id": str(turn.conversation_id), "turn_id": str(turn.turn_id), "error": error}


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """What is recorded about a finished turn."""

    status: str
    reply: str | None
    model: str
    usage: Usage
    model_calls: int
    latency_ms: float
    error: str | None = None
    model_ms: float | None = None
    """Of `latency_ms`, the time spent waiting for the model."""
    tools_ms: float | None = None
    """Of `latency_ms`, the time the tools ran; the rest is the store and the loop itself."""
    withheld_claims: tuple[str, ...] = ()
    """Sentences of the reply held back: they claimed what no tool of the turn did."""


class Store(AccessStore, ScenarioStore, Protocol):
    """Persistence for tenants, conversations, turns, tool calls and business records."""

    backend: str

    @property
    def idempotency(self) -> IdempotencyStore:
        """Idempotency-Keys: a repeated request's stored answer, one run for two at once."""
        ...

    @property
    def events(self) -> EventLog:
        """Events with their listener runs, and the outbox."""
        ...

    @property
    def voice_turns(self) -> VoiceTurnStore:
        """Spoken turns' timings and recordings."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailableError when the database cannot be reached."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    def get_tenant(self, tenant_id: UUID) -> Tenant | None:
        """The tenant, or None."""
        ...

    def list_tenants(self) -> list[Tenant]:
        """All tenants by name."""
        ...

    def create_tenant(self, name: str, system_prompt: str, *, audit: AuditEntry) -> Tenant:
        """Add a tenant with its audit entry (completed by `tenant_created`); InvalidInputError
        when the name is taken."""
        ...

    def update_tenant_settings(self, tenant_id: UUID, settings: JsonDict, *, audit: AuditEntry) -> Tenant:
        """Replace a tenant's settings with its audit entry; NotFoundError for an unknown tenant."""
        ...

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
        """Open a turn: create the conversation if none is given, store the user message and
        the events `events` describes, together; the turn's lease runs `lease_seconds`;
        `origin` (channel, who) is kept with the turn, and so is the day it starts on in `zone`
        (its tenant's), which Analytics count it on.

        With `retry_of`, the turn answers again the message of that failed turn — the
        conversation's last — and stores no second copy of it (ConflictError otherwise).
        NotFoundError when the conversation does not exist for this tenant;
        ConversationBusyError while another turn of it holds a live lease.
        """
        ...

    def list_turns(self, tenant_id: UUID, conversation_id: UUID) -> list[TurnRecord]:
        """A conversation's turns, oldest first (empty for another tenant's)."""
        ...

    def analytics(self, query: AnalyticsQuery) -> Analytics:
        """Activity of one tenant (or of all) over the query's days, computed in the database."""
        ...

    def search_conversations(self, tenant_id: UUID, query: ConversationQuery) -> Page[ConversationOverview]:
        """The tenant's conversations matching `query`, latest activity first, with how many match."""
        ...

    def renew_turn_leases(self, turn_ids: Sequence[UUID], lease_seconds: float) -> int:
        """Extend the leases of these running turns (this process's); returns how many."""
        ...

    def fail_expired_turns(self, error: str, listeners: Sequence[str]) -> list[TurnStart]:
        """Close running turns whose lease expired (their process died) as failed, each with a
        `chat.turn.failed` event and a pending run per listener, in one transaction."""
        ...

    def load_history(self, tenant_id: UUID, conversation_id: UUID, limit: int) -> list[ChatMessage]:
        """The last `limit` messages in order, starting at a user message."""
        ...

    def append_message(
        self, tenant_id: UUID, conversation_id: UUID, turn_id: UUID, message: ChatMessage
    ) -> None:
        """Add one message to the conversation."""
        ...

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
        """Execute a tool call at most once per (tenant, conversation, call id, arguments'
        fingerprint), atomically. `outcome`: what a success does to the conversation, as the
        call's tool declares it (its summary shows it; None for a tool that only reads).

        The tool's writes, the call's record, its result message and its events commit
        together. `asked`, the model's message that asked for the call when it is not stored
        yet, is stored before the result (in the same transaction where the store can: one
        commit fewer per tool turn), and kept when the call fails (so the next turn tells the
        model it was interrupted). Returns the record and True when it was a replay of an
        earlier execution (which writes no events).
        """
        ...

    def finish_turn(
        self,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        reply: ChatMessage | None,
        outcome: TurnOutcome,
        events: Sequence[OutboxEvent] = (),
    ) -> None:
        """Store the final reply (if any), the turn's outcome and its events together."""
        ...

    def list_tool_calls(self, tenant_id: UUID, conversation_id: UUID) -> list[ToolCallRecord]:
        """Every finished tool call of one conversation, in the order they ran."""
        ...

    def list_messages(self, tenant_id: UUID, conversation_id: UUID) -> list[ChatMessage]:
        """Every message of one conversation, oldest first."""
        ...

    def list_conversations(
        self, tenant_id: UUID, limit: int = 50, offset: int = 0
    ) -> list[ConversationSummary]:
        """Most recent conversations first."""
        ...

    def list_tours(self, tenant_id: UUID, query: RecordQuery = DEFAULT_QUERY) -> Page[Tour]:
        """Tours matching the query (default: by tour date)."""
        ...

    def list_notes(self, tenant_id: UUID, query: RecordQuery = DEFAULT_QUERY) -> Page[Note]:
        """Notes matching the query (default: oldest first; sort descending for newest)."""
        ...

    def list_contacts(self, tenant_id: UUID, query: RecordQuery = DEFAULT_QUERY) -> Page[Contact]:
        """Contacts matching the query (default: by name)."""
        ...

    def get_tour(self, tenant_id: UUID, tour_id: UUID) -> Tour | None:
        """One tour of this tenant, or None."""
        ...

    def list_tour_changes(self, tenant_id: UUID, tour_id: UUID) -> list[TourChange]:
        """A tour's cancellation and moves, oldest first."""
        ...

    def change_tour(
        self,
        tenant_id: UUID,
        change: TourChange,
        *,
        audit: AuditEntry,
        events: Callable[[Tour], Sequence[OutboxEvent]],
    ) -> Tour:
        """An operator's cancellation or move of a booking, with its history row, its audit
        entry and its events, together. InvalidInputError when the booking is no longer as
        `change` saw it, or the customer already has a booking on that day at that place."""
        ...

    def get_contact(self, tenant_id: UUID, contact_id: UUID) -> Contact | None:
        """One contact of this tenant, or None."""
        ...

    def update_contact(
        self,
        tenant_id: UUID,
        contact: Contact,
        *,
        audit: AuditEntry,
        events: Callable[[Contact], Sequence[OutboxEvent]],
    ) -> Contact:
        """Replace a contact's name, email and phone (an operator's correction) with its audit
        entry and events. NotFoundError for an unknown contact; InvalidInputError when the name
        is another contact's (merge them instead)."""
        ...

    def merge_contacts(
        self,
        tenant_id: UUID,
        keep_id: UUID,
        drop_id: UUID,
        *,
        audit: AuditEntry,
        events: Callable[[Contact], Sequence[OutboxEvent]],
    ) -> Contact:
        """Fold one contact into another: the kept one takes the email and phone it lacks, the
        other is removed; with the audit entry and events, together."""
        ...

    def get_note(self, tenant_id: UUID, note_id: UUID) -> Note | None:
        """One note of this tenant, or None."""
        ...

    def delete_note(self, tenant_id: UUID, note_id: UUID, *, audit: AuditEntry) -> None:
        """Remove a note (an operator's correction) with its audit entry; NotFoundError when
        there is no such note."""
        ...

    # -- prompts -----------------------------------------------------------------

    def update_system_prompt(
        self, tenant_id: UUID, prompt: str, author: str, *, audit: AuditEntry, replaces: int
    ) -> PromptVersion:
        """Save a new prompt version and make it current, with its audit entry (its `after`
        gets the version number), together — only while `replaces` is still the latest version
        (0: none yet), so two publishers never overwrite each other unseen.

        NotFoundError when the tenant does not exist; PromptChangedError, writing nothing, when
        another version went live after `replaces`.
        """
        ...

    def list_prompt_versions(self, tenant_id: UUID) -> list[PromptVersion]:
        """Every saved version, newest first."""
        ...


def tenant_created(audit: AuditEntry, tenant_id: UUID) -> AuditEntry:
    """The audit entry of a tenant creation, naming the id the store gave it."""
    return replace(audit, tenant_id=tenant_id, target=f"tenant {tenant_id}")


def with_version(audit: AuditEntry, version: int) -> AuditEntry:
    """The audit entry of a prompt save, with the version number the store gave it."""
    return replace(audit, after={**(audit.after or {}), "version": version})

"""Records the agent reads and writes. Plain frozen dataclasses: cheap on the hot path."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from agent_core.clock import utcnow
from agent_core.ids import new_id

JsonDict = dict[str, Any]

_JSON_TEXT = json.JSONEncoder(default=str, ensure_ascii=False)


def json_text(value: object) -> str:
    """`value` as JSON with its characters as they are (no `\\u` escapes) and what JSON has no
    type for (dates, UUIDs) as text: what the model reads of a tool's result and what a
    stream's events carry. One encoder, built once (`json.dumps` builds one per call)."""
    return _JSON_TEXT.encode(value)


Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class Tenant:
    """A business using the agent, with its own system prompt and data."""

    id: UUID
    name: str
    system_prompt: str
    created_at: datetime
    settings: JsonDict = field(default_factory=dict)
    """Stored settings; read them with `tenant_settings.settings_from`."""


class TourStatus(StrEnum):
    """A tour is booked until it is cancelled; it is never deleted."""

    BOOKED = "booked"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Tour:
    """A tour: booked (possibly moved since) or cancelled."""

    id: UUID
    tenant_id: UUID
    customer_name: str
    tour_date: date
    location: str
    conversation_id: UUID | None
    created_at: datetime
    status: TourStatus = TourStatus.BOOKED

    def summary(self) -> JsonDict:
        """The booking as tools answer and events carry it."""
        return {
            "booking_id": str(self.id),
            "name": self.customer_name,
            "date": self.tour_date.isoformat(),
            "location": self.location,
            "status": self.status.value,
        }


@dataclass(frozen=True, slots=True)
class Note:
    """A free-text note about a caller."""

    id: UUID
    tenant_id: UUID
    content: str
    conversation_id: UUID | None
    created_at: datetime
    customer_name: str | None = None
    """The customer of its conversation's latest booking when it was taken, if any: whose
    note it most likely is (the conversation is one click away)."""


@dataclass(frozen=True, slots=True)
class Contact:
    """A person the business keeps details for: one per tenant per name, email or phone
    (as `agent_core.store.matching` compares them)."""

    id: UUID
    tenant_id: UUID
    name: str
    email: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """A tool call as the model asked for it: arguments are the model's raw JSON text."""

    id: str
    name: str
    arguments: str

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the argument text: with the call id and conversation, what makes a call
        the same call (a server reusing ids per response cannot replay another's result)."""
        return fingerprint(self.arguments)


def fingerprint(text: str) -> str:
    """Hex SHA-256 of a text's UTF-8 bytes (the stores' SQL computes the same)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation in the chat-completions shape."""

    role: Role
    content: str
    tool_calls: tuple[ToolCallRequest, ...] = ()
    tool_call_id: str | None = None


class Claim(StrEnum):
    """What a reply may say happened; a tool declares the claims its success backs."""

    BOOKING = "a booking"
    NOTE = "a note"
    CONTACT_CHANGE = "a contact change"
    CANCELLATION = "a cancellation"
    MOVE = "a move"


class ToolCallStatus(StrEnum):
    """How a tool call ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """A tool call after it ran (or was refused), as persisted and shown to users.

    `model_content` is the exact text the model read as the call's result; it is stored with
    the call and replayed byte for byte, so every backend shows the model the same text.
    """

    call_id: str
    name: str
    arguments: JsonDict | str
    status: ToolCallStatus
    result: JsonDict | None
    error: str | None
    duration_ms: float
    model_content: str

    @classmethod
    def finished(
        cls, call: ToolCallRequest, result: JsonDict | None, error: str | None, duration_ms: float
    ) -> ToolCallRecord:
        """The record of a call that just ran: succeeded with `result`, or failed with `error`."""
        if error is None:
            status = ToolCallStatus.SUCCEEDED
            content = json_text({"ok": True, "result": result})
        else:
            status = ToolCallStatus.FAILED
            content = json_text({"ok": False, "error": error})
        return cls(
            call.id, call.name, decode_arguments(call.arguments), status, result, error, duration_ms, content
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts reported by the model (zero for the demo model)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class TurnResult:
    """Everything one turn produced."""

    tenant_id: UUID
    conversation_id: UUID
    turn_id: UUID
    reply: str
    tool_calls: tuple[ToolCallRecord, ...]
    usage: Usage
    model: str
    latency_ms: float
    model_calls: int
    timings_ms: dict[str, float] = field(default_factory=dict)
    withheld_claims: tuple[str, ...] = ()
    """Sentences of the model's reply that claimed what no tool completed, kept from the caller."""


class Channel(StrEnum):
    """Where a turn came from (and a conversation began)."""

    DASHBOARD = "dashboard"
    API = "api"
    CLI = "cli"
    VOICE = "voice"
    """Only of a conversation: its first message was spoken. Its turns keep the channel they
    came through, marked spoken (TurnOrigin.spoken)."""
    UNKNOWN = "unknown"
    """Turns from before channels were recorded, or run by the agent directly (tests)."""


@dataclass(frozen=True, slots=True)
class TurnOrigin:
    """Who started a turn, and through which channel (kept with the turn)."""

    channel: Channel
    started_by: str
    spoken: bool = False
    """The message was said aloud and transcribed (push-to-talk, a live call, /api/voice)."""


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One turn of a conversation as stored: how it ended, and the failed turn it retried."""

    id: UUID
    status: str
    """running, succeeded or failed."""
    user_message: str
    error: str | None
    retry_of: UUID | None
    started_at: datetime
    withheld_claims: tuple[str, ...] = ()
    """Sentences of its reply held back because no tool of the turn did what they claimed."""
    spoken: bool = False
    """Its message was said aloud and transcribed."""


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """A conversation as listed for a tenant."""

    id: UUID
    tenant_id: UUID
    created_at: datetime
    message_count: int
    last_message: str


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What the model is told about a tool: name, purpose and JSON schema of its arguments."""

    name: str
    description: str
    parameters: JsonDict


def decode_arguments(text: str) -> JsonDict | str:
    """Tool-call arguments as an object when the model sent a JSON object, else the raw text.

    The raw text also when the object holds text no UTF-8 answer can carry: a JSON escape of
    a lone surrogate (`"\\ud800"`) decodes to a string that fails every response it is in."""
    try:
        value = json.loads(text)
        if "\\u" in text:
            json_text(value).encode("utf-8")
        else:
            # Without escapes every character decoded is in the text itself.
            text.encode("utf-8")
    except ValueError:  # UnicodeEncodeError is one
        return text
    return value if isinstance(value, dict) else text


@dataclass(frozen=True, slots=True)
class PromptVersion:
    """One saved version of a tenant's system prompt."""

    tenant_id: UUID
    version: int
    prompt: str
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PromptDraft:
    """A tenant's unpublished prompt: tried in the sandbox and tested before it goes live."""

    tenant_id: UUID
    prompt: str
    base_version: int
    """The live version the draft was started from (the publish screen diffs against it)."""
    author: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredScenario:
    """A tenant's scenario as stored; `spec` is validated by `agent_core.scenarios.spec`."""

    id: UUID
    tenant_id: UUID
    name: str
    spec: JsonDict
    author: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ScenarioRunRecord:
    """One kept run of a tenant's scenarios; `report` is a `SuiteReport` as JSON."""

    id: UUID
    tenant_id: UUID
    target: str
    model: str
    passed: bool
    summary: str
    report: JsonDict
    started_by: str
    created_at: datetime


class EventName(StrEnum):
    """Every event the agent emits: what listeners subscribe to and the event log filters by."""

    MESSAGE_RECEIVED = "chat.message.received"
    TOOL_CALLED = "tool.called"
    TOOL_FAILED = "tool.failed"
    TOUR_BOOKED = "tour.booked"
    TOUR_CANCELLED = "tour.cancelled"
    TOUR_RESCHEDULED = "tour.rescheduled"
    NOTE_TAKEN = "note.taken"
    CONTACT_UPDATED = "contact.updated"
    REPLY_SENT = "chat.reply.sent"
    TURN_FAILED = "chat.turn.failed"


class RunStatus(StrEnum):
    """Where a listener's handling of one event stands."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened for a tenant; `seq` orders events and serves as a cursor."""

    id: UUID
    tenant_id: UUID
    name: str
    payload: JsonDict
    created_at: datetime
    seq: int = 0


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An event stored in the transaction of the change it describes, with a pending run for
    each listener named; the in-process bus only delivers it after the commit."""

    event: Event
    listeners: tuple[str, ...]


class KeyState(StrEnum):
    """Where a request sent with an idempotency key stands."""

    CLAIMED = "claimed"  # this request runs it
    RUNNING = "running"  # an earlier request with the key is running it: wait
    DONE = "done"  # answered before: send that answer again
    MISMATCH = "mismatch"  # the key was used for a different request


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """The outcome of presenting an idempotency key; `response` is set when DONE."""

    state: KeyState
    status: int | None = None
    response: JsonDict | None = None


@dataclass(frozen=True, slots=True)
class ListenerRun:
    """One listener's handling of one event."""

    event_id: UUID
    listener: str
    status: RunStatus
    attempts: int
    last_error: str | None
    duration_ms: float | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event with the runs of the listeners it was handed to."""

    event: Event
    runs: tuple[ListenerRun, ...]


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message queued for an integration to send (confirmation email, CRM sync, ...)."""

    id: UUID
    tenant_id: UUID
    kind: str
    event_id: UUID
    payload: JsonDict
    created_at: datetime


class TourChangeKind(StrEnum):
    """What happened to a booking after it was made."""

    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"


@dataclass(frozen=True, slots=True)
class ChangedBy:
    """Who changed a booking: the agent in a conversation, or an operator (by name)."""

    kind: Literal["agent", "operator"]
    label: str
    conversation_id: UUID | None = None


def by_agent(conversation_id: UUID) -> ChangedBy:
    """The agent, acting in this conversation."""
    return ChangedBy("agent", "agent", conversation_id)


@dataclass(frozen=True, slots=True)
class TourChange:
    """A cancellation or a move of one booking, as the booking's history keeps it."""

    tour_id: UUID
    kind: TourChangeKind
    from_date: date
    from_location: str
    to_date: date | None
    to_location: str | None
    by: ChangedBy
    id: UUID = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)

    @classmethod
    def cancel(cls, tour: Tour, by: ChangedBy) -> TourChange:
        """Cancel `tour` as it is now."""
        return cls(tour.id, TourChangeKind.CANCELLED, tour.tour_date, tour.location, None, None, by)

    @classmethod
    def move(cls, tour: Tour, new_date: date, new_location: str, by: ChangedBy) -> TourChange:
        """Move `tour` (as it is now) to another day and/or place."""
        return cls(
            tour.id, TourChangeKind.RESCHEDULED, tour.tour_date, tour.location, new_date, new_location, by
        )

    def applied(self, tour: Tour) -> Tour:
        """The tour after this change."""
        if self.kind is TourChangeKind.CANCELLED:
            return replace(tour, status=TourStatus.CANCELLED)
        return replace(
            tour, tour_date=self.to_date or tour.tour_date, location=self.to_location or tour.location
        )

    def values(self) -> JsonDict:
        """The change as a row of tour_changes (JSON-ready)."""
        return {
            "id": str(self.id),
            "tour_id": str(self.tour_id),
            "kind": self.kind.value,
            "from_date": self.from_date.isoformat(),
            "from_location": self.from_location,
            "to_date": self.to_date.isoformat() if self.to_date else None,
            "to_location": self.to_location,
            "by_kind": self.by.kind,
            "by_label": self.by.label,
            "conversation_id": str(self.by.conversation_id) if self.by.conversation_id else None,
            "created_at": self.created_at.isoformat(),
        }

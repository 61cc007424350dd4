"""JSON shapes of the HTTP API. The same models serialise responses and describe them in
the OpenAPI document, so the document cannot drift from what is sent.

Response models are validated straight from the domain records (`from_attributes`): each
field is read from the record attribute of the same name, so nothing is copied by hand and a
field the record does not have fails the first test that serves it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from agent_core.access.forms import MAX_REASON_CHARS, MIN_REASON_CHARS, PromptEdit
from agent_core.domain import Channel, ChatMessage, EventRecord
from agent_core.store.analytics import Analytics
from agent_core.store.conversation_log import MAX_SEARCH_CHARS, Outcome
from agent_core.store.voice_turns import RECORDING_SIDES, VOICE_PARTS, RecordingSide, VoiceTurn
from agent_core.submitted import WholeNumber, text_field
from agent_core.tenant_settings import TenantSettings

Millis = Annotated[float, AfterValidator(lambda value: round(value, 3))]
"""A duration in milliseconds, to the microsecond."""

MAX_CURSOR_DIGITS = 12
"""Positions a cursor may hold: beyond every row count and within what SQL takes as an offset."""


def _written_as(pattern: str, meaning: str) -> BeforeValidator:
    """A query value checked as the document writes it before pydantic converts it (which
    would also take `50.0` as 50, or `0` as a date: seconds since 1970)."""
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, str) and not compiled.fullmatch(value):
            raise ValueError(f"must be {meaning}")
        return value

    return BeforeValidator(check)


QueryDay = Annotated[date, _written_as(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date as YYYY-MM-DD")]
"""A day in a query string, as YYYY-MM-DD only."""
QueryCount = Annotated[int, _written_as(r"[0-9]{1,9}", "a whole number")]
"""A count in a query string, as digits only."""
Cursor = Annotated[
    str,
    Field(
        pattern=f"^[0-9]{{1,{MAX_CURSOR_DIGITS}}}$",
        description=(
            "`nextCursor` of the previous page (a position: any is valid; past the end, the page is empty)"
        ),
    ),
]


class Shape(BaseModel):
    """camelCase on the wire, snake_case in Python, built from records by attribute."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, from_attributes=True
    )


class PageParams(BaseModel):
    """Query parameters every list endpoint takes; they parse requests and document them."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    limit: QueryCount = Field(default=50, ge=1, le=100, description="Rows per page")
    cursor: Cursor | None = None


class RecordParams(PageParams):
    """Query parameters of tours, notes and contacts."""

    search: str = Field(default="", max_length=200, description="Text the record contains (any case)")
    date_from: QueryDay | None = Field(default=None, alias="from", description="First day, inclusive")
    date_to: QueryDay | None = Field(default=None, alias="to", description="Last day, inclusive")
    sort: str = Field(
        default="", max_length=40, description="Column to sort by (empty: the table's usual order)"
    )
    order: Literal["asc", "desc"] = "asc"


class ToolCallOut(Shape):
    id: str = Field(validation_alias="call_id")
    name: str
    arguments: dict[str, Any] | str
    status: Literal["succeeded", "failed"]
    result: dict[str, Any] | None = None
    error: str | None = None
    duration_ms: Millis


class UsageOut(Shape):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatResponse(Shape):
    """One finished turn (built from a TurnResult)."""

    conversation_id: UUID
    turn_id: UUID
    reply: str
    tool_calls: list[ToolCallOut]
    model: str
    usage: UsageOut
    latency_ms: Millis


class VoiceParams(BaseModel):
    """Query parameters of a voice message (the audio is the body)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    tenant_id: UUID = Field(alias="tenantId", description="The tenant the caller talks to")
    conversation_id: UUID | None = Field(
        default=None, alias="conversationId", description="Continue this conversation (default: a new one)"
    )


class VoiceResponse(ChatResponse):
    """One spoken message: what was heard, the turn it ran, and the reply spoken."""

    transcript: str = Field(description="What was heard: the message the turn answered")
    heard_seconds: float = Field(description="How long the caller's audio lasted")
    transcribe_ms: Millis
    reply_audio: str | None = Field(
        description="The reply spoken, as a base64 WAV file; null when no speech model is installed"
    )
    speak_ms: Millis | None


class ErrorDetail(Shape):
    field: str
    message: str


class ErrorInfo(Shape):
    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)
    conversation_id: UUID | None = Field(
        default=None, description="Set once the turn had started: continue or inspect it with this"
    )
    turn_id: UUID | None = Field(default=None, description="Set once the turn had started")


class ErrorResponse(Shape):
    """Every error, whatever the route: `{"error": {"code", "message", "details"}}`."""

    error: ErrorInfo


class ComponentOut(Shape):
    ok: bool
    backend: str
    detail: str


class HealthResponse(Shape):
    status: Literal["ok", "degraded", "down"]
    checks: dict[str, ComponentOut] | None = Field(
        default=None, description="Each part's state and error text: only for a caller with an API key"
    )


class TenantOut(Shape):
    id: UUID
    name: str
    created_at: datetime


class TourOut(Shape):
    id: UUID
    customer_name: str
    tour_date: date
    location: str
    conversation_id: UUID | None
    created_at: datetime
    status: Literal["booked", "cancelled"]


class TenantSettingsBody(TenantSettings):
    """A tenant's settings on the wire (camelCase); a PUT replaces them, missing fields take
    their defaults."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", from_attributes=True
    )


class ContactPatch(BaseModel):
    """A contact's corrected details: the fields sent replace the stored ones (null clears)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    name: str | None = Field(default=None, description="The person's full name")
    email: str | None = Field(default=None, description="Email address; null clears it")
    phone: str | None = Field(default=None, description="Phone number; null clears it")


class RescheduleBody(BaseModel):
    """A booking's new date and, optionally, its new place."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    new_date: str = Field(
        description="The new date, YYYY-MM-DD; today or later", json_schema_extra={"format": "date"}
    )
    new_location: str | None = Field(default=None, description="The new place, if it changes")


class NoteOut(Shape):
    id: UUID
    content: str
    customer_name: str | None = Field(
        description="The customer of the latest booking in the note's conversation when it was taken"
    )
    conversation_id: UUID | None
    created_at: datetime


class ContactOut(Shape):
    id: UUID
    name: str
    email: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime


class ConversationParams(PageParams):
    """Query parameters of the conversation log."""

    q: str = Field(
        default="", max_length=MAX_SEARCH_CHARS, description="Text in any of its messages (any case)"
    )
    customer: str = Field(
        default="",
        max_length=MAX_SEARCH_CHARS,
        description="A name, email or phone in the arguments of any of its tool calls",
    )
    date_from: QueryDay | None = Field(
        default=None, alias="from", description="Started on or after this day (UTC)"
    )
    date_to: QueryDay | None = Field(
        default=None, alias="to", description="Started on or before this day (UTC)"
    )
    outcome: Outcome | None = Field(
        default=None, description="What it did (failed: a message left unanswered or a tool call that failed)"
    )
    tool: str = Field(default="", max_length=MAX_SEARCH_CHARS, description="A tool it called")
    channel: Channel | None = Field(default=None, description="Where its first message came from")


class ConversationOut(Shape):
    id: UUID
    created_at: datetime
    updated_at: datetime = Field(description="Its last activity")
    channel: Channel = Field(description="Where its first message came from")
    started_by: str = Field(description="Who sent its first message (a user, an API key, `cli:…`)")
    first_message: str
    turns: int
    failed_turns: int = Field(description="Its messages that were never answered")
    tokens: int
    duration_ms: Millis
    outcomes: list[Outcome] = Field(description="What it did, from the tool calls that succeeded in it")


class MessageOut(Shape):
    role: Literal["user", "assistant", "tool"]
    content: str
    tool_call_ids: list[str] = Field(default_factory=list)
    tool_call_id: str | None = None

    @classmethod
    def of(cls, message: ChatMessage) -> MessageOut:
        """The wire shape names the calls a message asked for by id only."""
        return cls(
            role=message.role,
            content=message.content,
            tool_call_ids=[c.id for c in message.tool_calls],
            tool_call_id=message.tool_call_id,
        )


class SpokenTurnOut(Shape):
    """A turn whose message was said aloud: how long each part took, and which recordings are
    kept (GET …/turns/{turnId}/recordings/{side} plays one)."""

    turn_id: UUID
    listening_ms: Millis = Field(description="How long the caller's audio lasted")
    transcribing_ms: Millis
    answering_ms: Millis | None = Field(description="From the transcript to the whole reply text")
    first_audio_ms: Millis | None = Field(
        description="From the end of the caller's speech to the first audio of the reply"
    )
    recordings: list[RecordingSide] = Field(
        description="The sides whose audio is kept (none once the tenant's recording_days pass)"
    )

    @classmethod
    def of(cls, voice: VoiceTurn) -> SpokenTurnOut:
        """The wire shape of a kept spoken turn."""
        return cls(
            turn_id=voice.turn_id,
            listening_ms=voice.listening_ms,
            transcribing_ms=voice.transcribing_ms,
            answering_ms=voice.answering_ms,
            first_audio_ms=voice.first_audio_ms,
            recordings=[side for side in RECORDING_SIDES if voice.recording(side) is not None],
        )


class ForgottenOut(Shape):
    forgotten: int = Field(description="Spoken turns whose recordings were forgotten (0: none were kept)")


class ConversationDetail(Shape):
    id: UUID
    messages: list[MessageOut]
    tool_calls: list[ToolCallOut]
    spoken_turns: list[SpokenTurnOut] = Field(description="Its turns whose messages were said aloud")


class ListenerRunOut(Shape):
    listener: str
    status: Literal["pending", "running", "succeeded", "failed"]
    attempts: int
    last_error: str | None


class EventOut(Shape):
    id: UUID
    seq: int
    name: str
    payload: dict[str, Any]
    created_at: datetime
    runs: list[ListenerRunOut]

    @classmethod
    def of(cls, record: EventRecord) -> EventOut:
        """An event's own fields with its runs beside them (the record nests the event)."""
        event = record.event
        return cls(
            id=event.id,
            seq=event.seq,
            name=event.name,
            payload=event.payload,
            created_at=event.created_at,
            runs=[ListenerRunOut.model_validate(run) for run in record.runs],
        )


class TenantList(Shape):
    data: list[TenantOut]


class TourPage(Shape):
    data: list[TourOut]
    total: int
    next_cursor: str | None


class NotePage(Shape):
    data: list[NoteOut]
    total: int
    next_cursor: str | None


class ContactPage(Shape):
    data: list[ContactOut]
    total: int
    next_cursor: str | None


class ConversationPage(Shape):
    data: list[ConversationOut]
    total: int
    total_is_lower_bound: bool = Field(
        description="A text found in very many conversations is counted up to 10,000: more match"
    )
    next_cursor: str | None


class AnalyticsParams(BaseModel):
    """Query parameters of analytics: a range of the tenant's days (in its timezone), the last
    30 by default."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    date_from: QueryDay | None = Field(
        default=None,
        alias="from",
        description="First day, inclusive (the tenant's days); 29 days before `to` by default",
    )
    date_to: QueryDay | None = Field(
        default=None, alias="to", description="Last day, inclusive; today where the tenant is by default"
    )


class DayOut(Shape):
    day: date
    conversations: int
    turns: int
    failed_turns: int
    tokens: int
    withheld_claims: int = Field(
        description="Sentences held back from replies: claims no tool of their turn backed"
    )


class ToolOut(Shape):
    name: str
    calls: int
    failed: int
    failure_rate: float


class ModelTokensOut(Shape):
    model: str
    prompt_tokens: int
    completion_tokens: int


class PercentilesOut(Shape):
    """Milliseconds at the 50th, 90th and 99th percentile (null: nothing measured)."""

    p50: Millis | None = None
    p90: Millis | None = None
    p99: Millis | None = None

    @classmethod
    def of(cls, values: dict[int, float]) -> PercentilesOut:
        """From {50: ms, 90: ms, 99: ms}."""
        return cls(p50=values.get(50), p90=values.get(90), p99=values.get(99))


class LatencyOut(Shape):
    """Whole turns, their parts (each part's percentiles are its own: they do not add up),
    and single tool calls."""

    turn: PercentilesOut
    model: PercentilesOut
    tools: PercentilesOut
    store: PercentilesOut = Field(description="The rest of a turn: the store and the loop")
    tool_call: PercentilesOut


class VoiceLatencyOut(Shape):
    """Spoken turns' parts (each part's percentiles are its own)."""

    spoken_turns: int = Field(description="Spoken turns whose timings were kept")
    listening: PercentilesOut = Field(description="How long the caller's audio lasted")
    transcribing: PercentilesOut
    answering: PercentilesOut = Field(description="From the transcript to the whole reply text")
    first_audio: PercentilesOut = Field(
        description="From the end of the caller's speech to the first audio of the reply"
    )


class AnalyticsOut(Shape):
    tenant_id: UUID | None = Field(description="null: every tenant (admins)")
    first_day: date
    last_day: date
    turns: int
    failed_turns: int
    withheld_claims: int = Field(
        description="Sentences held back from replies: claims no tool of their turn backed"
    )
    bookings: int
    cancellations: int
    estimated_cost_usd: float | None = Field(
        description="From MODEL_PRICES; null when a model that used tokens has no price there"
    )
    days: list[DayOut] = Field(description="Every day of the range, quiet days as zeros")
    tools: list[ToolOut]
    tokens_by_model: list[ModelTokensOut]
    latency_ms: LatencyOut
    voice_ms: VoiceLatencyOut

    @classmethod
    def of(
        cls,
        result: Analytics,
        tenant_id: UUID | None,
        days: tuple[date, date],
        prices: Mapping[str, tuple[float, float]],
    ) -> AnalyticsOut:
        """The wire shape of one analytics query over `days` (first, last)."""
        split = result.split_latency_ms
        return cls(
            tenant_id=tenant_id,
            first_day=days[0],
            last_day=days[1],
            turns=result.turns,
            failed_turns=result.failed_turns,
            withheld_claims=result.withheld_claims,
            bookings=result.succeeded("book_tour"),
            cancellations=result.succeeded("cancel_tour"),
            estimated_cost_usd=result.cost(prices),
            days=[DayOut.model_validate(d) for d in result.every_day(*days)],
            tools=[ToolOut.model_validate(t) for t in result.tools],
            tokens_by_model=[
                ModelTokensOut(model=model, prompt_tokens=prompt, completion_tokens=completion)
                for model, (prompt, completion) in sorted(result.tokens_by_model.items())
            ],
            latency_ms=LatencyOut(
                turn=PercentilesOut.of(result.turn_latency_ms),
                model=PercentilesOut.of(split.get("model", {})),
                tools=PercentilesOut.of(split.get("tools", {})),
                store=PercentilesOut.of(split.get("store", {})),
                tool_call=PercentilesOut.of(result.tool_latency_ms),
            ),
            voice_ms=VoiceLatencyOut(
                spoken_turns=result.spoken_turns,
                **{part: PercentilesOut.of(result.voice_latency_ms.get(part, {})) for part in VOICE_PARTS},
            ),
        )


class StopOut(Shape):
    stopped: bool


class EventPage(Shape):
    data: list[EventOut]
    next_cursor: str | None


class PromptDraftBody(PromptEdit):
    """A new draft of the tenant's prompt (the live prompt does not change)."""


class PromptDraftOut(Shape):
    prompt: str
    base_version: int = Field(description="The live version the draft was started from")
    author: str
    updated_at: datetime


class PublishBody(BaseModel):
    """Publishing runs the tenant's scenarios first; an admin may publish past a failure."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        str_strip_whitespace=True,
    )

    override_reason: str | None = text_field(
        MIN_REASON_CHARS,
        MAX_REASON_CHARS,
        default=None,
        description="Admins only: publish even if scenarios fail; kept in the audit log",
    )


class RollbackBody(PublishBody):
    """Make an earlier version live again (as a new version), through the same gate."""

    version: WholeNumber = Field(ge=1, description="The version to restore")


class RunBody(BaseModel):
    """What to run the tenant's scenarios against, and how often."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    target: Literal["live", "draft"] | WholeNumber = Field(
        default="live", description='"live", "draft", or a version number'
    )
    repetitions: WholeNumber = Field(
        default=1, ge=1, le=20, description="Runs of each scenario; all must pass"
    )


class RunSummaryOut(Shape):
    id: UUID
    target: str
    model: str
    passed: bool
    summary: str
    started_by: str
    created_at: datetime


class RunOut(RunSummaryOut):
    report: dict[str, Any] = Field(
        description="Every scenario's attempts: messages, replies, tool calls, checks"
    )


class RunList(Shape):
    data: list[RunSummaryOut]


class PublicationOut(Shape):
    version: int
    overridden: bool = Field(description="True when an admin published past failing scenarios")
    run: RunSummaryOut


class ScenarioOut(Shape):
    id: UUID
    name: str
    spec: dict[str, Any] = Field(description="Description and steps (see the scenario format in the README)")
    author: str
    updated_at: datetime


class ScenarioList(Shape):
    data: list[ScenarioOut]


class ScenarioFileBody(Shape):
    """A suite as YAML text inside JSON (import and export)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    yaml: str = Field(description="The scenarios file, as `vam scenarios export` writes it")


class ImportOut(Shape):
    added: int
    replaced: int

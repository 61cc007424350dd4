"""The agent loop: a stateless, bounded, multi-step tool-calling turn.

Generalises the seed's 2-pass flow (model -> tools -> model) to up to `max_steps` model
calls. Nothing is kept in memory between turns: the prompt comes from the prompt source
and the history from the store, so any process can serve any turn.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date
from functools import lru_cache, partial
from typing import Any, Protocol
from uuid import UUID

from agent_core.agent.claims import Backing, ClaimFilter, completed_since_the_caller
from agent_core.agent.history import model_ready
from agent_core.agent.leases import TurnLeases
from agent_core.agent.requests import TurnRequest, parse_turn_request
from agent_core.agent.steps import (
    ReplyDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
    TurnStep,
)
from agent_core.agent.stopping import RunningTurns, StopFlag, interruptible
from agent_core.agent.text_calls import ReplyGate, calls_in_text
from agent_core.clock import Clock
from agent_core.domain import (
    ChatMessage,
    EventName,
    JsonDict,
    OutboxEvent,
    ToolCallRecord,
    ToolCallRequest,
    ToolCallStatus,
    ToolSpec,
    TurnOrigin,
    TurnResult,
    Usage,
)
from agent_core.errors import ModelError, ModelUnavailableError, ShuttingDownError
from agent_core.events.sink import EventPublisher
from agent_core.llm.base import ChatModel, ModelDone, Reading, TextDelta
from agent_core.llm.demo_parsing import find_date
from agent_core.llm.health import ModelHealth
from agent_core.store.base import Store, TurnOutcome, TurnStart, turn_failed_payload
from agent_core.store.refusals import UNKNOWN_TENANT
from agent_core.tenant_settings import DEFAULT_SETTINGS, TenantSettings, settings_from
from agent_core.tools.registry import SaidDay, Tool, ToolRegistry

log = logging.getLogger(__name__)

GUARDRAILS = (
    "Today is {today:%A %-d %B %Y} ({zone}). Numeric dates like 03/04 are {order}."
    " Use the tools to act. Never say that something"
    " was booked, noted or updated unless a tool result in this conversation says it"
    " succeeded; if a tool fails, say so plainly and ask for what is needed. Ask for missing"
    " details instead of guessing."
)
# Said only by a business that does not call its bookings tours (what the tools call them).
BOOKING_WORDS = " This business calls a booking {a_booking} ({plural}): use its words, never 'tour'."
# Said only when the message was spoken: speech-to-text mishears letters and digits.
SPOKEN_WORDS = (
    " The caller is speaking, heard by speech-to-text: before saving an email address or a phone"
    " number, read it back spelled out and ask them to confirm. Say links and reference numbers"
    " are in the chat rather than reading them out."
)


class PromptSource(Protocol):
    """Where the tenant's system prompt comes from (a cache in front of the store)."""

    def system_prompt(self, tenant_id: UUID) -> str | None:
        """The prompt, or None when the tenant does not exist."""
        ...

    def seen_in_store(self, tenant_id: UUID, prompt: str) -> None:
        """The live prompt as a turn read it from the store: a source holding another one
        missed an edit, and corrects itself (for every process that shares it)."""
        ...


@dataclass(frozen=True, slots=True)
class AgentLimits:
    """Bounds of one turn."""

    max_steps: int = 4
    history_limit: int = 20
    max_message_chars: int = 4000
    # What a model may send back: longer is a model error, not something to store.
    max_reply_chars: int = 16_000
    max_argument_chars: int = 16_000
    # Tool calls one model answer may ask for; more is a model misbehaving, and none of them run.
    max_tool_calls: int = 8
    # One end-to-end bound per turn, checked before each step; each model answer has its own.
    deadline_seconds: float = 120.0


@dataclass(slots=True)
class _Turn:
    """One running turn: what the model has read so far and what the turn has produced."""

    tenant_id: UUID
    conversation_id: UUID
    turn_id: UUID
    today: date
    started: float
    model_name: str
    messages: list[ChatMessage]
    stop: StopFlag
    settings: TenantSettings = DEFAULT_SETTINGS
    usage: Usage = field(default_factory=Usage)
    model_calls: int = 0
    reply_chars: int = 0
    reply_parts: list[str] = field(default_factory=list)
    records: list[ToolCallRecord] = field(default_factory=list)
    asked: ChatMessage | None = None
    """The model's message asking for tool calls, stored with the first of them."""
    claims: ClaimFilter = field(init=False)
    timings: dict[str, float] = field(default_factory=lambda: {"model_ms": 0.0, "tools_ms": 0.0})
    backing: Backing = field(default_factory=dict)
    """What each tool's success lets the reply claim."""
    ids: dict[str, str] = field(init=False)
    """The conversation's and the turn's ids as text, as each of its events carries them."""
    said: tuple[SaidDay | None] | None = None
    """The day the caller's message names in words, once `said_day` read it."""

    def __post_init__(self) -> None:
        self.ids = {"conversation_id": str(self.conversation_id), "turn_id": str(self.turn_id)}
        self.claims = ClaimFilter(self.records, self.backing, completed_since_the_caller(self.messages))

    def elapsed_ms(self) -> float:
        """Time since the turn began."""
        return (time.perf_counter() - self.started) * 1000

    def said_day(self) -> SaidDay | None:
        """The day the caller's latest message names in words a model must resolve
        ("tomorrow", "next Friday", "03/04"), read by the business's calendar and date order;
        read once: a turn adds only the model's and the tools' messages."""
        if self.said is None:
            said = next((m.content for m in reversed(self.messages) if m.role == "user"), "")
            mention = find_date(said, self.today, self.settings.date_order)
            if mention is None or not mention.inferred or mention.day is None:
                self.said = (None,)
            else:
                self.said = (SaidDay(mention.span, mention.day),)
        return self.said[0]


class Agent:
    """Runs turns for any tenant; holds collaborators only, no per-conversation state."""

    def __init__(
        self,
        *,
        store: Store,
        model: ChatModel,
        tools: ToolRegistry,
        prompts: PromptSource,
        events: EventPublisher,
        clock: Clock,
        limits: AgentLimits | None = None,
        leases: TurnLeases | None = None,
        health: ModelHealth | None = None,
    ) -> None:
        self.store = store
        self.model = model
        self.tools = tools
        self.prompts = prompts
        self.events = events
        self.clock = clock
        self.limits = limits or AgentLimits()
        # Without a started TurnLeases nobody renews: fine for turns shorter than the lease.
        self.leases = leases or TurnLeases(store)
        # Sandboxes share the live agent's model but get their own record: a scenario that
        # scripts failures must not turn the live status red.
        self.health = health or ModelHealth()
        self._accepting = True
        self._cancelled = threading.Event()
        self.running = RunningTurns()

    def stop_accepting(self) -> None:
        """Refuse new turns (ShuttingDownError); running ones go on."""
        self._accepting = False

    def cancel_running(self) -> None:
        """Stop running turns at their next step; each is recorded as failed before it ends."""
        self._accepting = False
        self._cancelled.set()
        self.running.wake_all()

    def stop_turn(self, tenant_id: UUID, turn_id: UUID, reason: str) -> bool:
        """Stop one of the tenant's turns that this process runs, within a quarter of a second
        even while it waits on the model; it is recorded as failed with `reason`. False when no
        such turn runs here (it ended already, or runs in another process)."""
        return self.running.stop(tenant_id, turn_id, reason)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until this process runs no turn; False when `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        while self.leases.held:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def _before_step(self, turn: _Turn) -> None:
        """A step starts (and a model answer is waited for) only while the server runs, nobody
        stopped the turn and it is within its deadline."""
        if self._cancelled.is_set():
            raise ShuttingDownError("the server is shutting down; the turn was stopped, send it again")
        turn.stop.check()
        if time.monotonic() > turn.stop.deadline:
            raise ModelUnavailableError(
                f"the turn ran past its deadline of {self.limits.deadline_seconds:g} s; send it again"
            )

    def validate(self, data: Mapping[str, object]) -> TurnRequest:
        """Check raw input; InvalidInputError when it is malformed. Writes nothing."""
        return parse_turn_request(data, self.limits.max_message_chars)

    def stream(
        self, request: TurnRequest, origin: TurnOrigin | None = None
    ) -> Generator[TurnStep, None, None]:
        """The one way in for a turn: run a validated request (`validate`), yielding each step
        as it happens (`collect` waits for the result). `origin` says who started it and
        through which channel (kept with the turn).

        NotFoundError at once for an unknown tenant, before anything is written; later
        ModelUnavailableError / ModelError after recording the turn as failed (the user
        message and any completed tool calls stay stored)."""
        if not self._accepting:
            raise ShuttingDownError("the server is shutting down; send the message again shortly")
        prompt = self.prompts.system_prompt(request.tenant_id)
        if prompt is None:
            raise UNKNOWN_TENANT(request.tenant_id)
        return self._run(request, prompt, origin)

    def _run(
        self, request: TurnRequest, prompt: str, origin: TurnOrigin | None
    ) -> Generator[TurnStep, None, None]:
        turn = self._begin(request, prompt, origin)
        try:
            yield TurnStarted(turn.tenant_id, turn.conversation_id, turn.turn_id, self.model.name)
            # Every step offers the tools: a model asked without them writes its call as text.
            tools = tuple(s for s in self.tools.specs if turn.settings.allows(s.name))
            for step in range(self.limits.max_steps):
                self._before_step(turn)
                calls = yield from self._call_model(turn, tools)
                if not calls:
                    break
                if step == self.limits.max_steps - 1:
                    raise ModelError(
                        f"the model kept calling tools for all {self.limits.max_steps} of its steps"
                        " without answering; the calls of the last one did not run"
                    )
                yield from self._run_tools(turn, calls)
            if honest := turn.claims.honest_sentence():
                # In the place of what was withheld: the end of the last answer.
                last = turn.reply_parts.pop() if turn.reply_parts else ""
                told = honest if not last or last[-1].isspace() else f" {honest}"
                turn.reply_parts.append(last + told)
                yield ReplyDelta(told)
            result = self._finish(turn)
        except BaseException as error:
            # GeneratorExit included: a consumer that stops listening still gets a closed turn.
            self._record_failure(turn, error)
            raise
        yield TurnFinished(result)

    def _begin(self, request: TurnRequest, prompt: str, origin: TurnOrigin | None) -> _Turn:
        """Store the user message with its event, and assemble what the model reads first."""
        started = time.perf_counter()
        deadline = time.monotonic() + self.limits.deadline_seconds
        written: list[OutboxEvent] = []

        def received(start: TurnStart) -> list[OutboxEvent]:
            payload = {
                "conversation_id": str(start.conversation_id),
                "turn_id": str(start.turn_id),
                "message": request.message,
            }
            written[:] = [self.events.outbox(EventName.MESSAGE_RECEIVED, request.tenant_id, payload)]
            return written

        # The business's own day: "tomorrow" said in Sydney is not tomorrow in UTC, and
        # Analytics count the turn on the day it starts there.
        tenant = self.store.get_tenant(request.tenant_id)
        settings = settings_from(tenant.settings if tenant else None)
        now = self.clock.now()
        zone = settings.zone(now.tzinfo or UTC)
        opened = self.store.start_turn(
            request.tenant_id,
            request.conversation_id,
            request.message,
            lease_seconds=self.leases.lease_seconds,
            events=received,
            retry_of=request.retry_of,
            origin=origin,
            zone=zone,
        )
        self.leases.hold(opened.turn_id)
        stop = self.running.add(request.tenant_id, opened.turn_id, deadline)
        self.events.deliver(written)
        if tenant is not None and tenant.system_prompt != prompt:
            # The store holds the truth, read here anyway: a cached prompt that missed an edit
            # (its editor cut off from Redis, Redis restored from an old file) never answers.
            prompt = tenant.system_prompt
            self.prompts.seen_in_store(tenant.id, prompt)
        local = now.astimezone(zone)
        today = local.date()
        guardrails = _guardrails(
            today,
            local.tzname(),
            settings.date_order,
            (settings.a_booking, settings.booking_noun_plural) if settings.booking_noun != "tour" else None,
            origin is not None and origin.spoken,
        )
        system = ChatMessage("system", f"{prompt}\n\n{guardrails}")
        try:
            history = self.store.load_history(
                request.tenant_id, opened.conversation_id, self.limits.history_limit
            )
        except BaseException:
            self._release(opened.turn_id)  # the reaper closes it when the lease runs out
            raise
        return _Turn(
            tenant_id=request.tenant_id,
            conversation_id=opened.conversation_id,
            turn_id=opened.turn_id,
            today=today,
            settings=settings,
            started=started,
            model_name=self.model.name,
            messages=[system, *model_ready(history)],
            stop=stop,
            backing=self.tools.backing,
        )

    def _call_model(
        self, turn: _Turn, tools: Sequence[ToolSpec]
    ) -> Generator[TurnStep, None, list[ToolCallRequest]]:
        """One model call: stream its text, keep its usage, return the tool calls it asked for."""
        started = time.perf_counter()
        text_parts: list[str] = []
        calls: dict[str, ToolCallRequest] = {}
        gate = ReplyGate()
        turn.model_calls += 1
        try:
            # A stop, the deadline or a shutdown ends a wait on a model that sends nothing: one
            # that waits on I/O is woken through the turn's flag, or else read on a helper thread.
            answer = partial(self.model.stream, list(turn.messages), tools, turn.stop)
            events = (
                interruptible(answer, partial(self._before_step, turn))
                if self.model.reading is Reading.HELPER_THREAD
                else answer()
            )
            for event in events:
                if isinstance(event, TextDelta):
                    turn.reply_chars += len(event.text)
                    if turn.reply_chars > self.limits.max_reply_chars:
                        raise ModelError(
                            f"the model's reply ran over {self.limits.max_reply_chars} characters"
                        )
                    if shown := turn.claims.feed(gate.feed(event.text)):
                        text_parts.append(shown)
                        yield ReplyDelta(shown)
                elif isinstance(event, ModelDone):
                    turn.usage, turn.model_name = turn.usage + event.usage, event.model
                else:
                    self._check_call(calls, event)
                    calls.setdefault(event.id, event)
        except (ModelUnavailableError, ModelError) as exc:
            # A wait cut short by a stop or a shutdown raises that (the model did not fail);
            # one that ran into the turn's deadline says so (the model did: it was too slow).
            try:
                self._before_step(turn)
            except ModelUnavailableError as late:
                self.health.failed(str(late))
                raise late from exc
            self.health.failed(str(exc))
            raise
        self.health.succeeded()
        turn.timings["model_ms"] += (time.perf_counter() - started) * 1000
        written, rest = self._calls_written_as_text(turn, gate.held(), tools)
        for call in written:
            self._check_call(calls, call)
            calls.setdefault(call.id, call)
        if rest := turn.claims.feed(rest) + turn.claims.end():
            text_parts.append(rest)
            yield ReplyDelta(rest)
        if calls and not tools:
            raise ModelError("the model asked for tools though none are enabled for this tenant")
        text = "".join(text_parts)
        turn.reply_parts.append(text)
        if calls:
            turn.asked = ChatMessage("assistant", text, tool_calls=tuple(calls.values()))
            turn.messages.append(turn.asked)
        return list(calls.values())

    def _calls_written_as_text(
        self, turn: _Turn, held: str, tools: Sequence[ToolSpec]
    ) -> tuple[list[ToolCallRequest], str]:
        """The calls in the text held back from the caller, and the rest of that text. A call
        to a tool the model may not use fails the turn: shown, it would read as gibberish."""
        written, rest = calls_in_text(held)
        if not written:
            return [], rest
        offered = {spec.name for spec in tools}
        for call in written:
            if call.name not in offered:
                raise ModelError(
                    f"the model wrote a call to {call.name!r} as text; it is not a tool it may use here"
                )
        # Ids unique to the turn: a call is known by its conversation, id and arguments.
        prefix = f"text-{turn.turn_id.hex[:12]}-{turn.model_calls}"
        return [ToolCallRequest(f"{prefix}-{i}", c.name, c.arguments) for i, c in enumerate(written)], rest

    def _check_call(self, calls: Mapping[str, ToolCallRequest], call: ToolCallRequest) -> None:
        """ModelError for a call no answer may hold: the turn fails with the reason, nothing of
        the answer runs, and it shows as not answered."""
        limit = self.limits.max_argument_chars
        if len(call.arguments) > limit:
            raise ModelError(f"the model sent {call.name} arguments over {limit} characters")
        known = calls.get(call.id)
        if known is not None and (known.name, known.arguments) != (call.name, call.arguments):
            # Running one and dropping the other would leave a request silently undone.
            raise ModelError(f"the model sent two different tool calls with the same id {call.id!r}")
        if known is None and len(calls) >= self.limits.max_tool_calls:
            raise ModelError(
                f"the model asked for more than {self.limits.max_tool_calls} tool calls in one answer;"
                " none of them ran"
            )

    def _run_tools(self, turn: _Turn, calls: Sequence[ToolCallRequest]) -> Generator[TurnStep, None, None]:
        """Run each call at most once; its result goes back to the model, its events out."""
        started = time.perf_counter()
        for call in calls:
            self._before_step(turn)
            earlier = next((r for r in turn.records if _same_call(r, call)), None)
            if earlier is not None:
                # Run once per turn: the model is told, not the tool run again (three
                # identical notes were stored when it was).
                told = ChatMessage("tool", _repeated(earlier), tool_call_id=call.id)
                if turn.asked is not None:
                    self.store.append_message(turn.tenant_id, turn.conversation_id, turn.turn_id, turn.asked)
                    turn.asked = None
                self.store.append_message(turn.tenant_id, turn.conversation_id, turn.turn_id, told)
                turn.messages.append(told)
                continue
            prepared = self.tools.prepare(
                call,
                turn.today,
                allowed=turn.settings.allows,
                said_day=turn.said_day,
                phone_region=turn.settings.phone_region,
            )
            yield ToolCallStarted(call.id, call.name, prepared.arguments)
            written: list[OutboxEvent] = []
            # Handed to the store, which keeps it whatever becomes of the call.
            asked, turn.asked = turn.asked, None
            record, replayed = self.store.run_tool_call(
                turn.tenant_id,
                turn.conversation_id,
                turn.turn_id,
                call,
                prepared.execute,
                partial(self._tool_events, turn, prepared.tool, written),
                asked=asked,
                outcome=prepared.tool.outcome if prepared.tool else None,
            )
            if not replayed:
                self.events.deliver(written)
            turn.records.append(record)
            turn.messages.append(ChatMessage("tool", record.model_content, tool_call_id=call.id))
            yield ToolCallFinished(record, replayed)
        turn.timings["tools_ms"] += (time.perf_counter() - started) * 1000

    def _finish(self, turn: _Turn) -> TurnResult:
        """Store the reply with the turn's outcome and event; the result the caller gets."""
        # Text from tool steps and the final answer are separate paragraphs of one reply.
        reply = "\n\n".join(part.strip() for part in turn.reply_parts if part.strip())
        if not reply:
            # A failed turn with the reason, shown as not answered, rather than a stock apology
            # recorded as an answer.
            raise ModelError(
                "the model ran its tools but wrote no reply"
                if turn.records
                else "the model sent an empty answer"
            )
        latency_ms = turn.elapsed_ms()
        outcome = TurnOutcome(
            "succeeded",
            reply,
            turn.model_name,
            turn.usage,
            turn.model_calls,
            latency_ms,
            model_ms=turn.timings["model_ms"],
            tools_ms=turn.timings["tools_ms"],
            withheld_claims=tuple(turn.claims.withheld),
        )
        sent = self.events.outbox(
            EventName.REPLY_SENT,
            turn.tenant_id,
            {
                **turn.ids,
                "reply": reply,
                "withheld_claims": turn.claims.withheld,
                "tool_calls": len(turn.records),
                "latency_ms": round(latency_ms, 3),
            },
        )
        self.store.finish_turn(
            turn.tenant_id,
            turn.conversation_id,
            turn.turn_id,
            ChatMessage("assistant", reply),
            outcome,
            [sent],
        )
        self._release(turn.turn_id)
        self.events.deliver([sent])
        return TurnResult(
            tenant_id=turn.tenant_id,
            conversation_id=turn.conversation_id,
            turn_id=turn.turn_id,
            reply=reply,
            tool_calls=tuple(turn.records),
            usage=turn.usage,
            model=turn.model_name,
            latency_ms=latency_ms,
            model_calls=turn.model_calls,
            timings_ms=turn.timings,
            withheld_claims=tuple(turn.claims.withheld),
        )

    def _tool_events(
        self, turn: _Turn, tool: Tool[Any] | None, written: list[OutboxEvent], record: ToolCallRecord
    ) -> list[OutboxEvent]:
        """`tool.called` or `tool.failed`, and the tool's own event when it changed something;
        also kept in `written`, to deliver once the store committed them."""
        written[:] = self._tool_event_list(turn, tool, record)
        return written

    def _tool_event_list(
        self, turn: _Turn, tool: Tool[Any] | None, record: ToolCallRecord
    ) -> list[OutboxEvent]:
        payload = {
            "conversation_id": turn.ids["conversation_id"],
            "call_id": record.call_id,
            "tool": record.name,
            "arguments": record.arguments,
            "duration_ms": round(record.duration_ms, 3),
        }
        if record.status is not ToolCallStatus.SUCCEEDED:
            return [
                self.events.outbox(EventName.TOOL_FAILED, turn.tenant_id, {**payload, "error": record.error})
            ]
        events = [
            self.events.outbox(EventName.TOOL_CALLED, turn.tenant_id, {**payload, "result": record.result})
        ]
        result = record.result or {}
        if tool is not None and tool.success_event is not None and tool.changed(result):
            events.append(self.events.outbox(tool.success_event, turn.tenant_id, {**payload, **result}))
        return events

    def _record_failure(self, turn: _Turn, error: BaseException) -> None:
        """Mark the turn failed; the original error keeps propagating whatever happens here."""
        reason = "interrupted" if isinstance(error, GeneratorExit) else str(error) or type(error).__name__
        outcome = TurnOutcome(
            "failed",
            None,
            turn.model_name,
            turn.usage,
            turn.model_calls,
            turn.elapsed_ms(),
            reason,
            model_ms=turn.timings["model_ms"],
            tools_ms=turn.timings["tools_ms"],
        )
        failed = self.events.outbox(
            EventName.TURN_FAILED,
            turn.tenant_id,
            turn_failed_payload(TurnStart(turn.conversation_id, turn.turn_id), reason),
        )
        try:
            if turn.asked is not None:
                # Calls asked for and never run: kept, so the next turn tells the model they
                # were interrupted rather than leaving it to guess.
                self.store.append_message(turn.tenant_id, turn.conversation_id, turn.turn_id, turn.asked)
            self.store.finish_turn(
                turn.tenant_id, turn.conversation_id, turn.turn_id, None, outcome, [failed]
            )
        except Exception:
            # Its lease runs out and the reaper closes it, with its event, once the store is back.
            log.exception("could not record failed turn %s", turn.turn_id)
        else:
            self.events.deliver([failed])
        finally:
            self._release(turn.turn_id)

    def _release(self, turn_id: UUID) -> None:
        """The turn no longer runs here: no lease to renew, nothing to stop."""
        self.leases.release(turn_id)
        self.running.remove(turn_id)


@lru_cache(maxsize=256)
def _guardrails(
    today: date, zone: str | None, date_order: str, booking_words: tuple[str, str] | None, spoken: bool
) -> str:
    """What the agent adds to every tenant's prompt: the same for a day's turns of a kind, so
    it is written once each (`booking_words` are a business's words for a booking and bookings,
    when they are not "tour")."""
    order = "day/month" if date_order == "day_first" else "month/day"
    guardrails = GUARDRAILS.format(today=today, zone=zone, order=order)
    if booking_words is not None:
        guardrails += BOOKING_WORDS.format(a_booking=booking_words[0], plural=booking_words[1])
    if spoken:
        guardrails += SPOKEN_WORDS
    return guardrails


def _canonical(arguments: JsonDict | str) -> str:
    """Arguments as one text whatever their key order or spacing."""
    parsed: object = arguments
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
        except ValueError:
            return arguments
    return json.dumps(parsed, sort_keys=True, ensure_ascii=False)


def _same_call(record: ToolCallRecord, call: ToolCallRequest) -> bool:
    """True when `call` asks for what `record` already did: same tool, same arguments."""
    return record.name == call.name and _canonical(record.arguments) == _canonical(call.arguments)


def _repeated(earlier: ToolCallRecord) -> str:
    """What the model reads for a call it already made in this turn."""
    try:
        result: object = json.loads(earlier.model_content)
    except ValueError:
        result = earlier.model_content
    return json.dumps(
        {
            "repeated": True,
            "note": "This exact call already ran in this turn and was not run again; its result is"
            " below. Do not call it again: answer the caller.",
            "result": result,
        },
        ensure_ascii=False,
    )

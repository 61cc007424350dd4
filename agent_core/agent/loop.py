"""The agent loop: a stateless, bounded, multi-step tool-calling turn.

Generalises the seed's 2-pass flow (model -> tools -> model) to up to `max_steps` model
calls. Nothing is kept in memory between turns: the prompt comes from the prompt source
and the history from the store, so any process can serve any turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from agent_core.agent.history import model_ready
from agent_core.agent.requests import TurnRequest, parse_turn_request
from agent_core.agent.steps import (
    ReplyDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
    TurnStep,
)
from agent_core.clock import Clock
from agent_core.domain import (
    ChatMessage,
    ToolCallRecord,
    ToolCallRequest,
    ToolCallStatus,
    ToolSpec,
    TurnResult,
    Usage,
)
from agent_core.errors import NotFoundError
from agent_core.events.sink import EventSink
from agent_core.llm.base import AsyncChatModel, ChatModel, ModelDone, ModelEvent, TextDelta
from agent_core.store.base import Store, TurnOutcome
from agent_core.tools.registry import Tool, ToolRegistry

log = logging.getLogger(__name__)

GUARDRAILS = (
    "Today is {today:%A %-d %B %Y} ({zone}). Use the tools to act. Never say that something"
    " was booked, noted or updated unless a tool result in this conversation says it"
    " succeeded; if a tool fails, say so plainly and ask for what is needed. Ask for missing"
    " details instead of guessing."
)


NO_REPLY = "Sorry, I could not put together an answer. Please try again or rephrase."


@dataclass(frozen=True, slots=True)
class _ModelCall:
    """The turn asks its driver to call the model (the only long wait of a turn)."""

    messages: list[ChatMessage]
    tools: Sequence[ToolSpec]


@dataclass(frozen=True, slots=True)
class _ModelAnswer:
    text: str
    calls: dict[str, ToolCallRequest]
    usage: Usage
    model: str


class _Collector:
    """Gathers one model response from its events; both drivers use it."""

    def __init__(self, model: str) -> None:
        self._text: list[str] = []
        self._calls: dict[str, ToolCallRequest] = {}
        self._usage = Usage()
        self._model = model

    def add(self, event: ModelEvent) -> ReplyDelta | None:
        """Take one event; a reply delta to pass on at once, if it is one."""
        if isinstance(event, TextDelta):
            self._text.append(event.text)
            return ReplyDelta(event.text)
        if isinstance(event, ModelDone):
            self._usage, self._model = self._usage + event.usage, event.model
        else:
            self._calls.setdefault(event.id, event)  # a duplicated call id runs once
        return None

    def answer(self) -> _ModelAnswer:
        return _ModelAnswer("".join(self._text), self._calls, self._usage, self._model)


_Core = Generator["TurnStep | _ModelCall", "_ModelAnswer | None", None]


def _advance(core: _Core, value: _ModelAnswer | None) -> tuple[bool, TurnStep | _ModelCall | None]:
    # StopIteration must not cross a thread boundary into a coroutine (it would become a
    # RuntimeError), so the end of the turn is reported as a flag.
    try:
        return False, core.send(value)
    except StopIteration:
        return True, None


class PromptSource(Protocol):
    """Where the tenant's system prompt comes from (a cache in front of the store)."""

    def system_prompt(self, tenant_id: UUID) -> str | None:
        """The prompt, or None when the tenant does not exist."""
        ...


@dataclass(frozen=True, slots=True)
class AgentLimits:
    """Bounds of one turn."""

    max_steps: int = 4
    history_limit: int = 20
    max_message_chars: int = 4000


class Agent:
    """Runs turns for any tenant; holds collaborators only, no per-conversation state."""

    def __init__(
        self,
        *,
        store: Store,
        model: ChatModel,
        tools: ToolRegistry,
        prompts: PromptSource,
        events: EventSink,
        clock: Clock,
        limits: AgentLimits | None = None,
    ) -> None:
        self.store = store
        self.model = model
        self.tools = tools
        self.prompts = prompts
        self.events = events
        self.clock = clock
        self.limits = limits or AgentLimits()

    def validate(self, data: Mapping[str, object]) -> TurnRequest:
        """Check raw input; InvalidInputError when it is malformed. Writes nothing."""
        return parse_turn_request(data, self.limits.max_message_chars)

    def run_turn(
        self, tenant_id: UUID | str, message: str, conversation_id: UUID | str | None = None
    ) -> TurnResult:
        """Run one turn to completion and return its result."""
        return self.run_request(
            self.validate({"tenant_id": tenant_id, "message": message, "conversation_id": conversation_id})
        )

    def run_request(self, request: TurnRequest) -> TurnResult:
        """Run an already validated turn to completion."""
        for step in self.stream_request(request):
            if isinstance(step, TurnFinished):
                return step.result
        raise AssertionError("the turn ended without TurnFinished")  # pragma: no cover

    def stream_turn(
        self, tenant_id: UUID | str, message: str, conversation_id: UUID | str | None = None
    ) -> Generator[TurnStep, None, None]:
        """Run one turn, yielding each step as it happens.

        Raises InvalidInputError or NotFoundError before anything is written, and
        ModelUnavailableError / ModelError after recording the turn as failed (the user
        message and any completed tool calls stay stored).
        """
        return self.stream_request(
            self.validate({"tenant_id": tenant_id, "message": message, "conversation_id": conversation_id})
        )

    def stream_request(self, request: TurnRequest) -> Generator[TurnStep, None, None]:
        """Stream an already validated turn; NotFoundError at once for an unknown tenant."""
        prompt = self.prompts.system_prompt(request.tenant_id)
        if prompt is None:
            raise NotFoundError(f"unknown tenant {request.tenant_id}")
        return self._drive(self._run(request, prompt))

    def _drive(self, core: _Core) -> Generator[TurnStep, None, None]:
        """Run the turn in this thread, calling the model with `stream`."""
        answer: _ModelAnswer | None = None
        try:
            while True:
                done, item = _advance(core, answer)
                if done:
                    return
                answer = None
                if isinstance(item, _ModelCall):
                    collector = _Collector(self.model.name)
                    try:
                        for event in self.model.stream(item.messages, item.tools):
                            if (delta := collector.add(event)) is not None:
                                yield delta
                    except BaseException as error:
                        core.throw(error)  # the turn records the failure and re-raises
                        raise
                    answer = collector.answer()
                elif item is not None:
                    yield item
        finally:
            core.close()

    async def arun_request(self, request: TurnRequest) -> TurnResult:
        """Run a validated turn from async code (the HTTP API)."""
        async for step in self.astream_request(request):
            if isinstance(step, TurnFinished):
                return step.result
        raise AssertionError("the turn ended without TurnFinished")  # pragma: no cover

    async def astream_request(self, request: TurnRequest) -> AsyncGenerator[TurnStep, None]:
        """Stream a validated turn from async code.

        Store work runs on worker threads in short steps; the wait for the model is awaited
        on the event loop (with a model that has `astream`), so a turn in flight holds no thread.
        """
        prompt = await asyncio.to_thread(self.prompts.system_prompt, request.tenant_id)
        if prompt is None:
            raise NotFoundError(f"unknown tenant {request.tenant_id}")
        core = self._run(request, prompt)
        answer: _ModelAnswer | None = None
        try:
            while True:
                done, item = await asyncio.to_thread(_advance, core, answer)
                if done:
                    return
                answer = None
                if isinstance(item, _ModelCall):
                    collector = _Collector(self.model.name)
                    try:
                        async for event in self._model_events(item):
                            if (delta := collector.add(event)) is not None:
                                yield delta
                    except BaseException as error:
                        await asyncio.to_thread(core.throw, error)
                        raise
                    answer = collector.answer()
                elif item is not None:
                    yield item
        finally:
            await asyncio.to_thread(core.close)

    async def _model_events(self, call: _ModelCall) -> AsyncIterator[ModelEvent]:
        if isinstance(self.model, AsyncChatModel) and self.model.supports_async:
            async for event in self.model.astream(call.messages, call.tools):
                yield event
        else:
            for event in await asyncio.to_thread(lambda: list(self.model.stream(call.messages, call.tools))):
                yield event

    def _run(self, request: TurnRequest, prompt: str) -> _Core:
        """The turn itself; yields steps, and `_ModelCall`s its driver answers."""
        started = time.perf_counter()
        tenant_id = request.tenant_id
        turn = self.store.start_turn(tenant_id, request.conversation_id, request.message)
        self.events.emit(
            "chat.message.received",
            tenant_id,
            {
                "conversation_id": str(turn.conversation_id),
                "turn_id": str(turn.turn_id),
                "message": request.message,
            },
        )
        yield TurnStarted(tenant_id, turn.conversation_id, turn.turn_id, self.model.name)

        today = self.clock.today()
        system = ChatMessage(
            "system",
            f"{prompt}\n\n{GUARDRAILS.format(today=today, zone=self.clock.now().tzname())}",
        )
        history = self.store.load_history(tenant_id, turn.conversation_id, self.limits.history_limit)
        messages = [system, *model_ready(history)]
        usage, model_name, model_calls = Usage(), self.model.name, 0
        reply_parts: list[str] = []
        records: list[ToolCallRecord] = []
        timings = {"model_ms": 0.0, "tools_ms": 0.0}
        try:
            for step in range(self.limits.max_steps):
                # The last allowed call gets no tools, so the turn always ends in a reply.
                tools = self.tools.specs if step < self.limits.max_steps - 1 else ()
                model_started = time.perf_counter()
                model_calls += 1
                answer = yield _ModelCall(list(messages), tools)
                assert answer is not None
                timings["model_ms"] += (time.perf_counter() - model_started) * 1000
                usage, model_name = usage + answer.usage, answer.model
                text, calls = answer.text, answer.calls
                reply_parts.append(text)
                if not calls or not tools:
                    break
                assistant = ChatMessage("assistant", text, tool_calls=tuple(calls.values()))
                self.store.append_message(tenant_id, turn.conversation_id, turn.turn_id, assistant)
                messages.append(assistant)
                tools_started = time.perf_counter()
                for call in calls.values():
                    prepared = self.tools.prepare(call, today)
                    yield ToolCallStarted(call.id, call.name, prepared.arguments)
                    record, replayed = self.store.run_tool_call(
                        tenant_id,
                        turn.conversation_id,
                        turn.turn_id,
                        call,
                        prepared.execute,
                    )
                    records.append(record)
                    messages.append(ChatMessage("tool", record.to_model_content(), tool_call_id=call.id))
                    if not replayed:
                        self._emit_tool_events(tenant_id, turn.conversation_id, record, prepared.tool)
                    yield ToolCallFinished(record, replayed)
                timings["tools_ms"] += (time.perf_counter() - tools_started) * 1000
            # Text from tool steps and the final answer are separate paragraphs of one reply.
            reply = "\n\n".join(part.strip() for part in reply_parts if part.strip()) or NO_REPLY
            latency_ms = (time.perf_counter() - started) * 1000
            outcome = TurnOutcome("succeeded", reply, model_name, usage, model_calls, latency_ms)
            self.store.finish_turn(
                tenant_id,
                turn.conversation_id,
                turn.turn_id,
                ChatMessage("assistant", reply),
                outcome,
            )
        except BaseException as error:
            # GeneratorExit included: a consumer that stops listening still gets a closed turn.
            self._record_failure(
                tenant_id,
                turn.conversation_id,
                turn.turn_id,
                error,
                model_name,
                usage,
                model_calls,
                started,
            )
            raise
        self.events.emit(
            "chat.reply.sent",
            tenant_id,
            {
                "conversation_id": str(turn.conversation_id),
                "turn_id": str(turn.turn_id),
                "reply": reply,
                "tool_calls": len(records),
                "latency_ms": round(latency_ms, 3),
            },
        )
        yield TurnFinished(
            TurnResult(
                tenant_id=tenant_id,
                conversation_id=turn.conversation_id,
                turn_id=turn.turn_id,
                reply=reply,
                tool_calls=tuple(records),
                usage=usage,
                model=model_name,
                latency_ms=latency_ms,
                model_calls=model_calls,
                timings_ms=timings,
            )
        )

    def _emit_tool_events(
        self, tenant_id: UUID, conversation_id: UUID, record: ToolCallRecord, tool: Tool[Any] | None
    ) -> None:
        payload = {
            "conversation_id": str(conversation_id),
            "call_id": record.call_id,
            "tool": record.name,
            "arguments": record.arguments,
            "duration_ms": round(record.duration_ms, 3),
        }
        if record.status is ToolCallStatus.SUCCEEDED:
            self.events.emit("tool.called", tenant_id, {**payload, "result": record.result})
            if tool is not None:
                self.events.emit(tool.success_event, tenant_id, {**payload, **(record.result or {})})
        else:
            self.events.emit("tool.failed", tenant_id, {**payload, "error": record.error})

    def _record_failure(
        self,
        tenant_id: UUID,
        conversation_id: UUID,
        turn_id: UUID,
        error: BaseException,
        model_name: str,
        usage: Usage,
        model_calls: int,
        started: float,
    ) -> None:
        """Mark the turn failed; the original error keeps propagating whatever happens here."""
        reason = "interrupted" if isinstance(error, GeneratorExit) else str(error) or type(error).__name__
        latency_ms = (time.perf_counter() - started) * 1000
        outcome = TurnOutcome("failed", None, model_name, usage, model_calls, latency_ms, reason)
        try:
            self.store.finish_turn(tenant_id, conversation_id, turn_id, None, outcome)
        except Exception:
            log.exception("could not record failed turn %s", turn_id)
        self.events.emit(
            "chat.turn.failed",
            tenant_id,
            {"conversation_id": str(conversation_id), "turn_id": str(turn_id), "error": reason},
        )

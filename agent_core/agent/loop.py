"""The agent loop: a stateless, bounded, multi-step tool-calling turn.

Generalises the seed's 2-pass flow (model -> tools -> model) to up to `max_steps` model
calls. Nothing is kept in memory between turns: the prompt comes from the prompt source
and the history from the store, so any process can serve any turn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Mapping
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
    TurnResult,
    Usage,
)
from agent_core.errors import NotFoundError
from agent_core.events.sink import EventSink
from agent_core.llm.base import ChatModel, ModelDone, TextDelta
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
        return self._run(request, prompt)

    def _run(self, request: TurnRequest, prompt: str) -> Generator[TurnStep, None, None]:
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
                text_parts: list[str] = []
                calls: dict[str, ToolCallRequest] = {}
                model_calls += 1
                for event in self.model.stream(messages, tools):
                    if isinstance(event, TextDelta):
                        text_parts.append(event.text)
                        yield ReplyDelta(event.text)
                    elif isinstance(event, ModelDone):
                        usage, model_name = usage + event.usage, event.model
                    else:
                        calls.setdefault(event.id, event)  # a duplicated call id runs once
                timings["model_ms"] += (time.perf_counter() - model_started) * 1000
                text = "".join(text_parts)
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
                    messages.append(ChatMessage("tool", record.model_content, tool_call_id=call.id))
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

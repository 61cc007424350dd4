"""A sandbox: the agent running a prompt under test where nothing real is written.

Each sandbox is the real agent loop — the same model, tools, validation and tenant
settings — on a throwaway in-memory store that holds a copy of the tenant and none of its
records. Tools really run (a booking is made, a duplicate is refused) but only in that copy,
and events go to a bus with no listeners, so no confirmation or CRM message leaves it. The
sandbox is dropped with its store; the tenant's data, prompt cache and event log never see it.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from uuid import UUID

from agent_core.agent.loop import Agent, AgentLimits
from agent_core.agent.steps import TurnFinished, TurnStarted, TurnStep
from agent_core.clock import Clock
from agent_core.domain import ChatMessage, Tenant, ToolCallRecord, TurnResult
from agent_core.events.bus import EventBus
from agent_core.llm.base import ChatModel
from agent_core.store.sqlite import SqliteStore
from agent_core.tools.registry import ToolRegistry


@dataclass(frozen=True, slots=True)
class _FixedPrompt:
    """The prompt under test, for the one tenant the sandbox holds."""

    tenant_id: UUID
    prompt: str

    def system_prompt(self, tenant_id: UUID) -> str | None:
        return self.prompt if tenant_id == self.tenant_id else None

    def seen_in_store(self, tenant_id: UUID, prompt: str) -> None:
        """Nothing to correct: the sandbox's store holds this very prompt."""


@dataclass(frozen=True, slots=True)
class AgentParts:
    """What sandboxes share with the live agent: the model, the tools, the clock and limits."""

    model: ChatModel
    tools: ToolRegistry
    clock: Clock
    limits: AgentLimits

    @classmethod
    def of(cls, agent: Agent) -> AgentParts:
        """The parts of the live agent, so a sandbox answers exactly as it would."""
        return cls(agent.model, agent.tools, agent.clock, agent.limits)


class Sandbox:
    """One sandboxed conversation with `prompt` standing in for the tenant's live prompt."""

    def __init__(self, tenant: Tenant, prompt: str, parts: AgentParts) -> None:
        self.tenant = replace(tenant, system_prompt=prompt)
        self.prompt = prompt
        self._store = SqliteStore.scratch(self.tenant)
        self._agent = Agent(
            store=self._store,
            model=parts.model,
            tools=parts.tools,
            prompts=_FixedPrompt(tenant.id, prompt),
            events=EventBus(self._store),
            clock=parts.clock,
            limits=parts.limits,
        )
        self.conversation_id: UUID | None = None

    def stream(self, message: str) -> Generator[TurnStep, None, None]:
        """Run one turn of the sandboxed conversation, step by step (as the chat pane does)."""
        request = self._agent.validate(
            {"tenant_id": self.tenant.id, "message": message, "conversation_id": self.conversation_id}
        )
        for step in self._agent.stream(request):
            if isinstance(step, TurnStarted):
                # Kept from the start: a turn that fails still belongs to this conversation.
                self.conversation_id = step.conversation_id
            yield step

    def say(self, message: str) -> TurnResult:
        """Run one turn to completion."""
        for step in self.stream(message):
            if isinstance(step, TurnFinished):
                return step.result
        raise AssertionError("the turn ended without TurnFinished")  # pragma: no cover

    def transcript(self) -> tuple[list[ChatMessage], list[ToolCallRecord]]:
        """The sandboxed conversation so far: its messages and tool calls."""
        if self.conversation_id is None:
            return [], []
        return (
            self._store.list_messages(self.tenant.id, self.conversation_id),
            self._store.list_tool_calls(self.tenant.id, self.conversation_id),
        )

    def close(self) -> None:
        """Drop the sandbox's store and everything written in it."""
        self._store.close()

"""The protocol every model adapter speaks: a stream of text deltas, tool calls and a done."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from agent_core.domain import ChatMessage, ToolCallRequest, ToolSpec, Usage


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of reply text, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class ModelDone:
    """The response is complete; carries token usage and the model that answered."""

    usage: Usage
    model: str


ModelEvent = TextDelta | ToolCallRequest | ModelDone


class ChatModel(Protocol):
    """A chat model with tool calling.

    `stream` yields text deltas as they arrive, each requested tool call once complete,
    and a final `ModelDone`. It raises ModelUnavailableError or ModelError.
    """

    @property
    def name(self) -> str:
        """Label shown to users, e.g. 'openai:gpt-4o-mini' or 'demo (offline, rule-based)'."""
        ...

    @property
    def in_process(self) -> bool:
        """True when `stream` computes its answer here and never waits on I/O (the demo
        model): the turn reads it directly. Otherwise the turn reads it on a helper thread,
        so that a stop or the deadline ends a wait on a silent model; that hop costs more
        than a rule-based answer."""
        ...

    def stream(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> Iterator[ModelEvent]:
        """Answer the conversation, optionally by requesting tool calls."""
        ...

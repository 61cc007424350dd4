"""The protocol every model adapter speaks: a stream of text deltas, tool calls and a done."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
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


class Reading(StrEnum):
    """How a turn reads a model's answer, so that a stop, the turn's deadline or a shutdown
    ends a wait on a model that sends nothing."""

    DIRECT = "direct"
    """Computed here, never waiting on I/O (the demo model): read as it comes."""
    WAKES = "wakes"
    """Waits on I/O it ends itself when the turn's `Interrupt` wakes it, and never past the
    interrupt's deadline (the OpenAI adapter shuts its socket down): read as it comes."""
    HELPER_THREAD = "helper_thread"
    """May block in ways only the turn can bound: read on a helper thread while the turn
    polls for a stop (a hop per piece that costs more than a fast model's answer)."""


class Interrupt(Protocol):
    """What a model that `Reading.WAKES` is told about its turn: when the turn must end, and
    a way to be woken from another thread when it is stopped or the server shuts down."""

    @property
    def deadline(self) -> float:
        """The turn's deadline as a `time.monotonic()` value: no wait may outlast it."""
        ...

    def waking(self, wake: Callable[[], None]) -> AbstractContextManager[None]:
        """While the block runs, a stop or a shutdown calls `wake` (from another thread; at
        once when one came already). `wake` must only make a blocked wait return, say by
        shutting a socket down: the turn then finds out why and raises that."""
        ...


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
    def reading(self) -> Reading:
        """How the turn reads `stream` (see `Reading`)."""
        ...

    def stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], interrupt: Interrupt | None = None
    ) -> Iterator[ModelEvent]:
        """Answer the conversation, optionally by requesting tool calls. Only a model that
        `Reading.WAKES` uses `interrupt`; without one (a probe, a script) nothing but the
        model's own clocks bound it."""
        ...

    def close(self) -> None:
        """Let go of what it keeps open between calls (connections), once no turn runs."""
        ...


class KeepsNothingOpen:
    """For a model that answers without connections of its own: `close()` has nothing to do."""

    def close(self) -> None:
        """Nothing to let go of."""

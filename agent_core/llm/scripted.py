"""A model whose answers are given in advance: instant, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from agent_core.domain import ChatMessage, ToolCallRequest, ToolSpec, Usage
from agent_core.llm.base import Interrupt, KeepsNothingOpen, ModelDone, ModelEvent, Reading, TextDelta


@dataclass(frozen=True, slots=True)
class ScriptedReply:
    """One model response: optional text and tool calls."""

    text: str = ""
    tool_calls: tuple[ToolCallRequest, ...] = ()
    usage: Usage = field(default_factory=Usage)


Responder = Callable[[Sequence[ChatMessage], Sequence[ToolSpec]], ScriptedReply]


class ScriptedModel(KeepsNothingOpen):
    """Answers with a responder function (or a fixed list of replies, in order).

    Every request is recorded in `requests` so tests can assert what the model saw.
    """

    def __init__(self, replies: Sequence[ScriptedReply] | Responder, name: str = "scripted") -> None:
        self._name = name
        if callable(replies):
            self._responder: Responder = replies
        else:
            queue = list(replies)

            def next_reply(_: Sequence[ChatMessage], __: Sequence[ToolSpec]) -> ScriptedReply:
                if not queue:
                    raise AssertionError("ScriptedModel ran out of replies")
                return queue.pop(0)

            self._responder = next_reply
        self.requests: list[tuple[list[ChatMessage], list[ToolSpec]]] = []

    # A responder may block (tests of stops and deadlines do), so only a helper thread bounds it.
    reading = Reading.HELPER_THREAD

    @property
    def name(self) -> str:
        return self._name

    def stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], interrupt: Interrupt | None = None
    ) -> Iterator[ModelEvent]:
        self.requests.append((list(messages), list(tools)))
        reply = self._responder(messages, tools)
        if reply.text:
            yield TextDelta(reply.text)
        yield from reply.tool_calls
        yield ModelDone(reply.usage, self._name)

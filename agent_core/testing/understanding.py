"""Scoring a chat model on a labelled corpus of what callers say (used by the corpus test
and `benchmarks/understanding.py`).

A case is one exchange: the caller's messages in order, and the tool calls the exchange
should end with (none when the right answer is a question or a plain reply). The model
answers each message as it would in a conversation, its own replies included in the
history. A case is right when the calls made are exactly those expected (and, when no call
is expected, the last reply says what it should). A *wrong write* is any call that changes
data and was not expected: the one mistake worse than asking.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from agent_core.domain import ChatMessage, JsonDict, ToolCallRequest, ToolSpec
from agent_core.llm.base import ChatModel, TextDelta

WRITE_TOOLS = frozenset({"book_tour", "take_note", "update_contact_info", "cancel_tour", "reschedule_tour"})

Call = tuple[str, JsonDict]


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled exchange."""

    category: str
    turns: tuple[str, ...]
    calls: tuple[Call, ...] = ()
    reply: str | None = None
    """Text the last reply contains, checked when no call is expected."""
    date_order: str = "day/month"


@dataclass(slots=True)
class Outcome:
    """What the model did with one case."""

    case: Case
    calls: list[Call]
    replies: list[str]

    @property
    def right(self) -> bool:
        if self.calls != list(self.case.calls):
            return False
        return bool(self.case.calls) or self.case.reply is None or self.case.reply in self.replies[-1]

    @property
    def wrong_writes(self) -> list[Call]:
        return [c for c in self.calls if c[0] in WRITE_TOOLS and c not in self.case.calls]


@dataclass(slots=True)
class Score:
    """Right answers and wrong writes per category."""

    by_category: dict[str, list[Outcome]] = field(default_factory=lambda: defaultdict(list))

    def add(self, outcome: Outcome) -> None:
        self.by_category[outcome.case.category].append(outcome)

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for outcomes in self.by_category.values() for o in outcomes]

    @property
    def accuracy(self) -> float:
        outcomes = self.outcomes
        return sum(o.right for o in outcomes) / len(outcomes) if outcomes else 0.0

    @property
    def wrong_writes(self) -> int:
        return sum(len(o.wrong_writes) for o in self.outcomes)

    def table(self) -> str:
        """A Markdown table: cases, right, accuracy and wrong writes per category, then all."""
        lines = ["| category | cases | right | accuracy | wrong writes |", "|---|---:|---:|---:|---:|"]
        for category, outcomes in sorted(self.by_category.items()):
            right = sum(o.right for o in outcomes)
            wrong = sum(len(o.wrong_writes) for o in outcomes)
            lines.append(
                f"| {category} | {len(outcomes)} | {right} | {right / len(outcomes):.1%} | {wrong} |"
            )
        total = self.outcomes
        right = sum(o.right for o in total)
        lines.append(f"| **all** | {len(total)} | {right} | {self.accuracy:.1%} | {self.wrong_writes} |")
        return "\n".join(lines)


def system_message(today: date, date_order: str, persona: str = "Ava, the booking assistant") -> ChatMessage:
    """The system message as the agent writes it (persona, today, date order)."""
    return ChatMessage(
        "system",
        f"You are {persona}.\n\nToday is {today:%A %-d %B %Y} (UTC)."
        f" Numeric dates like 03/04 are {date_order}.",
    )


def run_case(model: ChatModel, tools: Sequence[ToolSpec], case: Case, today: date) -> Outcome:
    """Play the case's messages to the model, one reply at a time."""
    messages = [system_message(today, case.date_order)]
    calls: list[Call] = []
    replies: list[str] = []
    for turn in case.turns:
        messages.append(ChatMessage("user", turn))
        text, requested = _reply(model, messages, tools)
        replies.append(text)
        calls.extend((c.name, json.loads(c.arguments)) for c in requested)
        # After a call the exchange goes on from the tool's answer, not from a question.
        messages.append(ChatMessage("assistant", "Done." if requested else text))
    return Outcome(case, calls, replies)


def _reply(
    model: ChatModel, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]
) -> tuple[str, list[ToolCallRequest]]:
    text: list[str] = []
    calls: list[ToolCallRequest] = []
    for event in model.stream(messages, tools):
        if isinstance(event, TextDelta):
            text.append(event.text)
        elif isinstance(event, ToolCallRequest):
            calls.append(event)
    return "".join(text), calls


def score(model: ChatModel, tools: Sequence[ToolSpec], cases: Sequence[Case], today: date) -> Score:
    """Every case's outcome, by category."""
    result = Score()
    for case in cases:
        result.add(run_case(model, tools, case, today))
    return result

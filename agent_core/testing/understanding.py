"""Scoring a chat model on a labelled corpus of what callers say (used by the corpus test,
`benchmarks/understanding.py` and `vam eval`).

A case is one exchange: the caller's messages in order, and the tool calls the exchange
should end with (none when the right answer is a question or a plain reply). The model
answers each message as it would in a conversation, its own replies included in the
history. A case is right when the calls made are exactly those expected (and, when no call
is expected, the last reply says what it should). A *wrong write* is any call that changes
data and was not expected: the one mistake worse than asking. A call the model wrote as text
counts as a call, as the agent reads it; a reply that claims a change no call of its own
made is an *unbacked claim* (the agent would withhold it).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from agent_core.agent.claims import unbacked_claims
from agent_core.agent.text_calls import calls_in_text
from agent_core.domain import ChatMessage, JsonDict, ToolCallRecord, ToolCallRequest, ToolSpec
from agent_core.llm.base import ChatModel, ModelDone, TextDelta
from agent_core.tools import TOOL_NAMES, default_registry

_TOOLS = default_registry()
WRITE_TOOLS = frozenset(name for name in TOOL_NAMES if (tool := _TOOLS.tool(name)) and tool.outcome)
"""The tools that change something (each declares what its success does)."""

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
    latencies_ms: list[float] = field(default_factory=list)
    """The time to each whole reply."""
    tokens: int = 0
    claims: list[str] = field(default_factory=list)

    @property
    def right(self) -> bool:
        if self.calls != list(self.case.calls):
            return False
        return bool(self.case.calls) or self.case.reply is None or self.case.reply in self.replies[-1]

    @property
    def wrong_writes(self) -> list[Call]:
        return [c for c in self.calls if c[0] in WRITE_TOOLS and c not in self.case.calls]

    @property
    def missed(self) -> bool:
        """An expected call was not made."""
        return any(call not in self.calls for call in self.case.calls)


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

    def report(self, model: str) -> str:
        """The whole evaluation in Markdown: the table, then misses, claims, time and tokens."""
        outcomes = self.outcomes
        latencies = sorted(ms for o in outcomes for ms in o.latencies_ms)
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] if latencies else 0.0
        lines = [
            f"# `{model}` on {len(outcomes)} labelled exchanges",
            "",
            self.table(),
            "",
            f"- right: {sum(o.right for o in outcomes)};"
            f" missed an expected call: {sum(o.missed for o in outcomes)};"
            f" wrong writes: {self.wrong_writes}; unbacked claims: {sum(len(o.claims) for o in outcomes)}",
            f"- time to a reply: p50 {statistics.median(latencies) if latencies else 0.0:,.1f} ms,"
            f" p95 {p95:,.1f} ms over {len(latencies)} replies",
            f"- tokens: {sum(o.tokens for o in outcomes):,}",
        ]
        wrong = [o for o in outcomes if o.wrong_writes or o.claims]
        if wrong:
            lines += ["", "## Wrong writes and unbacked claims", ""]
            lines += [
                f"- {' / '.join(o.case.turns)!r}: {json.dumps(o.wrong_writes)} {'; '.join(o.claims)}".rstrip()
                for o in wrong
            ]
        return "\n".join(lines) + "\n"


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
    outcome = Outcome(case, [], [])
    for turn in case.turns:
        messages.append(ChatMessage("user", turn))
        started = time.perf_counter()
        text, requested, tokens = _reply(model, messages, tools)
        outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
        outcome.tokens += tokens
        outcome.replies.append(text)
        outcome.calls.extend((c.name, _arguments(c.arguments)) for c in requested)
        made = [ToolCallRecord.finished(c, {}, None, 0.0) for c in requested]
        outcome.claims.extend(unbacked_claims(text, made, _TOOLS.backing))
        # After a call the exchange goes on from the tool's answer, not from a question.
        messages.append(ChatMessage("assistant", "Done." if requested else text))
    return outcome


def _arguments(text: str) -> JsonDict:
    try:
        arguments = json.loads(text)
    except ValueError:
        return {"unreadable": text}
    return arguments if isinstance(arguments, dict) else {"unreadable": text}


def _reply(
    model: ChatModel, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]
) -> tuple[str, list[ToolCallRequest], int]:
    text: list[str] = []
    calls: list[ToolCallRequest] = []
    tokens = 0
    for event in model.stream(messages, tools):
        if isinstance(event, TextDelta):
            text.append(event.text)
        elif isinstance(event, ToolCallRequest):
            calls.append(event)
        elif isinstance(event, ModelDone):
            tokens = event.usage.total_tokens
    written, rest = calls_in_text("".join(text))
    calls += [ToolCallRequest(f"text-{i}", c.name, c.arguments) for i, c in enumerate(written)]
    return rest, calls, tokens


def score(model: ChatModel, tools: Sequence[ToolSpec], cases: Sequence[Case], today: date) -> Score:
    """Every case's outcome, by category."""
    result = Score()
    for case in cases:
        result.add(run_case(model, tools, case, today))
    return result

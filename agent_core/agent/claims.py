"""A reply never claims what no tool call completed: checked on every turn as it streams.

The most damaging failure of a voice agent is "I've booked that" when nothing was booked.
A reply is read sentence by sentence; a sentence that states a booking, note, contact
change, cancellation or move, without a negation and not as a question, must be backed by
a tool call of a kind that completes it, which succeeded in the same turn. One that is not
is withheld from the caller, an honest sentence takes its place, and the turn says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from agent_core.domain import ChatMessage, Claim, ToolCallRecord, ToolCallStatus

Backing = Mapping[str, frozenset[Claim]]
"""What each tool's success lets a reply claim, by tool name (each tool declares its own)."""


@dataclass(frozen=True, slots=True)
class _Claim:
    what: Claim
    pattern: re.Pattern[str]


_CLAIMS = (
    _Claim(
        Claim.BOOKING,
        re.compile(r"\b(?:booked|reserved|(?:booking|reservation) is (?:confirmed|made|done))\b", re.I),
    ),
    _Claim(
        Claim.NOTE,
        re.compile(
            r"\b(?:noted|made a note|(?:note|that) (?:is |has been |was )?(?:saved|taken|added|recorded))\b",
            re.I,
        ),
    ),
    _Claim(
        Claim.CONTACT_CHANGE,
        re.compile(
            r"\b(?:updated|(?:saved|added|changed) (?:the |your |their |his |her )?"
            r"(?:email|phone|number|contact|details))\b",
            re.I,
        ),
    ),
    _Claim(Claim.CANCELLATION, re.compile(r"\bcancell?ed\b", re.I)),
    _Claim(Claim.MOVE, re.compile(r"\b(?:moved|rescheduled)\b", re.I)),
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
"""Where a sentence of a reply ends: what is checked for claims, and spoken, one at a time."""
_ENDERS = frozenset(".!?\n")
MAX_LISTED = 20
"""Withheld claims a turn lists (a model repeating one forever does not fill its event)."""
_HONEST = {
    Claim.BOOKING: "booked",
    Claim.NOTE: "noted",
    Claim.CONTACT_CHANGE: "updated",
    Claim.CANCELLATION: "cancelled",
    Claim.MOVE: "moved",
}
# A sentence that says something did not (or may not) happen claims nothing; anything else
# that names a completed change does, so an unsure reading fails the scenario, not the caller.
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|unable|failed|nothing)\b|n[’']t\b", re.I)


def _claims(sentence: str) -> list[_Claim]:
    """The claims one sentence makes (none when it asks, or says something did not happen)."""
    text = sentence.strip()
    if not text or text.endswith("?") or _NEGATION.search(text):
        return []
    return [claim for claim in _CLAIMS if claim.pattern.search(text)]


def _unbacked(sentence: str, backed: set[Claim]) -> list[_Claim]:
    """The claims one sentence makes that are not in `backed`."""
    return [claim for claim in _claims(sentence) if claim.what not in backed]


def _backed(names: Iterable[str], backing: Backing) -> set[Claim]:
    """What the tools named may back, together."""
    return {claim for name in names for claim in backing.get(name, ())}


def _succeeded(tool_calls: Sequence[ToolCallRecord]) -> list[str]:
    return [call.name for call in tool_calls if call.status is ToolCallStatus.SUCCEEDED]


def unbacked_claims(reply: str, tool_calls: Sequence[ToolCallRecord], backing: Backing) -> list[str]:
    """Each claim in `reply` that no succeeded tool call of this turn backs (`backing`: what
    each tool's success backs), as "claims a booking: '…sentence…'"; empty when honest."""
    done = _backed(_succeeded(tool_calls), backing)
    return [
        f"claims {claim.what} no tool completed: {sentence.strip()!r}"
        for sentence in SENTENCE_END.split(reply)
        for claim in _unbacked(sentence, done)
    ]


class ClaimFilter:
    """Passes a reply on as it streams, a sentence at a time, withholding each sentence that
    claims what none of the turn's tool calls (read at that moment) completed."""

    def __init__(
        self, tool_calls: Sequence[ToolCallRecord], backing: Backing, earlier: frozenset[str] = frozenset()
    ) -> None:
        """`tool_calls`: the turn's own, read as they grow; `backing`: what each tool's success
        backs; `earlier`: tools that completed for the same message before the turn (the
        failed attempt a retry answers again)."""
        self._tool_calls = tool_calls
        self._backing = backing
        self._earlier = earlier
        self._pending = ""
        self.withheld: list[str] = []
        """Each withheld claim, as `unbacked_claims` words it."""
        self._kinds: list[Claim] = []

    def feed(self, text: str) -> str:
        """Take the next piece of the reply; returns the whole sentences that may be sent."""
        # A sentence ends at an ender followed by a blank, which may come in the next piece:
        # the search starts just before the new piece, so a long reply is read once.
        start = max(0, len(self._pending) - 1)
        self._pending += text
        if not _ENDERS.intersection(self._pending[start:]):
            return ""  # still inside a sentence
        sent = []
        while boundary := SENTENCE_END.search(self._pending, start):
            sentence, self._pending = self._pending[: boundary.end()], self._pending[boundary.end() :]
            sent.append(self._checked(sentence))
            start = 0
        return "".join(sent)

    def end(self) -> str:
        """The answer ended: what is left of it, checked."""
        rest, self._pending = self._pending, ""
        return self._checked(rest)

    def honest_sentence(self) -> str:
        """What the caller is told instead of the withheld claims ("" when none was)."""
        if not self._kinds:
            return ""
        kinds = list(dict.fromkeys(_HONEST[kind] for kind in self._kinds))
        done = " or ".join(kinds)
        return f"Nothing has been {done} yet — shall I try that again?"

    def _checked(self, sentence: str) -> str:
        # What the turn's calls back is read only for a sentence that claims something.
        made = _claims(sentence)
        if not made:
            return sentence
        done = _backed([*_succeeded(self._tool_calls), *self._earlier], self._backing)
        claims = [claim for claim in made if claim.what not in done]
        if not claims:
            return sentence
        if len(self.withheld) < MAX_LISTED:
            self.withheld.extend(f"claims {c.what} no tool completed: {sentence.strip()!r}" for c in claims)
        self._kinds.extend(c.what for c in claims)
        return ""


def completed_since_the_caller(messages: Sequence[ChatMessage]) -> frozenset[str]:
    """The tools that succeeded after the caller's latest message in `messages`: for a turn
    that answers a failed one's message again, what that attempt completed."""
    if messages and messages[-1].role == "user":
        return frozenset()  # a new message: nothing was attempted for it yet
    start = max((i for i, m in enumerate(messages) if m.role == "user"), default=len(messages))
    names = {call.id: call.name for m in messages[start:] for call in m.tool_calls}
    done = set()
    for message in messages[start:]:
        if message.role == "tool" and message.tool_call_id in names:
            try:
                succeeded = json.loads(message.content).get("ok") is True
            except (ValueError, AttributeError):
                succeeded = False
            if succeeded:
                done.add(names[message.tool_call_id])
    return frozenset(done)

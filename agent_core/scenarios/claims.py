"""The check every scenario gets: a reply never claims what no tool call completed.

The most damaging failure of a voice agent is "I've booked that" when nothing was booked.
A reply is read sentence by sentence; a sentence that states a booking, note, contact
change, cancellation or move, without a negation and not as a question, must be backed by
a tool call of a kind that completes it, which succeeded in the same turn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from agent_core.domain import ToolCallRecord, ToolCallStatus


@dataclass(frozen=True, slots=True)
class _Claim:
    what: str
    pattern: re.Pattern[str]
    backed_by: frozenset[str]


_CLAIMS = (
    _Claim(
        "a booking",
        re.compile(r"\b(?:booked|reserved|(?:booking|reservation) is (?:confirmed|made|done))\b", re.I),
        frozenset({"book_tour", "find_tours", "reschedule_tour"}),
    ),
    _Claim(
        "a note",
        re.compile(
            r"\b(?:noted|made a note|(?:note|that) (?:is |has been |was )?(?:saved|taken|added|recorded))\b",
            re.I,
        ),
        frozenset({"take_note"}),
    ),
    _Claim(
        "a contact change",
        re.compile(
            r"\b(?:updated|(?:saved|added|changed) (?:the |your |their |his |her )?"
            r"(?:email|phone|number|contact|details))\b",
            re.I,
        ),
        frozenset({"update_contact_info", "reschedule_tour"}),
    ),
    _Claim("a cancellation", re.compile(r"\bcancell?ed\b", re.I), frozenset({"cancel_tour"})),
    _Claim("a move", re.compile(r"\b(?:moved|rescheduled)\b", re.I), frozenset({"reschedule_tour"})),
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# A sentence that says something did not (or may not) happen claims nothing; anything else
# that names a completed change does, so an unsure reading fails the scenario, not the caller.
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|unable|failed|nothing)\b|n[’']t\b", re.I)


def unbacked_claims(reply: str, tool_calls: Sequence[ToolCallRecord]) -> list[str]:
    """Each claim in `reply` that no succeeded tool call of this turn backs, as
    "claims a booking: '…sentence…'"; empty when the reply is honest."""
    done = {call.name for call in tool_calls if call.status is ToolCallStatus.SUCCEEDED}
    found = []
    for sentence in _SENTENCE_END.split(reply):
        text = sentence.strip()
        if not text or text.endswith("?") or _NEGATION.search(text):
            continue
        for claim in _CLAIMS:
            if claim.pattern.search(text) and not (claim.backed_by & done):
                found.append(f"claims {claim.what} no tool completed: {text!r}")
    return found

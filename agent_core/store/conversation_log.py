"""The conversation log: every conversation of a tenant with what happened in it, searched
by text, customer, date, outcome or tool — whatever channel it came through.

One SQL text serves SQLite and PostgreSQL (`SqlStore`); `app_search_conversations` in
`schema.sql` is the same query for Supabase, which has no SQL connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from agent_core.domain import Channel
from agent_core.errors import InvalidInputError
from agent_core.store.records import day_bounds, like_pattern
from agent_core.store.rows import Row, as_datetime, as_uuid

MAX_SEARCH_CHARS = 200


class Outcome(StrEnum):
    """What a conversation did, from the tool calls that succeeded in it (or a failed turn)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    MOVED = "moved"
    NOTED = "noted"
    UPDATED = "updated"
    FAILED = "failed"


OUTCOME_TOOLS = {
    Outcome.BOOKED: "book_tour",
    Outcome.CANCELLED: "cancel_tour",
    Outcome.MOVED: "reschedule_tour",
    Outcome.NOTED: "take_note",
    Outcome.UPDATED: "update_contact_info",
}


@dataclass(frozen=True, slots=True)
class ConversationQuery:
    """Which conversations to list, newest activity first."""

    text: str = ""
    """In any message of the conversation (case-insensitive)."""
    customer: str = ""
    """In the arguments of any of its tool calls (a name, an email, a phone)."""
    date_from: date | None = None
    date_to: date | None = None
    outcome: Outcome | None = None
    tool: str = ""
    channel: Channel | None = None
    """Where the conversation's first turn came from."""
    limit: int = 50
    offset: int = 0

    def checked(self) -> ConversationQuery:
        """This query after validation; InvalidInputError when it makes no sense."""
        if not 1 <= self.limit <= 500:
            raise InvalidInputError("page size must be between 1 and 500")
        if self.offset < 0:
            raise InvalidInputError("offset must not be negative")
        if max(len(self.text), len(self.customer), len(self.tool)) > MAX_SEARCH_CHARS:
            raise InvalidInputError(f"search text is limited to {MAX_SEARCH_CHARS} characters")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInputError("the start date is after the end date")
        return self

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The date range as UTC instants: from the start of the first day to the end of the last."""
        return day_bounds(self.date_from, self.date_to)


@dataclass(frozen=True, slots=True)
class ConversationOverview:
    """One conversation in the log."""

    id: UUID
    created_at: datetime
    updated_at: datetime
    first_message: str
    turns: int
    failed_turns: int
    """Turns that failed and were not retried: messages still unanswered."""
    tokens: int
    duration_ms: float
    outcomes: tuple[Outcome, ...]
    channel: Channel
    """Where its first turn came from."""
    started_by: str
    """Who sent its first message (a user, an API key, `cli:…`), when recorded."""


# A failed turn nobody retried: its message is still unanswered (a retry that failed too
# is the one that counts then).
_UNANSWERED = (
    "t.status = 'failed' AND NOT EXISTS (SELECT 1 FROM turns r WHERE r.tenant_id = t.tenant_id"
    " AND r.conversation_id = t.conversation_id AND r.retry_of = t.id)"
)


def _has(tool: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id"
        f" AND k.name = '{tool}' AND k.status = 'succeeded')"
    )


_FIRST_TURN = (
    "FROM turns f WHERE f.tenant_id = c.tenant_id AND f.conversation_id = c.id"
    " ORDER BY f.started_at, f.id LIMIT 1"
)

COLUMNS = (
    "c.id, c.created_at, c.updated_at,"
    f" COALESCE((SELECT f.channel {_FIRST_TURN}), 'unknown') AS channel,"
    f" COALESCE((SELECT f.started_by {_FIRST_TURN}), '') AS started_by,"
    " COALESCE((SELECT m.content FROM messages m WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id"
    "  AND m.role = 'user' ORDER BY m.id LIMIT 1), '') AS first_message,"
    " (SELECT count(*) FROM turns t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.id) AS turns,"
    f" (SELECT count(*) FROM turns t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.id"
    f"  AND {_UNANSWERED}) AS failed_turns,"
    " (SELECT COALESCE(sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)), 0) FROM turns t"
    "  WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.id) AS tokens,"
    " (SELECT COALESCE(sum(t.latency_ms), 0) FROM turns t WHERE t.tenant_id = c.tenant_id"
    "  AND t.conversation_id = c.id) AS duration_ms, "
    + ", ".join(f"{_has(tool)} AS {outcome.value}" for outcome, tool in OUTCOME_TOOLS.items())
)


def filters(query: ConversationQuery, fold: Any) -> tuple[list[str], dict[str, object]]:
    """SQL conditions on `c` (conversations) and their parameters; `fold(expression, text)`
    makes a comparison case-insensitive the way the backend can."""
    conditions = ["c.tenant_id = :tenant_id"]
    params: dict[str, object] = {}
    if text := query.text.strip():
        params["text"] = like_pattern(text)
        conditions.append(
            "EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id"
            f" AND m.role IN ('user', 'assistant') AND {fold('m.content', text)} LIKE :text ESCAPE '\\')"
        )
    if customer := query.customer.strip():
        params["customer"] = like_pattern(customer)
        conditions.append(
            "EXISTS (SELECT 1 FROM tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id"
            f" AND {fold('k.arguments', customer)} LIKE :customer ESCAPE '\\')"
        )
    low, high = query.bounds()
    if low is not None:
        conditions.append("c.created_at >= :low")
        params["low"] = low
    if high is not None:
        conditions.append("c.created_at < :high")
        params["high"] = high
    if query.outcome is Outcome.FAILED:
        conditions.append(
            "EXISTS (SELECT 1 FROM turns t WHERE t.tenant_id = c.tenant_id AND t.conversation_id = c.id"
            f" AND {_UNANSWERED})"
        )
    elif query.outcome is not None:
        conditions.append(_has(OUTCOME_TOOLS[query.outcome]))
    if query.channel is not None:
        params["channel"] = query.channel.value
        conditions.append(f"COALESCE((SELECT f.channel {_FIRST_TURN}), 'unknown') = :channel")
    if tool := query.tool.strip():
        params["tool"] = tool
        conditions.append(
            "EXISTS (SELECT 1 FROM tool_calls k WHERE k.tenant_id = c.tenant_id AND k.conversation_id = c.id"
            " AND k.name = :tool)"
        )
    return conditions, params


def overview_from_row(row: Row) -> ConversationOverview:
    """A row of the query (or of `app_search_conversations`) as the log shows it."""
    return ConversationOverview(
        as_uuid(row["id"]),
        as_datetime(row["created_at"]),
        as_datetime(row["updated_at"]),
        row["first_message"] or "",
        int(row["turns"]),
        int(row["failed_turns"]),
        int(row["tokens"]),
        float(row["duration_ms"] or 0),
        tuple(outcome for outcome in OUTCOME_TOOLS if row[outcome.value]),
        Channel(row["channel"]),
        row["started_by"] or "",
    )

"""The conversation log: every conversation of a tenant with what happened in it, searched
by text, customer, date, outcome or tool — whatever channel it came through.

One SQL text serves SQLite and PostgreSQL (`SqlStore`); `app_search_conversations` in
`schema.sql` is the same query for Supabase, which has no SQL connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from agent_core.domain import Channel
from agent_core.errors import InvalidInputError
from agent_core.store.records import day_bounds, like_pattern
from agent_core.store.rows import Row, as_datetime, as_uuid

MAX_SEARCH_CHARS = 200

Fold = Callable[[str, str], str]
"""`fold(expression, search)`: SQL that case-folds `expression` to compare with folded `search`."""


class Outcome(StrEnum):
    """What a conversation did, from the tool calls that succeeded in it (or a failed turn)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    MOVED = "moved"
    NOTED = "noted"
    UPDATED = "updated"
    FAILED = "failed"
    """A message left unanswered, or a tool call that failed."""


# A column of each conversation for each, set by the summary triggers (migration 0023) when a
# tool call whose tool declares that outcome (`Tool.outcome`) succeeds in it; FAILED is its
# unanswered count instead.
OUTCOME_COLUMNS = tuple(outcome for outcome in Outcome if outcome is not Outcome.FAILED)


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


# Each conversation keeps its summary (turns, unanswered messages, tokens, outcomes…), kept
# by the triggers of migration 0009: listing and filtering never read a conversation's turns.
COLUMNS = (
    "c.id, c.created_at, c.updated_at, c.channel, COALESCE(c.started_by, '') AS started_by,"
    " c.first_message, c.turn_count AS turns, c.unanswered AS failed_turns, c.tokens, c.duration_ms, "
    + ", ".join(f"c.{outcome.value}" for outcome in OUTCOME_COLUMNS)
)

BROAD_SEARCH = 10_000
"""A text in this many conversations or more is searched conversation by conversation, newest
first, and its total is reported as "at least" this many (counting them all costs seconds)."""


def messages_containing(fold: Fold, text: str, source: str = "messages m WHERE") -> str:
    """SQL for the ids of the tenant's conversations with a message (user or assistant)
    containing `text` (:text is its LIKE pattern), read from `source` (PostgreSQL's trigram
    index serves `lower(content) LIKE`; SQLite passes its full-text index as a first filter)."""
    return (
        f"SELECT m.conversation_id FROM {source} m.tenant_id = :tenant_id"
        f" AND m.role IN ('user', 'assistant') AND {fold('m.content', text)} LIKE :text ESCAPE '\\'"
    )


@dataclass(frozen=True, slots=True)
class TextSearch:
    """How the log finds the conversations that contain a text."""

    matching: str
    """SQL for their ids (see `messages_containing`)."""
    params: dict[str, object]
    """Parameters of its own, beyond :text and :tenant_id."""
    broad: bool = False
    """It is in BROAD_SEARCH conversations or more (the store's `broad_search`): each conversation
    is checked instead, in the page's order, so the first page stops early."""

    def probe(self, bound: int) -> str:
        """SQL counting its conversations up to `bound` (cheap however common the text is)."""
        return (
            f"SELECT count(*) AS n FROM (SELECT DISTINCT conversation_id FROM ({self.matching}) matches"
            f" LIMIT {int(bound)}) bounded"
        )


def filters(
    query: ConversationQuery, fold: Fold, text: TextSearch | None = None
) -> tuple[list[str], dict[str, object]]:
    """SQL conditions on `c` (conversations) and their parameters; `fold(expression, text)`
    makes a comparison case-insensitive the way the backend can, `text` finds messages."""
    conditions = ["c.tenant_id = :tenant_id"]
    params: dict[str, object] = {}
    if searched := query.text.strip():
        params["text"] = like_pattern(searched)
        if text is None or text.broad:
            # The same messages, looked up conversation by conversation.
            each = messages_containing(fold, searched, "messages m WHERE m.conversation_id = c.id AND")
            conditions.append(f"EXISTS ({each})")
        else:
            params |= text.params
            conditions.append(f"c.id IN ({text.matching})")
    if customer := query.customer.strip():
        params["customer"] = like_pattern(customer)
        conditions.append(
            "c.id IN (SELECT k.conversation_id FROM tool_calls k WHERE k.tenant_id = :tenant_id"
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
        # A message left unanswered, or a tool call that failed (what app_search_conversations asks).
        conditions.append(
            "(c.unanswered > 0 OR EXISTS (SELECT 1 FROM tool_calls k WHERE k.tenant_id = :tenant_id"
            " AND k.conversation_id = c.id AND k.status = 'failed'))"
        )
    elif query.outcome is not None:
        conditions.append(f"c.{query.outcome.value}")
    if query.channel is not None:
        params["channel"] = query.channel.value
        conditions.append("c.channel = :channel")
    if tool := query.tool.strip():
        params["tool"] = tool
        conditions.append(
            "c.id IN (SELECT k.conversation_id FROM tool_calls k"
            " WHERE k.tenant_id = :tenant_id AND k.name = :tool)"
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
        tuple(outcome for outcome in OUTCOME_COLUMNS if row[outcome.value]),
        Channel(row["channel"]),
        row["started_by"] or "",
    )

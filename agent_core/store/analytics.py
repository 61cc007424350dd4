"""Analytics of a tenant (or of every tenant) over a time range: turns and conversations per
day, tool calls and failures per tool, tokens per model, and latency percentiles of turns, of
their parts and of tool calls.

They are read from daily rollups that triggers keep as turns and tool calls start and end
(migration 0010), so a range costs its days, not its turns. A day is the business's own: a
turn counts on the day it started in its tenant's timezone, its tool calls with it (migration
0017; turns from before count on their UTC day). The SQL here runs on SQLite and
PostgreSQL (`SqlStore`); `app_analytics` sums the same rollups for Supabase, and the
percentiles are computed here from both: the value of the bucket at rank ceil(p × n).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from agent_core.errors import InvalidInputError
from agent_core.store.records import day_bounds
from agent_core.store.sql_backend import SqlSession
from agent_core.store.voice_turns import VOICE_PARTS

MAX_DAYS = 366
PERCENTILES = (50, 90, 99)


@dataclass(frozen=True, slots=True)
class AnalyticsQuery:
    """Whose activity (None: every tenant) between two days, both included: each tenant's own
    days, in its timezone."""

    tenant_id: UUID | None
    first_day: date
    last_day: date

    def checked(self) -> AnalyticsQuery:
        """This query after validation; InvalidInputError when it makes no sense."""
        if self.first_day > self.last_day:
            raise InvalidInputError("the first day is after the last day")
        if (self.last_day - self.first_day).days >= MAX_DAYS:
            raise InvalidInputError(f"analytics cover at most {MAX_DAYS} days at once")
        return self

    def bounds(self) -> tuple[datetime, datetime]:
        """The days as [midnight of the first, midnight after the last) in UTC, the form
        `app_analytics` takes them in (it reads back the dates)."""
        return day_bounds(self.first_day, self.last_day)


@dataclass(frozen=True, slots=True)
class DayCounts:
    """One day's activity (the tenant's day)."""

    day: date
    conversations: int
    turns: int
    failed_turns: int
    tokens: int
    withheld_claims: int = 0
    """Sentences held back from replies: claims no tool of their turn backed."""


@dataclass(frozen=True, slots=True)
class ToolCounts:
    """One tool's calls in the range, and how many failed."""

    name: str
    calls: int
    failed: int

    @property
    def failure_rate(self) -> float:
        """Share of calls that failed."""
        return self.failed / self.calls if self.calls else 0.0


@dataclass(frozen=True, slots=True)
class Analytics:
    """Everything the Analytics page shows for one query."""

    days: list[DayCounts]
    tools: list[ToolCounts]
    tokens_by_model: dict[str, tuple[int, int]]
    """model -> (prompt tokens, completion tokens)."""
    turn_latency_ms: dict[int, float] = field(default_factory=dict)
    tool_latency_ms: dict[int, float] = field(default_factory=dict)
    split_latency_ms: dict[str, dict[int, float]] = field(default_factory=dict)
    """Of whole turns: "model", "tools" and "store" (the rest: store and loop), for turns
    that recorded their split."""
    voice_latency_ms: dict[str, dict[int, float]] = field(default_factory=dict)
    """Of spoken turns: "listening", "transcribing", "answering" and "first_audio" (from the end
    of the caller's speech to the first audio of the reply)."""
    spoken_turns: int = 0
    """Spoken turns in the range (those whose timings were kept)."""

    @property
    def turns(self) -> int:
        """Turns in the range."""
        return sum(d.turns for d in self.days)

    @property
    def failed_turns(self) -> int:
        """Turns that failed in the range (a retried one counts as the failure it was)."""
        return sum(d.failed_turns for d in self.days)

    @property
    def withheld_claims(self) -> int:
        """Claims held back from replies in the range (no tool of their turn did what they said)."""
        return sum(d.withheld_claims for d in self.days)

    def every_day(self, first_day: date, last_day: date) -> list[DayCounts]:
        """Activity per day over the whole range, oldest first: a day without activity is
        zeros, so a chart shows the quiet days instead of joining their neighbours."""
        found = {d.day: d for d in self.days}
        span = range((last_day - first_day).days + 1)
        return [
            found.get(day) or DayCounts(day, 0, 0, 0, 0)
            for day in (first_day + timedelta(days=n) for n in span)
        ]

    def succeeded(self, tool: str) -> int:
        """Calls of `tool` that succeeded (bookings, cancellations…)."""
        counts = next((t for t in self.tools if t.name == tool), None)
        return 0 if counts is None else counts.calls - counts.failed

    def cost(self, prices: Mapping[str, tuple[float, float]]) -> float | None:
        """Estimated cost from prices per million prompt and completion tokens per model;
        None when a model that used tokens has no price."""
        total = 0.0
        for model, (prompt, completion) in self.tokens_by_model.items():
            if prompt + completion == 0:
                continue
            price = prices.get(model.removeprefix("openai:"))
            if price is None:
                return None
            total += (prompt * price[0] + completion * price[1]) / 1_000_000
        return total


BUCKETS_PER_DOUBLING = 16
"""Latencies are kept in log-scale buckets (migration 0010): bucket b holds the latencies from
2^(b/16) to 2^((b+1)/16) ms, so its middle is within 2.2% of every latency in it."""


def bucket_value(bucket: int) -> float:
    """The latency (ms) a bucket stands for: its geometric middle."""
    return float(2 ** ((bucket + 0.5) / BUCKETS_PER_DOUBLING))


def bucket_of(milliseconds: float) -> int:
    """The bucket of a latency, as the rollup triggers compute it."""
    return math.floor(math.log(max(milliseconds, 0.01)) * BUCKETS_PER_DOUBLING / math.log(2))


def percentiles(buckets: Sequence[tuple[int, int]]) -> dict[int, float]:
    """p50/p90/p99 from (bucket, count) pairs in ascending bucket order: the value of the bucket
    holding rank ceil(p x n), as for single values; empty when nothing was measured."""
    total = sum(count for _, count in buckets)
    found: dict[int, float] = {}
    if not total:
        return found
    for p in PERCENTILES:
        rank = max(1, math.ceil(p / 100 * total))
        seen = 0
        for bucket, count in buckets:
            seen += count
            if seen >= rank:
                found[p] = bucket_value(bucket)
                break
    return found


def assemble(
    days: Sequence[Mapping[str, object]],
    tools: Sequence[Mapping[str, object]],
    models: Sequence[Mapping[str, object]],
    latency: Sequence[Mapping[str, object]],
) -> Analytics:
    """Analytics from the rollups summed per day, tool, model and (metric, bucket) — the rows
    of the SQL stores' queries and of `app_analytics` alike."""
    buckets: dict[str, list[tuple[int, int]]] = {}
    for row in latency:
        buckets.setdefault(str(row["metric"]), []).append((int(str(row["bucket"])), int(str(row["count"]))))
    measured = {metric: percentiles(sorted(pairs)) for metric, pairs in buckets.items()}
    return Analytics(
        [
            DayCounts(
                date.fromisoformat(str(row["day"])),
                int(str(row["conversations"])),
                int(str(row["turns"])),
                int(str(row["failed_turns"])),
                int(str(row["tokens"] or 0)),
                int(str(row.get("withheld_claims") or 0)),
            )
            for row in days
        ],
        [ToolCounts(str(row["name"]), int(str(row["calls"])), int(str(row["failed"]))) for row in tools],
        {
            str(row["model"]): (int(str(row["prompt"] or 0)), int(str(row["completion"] or 0)))
            for row in models
        },
        measured.get("turn", {}),
        measured.get("tool_call", {}),
        {part: measured[part] for part in ("model", "tools", "store") if measured.get(part)},
        {part: measured[part] for part in VOICE_PARTS if measured.get(part)},
        sum(count for _, count in buckets.get(VOICE_PARTS[0], [])),
    )


def compute(session: SqlSession, query: AnalyticsQuery) -> Analytics:
    """Sum the rollups of the days (and tenant) in one session."""
    where = "day >= :first AND day <= :last"
    params: dict[str, object] = {"first": query.first_day, "last": query.last_day}
    if query.tenant_id is not None:
        where += " AND tenant_id = :tenant_id"
        params["tenant_id"] = query.tenant_id
    return assemble(
        session.query(
            "SELECT day, sum(conversations) AS conversations, sum(turns) AS turns,"
            " sum(failed_turns) AS failed_turns, sum(tokens) AS tokens,"
            " sum(withheld_claims) AS withheld_claims"
            f" FROM activity_days WHERE {where} GROUP BY day ORDER BY day",
            params,
        ),
        session.query(
            "SELECT name, sum(calls) AS calls, sum(failed) AS failed"
            f" FROM tool_days WHERE {where} GROUP BY name ORDER BY name",
            params,
        ),
        session.query(
            "SELECT model, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion"
            f" FROM model_days WHERE {where} GROUP BY model ORDER BY model",
            params,
        ),
        session.query(
            "SELECT metric, bucket, sum(count) AS count"
            f" FROM latency_days WHERE {where} GROUP BY metric, bucket ORDER BY metric, bucket",
            params,
        ),
    )


def from_json(data: Mapping[str, object]) -> Analytics:
    """What `app_analytics` returns: the same sums as `compute` reads."""

    def rows(key: str) -> list[Mapping[str, object]]:
        value = data.get(key)
        return value if isinstance(value, list) else []

    return assemble(rows("days"), rows("tools"), rows("models"), rows("latency"))

"""Analytics of a tenant (or of every tenant) over a time range, computed in the database:
turns and conversations per day, tool calls and failures per tool, tokens per model, and
latency percentiles of turns and of tool calls.

The SQL here runs on SQLite and PostgreSQL (`SqlStore`); `app_analytics` in `schema.sql`
computes the same for Supabase. Percentiles are the value at rank ceil(p × n) — the same
definition on every backend, so the numbers agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from agent_core.errors import InvalidInputError
from agent_core.store.records import day_bounds
from agent_core.store.sql_backend import SqlSession

MAX_DAYS = 366
PERCENTILES = (50, 90, 99)


@dataclass(frozen=True, slots=True)
class AnalyticsQuery:
    """Whose activity (None: every tenant) between two days, both included (UTC)."""

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
        """[start of the first day, start of the day after the last) in UTC."""
        return day_bounds(self.first_day, self.last_day)


@dataclass(frozen=True, slots=True)
class DayCounts:
    """One UTC day's activity."""

    day: date
    conversations: int
    turns: int
    failed_turns: int
    tokens: int


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

    @property
    def turns(self) -> int:
        """Turns in the range."""
        return sum(d.turns for d in self.days)

    @property
    def failed_turns(self) -> int:
        """Turns that failed in the range (a retried one counts as the failure it was)."""
        return sum(d.failed_turns for d in self.days)

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


def _scope(query: AnalyticsQuery, alias: str, column: str) -> tuple[str, dict[str, object]]:
    low, high = query.bounds()
    params: dict[str, object] = {"low": low, "high": high}
    where = f"{alias}.{column} >= :low AND {alias}.{column} < :high"
    if query.tenant_id is not None:
        where += f" AND {alias}.tenant_id = :tenant_id"
        params["tenant_id"] = query.tenant_id
    return where, params


def compute(session: SqlSession, query: AnalyticsQuery, day_of: Callable[[str], str]) -> Analytics:
    """Run the queries in one session; `day_of(column)` is the backend's SQL for the UTC day
    of a timestamp column, as YYYY-MM-DD text."""
    where, params = _scope(query, "t", "started_at")
    days = [
        DayCounts(
            date.fromisoformat(str(row["day"])),
            int(row["conversations"]),
            int(row["turns"]),
            int(row["failed_turns"]),
            int(row["tokens"] or 0),
        )
        for row in session.query(
            f"SELECT {day_of('t.started_at')} AS day, count(DISTINCT t.conversation_id) AS conversations,"
            " count(*) AS turns, sum(CASE WHEN t.status = 'failed' THEN 1 ELSE 0 END) AS failed_turns,"
            " sum(COALESCE(t.prompt_tokens, 0) + COALESCE(t.completion_tokens, 0)) AS tokens"
            f" FROM turns t WHERE {where} GROUP BY 1 ORDER BY 1",
            params,
        )
    ]
    tokens = {
        str(row["model"]): (int(row["prompt"] or 0), int(row["completion"] or 0))
        for row in session.query(
            "SELECT COALESCE(t.model, 'unknown') AS model, sum(t.prompt_tokens) AS prompt,"
            f" sum(t.completion_tokens) AS completion FROM turns t WHERE {where} GROUP BY 1",
            params,
        )
    }
    turn_latency = _percentiles(
        session, "turns t", "t.latency_ms", f"{where} AND t.latency_ms IS NOT NULL", params
    )
    split_where = f"{where} AND t.model_ms IS NOT NULL AND t.tools_ms IS NOT NULL"
    split = {
        part: _percentiles(session, "turns t", expression, split_where, params)
        for part, expression in _SPLIT.items()
    }
    call_where, call_params = _scope(query, "k", "created_at")
    tools = [
        ToolCounts(str(row["name"]), int(row["calls"]), int(row["failed"]))
        for row in session.query(
            "SELECT k.name AS name, count(*) AS calls,"
            " sum(CASE WHEN k.status = 'failed' THEN 1 ELSE 0 END) AS failed"
            f" FROM tool_calls k WHERE {call_where} GROUP BY k.name ORDER BY k.name",
            call_params,
        )
    ]
    tool_latency = _percentiles(
        session, "tool_calls k", "k.duration_ms", f"{call_where} AND k.duration_ms IS NOT NULL", call_params
    )
    return Analytics(days, tools, tokens, turn_latency, tool_latency, split)


_SPLIT = {"model": "t.model_ms", "tools": "t.tools_ms", "store": "(t.latency_ms - t.model_ms - t.tools_ms)"}


def _percentiles(
    session: SqlSession, table: str, column: str, where: str, params: dict[str, object]
) -> dict[int, float]:
    count = int(session.query(f"SELECT count(*) AS n FROM {table} WHERE {where}", params)[0]["n"])
    if not count:
        return {}
    ranks = {p: max(1, math.ceil(p / 100 * count)) for p in PERCENTILES}
    # One sort for every percentile: each is the value at its rank.
    rows = session.query(
        f"SELECT v, rn FROM (SELECT {column} AS v, row_number() OVER (ORDER BY {column}) AS rn"
        f" FROM {table} WHERE {where}) ranked WHERE rn IN ({', '.join(f':r{p}' for p in ranks)})",
        {**params, **{f"r{p}": rank for p, rank in ranks.items()}},
    )
    by_rank = {int(row["rn"]): float(row["v"]) for row in rows}
    return {p: by_rank[rank] for p, rank in ranks.items()}


def from_json(data: Mapping[str, object]) -> Analytics:
    """What `app_analytics` returns, as the SQL path computes it."""

    def rows(key: str) -> list[Mapping[str, object]]:
        value = data.get(key)
        return value if isinstance(value, list) else []

    def latency(key: str) -> dict[int, float]:
        value = data.get(key)
        if not isinstance(value, Mapping):
            return {}
        return {int(p): float(v) for p, v in value.items() if v is not None}

    return Analytics(
        [
            DayCounts(
                date.fromisoformat(str(r["day"])),
                int(str(r["conversations"])),
                int(str(r["turns"])),
                int(str(r["failed_turns"])),
                int(str(r["tokens"] or 0)),
            )
            for r in rows("days")
        ],
        [ToolCounts(str(r["name"]), int(str(r["calls"])), int(str(r["failed"]))) for r in rows("tools")],
        {
            str(r["model"]): (int(str(r["prompt"] or 0)), int(str(r["completion"] or 0)))
            for r in rows("models")
        },
        latency("turn_latency"),
        latency("tool_latency"),
        {part: found for part in _SPLIT if (found := latency(f"{part}_latency"))},
    )

"""SQLite keeps its daily rollups in batches (migration 0027): wherever the batch line falls —
between a turn's start and its end, between two turns of one conversation, before the reaper
closes a turn — analytics count the day exactly as if every turn had been tallied as it went,
and a batch is folded in every few dozen finished turns even when nobody reads analytics."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from agent_core.clock import utcnow
from agent_core.domain import ChatMessage, JsonDict, Tenant, ToolCallRequest, Usage
from agent_core.store.analytics import Analytics, AnalyticsQuery
from agent_core.store.base import TenantWriter, ToolFailure, TurnOutcome, TurnStart
from agent_core.store.sqlite import UPKEEP_EVERY_TURNS, SqliteStore
from tests.conftest import add_tenant
from tests.store.test_conversation_log import converse


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "store.sqlite3")
    yield store
    store.close()


def succeeded(reply: str, usage: Usage, latency_ms: float, withheld: tuple[str, ...] = ()) -> TurnOutcome:
    return TurnOutcome(
        "succeeded", reply, "openai:gpt-test", usage, 2, latency_ms, model_ms=latency_ms / 2,
        tools_ms=5.0, withheld_claims=withheld,
    )  # fmt: skip


def booked(writer: TenantWriter) -> JsonDict:
    return {"booking_id": "b-1"}


def refused(writer: TenantWriter) -> JsonDict:
    raise ToolFailure("no such customer")


def a_day(store: SqliteStore, tenant: Tenant) -> list[Callable[[], object]]:
    """The steps of one business day: three conversations, four turns — one answered with a
    booking, one failed in the same conversation, one the reaper closes, one whose tool failed
    and whose reply had a claim withheld."""
    started: dict[str, TurnStart] = {}

    def start(name: str, conversation: str | None = None, lease: float = 30.0) -> None:
        of = started[conversation].conversation_id if conversation else None
        started[name] = store.start_turn(tenant.id, of, "Hello", lease_seconds=lease)

    def call(name: str, tool: str, run: Callable[[TenantWriter], JsonDict]) -> None:
        turn = started[name]
        request = ToolCallRequest(f"call_{name}", tool, json.dumps({"name": "Ana"}))
        store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, request, run)

    def finish(name: str, outcome: TurnOutcome) -> None:
        turn = started[name]
        reply = ChatMessage("assistant", outcome.reply) if outcome.reply else None
        store.finish_turn(tenant.id, turn.conversation_id, turn.turn_id, reply, outcome)

    return [
        lambda: start("a1"),
        lambda: call("a1", "book_tour", booked),
        lambda: finish("a1", succeeded("Booked.", Usage(100, 20), 400.0)),
        lambda: start("a2", conversation="a1"),
        lambda: finish("a2", TurnOutcome("failed", None, "openai:gpt-test", Usage(7, 0), 1, 90.0, "down")),
        lambda: start("b", lease=0.0),
        lambda: store.fail_expired_turns("the server stopped", []),
        lambda: start("c"),
        lambda: call("c", "take_note", refused),
        lambda: finish("c", succeeded("Sorry.", Usage(50, 10), 1200.0, withheld=("claims a note",))),
    ]


def analytics_of_a_day(store: SqliteStore, tenant: Tenant, fold_after: set[int]) -> Analytics:
    for step, run in enumerate(a_day(store, tenant)):
        run()
        if step in fold_after:
            store.catch_up()
    today = utcnow().date()
    return store.analytics(AnalyticsQuery(tenant.id, today, today))


@pytest.mark.parametrize(
    "fold_after",
    [set(), {0}, {0, 3}, {1, 4, 5}, {5, 8}],
    ids=["read-only", "mid-turn", "between-a-conversations-turns", "mid-call-and-before-reaper", "mid-c"],
)
def test_where_the_batch_line_falls_changes_no_count(sqlite: SqliteStore, fold_after: set[int]) -> None:
    every_step = add_tenant(sqlite, "Tallied Tours", "Be brief.")
    batched = add_tenant(sqlite, "Batched Tours", "Be brief.")
    expected = analytics_of_a_day(sqlite, every_step, fold_after=set(range(10)))
    # How long a tool ran is measured, so each run buckets it anew: compared by count.
    got = analytics_of_a_day(sqlite, batched, fold_after)
    assert replace(got, tool_latency_ms={}) == replace(expected, tool_latency_ms={})
    assert tool_runs_timed(sqlite, batched) == tool_runs_timed(sqlite, every_step) == 2

    [day] = expected.days
    assert (day.conversations, day.turns, day.failed_turns, day.tokens) == (3, 4, 2, 187)
    assert expected.withheld_claims == 1
    assert [(t.name, t.calls, t.failed) for t in expected.tools] == [("book_tour", 1, 0), ("take_note", 1, 1)]
    # The reaped turn never heard from a model.
    assert expected.tokens_by_model == {"openai:gpt-test": (157, 30), "unknown": (0, 0)}
    assert set(expected.split_latency_ms) == {"model", "tools", "store"}
    assert expected.tool_latency_ms


def test_the_rollups_take_a_batch_in_every_few_dozen_finished_turns(sqlite: SqliteStore) -> None:
    tenant = add_tenant(sqlite, "Busy Tours", "Be brief.")
    sqlite.catch_up()
    for n in range(UPKEEP_EVERY_TURNS - 1):
        converse(sqlite, tenant, f"Message number {n}")
    assert pending(sqlite) == 2 * (UPKEEP_EVERY_TURNS - 1)  # each turn's start and end
    converse(sqlite, tenant, "The last of the batch")
    assert pending(sqlite) == 0
    today = utcnow().date()
    assert sqlite.analytics(AnalyticsQuery(tenant.id, today, today)).turns == UPKEEP_EVERY_TURNS


def pending(store: SqliteStore) -> int:
    with store._reader() as session:
        return int(session.query("SELECT count(*) AS n FROM tallies_pending")[0]["n"])


def tool_runs_timed(store: SqliteStore, tenant: Tenant) -> int:
    with store._reader() as session:
        rows = session.query(
            "SELECT sum(count) AS n FROM latency_days WHERE tenant_id = :tenant AND metric = 'tool_call'",
            {"tenant": tenant.id},
        )
    return int(rows[0]["n"])

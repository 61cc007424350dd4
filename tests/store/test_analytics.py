"""Analytics on every backend: per day, per tool, tokens per model and latency percentiles,
from the daily rollups the database keeps, alike everywhere, for one tenant or for all."""

from __future__ import annotations

import json
from datetime import UTC, timedelta, tzinfo
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from agent_core.clock import utcnow
from agent_core.domain import ChatMessage, JsonDict, Tenant, ToolCallRequest, Usage
from agent_core.errors import InvalidInputError
from agent_core.store.analytics import AnalyticsQuery, bucket_of, bucket_value, percentiles
from agent_core.store.base import Store, TenantWriter, TurnOutcome


def turn(
    store: Store,
    tenant: Tenant,
    latency: float,
    tool: str | None = None,
    fails: bool = False,
    zone: tzinfo = UTC,
) -> None:
    started = store.start_turn(tenant.id, None, "Hello", zone=zone)
    if tool is not None:
        call = ToolCallRequest(f"call_{uuid4().hex}", tool, json.dumps({"name": "Ana"}))

        def run(writer: TenantWriter) -> JsonDict:
            return {"ok": True}

        store.run_tool_call(tenant.id, started.conversation_id, started.turn_id, call, run)
    outcome = TurnOutcome(
        "failed" if fails else "succeeded",
        None,
        "openai:gpt-test",
        Usage(100, 20),
        1,
        latency,
        model_ms=latency / 2,
        tools_ms=10.0,
    )
    reply = None if fails else ChatMessage("assistant", "Done.")
    store.finish_turn(tenant.id, started.conversation_id, started.turn_id, reply, outcome)


def bucketed(exact: dict[int, float]) -> dict[int, float]:
    return {p: bucket_value(bucket_of(ms)) for p, ms in exact.items()}


def test_a_tenants_day_tools_tokens_and_percentiles(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    for latency in range(1, 11):
        turn(store, tenant, latency * 100.0, "book_tour" if latency <= 3 else None, fails=latency == 10)
    turn(store, other_tenant, 5000.0, "take_note")
    today = utcnow().date()
    result = store.analytics(AnalyticsQuery(tenant.id, today, today))
    [day] = result.days
    assert (day.day, day.conversations, day.turns, day.failed_turns, day.tokens) == (today, 10, 10, 1, 1200)
    assert [(t.name, t.calls, t.failed) for t in result.tools] == [("book_tour", 3, 0)]
    assert result.succeeded("book_tour") == 3
    assert result.tokens_by_model == {"openai:gpt-test": (1000, 200)}
    # The latency at rank ceil(p x n), as its bucket's value: within 2.2% of it.
    assert result.turn_latency_ms == bucketed({50: 500.0, 90: 900.0, 99: 1000.0})
    assert result.split_latency_ms == {
        "model": bucketed({50: 250.0, 90: 450.0, 99: 500.0}),
        "tools": bucketed({50: 10.0, 90: 10.0, 99: 10.0}),
        "store": bucketed({50: 240.0, 90: 440.0, 99: 490.0}),
    }
    assert result.turn_latency_ms[90] == pytest.approx(900.0, rel=0.022)
    assert result.cost({"gpt-test": (1.0, 2.0)}) == pytest.approx(0.0014)
    assert result.cost({}) is None
    everyone = store.analytics(AnalyticsQuery(None, today, today))  # other tests' tenants too
    assert everyone.turns >= 11
    assert {"book_tour", "take_note"} <= {t.name for t in everyone.tools}
    earlier = store.analytics(AnalyticsQuery(tenant.id, today - timedelta(days=9), today - timedelta(days=1)))
    assert (earlier.days, earlier.tools, earlier.turn_latency_ms) == ([], [], {})


def test_a_turn_and_its_tool_calls_count_on_the_day_it_started_where_its_tenant_is(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    # 14 hours ahead of UTC and 12 behind: whatever the hour, one of them is not on UTC's date.
    ahead, behind = ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")
    now = utcnow()
    turn(store, tenant, 100.0, "book_tour", zone=ahead)
    turn(store, other_tenant, 100.0, "take_note", zone=behind)
    for who, zone, tool in ((tenant, ahead, "book_tour"), (other_tenant, behind, "take_note")):
        local = now.astimezone(zone).date()
        around = store.analytics(AnalyticsQuery(who.id, local - timedelta(days=1), local + timedelta(days=1)))
        assert [(d.day, d.turns, d.conversations) for d in around.days] == [(local, 1, 1)]
        there = store.analytics(AnalyticsQuery(who.id, local, local))
        assert [(t.name, t.calls) for t in there.tools] == [(tool, 1)]
        assert there.tokens_by_model == {"openai:gpt-test": (100, 20)}
        assert sum(there.tool_latency_ms.values()) > 0


def test_a_range_that_makes_no_sense_is_refused(store: Store, tenant: Tenant) -> None:
    today = utcnow().date()
    with pytest.raises(InvalidInputError, match="first day is after"):
        store.analytics(AnalyticsQuery(tenant.id, today, today - timedelta(days=1)))
    with pytest.raises(InvalidInputError, match="at most 366 days"):
        store.analytics(AnalyticsQuery(tenant.id, today - timedelta(days=400), today))


def test_a_turn_counts_when_it_starts_and_its_outcome_when_it_ends(store: Store, tenant: Tenant) -> None:
    today = utcnow().date()
    running = store.start_turn(tenant.id, None, "Hello")
    during = store.analytics(AnalyticsQuery(tenant.id, today, today))
    assert (during.turns, during.failed_turns, during.turn_latency_ms) == (1, 0, {})
    # A second turn of the conversation the same day: one conversation, two turns.
    down = TurnOutcome("failed", None, "m", Usage(), 1, 40.0, "down")
    store.finish_turn(tenant.id, running.conversation_id, running.turn_id, None, down)
    again = store.start_turn(tenant.id, running.conversation_id, "Hello", retry_of=running.turn_id)
    store.finish_turn(
        tenant.id,
        running.conversation_id,
        again.turn_id,
        ChatMessage("assistant", "Hi!"),
        TurnOutcome("succeeded", "Hi!", "m", Usage(3, 4), 1, 60.0),
    )
    [day] = store.analytics(AnalyticsQuery(tenant.id, today, today)).days
    assert (day.conversations, day.turns, day.failed_turns, day.tokens) == (1, 2, 1, 7)


def test_a_turn_closed_by_the_reaper_counts_as_failed(store: Store, tenant: Tenant) -> None:
    store.start_turn(tenant.id, None, "Hello", lease_seconds=0.0)
    assert len(store.fail_expired_turns("the server stopped", [])) == 1
    today = utcnow().date()
    [day] = store.analytics(AnalyticsQuery(tenant.id, today, today)).days
    assert (day.turns, day.failed_turns) == (1, 1)


def test_percentiles_come_from_the_bucket_at_each_rank() -> None:
    assert percentiles([]) == {}
    assert percentiles([(bucket_of(5.0), 98), (bucket_of(700.0), 2)]) == {
        50: bucket_value(bucket_of(5.0)),
        90: bucket_value(bucket_of(5.0)),
        99: bucket_value(bucket_of(700.0)),
    }
    for ms in (0.0, 0.5, 3.0, 120.0, 86_400_000.0):
        assert bucket_value(bucket_of(ms)) == pytest.approx(max(ms, 0.01), rel=0.022)

"""The conversation log on every backend: what each conversation did, searched by text,
customer, date, outcome and tool, paged, and never another tenant's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from agent_core.clock import utcnow
from agent_core.domain import ChatMessage, JsonDict, Tenant, ToolCallRequest, Usage
from agent_core.errors import InvalidInputError
from agent_core.store.base import Store, TenantWriter, ToolFailure, TurnOutcome
from agent_core.store.conversation_log import ConversationQuery, Outcome
from agent_core.store.sql_store import SqlStore
from agent_core.store.sqlite import SqliteStore
from agent_core.tools import default_registry
from tests.conftest import add_tenant


def converse(
    store: Store,
    tenant: Tenant,
    message: str,
    tool: str | None = None,
    fails: bool = False,
    tool_fails: bool = False,
    declared: Outcome | None = None,
) -> str:
    """One conversation of one turn; `tool` runs with a customer's name, and succeeds unless
    `tool_fails` (the turn is answered either way unless `fails`). Its outcome is `declared`,
    or the one our tool of that name declares."""
    turn = store.start_turn(tenant.id, None, message)
    if tool is not None:
        call = ToolCallRequest(f"call_{uuid4().hex}", tool, json.dumps({"name": "Ana Silva"}))

        def run(writer: TenantWriter) -> JsonDict:
            if tool_fails:
                raise ToolFailure("the date is in the past")
            return {"ok": True}

        ours = default_registry().tool(tool)
        if declared is None and ours is not None:
            declared = ours.outcome
        store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, call, run, outcome=declared)
    status = "failed" if fails else "succeeded"
    outcome = TurnOutcome(
        status, None if fails else "Done.", "m", Usage(10, 5), 1, 120.0, "down" if fails else None
    )
    reply = None if fails else ChatMessage("assistant", "Done.")
    store.finish_turn(tenant.id, turn.conversation_id, turn.turn_id, reply, outcome)
    return str(turn.conversation_id)


def ids(store: Store, tenant: Tenant, **query: object) -> set[str]:
    return {str(c.id) for c in store.search_conversations(tenant.id, ConversationQuery(**query)).rows}  # type: ignore[arg-type]


def test_each_conversation_says_what_it_did(store: Store, tenant: Tenant) -> None:
    booked = converse(store, tenant, "Book Ana Silva in Porto", "book_tour")
    failed = converse(store, tenant, "Hello?", fails=True)
    page = store.search_conversations(tenant.id, ConversationQuery())
    assert page.total == 2
    assert [str(c.id) for c in page.rows] == [failed, booked]
    latest, first = page.rows
    assert (first.first_message, first.turns, first.failed_turns, first.tokens) == (
        "Book Ana Silva in Porto",
        1,
        0,
        15,
    )
    assert first.outcomes == (Outcome.BOOKED,)
    assert first.duration_ms == pytest.approx(120.0)
    assert (latest.failed_turns, latest.outcomes) == (1, ())


def test_a_tool_call_marks_its_conversation_by_the_outcome_its_tool_declares_not_by_its_name(
    store: Store, tenant: Tenant
) -> None:
    # A tool added later (a class booking) needs no change of the summary's SQL.
    booked = converse(store, tenant, "Book yoga for Ana Silva", "book_class", declared=Outcome.BOOKED)
    looked = converse(store, tenant, "When is my class?", "find_classes")
    by_id = {str(c.id): c for c in store.search_conversations(tenant.id, ConversationQuery()).rows}
    assert by_id[booked].outcomes == (Outcome.BOOKED,)
    assert by_id[looked].outcomes == ()
    assert ids(store, tenant, outcome=Outcome.BOOKED) == {booked}


def test_the_log_is_searched_by_text_customer_outcome_tool_and_date(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    booked = converse(store, tenant, "Book Ana Silva in Porto", "book_tour")
    noted = converse(store, tenant, "Please note that ZOË likes boats", "take_note")
    failed = converse(store, tenant, "Is anyone there?", fails=True)
    converse(store, other_tenant, "Book Ana Silva in Porto", "book_tour")
    assert ids(store, tenant, text="porto") == {booked}
    assert ids(store, tenant, text="zoë") == {noted}
    assert ids(store, tenant, text="done.") == {booked, noted}  # replies are searched too
    assert ids(store, tenant, customer="ana silva") == {booked, noted}
    assert ids(store, tenant, outcome=Outcome.BOOKED) == {booked}
    assert ids(store, tenant, outcome=Outcome.NOTED) == {noted}
    assert ids(store, tenant, outcome=Outcome.FAILED) == {failed}
    assert ids(store, tenant, tool="take_note") == {noted}
    today = utcnow().date()
    assert ids(store, tenant, date_from=today, date_to=today) == {booked, noted, failed}
    assert ids(store, tenant, date_to=today - timedelta(days=1)) == set()
    assert ids(store, tenant, text="100%_") == set()


def test_a_failed_tool_call_counts_as_failed_even_when_its_message_was_answered(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    refused = converse(store, tenant, "Book Ana Silva yesterday", "book_tour", tool_fails=True)
    converse(store, tenant, "Book Ana Silva in Porto", "book_tour")
    unanswered = converse(store, tenant, "Is anyone there?", fails=True)
    converse(store, other_tenant, "Book Ana Silva yesterday", "book_tour", tool_fails=True)
    assert ids(store, tenant, outcome=Outcome.FAILED) == {refused, unanswered}


def test_the_log_pages_and_counts(store: Store, tenant: Tenant) -> None:
    made = [converse(store, tenant, f"Message {n}") for n in range(5)]
    first = store.search_conversations(tenant.id, ConversationQuery(limit=2))
    last = store.search_conversations(tenant.id, ConversationQuery(limit=2, offset=4))
    beyond = store.search_conversations(tenant.id, ConversationQuery(limit=2, offset=10))
    assert (first.total, last.total, beyond.total) == (5, 5, 5)
    assert [str(c.id) for c in first.rows] == made[:-3:-1]
    assert [str(c.id) for c in last.rows] == [made[0]]
    assert beyond.rows == []


def test_a_range_of_days_that_ends_before_it_starts_finds_nothing(store: Store, tenant: Tenant) -> None:
    converse(store, tenant, "Hello")
    today = utcnow().date()
    assert len(ids(store, tenant, date_from=today - timedelta(days=1), date_to=today)) == 1
    assert ids(store, tenant, date_from=today, date_to=today - timedelta(days=1)) == set()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (ConversationQuery(limit=0), "page size"),
        (ConversationQuery(offset=-1), "offset"),
        (ConversationQuery(text="x" * 201), "limited"),
    ],
)
def test_a_query_that_makes_no_sense_is_refused(
    store: Store, tenant: Tenant, query: ConversationQuery, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        store.search_conversations(tenant.id, query)


def test_a_failure_answered_by_a_retry_no_longer_counts(store: Store, tenant: Tenant) -> None:
    failed = store.start_turn(tenant.id, None, "Hello?")
    down = TurnOutcome("failed", None, "m", Usage(), 1, 5.0, "down")
    store.finish_turn(tenant.id, failed.conversation_id, failed.turn_id, None, down)
    assert ids(store, tenant, outcome=Outcome.FAILED) == {str(failed.conversation_id)}
    retry = store.start_turn(tenant.id, failed.conversation_id, "Hello?", retry_of=failed.turn_id)
    answered = TurnOutcome("succeeded", "Hi!", "m", Usage(), 1, 5.0, None)
    store.finish_turn(
        tenant.id, failed.conversation_id, retry.turn_id, ChatMessage("assistant", "Hi!"), answered
    )
    [row] = store.search_conversations(tenant.id, ConversationQuery()).rows
    assert (row.turns, row.failed_turns) == (2, 0)
    assert ids(store, tenant, outcome=Outcome.FAILED) == set()


def test_each_conversation_says_where_it_came_from_and_who_started_it(store: Store, tenant: Tenant) -> None:
    from agent_core.domain import Channel, TurnOrigin

    api = store.start_turn(tenant.id, None, "Hi from a phone", origin=TurnOrigin(Channel.API, "key:gateway"))
    dashboard = store.start_turn(
        tenant.id, None, "Hi", origin=TurnOrigin(Channel.DASHBOARD, "ana@example.com")
    )
    older = store.start_turn(tenant.id, None, "Before channels were kept")
    rows = {str(c.id): c for c in store.search_conversations(tenant.id, ConversationQuery()).rows}
    assert (rows[str(api.conversation_id)].channel, rows[str(api.conversation_id)].started_by) == (
        Channel.API,
        "key:gateway",
    )
    assert rows[str(dashboard.conversation_id)].channel is Channel.DASHBOARD
    assert (rows[str(older.conversation_id)].channel, rows[str(older.conversation_id)].started_by) == (
        Channel.UNKNOWN,
        "",
    )
    assert ids(store, tenant, channel=Channel.API) == {str(api.conversation_id)}
    assert ids(store, tenant, channel=Channel.UNKNOWN) == {str(older.conversation_id)}


def test_a_spoken_message_is_marked_and_its_conversation_began_by_voice(store: Store, tenant: Tenant) -> None:
    from agent_core.domain import Channel, TurnOrigin

    said = store.start_turn(
        tenant.id, None, "Book Ana", origin=TurnOrigin(Channel.API, "key:phone", spoken=True)
    )
    typed = store.start_turn(tenant.id, None, "Book Ana", origin=TurnOrigin(Channel.API, "key:phone"))
    [spoken] = store.list_turns(tenant.id, said.conversation_id)
    [written] = store.list_turns(tenant.id, typed.conversation_id)
    assert (spoken.spoken, written.spoken) == (True, False)
    # The log says how each conversation began, and finds those begun by voice.
    rows = {c.id: c.channel for c in store.search_conversations(tenant.id, ConversationQuery()).rows}
    assert (rows[said.conversation_id], rows[typed.conversation_id]) == (Channel.VOICE, Channel.API)
    assert ids(store, tenant, channel=Channel.VOICE) == {str(said.conversation_id)}


def test_a_turn_whose_process_died_counts_as_unanswered_once_the_reaper_closes_it(
    store: Store, tenant: Tenant
) -> None:
    died = store.start_turn(tenant.id, None, "Book a boat for Li Wei", lease_seconds=0.0)
    [row] = store.search_conversations(tenant.id, ConversationQuery()).rows
    assert (row.turns, row.failed_turns, row.first_message) == (1, 0, "Book a boat for Li Wei")
    assert [t.turn_id for t in store.fail_expired_turns("the server stopped", [])] == [died.turn_id]
    assert ids(store, tenant, outcome=Outcome.FAILED) == {str(died.conversation_id)}


def test_a_long_conversation_sums_exactly_what_its_turns_did(store: Store, tenant: Tenant) -> None:
    """Each turn changes the summary by its own difference (migration 0025): answered,
    failed, retried, closed by the reaper and failed again, it still adds up to the turns."""
    from agent_core.domain import Channel, TurnOrigin

    def turn(message: str, status: str, usage: Usage, ms: float, **start: object) -> UUID:
        started = store.start_turn(tenant.id, conversation, message, **start)  # type: ignore[arg-type]
        reply = ChatMessage("assistant", "Done.") if status == "succeeded" else None
        outcome = TurnOutcome(
            status, reply.content if reply else None, "m", usage, 1, ms, None if reply else "down"
        )
        store.finish_turn(tenant.id, started.conversation_id, started.turn_id, reply, outcome)
        return started.turn_id

    first = store.start_turn(tenant.id, None, "Book Ana", origin=TurnOrigin(Channel.API, "key:phone"))
    conversation = first.conversation_id
    done = TurnOutcome("succeeded", "Done.", "m", Usage(10, 5), 1, 100.0)
    store.finish_turn(tenant.id, conversation, first.turn_id, ChatMessage("assistant", "Done."), done)
    failed = turn("And Li?", "failed", Usage(3, 0), 20.0)
    turn("And Li?", "succeeded", Usage(7, 1), 50.0, retry_of=failed)
    died = store.start_turn(tenant.id, conversation, "Hello?", lease_seconds=0.0)
    assert [t.turn_id for t in store.fail_expired_turns("the server stopped", [])] == [died.turn_id]
    turn("Anyone?", "failed", Usage(2, 2), 30.0, origin=TurnOrigin(Channel.DASHBOARD, "ana@example.com"))

    [row] = store.search_conversations(tenant.id, ConversationQuery()).rows
    # Five turns; the failure that was retried is answered, the reaped one and the last are not.
    assert (row.turns, row.failed_turns, row.tokens) == (5, 2, 15 + 3 + 8 + 4)
    assert row.duration_ms == pytest.approx(100.0 + 20.0 + 50.0 + 30.0)
    # How it began is its first turn's, whatever came through later.
    assert (row.channel, row.started_by) == (Channel.API, "key:phone")


@pytest.mark.parametrize(
    "text",
    ['say "hi"', "#4711-2", "50% off", "a_b", "Zoë", "ÉTÉ", "ok", "x"],
)
def test_text_search_finds_any_substring_whatever_its_characters(
    store: Store, tenant: Tenant, text: str
) -> None:
    wanted = converse(store, tenant, f"Note: {text.lower()} — thanks")
    converse(store, tenant, "Nothing to see")
    assert ids(store, tenant, text=text) == {wanted}
    assert ids(store, tenant, text=text.upper()) == {wanted}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """The stores that search with SQL of their own (Supabase's search is its RPC)."""
    if request.param == "sqlite":
        sqlite = SqliteStore(tmp_path / "store.sqlite3")
        yield sqlite
        sqlite.close()
    else:
        yield request.getfixturevalue("postgres_store")


def test_a_text_in_very_many_conversations_is_paged_newest_first_and_counted_up_to_a_bound(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = add_tenant(sql_store, f"Broad {uuid4().hex[:6]}", "You are Kim.")
    monkeypatch.setattr(sql_store, "broad_search", 3)
    with_tour = [converse(sql_store, tenant, f"A tour please, number {n}") for n in range(4)]
    booked = converse(sql_store, tenant, "Book the boat tour for Ana Silva", "book_tour")
    converse(sql_store, tenant, "Just saying hello")
    page = sql_store.search_conversations(tenant.id, ConversationQuery(text="tour", limit=2))
    assert (page.total, page.at_least) == (3, True)
    assert [str(c.id) for c in page.rows] == [booked, with_tour[3]]
    rest = sql_store.search_conversations(tenant.id, ConversationQuery(text="TOUR", limit=10, offset=2))
    assert [str(c.id) for c in rest.rows] == with_tour[2::-1]
    # Other filters narrow a broad text as they narrow any other.
    narrowed = sql_store.search_conversations(
        tenant.id, ConversationQuery(text="tour", outcome=Outcome.BOOKED)
    )
    assert ([str(c.id) for c in narrowed.rows], narrowed.total, narrowed.at_least) == ([booked], 1, False)
    rare = sql_store.search_conversations(tenant.id, ConversationQuery(text="number 2"))
    assert ([str(c.id) for c in rare.rows], rare.total, rare.at_least) == ([with_tour[2]], 1, False)

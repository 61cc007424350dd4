"""The store contract: every backend (SQLite, PostgreSQL, Supabase) behaves the same."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from uuid import uuid4

import pytest

from agent_core.clock import utcnow
from agent_core.domain import (
    ChatMessage,
    Event,
    IdempotencyClaim,
    JsonDict,
    KeyState,
    OutboxEvent,
    RunStatus,
    Tenant,
    ToolCallRecord,
    ToolCallRequest,
    ToolCallStatus,
    Usage,
)
from agent_core.errors import ConversationBusyError, InvalidInputError, NotFoundError, PromptChangedError
from agent_core.store.base import (
    Store,
    TenantWriter,
    ToolExecution,
    ToolFailure,
    TurnOutcome,
    TurnStart,
)
from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from agent_core.store.records import RecordQuery
from tests.conftest import add_tenant, audit_entry, save_contact


def book(name: str = "John Smith") -> ToolCallRequest:
    return ToolCallRequest(f"call_{uuid4().hex}", "book_tour", json.dumps({"name": name}))


def add_tour(writer: TenantWriter) -> JsonDict:
    tour, created = writer.add_tour("John Smith", date(2027, 3, 15), "Paris")
    return {"booking_id": str(tour.id), "created": created}


def test_demo_tenants_are_seeded(store: Store) -> None:
    ids = {t.id for t in store.list_tenants()}
    assert {DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID} <= ids
    demo = store.get_tenant(DEMO_TENANT_ID)
    assert demo is not None
    assert demo.name == "Demo Tours"


def test_unknown_tenant_is_none(store: Store) -> None:
    assert store.get_tenant(uuid4()) is None


def test_tenant_names_are_unique_case_insensitively(store: Store, tenant: Tenant) -> None:
    with pytest.raises(InvalidInputError, match="already exists"):
        add_tenant(store, tenant.name.upper(), "prompt")


def test_a_turn_stores_the_user_message_first(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "Hello")
    assert store.load_history(tenant.id, turn.conversation_id, 10) == [ChatMessage("user", "Hello")]


def test_continuing_a_conversation_of_another_tenant_is_not_found(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    turn = store.start_turn(tenant.id, None, "Hello")
    with pytest.raises(NotFoundError):
        store.start_turn(other_tenant.id, turn.conversation_id, "Let me in")
    with pytest.raises(NotFoundError):
        store.start_turn(tenant.id, uuid4(), "Unknown conversation")
    assert store.list_messages(other_tenant.id, turn.conversation_id) == []


def test_history_is_the_latest_messages_in_order(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "one")
    for text in ("two", "three", "four"):
        store.append_message(tenant.id, turn.conversation_id, turn.turn_id, ChatMessage("assistant", text))
    history = store.load_history(tenant.id, turn.conversation_id, 2)
    assert [m.content for m in history] == ["three", "four"]


def test_tool_call_messages_round_trip(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "book it")
    call = book()
    assistant = ChatMessage("assistant", "", tool_calls=(call,))
    store.append_message(tenant.id, turn.conversation_id, turn.turn_id, assistant)
    store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, call, add_tour)
    history = store.load_history(tenant.id, turn.conversation_id, 10)
    assert history[1] == assistant
    assert history[2].role == "tool"
    assert history[2].tool_call_id == call.id
    assert json.loads(history[2].content)["ok"] is True


def test_a_tool_call_runs_at_most_once(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "book it")
    call = book()
    first, replayed_first = store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, call, add_tour)
    second, replayed_second = store.run_tool_call(
        tenant.id, turn.conversation_id, turn.turn_id, call, add_tour
    )
    assert (replayed_first, replayed_second) == (False, True)
    assert second.result == first.result
    assert store.list_tours(tenant.id).total == 1


def test_the_model_reads_the_same_tool_result_text_on_every_backend_and_on_replay(
    store: Store, tenant: Tenant
) -> None:
    # Keys out of alphabetical order and non-ASCII text: what jsonb would reorder or escape.
    result = {"zeta": "Zoë", "alpha": [3, 1], "middle": {"b": None, "a": True}}
    expected = '{"ok": true, "result": {"zeta": "Zoë", "alpha": [3, 1], "middle": {"b": null, "a": true}}}'
    turn = store.start_turn(tenant.id, None, "do it")
    call = book()
    first, _ = store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, call, lambda _: result)
    again, replayed = store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, call, lambda _: {})
    assert replayed
    assert first.model_content == again.model_content == expected
    tool_messages = [
        m.content for m in store.list_messages(tenant.id, turn.conversation_id) if m.role == "tool"
    ]
    assert tool_messages == [expected, expected]
    [stored] = store.list_tool_calls(tenant.id, turn.conversation_id)
    assert stored.model_content == expected


def test_the_same_call_id_in_two_tenants_runs_in_each(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    call = book()
    for owner in (tenant, other_tenant):
        turn = store.start_turn(owner.id, None, "book it")
        _, replayed = store.run_tool_call(owner.id, turn.conversation_id, turn.turn_id, call, add_tour)
        assert not replayed
    assert store.list_tours(tenant.id).total == 1
    assert store.list_tours(other_tenant.id).total == 1


def test_a_refused_tool_call_writes_nothing_even_after_a_partial_write(store: Store, tenant: Tenant) -> None:
    def write_then_refuse(writer: TenantWriter) -> JsonDict:
        writer.add_tour("Half Written", date(2027, 1, 1), "Nowhere")
        raise ToolFailure("changed my mind")

    turn = store.start_turn(tenant.id, None, "book it")
    record, _ = store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, book(), write_then_refuse)
    assert record.status is ToolCallStatus.FAILED
    assert record.error == "changed my mind"
    assert store.list_tours(tenant.id).total == 0
    assert store.list_tool_calls(tenant.id, turn.conversation_id) == [record]


def test_an_unexpected_tool_error_rolls_everything_back(store: Store, tenant: Tenant) -> None:
    def crash(writer: TenantWriter) -> JsonDict:
        writer.add_tour("Crash Test", date(2027, 1, 1), "Nowhere")
        raise RuntimeError("bug")

    turn = store.start_turn(tenant.id, None, "book it")
    call = book()
    with pytest.raises(RuntimeError):
        store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, call, crash)
    assert store.list_tours(tenant.id).total == 0
    assert store.list_tool_calls(tenant.id, turn.conversation_id) == []
    assert [m.role for m in store.list_messages(tenant.id, turn.conversation_id)] == ["user"]


def test_contacts_are_matched_by_name_case_insensitively(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "contact")
    results = []
    for name, email, phone in (
        ("Sarah Jones", "sarah@example.com", None),
        ("sarah  JONES", None, "+1-555-0123"),
    ):

        def upsert(
            writer: TenantWriter, name: str = name, email: str | None = email, phone: str | None = phone
        ) -> JsonDict:
            _, created = writer.upsert_contact(name, email, phone)
            return {"created": created}

        record, _ = store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, book(), upsert)
        results.append(record.result)
    assert results == [{"created": True}, {"created": False}]
    contacts = store.list_contacts(tenant.id)
    assert contacts.total == 1
    only = contacts.rows[0]
    assert (only.email, only.phone) == ("sarah@example.com", "+1-555-0123")


def test_contacts_match_whatever_the_accents_case_and_spacing(store: Store, tenant: Tenant) -> None:
    first = save_contact(store, tenant.id, "José  Núñez", None, None)
    again = save_contact(store, tenant.id, "jose nunez", "jose@example.com", None)
    assert again.id == first.id
    assert (again.name, again.email) == ("jose nunez", "jose@example.com")
    assert store.list_contacts(tenant.id).total == 1


def test_an_email_or_phone_on_file_finds_its_contact_which_keeps_its_name(
    store: Store, tenant: Tenant
) -> None:
    bob = save_contact(store, tenant.id, "Bob Lee", "bob@example.com", "+44 20 7946 0958")
    by_email = save_contact(store, tenant.id, "Bob", " BOB@Example.com", "+1 555 0100")
    assert (by_email.id, by_email.name, by_email.phone) == (bob.id, "Bob Lee", "+1 555 0100")
    by_phone = save_contact(store, tenant.id, "lee", "bob@example.org", "001 (555) 0100")
    assert (by_phone.id, by_phone.name, by_phone.email) == (bob.id, "Bob Lee", "bob@example.org")
    assert store.list_contacts(tenant.id).total == 1


def test_an_email_or_phone_on_file_under_another_name_is_not_overwritten(
    store: Store, tenant: Tenant
) -> None:
    # A model invented a phone for Ana Silva that Sarah Jones has: Sarah keeps her details.
    save_contact(store, tenant.id, "Sarah Jones", "sarah@example.com", "+1 555 0123")
    before = store.list_contacts(tenant.id).rows
    with pytest.raises(ToolFailure, match="that phone number is on file for Sarah Jones, not Ana Silva"):
        save_contact(store, tenant.id, "Ana Silva", "ana@example.com", "+1-555-0123")
    with pytest.raises(ToolFailure, match="that email is on file for Sarah Jones, not Sara Johns"):
        save_contact(store, tenant.id, "Sara Johns", "SARAH@example.com", None)
    assert store.list_contacts(tenant.id).rows == before


def test_details_of_two_different_contacts_are_refused_and_nothing_is_written(
    store: Store, tenant: Tenant
) -> None:
    save_contact(store, tenant.id, "Bob Lee", "bob@example.com", None)
    save_contact(store, tenant.id, "Sarah Jones", None, "+1 555 0123")
    before = store.list_contacts(tenant.id).rows
    with pytest.raises(ToolFailure, match=r"more than one contact \(Bob Lee and Sarah Jones\)"):
        save_contact(store, tenant.id, "Sarah Jones", "bob@example.com", None)
    with pytest.raises(ToolFailure, match="ask the caller which person"):
        save_contact(store, tenant.id, "Bob Lee", None, "+15550123")
    assert store.list_contacts(tenant.id).rows == before


def test_contacts_of_another_tenant_are_never_matched(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = save_contact(store, other_tenant.id, "Bob Lee", "bob@example.com", "+1 555 0100")
    ours = save_contact(store, tenant.id, "Robert Lee", "bob@example.com", "+1 555 0100")
    assert ours.id != theirs.id
    assert [c.name for c in store.list_contacts(other_tenant.id).rows] == ["Bob Lee"]


def test_records_are_scoped_to_their_tenant(store: Store, tenant: Tenant, other_tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "book")
    store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, book(), add_tour)
    assert store.list_tours(tenant.id).total == 1
    assert store.list_tours(other_tenant.id).total == 0
    assert store.list_conversations(other_tenant.id) == []
    assert [c.id for c in store.list_conversations(tenant.id)] == [turn.conversation_id]


def test_a_note_shows_the_customer_of_its_conversations_latest_booking(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "book and note")

    def run(call: ToolCallRequest, write: Callable[[TenantWriter], object]) -> None:
        store.run_tool_call(
            tenant.id, turn.conversation_id, turn.turn_id, call, lambda w: {"id": str(write(w))}
        )

    def note(content: str) -> None:
        call = ToolCallRequest(f"call_{uuid4().hex}", "take_note", json.dumps({"content": content}))
        run(call, lambda writer: writer.add_note(content).id)

    note("Travels with a dog")  # before any booking: nobody's yet
    for name in ("John Smith", "Ana Silva"):

        def booking(writer: TenantWriter, name: str = name) -> object:
            return writer.add_tour(name, date(2027, 3, 15), "Paris")[0].id

        run(book(name), booking)
    note("Vegetarian")
    elsewhere = store.start_turn(tenant.id, None, "just a note")
    store.run_tool_call(
        tenant.id,
        elsewhere.conversation_id,
        elsewhere.turn_id,
        ToolCallRequest("call_other", "take_note", "{}"),
        lambda writer: {"id": str(writer.add_note("Call back after 5").id)},
    )
    shown = {n.content: n.customer_name for n in store.list_notes(tenant.id).rows}
    assert shown == {"Travels with a dog": None, "Vegetarian": "Ana Silva", "Call back after 5": None}
    found = store.list_notes(tenant.id, RecordQuery(search="ana SILVA")).rows
    assert [n.content for n in found] == ["Vegetarian"]
    by_customer = store.list_notes(tenant.id, RecordQuery(sort="customer_name")).rows
    assert by_customer[0].customer_name == "Ana Silva"  # the notes of nobody's last


def test_finishing_a_turn_stores_the_reply(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "Hello")
    outcome = TurnOutcome("succeeded", "Hi!", "scripted", Usage(3, 4), 1, 1.5)
    store.finish_turn(tenant.id, turn.conversation_id, turn.turn_id, ChatMessage("assistant", "Hi!"), outcome)
    summary = store.list_conversations(tenant.id)[0]
    assert (summary.message_count, summary.last_message) == (2, "Hello")


def test_prompt_versions_are_kept(store: Store, tenant: Tenant) -> None:
    store.update_system_prompt(tenant.id, "Second prompt", "ops@example.com", audit=audit_entry(), replaces=1)
    versions = store.list_prompt_versions(tenant.id)
    assert [(v.version, v.prompt) for v in versions] == [(2, "Second prompt"), (1, tenant.system_prompt)]
    current = store.get_tenant(tenant.id)
    assert current is not None
    assert current.system_prompt == "Second prompt"
    with pytest.raises(NotFoundError):
        store.update_system_prompt(uuid4(), "x", "ops", audit=audit_entry(), replaces=0)


def test_a_version_is_published_only_over_the_version_it_names(store: Store, tenant: Tenant) -> None:
    store.update_system_prompt(tenant.id, "Kim's text", "kim", audit=audit_entry(), replaces=1)
    with pytest.raises(PromptChangedError, match="version 2 of the prompt went live after version 1"):
        store.update_system_prompt(tenant.id, "Lee's text", "lee", audit=audit_entry(), replaces=1)
    assert [(v.version, v.prompt, v.author) for v in store.list_prompt_versions(tenant.id)] == [
        (2, "Kim's text", "kim"),
        (1, tenant.system_prompt, "created"),
    ]
    current = store.get_tenant(tenant.id)
    assert current is not None
    assert current.system_prompt == "Kim's text"


def _event(tenant: Tenant, name: str = "tour.booked") -> Event:
    return Event(uuid4(), tenant.id, name, {"name": "Zoë"}, utcnow())


def test_events_and_runs_are_listed_per_tenant_after_a_cursor(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    first, second, foreign = _event(tenant), _event(tenant, "note.taken"), _event(other_tenant)
    store.events.save(
        [OutboxEvent(first, ("confirm",)), OutboxEvent(second, ()), OutboxEvent(foreign, ("confirm",))]
    )
    records = store.events.find(tenant.id)
    assert [r.event.id for r in records] == [first.id, second.id]
    assert records[0].event.payload == {"name": "Zoë"}
    assert [(r.listener, r.status) for r in records[0].runs] == [("confirm", RunStatus.PENDING)]
    later = store.events.find(tenant.id, after_seq=records[0].event.seq)
    assert [r.event.id for r in later] == [second.id]
    assert store.events.get(other_tenant.id, first.id) is None


def test_listener_runs_are_claimed_once_and_can_be_reset_after_failure(store: Store, tenant: Tenant) -> None:
    event = _event(tenant)
    store.events.save([OutboxEvent(event, ("confirm",))])
    assert store.events.pending_runs()[-1] == (store.events.find(tenant.id)[0].event, "confirm")
    assert store.events.claim_run(tenant.id, event.id, "confirm")
    assert not store.events.claim_run(tenant.id, event.id, "confirm")
    store.events.finish_run(tenant.id, event.id, "confirm", RunStatus.FAILED, 3, "boom", 12.5)
    record = store.events.get(tenant.id, event.id)
    assert record is not None
    assert (record.runs[0].status, record.runs[0].attempts, record.runs[0].last_error) == (
        RunStatus.FAILED,
        3,
        "boom",
    )
    assert store.events.reset_failed_runs(tenant.id, event.id, audit=audit_entry()) == ["confirm"]
    assert store.events.claim_run(tenant.id, event.id, "confirm")


def test_outbox_messages_are_queued_once_per_event(store: Store, tenant: Tenant) -> None:
    event = _event(tenant)
    store.events.save([OutboxEvent(event, ())])
    assert store.events.add_outbox(tenant.id, "booking_confirmation", event.id, {"to": "Zoë"})
    assert not store.events.add_outbox(tenant.id, "booking_confirmation", event.id, {"to": "Zoë"})
    outbox = store.events.outbox(tenant.id)
    assert [(m.kind, m.payload) for m in outbox] == [("booking_confirmation", {"to": "Zoë"})]


def _seed_records(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "seed")

    def write(writer: TenantWriter) -> JsonDict:
        for name, day, place in (
            ("Zoë Martin", date(2027, 1, 5), "Rome"),
            ("John Smith", date(2027, 3, 15), "Paris"),
            ("Ana 100%_Silva", date(2027, 2, 1), "Porto"),
        ):
            writer.add_tour(name, day, place)
        writer.add_note("Prefers mornings")
        writer.add_note("Vegetarian, no nuts")
        writer.upsert_contact("Sarah Jones", "sarah@example.com", None)
        writer.upsert_contact("bob Brown", None, "+1 555 0100")
        return {}

    store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, book(), write)


def test_record_search_is_case_insensitive_and_literal(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    _seed_records(store, tenant)
    assert [t.customer_name for t in store.list_tours(tenant.id, RecordQuery(search="ZOË")).rows] == [
        "Zoë Martin"
    ]
    assert [t.location for t in store.list_tours(tenant.id, RecordQuery(search="par")).rows] == ["Paris"]
    assert [t.customer_name for t in store.list_tours(tenant.id, RecordQuery(search="%_")).rows] == [
        "Ana 100%_Silva"
    ]
    assert store.list_tours(other_tenant.id, RecordQuery(search="a")).total == 0
    assert [n.content for n in store.list_notes(tenant.id, RecordQuery(search="NUTS")).rows] == [
        "Vegetarian, no nuts"
    ]
    assert [c.name for c in store.list_contacts(tenant.id, RecordQuery(search="555")).rows] == ["bob Brown"]


def test_tours_filter_by_an_inclusive_date_range_and_sort(store: Store, tenant: Tenant) -> None:
    _seed_records(store, tenant)
    february_on = store.list_tours(
        tenant.id, RecordQuery(date_from=date(2027, 2, 1), date_to=date(2027, 3, 15))
    )
    assert [t.tour_date for t in february_on.rows] == [date(2027, 2, 1), date(2027, 3, 15)]
    by_name = store.list_tours(tenant.id, RecordQuery(sort="customer_name", descending=True))
    assert [t.customer_name for t in by_name.rows] == ["Zoë Martin", "John Smith", "Ana 100%_Silva"]


def test_records_are_paged_with_a_total(store: Store, tenant: Tenant) -> None:
    _seed_records(store, tenant)
    page = store.list_tours(tenant.id, RecordQuery(limit=2, offset=2))
    assert (page.total, [t.location for t in page.rows]) == (3, ["Paris"])


def test_contacts_without_a_value_sort_last(store: Store, tenant: Tenant) -> None:
    _seed_records(store, tenant)
    for descending in (False, True):
        rows = store.list_contacts(tenant.id, RecordQuery(sort="email", descending=descending)).rows
        assert [c.name for c in rows] == ["Sarah Jones", "bob Brown"]


def test_record_dates_of_timestamp_columns_filter_by_calendar_day(store: Store, tenant: Tenant) -> None:
    _seed_records(store, tenant)
    today = utcnow().date()
    assert store.list_notes(tenant.id, RecordQuery(date_from=today, date_to=today)).total == 2
    assert store.list_notes(tenant.id, RecordQuery(date_to=date(2000, 1, 1))).total == 0


def test_a_range_that_ends_before_it_starts_holds_nothing(store: Store, tenant: Tenant) -> None:
    _seed_records(store, tenant)
    today = utcnow().date()
    backwards = RecordQuery(date_from=today, date_to=today - timedelta(days=1))
    assert store.list_notes(tenant.id, backwards).total == 0
    assert store.list_tours(tenant.id, backwards).total == 0


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (RecordQuery(sort="tenant_id"), "cannot sort tours by 'tenant_id'"),
        (RecordQuery(limit=0), "page size"),
        (RecordQuery(offset=-1), "offset"),
    ],
)
def test_nonsense_record_queries_are_refused(
    store: Store, tenant: Tenant, query: RecordQuery, problem: str
) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        store.list_tours(tenant.id, query)


def test_events_can_be_filtered_by_name_run_status_and_time(store: Store, tenant: Tenant) -> None:
    booked, noted = _event(tenant), _event(tenant, "note.taken")
    store.events.save([OutboxEvent(booked, ("confirm",)), OutboxEvent(noted, ("audit",))])
    store.events.claim_run(tenant.id, booked.id, "confirm")
    store.events.finish_run(tenant.id, booked.id, "confirm", RunStatus.FAILED, 1, "boom", 1.0)
    assert [r.event.id for r in store.events.find(tenant.id, names=["note.taken"])] == [noted.id]
    assert [r.event.id for r in store.events.find(tenant.id, status=RunStatus.FAILED)] == [booked.id]
    assert [r.event.id for r in store.events.find(tenant.id, newest_first=True)] == [noted.id, booked.id]
    assert store.events.find(tenant.id, since=utcnow()) == []


def test_tool_calls_of_a_conversation_are_listed_in_order(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    turn = store.start_turn(tenant.id, None, "book twice")
    first, second = book("A"), book("B")
    store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, first, add_tour)
    store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, second, add_tour)
    assert [r.call_id for r in store.list_tool_calls(tenant.id, turn.conversation_id)] == [
        first.id,
        second.id,
    ]
    assert store.list_tool_calls(other_tenant.id, turn.conversation_id) == []


def test_runs_left_running_by_a_dead_process_are_requeued(store: Store, tenant: Tenant) -> None:
    event = _event(tenant)
    store.events.save([OutboxEvent(event, ("confirm",))])
    assert store.events.claim_run(tenant.id, event.id, "confirm")
    assert store.events.requeue_stale_runs(utcnow() - timedelta(minutes=10)) == 0
    assert store.events.requeue_stale_runs(utcnow() + timedelta(seconds=1)) >= 1
    record = store.events.get(tenant.id, event.id)
    assert record is not None
    assert record.runs[0].status is RunStatus.PENDING
    assert store.events.claim_run(tenant.id, event.id, "confirm")


# -- exactly once -----------------------------------------------------------------------------


def booking_of(name: str, day: str = "2027-03-15", place: str = "Paris") -> ToolExecution:
    def run(writer: TenantWriter) -> JsonDict:
        tour, created = writer.add_tour(name, date.fromisoformat(day), place)
        return {"booking_id": str(tour.id), "created": created}

    return run


def test_a_reused_call_id_in_another_conversation_is_another_call(store: Store, tenant: Tenant) -> None:
    # Servers that number calls call_0, call_1… per response reuse ids across conversations.
    results = []
    for name in ("Ana Silva", "Bob Lee"):
        turn = store.start_turn(tenant.id, None, f"book {name}")
        call = ToolCallRequest("call_0", "book_tour", json.dumps({"name": name}))
        record, replayed = store.run_tool_call(
            tenant.id, turn.conversation_id, turn.turn_id, call, booking_of(name)
        )
        assert not replayed
        results.append(record.result)
    assert {t.customer_name for t in store.list_tours(tenant.id).rows} == {"Ana Silva", "Bob Lee"}
    assert results[0] != results[1]


def test_the_same_call_id_with_other_arguments_is_another_call(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "book two")
    for name in ("Ana Silva", "Bob Lee"):
        call = ToolCallRequest("call_0", "book_tour", json.dumps({"name": name}))
        _, replayed = store.run_tool_call(
            tenant.id, turn.conversation_id, turn.turn_id, call, booking_of(name)
        )
        assert not replayed
    assert store.list_tours(tenant.id).total == 2


def test_booking_what_a_live_booking_holds_returns_it_instead_of_a_second(
    store: Store, tenant: Tenant
) -> None:
    first_turn = store.start_turn(tenant.id, None, "book")
    first, _ = store.run_tool_call(
        tenant.id, first_turn.conversation_id, first_turn.turn_id, book(), booking_of("Ana Silva")
    )
    again_turn = store.start_turn(tenant.id, None, "book again")
    again, replayed = store.run_tool_call(
        tenant.id,
        again_turn.conversation_id,
        again_turn.turn_id,
        book(),
        booking_of("  ana   SILVA ", place="paris"),
    )
    assert not replayed
    assert first.result is not None
    assert again.result == {"booking_id": first.result["booking_id"], "created": False}
    assert store.list_tours(tenant.id).total == 1
    other_day_turn = store.start_turn(tenant.id, None, "another day")
    store.run_tool_call(
        tenant.id,
        other_day_turn.conversation_id,
        other_day_turn.turn_id,
        book(),
        booking_of("Ana Silva", "2027-03-16"),
    )
    assert store.list_tours(tenant.id).total == 2


def test_a_tool_calls_events_commit_with_it_and_a_replay_writes_none(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "book")
    call = book()

    def described(record: ToolCallRecord) -> list[OutboxEvent]:
        event = Event(uuid4(), tenant.id, "tour.booked", {"call_id": record.call_id}, utcnow())
        return [OutboxEvent(event, ("confirm",))]

    store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, call, add_tour, described)
    store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, call, add_tour, described)
    events = store.events.find(tenant.id)
    assert [(r.event.name, [run.listener for run in r.runs]) for r in events] == [
        ("tour.booked", ["confirm"])
    ]

    def crash(writer: TenantWriter) -> JsonDict:
        writer.add_tour("Crash Test", date(2027, 1, 1), "Nowhere")
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, book(), crash, described)
    assert len(store.events.find(tenant.id)) == 1


def test_a_turns_start_and_end_commit_with_their_events(store: Store, tenant: Tenant) -> None:
    def received(start: TurnStart) -> list[OutboxEvent]:
        payload = {"turn_id": str(start.turn_id)}
        return [OutboxEvent(Event(uuid4(), tenant.id, "chat.message.received", payload, utcnow()), ())]

    turn = store.start_turn(tenant.id, None, "hello", events=received)
    sent = Event(uuid4(), tenant.id, "chat.reply.sent", {"turn_id": str(turn.turn_id)}, utcnow())
    outcome = TurnOutcome("succeeded", "Hi!", "demo", Usage(), 1, 1.0)
    store.finish_turn(
        tenant.id,
        turn.conversation_id,
        turn.turn_id,
        ChatMessage("assistant", "Hi!"),
        outcome,
        [OutboxEvent(sent, ())],
    )
    events = store.events.find(tenant.id)
    assert [(r.event.name, r.event.payload["turn_id"]) for r in events] == [
        ("chat.message.received", str(turn.turn_id)),
        ("chat.reply.sent", str(turn.turn_id)),
    ]


def test_a_conversation_runs_one_turn_at_a_time(store: Store, tenant: Tenant) -> None:
    first = store.start_turn(tenant.id, None, "one")
    # The same words on every backend: the SQL function raises what SqlStore raises.
    with pytest.raises(
        ConversationBusyError, match=r"^conversation [0-9a-f-]{36} is answering another message$"
    ):
        store.start_turn(tenant.id, first.conversation_id, "two")
    outcome = TurnOutcome("succeeded", "ok", "demo", Usage(), 1, 1.0)
    store.finish_turn(
        tenant.id, first.conversation_id, first.turn_id, ChatMessage("assistant", "ok"), outcome
    )
    second = store.start_turn(tenant.id, first.conversation_id, "two")
    assert second.conversation_id == first.conversation_id


def test_a_turn_whose_lease_ran_out_is_closed_as_failed_with_its_event(store: Store, tenant: Tenant) -> None:
    dead = store.start_turn(tenant.id, None, "the process dies", lease_seconds=0.001)
    alive = store.start_turn(tenant.id, None, "still running", lease_seconds=0.001)
    assert store.renew_turn_leases([alive.turn_id], 60) == 1
    time.sleep(0.01)
    closed = store.fail_expired_turns("interrupted", ["alerts"])
    assert [t.turn_id for t in closed if t.turn_id in (dead.turn_id, alive.turn_id)] == [dead.turn_id]
    # The conversation can go on, and the failure is an event with a pending run.
    store.start_turn(tenant.id, dead.conversation_id, "again")
    [failed] = store.events.find(tenant.id, names=["chat.turn.failed"])
    assert failed.event.payload == {
        "conversation_id": str(dead.conversation_id),
        "turn_id": str(dead.turn_id),
        "error": "interrupted",
    }
    assert [(r.listener, r.status) for r in failed.runs] == [("alerts", RunStatus.PENDING)]
    with pytest.raises(ConversationBusyError):
        store.start_turn(tenant.id, alive.conversation_id, "busy")


def test_pending_runs_are_paged_in_event_order(store: Store, tenant: Tenant) -> None:
    events = [Event(uuid4(), tenant.id, "note.taken", {"i": i}, utcnow()) for i in range(5)]
    store.events.save([OutboxEvent(e, ("a", "b")) for e in events])
    seen: list[tuple[int, str]] = []
    after = 0
    # Pages of 3 events cut nowhere inside an event: both runs of each event come together.
    while page := store.events.pending_runs(after, 3):
        assert len({e.seq for e, _ in page}) <= 3
        seen += [(e.payload["i"], listener) for e, listener in page if e.tenant_id == tenant.id]
        after = page[-1][0].seq
    assert seen == [(i, listener) for i in range(5) for listener in ("a", "b")]


def test_an_idempotency_key_is_claimed_once_and_answers_repeats_with_the_stored_response(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    key, body = f"key-{uuid4().hex}", {"reply": "Booked.", "nested": {"b": 1, "a": [2]}}
    assert store.idempotency.claim(tenant.id, key, "fp1", 60).state is KeyState.CLAIMED
    assert store.idempotency.claim(tenant.id, key, "fp1", 60).state is KeyState.RUNNING
    assert store.idempotency.claim(tenant.id, key, "fp2", 60).state is KeyState.MISMATCH
    # Keys belong to a tenant: another tenant's identical key is its own.
    assert store.idempotency.claim(other_tenant.id, key, "fp1", 60).state is KeyState.CLAIMED
    store.idempotency.finish(tenant.id, key, 200, body)
    assert store.idempotency.claim(tenant.id, key, "fp1", 60) == IdempotencyClaim(KeyState.DONE, 200, body)
    assert store.idempotency.claim(tenant.id, key, "fp2", 60).state is KeyState.MISMATCH


def test_a_released_or_abandoned_idempotency_key_can_be_claimed_again(store: Store, tenant: Tenant) -> None:
    released, abandoned = f"r-{uuid4().hex}", f"a-{uuid4().hex}"
    store.idempotency.claim(tenant.id, released, "fp", 60)
    store.idempotency.release(tenant.id, released)
    assert store.idempotency.claim(tenant.id, released, "fp", 60).state is KeyState.CLAIMED
    store.idempotency.claim(tenant.id, abandoned, "fp", 0.001)  # then its process died
    time.sleep(0.01)
    assert store.idempotency.claim(tenant.id, abandoned, "fp", 60).state is KeyState.CLAIMED
    assert store.idempotency.claim(tenant.id, abandoned, "fp", 60).state is KeyState.RUNNING


def test_a_renewed_idempotency_key_stays_with_its_holder_and_a_finished_one_is_not_renewed(
    store: Store, tenant: Tenant
) -> None:
    key = f"k-{uuid4().hex}"
    store.idempotency.claim(tenant.id, key, "fp", 0.05)
    assert store.idempotency.renew(tenant.id, key, 60)
    time.sleep(0.1)  # past the first lease, within the renewed one
    assert store.idempotency.claim(tenant.id, key, "fp", 60).state is KeyState.RUNNING
    store.idempotency.finish(tenant.id, key, 200, {"reply": "done"})
    assert not store.idempotency.renew(tenant.id, key, 60)
    assert not store.idempotency.renew(tenant.id, f"never-{uuid4().hex}", 60)


def run_at_once(store: Store, tenant: Tenant, executions: list[ToolExecution]) -> list[ToolCallRecord]:
    """Run each execution as a tool call of its own turn, all released at the same moment."""
    turns = [store.start_turn(tenant.id, None, f"caller {i}") for i in range(len(executions))]
    records: list[ToolCallRecord] = []
    barrier = threading.Barrier(len(turns))

    def run(turn: TurnStart, execute: ToolExecution) -> None:
        barrier.wait()
        record, _ = store.run_tool_call(tenant.id, turn.conversation_id, turn.turn_id, book(), execute)
        records.append(record)

    workers = [threading.Thread(target=run, args=pair) for pair in zip(turns, executions, strict=True)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return records


def test_concurrent_bookings_of_the_same_customer_day_and_place_make_one(
    store: Store, tenant: Tenant
) -> None:
    records = run_at_once(store, tenant, [booking_of("Ana Silva", "2027-05-01", "Porto")] * 8)
    assert sorted(bool(r.result and r.result["created"]) for r in records) == [False] * 7 + [True]
    assert store.list_tours(tenant.id).total == 1


def test_concurrent_saves_of_one_person_make_one_contact(store: Store, tenant: Tenant) -> None:
    def saving(name: str) -> ToolExecution:
        def upsert(writer: TenantWriter) -> JsonDict:
            return {"created": writer.upsert_contact(name, "ana@example.com", None)[1]}

        return upsert

    spellings = ["Ana Silva", "ÁNA SILVA", "ana  silva", "Anã Sílva"] * 2
    records = run_at_once(store, tenant, [saving(name) for name in spellings])
    assert sorted(bool(r.result and r.result["created"]) for r in records) == [False] * 7 + [True]
    assert store.list_contacts(tenant.id).total == 1

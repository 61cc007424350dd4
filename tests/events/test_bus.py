"""The event bus: durable, ordered, never in the turn's way, and nothing accepted is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from agent_core.clock import FixedClock
from agent_core.domain import Event, EventName, OutboxEvent, RunStatus, Tenant
from agent_core.events.bus import EventBus
from agent_core.events.listeners import default_listeners
from agent_core.store.base import Store
from agent_core.store.demo_data import DEMO_TENANT_ID, SECOND_DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from tests.conftest import ROOT, add_tenant, audit_entry, make_agent, whole_turn
from tests.events.listeners import FAST, ScriptedListener, blocked_until, killed_while_running, runs_of


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "events.sqlite3")
    yield store
    store.close()


def test_events_are_stored_in_emission_order_per_tenant(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    bus = EventBus(store, [ScriptedListener("audit")])
    bus.start()
    for i in range(100):
        bus.emit(EventName.NOTE_TAKEN, tenant.id if i % 2 == 0 else other_tenant.id, {"i": i})
    bus.close(timeout=60)
    mine = [r.event.payload["i"] for r in store.events.find(tenant.id, limit=1000)]
    theirs = [r.event.payload["i"] for r in store.events.find(other_tenant.id, limit=1000)]
    assert mine == list(range(0, 100, 2))
    assert theirs == list(range(1, 100, 2))
    assert {status for _, _, status, _ in runs_of(store, tenant.id)} == {RunStatus.SUCCEEDED}


def test_a_failing_listener_is_retried_then_recorded_as_failed_without_affecting_others(
    store: Store, tenant: Tenant
) -> None:
    def explode(event: Event) -> None:
        raise RuntimeError("SMTP down")

    broken, healthy = ScriptedListener("broken", explode), ScriptedListener("healthy")
    bus = EventBus(store, [broken, healthy], retry=FAST)
    bus.start()
    bus.emit(EventName.TOUR_BOOKED, tenant.id, {"name": "Zoë"})
    bus.close()
    assert len(broken.seen) == 3
    (record,) = store.events.find(tenant.id)
    runs = {run.listener: run for run in record.runs}
    assert (runs["broken"].status, runs["broken"].attempts) == (RunStatus.FAILED, 3)
    assert runs["broken"].last_error == "RuntimeError: SMTP down"
    assert (runs["healthy"].status, runs["healthy"].attempts) == (RunStatus.SUCCEEDED, 1)


def test_a_flaky_listener_succeeds_on_retry(store: Store, tenant: Tenant) -> None:
    failures = iter([True, False])

    def flaky(event: Event) -> None:
        if next(failures):
            raise TimeoutError("try again")

    bus = EventBus(store, [ScriptedListener("flaky", flaky)], retry=FAST)
    bus.start()
    bus.emit(EventName.NOTE_TAKEN, tenant.id, {})
    bus.close()
    assert runs_of(store, tenant.id) == [("note.taken", "flaky", RunStatus.SUCCEEDED, 2)]


def test_a_failed_event_can_be_replayed(store: Store, tenant: Tenant) -> None:
    outage = threading.Event()
    outage.set()

    def send(event: Event) -> None:
        if outage.is_set():
            raise ConnectionError("CRM unreachable")

    listener = ScriptedListener("crm", send)
    bus = EventBus(store, [listener], retry=FAST)
    bus.start()
    bus.emit(EventName.TOUR_BOOKED, tenant.id, {})
    deadline = time.monotonic() + 10
    while runs_of(store, tenant.id) != [("tour.booked", "crm", RunStatus.FAILED, 3)]:
        assert time.monotonic() < deadline, "the run never failed"
        time.sleep(0.01)
    outage.clear()
    (record,) = store.events.find(tenant.id)
    assert bus.replay(tenant.id, record.event.id, audit_entry()) == ["crm"]
    assert bus.replay(tenant.id, record.event.id, audit_entry()) == []
    bus.close()
    assert runs_of(store, tenant.id) == [("tour.booked", "crm", RunStatus.SUCCEEDED, 4)]


def test_a_slow_listener_does_not_hold_up_the_turn_or_other_listeners(
    sqlite_store: SqliteStore, clock: FixedClock
) -> None:
    release = threading.Event()
    slow = ScriptedListener("slow", blocked_until(release))
    quick = ScriptedListener("quick")
    bus = EventBus(sqlite_store, [slow, quick], retry=FAST)
    bus.start()
    agent = make_agent(sqlite_store, clock, sink=bus)
    result = whole_turn(agent, DEMO_TENANT_ID, "Please note that Zoë likes boats.")
    assert result.reply.startswith("Noted")
    deadline = time.monotonic() + 10
    while not quick.seen:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not release.is_set()
    release.set()
    bus.close()
    statuses = {
        (name, listener): status for name, listener, status, _ in runs_of(sqlite_store, DEMO_TENANT_ID)
    }
    assert statuses == {
        ("note.taken", "slow"): RunStatus.SUCCEEDED,
        ("note.taken", "quick"): RunStatus.SUCCEEDED,
    }


def test_shutdown_keeps_every_accepted_event_and_the_next_start_finishes_the_work(
    sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    release = threading.Event()
    stuck = ScriptedListener("mailer", blocked_until(release))
    bus = EventBus(sqlite_store, [stuck], retry=FAST)
    bus.start()
    for i in range(50):
        bus.emit(EventName.TOUR_BOOKED, DEMO_TENANT_ID, {"i": i})
    bus.close(timeout=0.2)
    release.set()
    bus.emit(EventName.TOUR_BOOKED, DEMO_TENANT_ID, {"i": 50})
    records = sqlite_store.events.find(DEMO_TENANT_ID, limit=1000)
    assert [r.event.payload["i"] for r in records] == list(range(51))
    pending = sqlite_store.events.pending_runs()
    assert len(pending) >= 49

    restarted_store = SqliteStore(tmp_path / "events.sqlite3")
    after_restart = ScriptedListener("mailer")
    second = EventBus(restarted_store, [after_restart], retry=FAST)
    second.start()
    second.close()
    deadline = time.monotonic() + 10
    while {s for _, _, s, _ in runs_of(restarted_store, DEMO_TENANT_ID)} != {RunStatus.SUCCEEDED}:
        assert time.monotonic() < deadline, runs_of(restarted_store, DEMO_TENANT_ID)
        time.sleep(0.01)
    handled = len(stuck.seen) + len(after_restart.seen)
    assert handled == 51
    restarted_store.close()


def test_events_from_two_processes_are_visible_to_both(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    here = SqliteStore(path)
    bus = EventBus(here)
    bus.start()
    bus.emit(EventName.NOTE_TAKEN, DEMO_TENANT_ID, {"from": "parent"})
    bus.close()
    script = (
        "import sys\n"
        "from agent_core.events.bus import EventBus\n"
        "from agent_core.store.sqlite import SqliteStore\n"
        "from agent_core.store.demo_data import DEMO_TENANT_ID\n"
        "store = SqliteStore(sys.argv[1])\n"
        "print(sorted(r.event.payload['from'] for r in store.events.find(DEMO_TENANT_ID)))\n"
        "bus = EventBus(store)\n"
        "bus.start()\n"
        "bus.emit('note.taken', DEMO_TENANT_ID, {'from': 'child'})\n"
        "bus.close()\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert child.stdout.strip() == "['parent']"
    assert sorted(r.event.payload["from"] for r in here.events.find(DEMO_TENANT_ID)) == ["child", "parent"]
    here.close()


def test_a_booking_queues_a_confirmation_and_a_contact_update_a_crm_sync(
    sqlite_store: SqliteStore, clock: FixedClock
) -> None:
    bus = EventBus(sqlite_store, default_listeners(sqlite_store))
    bus.start()
    agent = make_agent(sqlite_store, clock, sink=bus)
    whole_turn(agent, SECOND_DEMO_TENANT_ID, "Book a visit for Ana Silva on 2027-01-10 at the Harbour Clinic")
    whole_turn(agent, SECOND_DEMO_TENANT_ID, "Update contact info for Ana Silva: phone is +351 912 345 678")
    bus.close()
    outbox = {m.kind: m.payload for m in sqlite_store.events.outbox(SECOND_DEMO_TENANT_ID)}
    assert outbox["booking_confirmation"]["customer_name"] == "Ana Silva"
    assert outbox["booking_confirmation"]["date"] == "2027-01-10"
    assert outbox["crm_sync"]["phone"] == "+351912345678"  # the CRM gets the number in E.164
    assert sqlite_store.events.outbox(DEMO_TENANT_ID) == []


def test_the_cursor_returns_only_newer_events(store: Store, tenant: Tenant) -> None:
    bus = EventBus(store)
    bus.start()
    bus.emit(EventName.NOTE_TAKEN, tenant.id, {"n": 1})
    bus.close()
    first, cursor = bus.events_since(tenant.id)
    assert [r.event.payload for r in first] == [{"n": 1}]
    assert bus.events_since(tenant.id, cursor) == ([], cursor)


SIGTERM_CHILD = """
import sys, threading, time
from agent_core.domain import EventName
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID
runtime = build_runtime(load_settings(sqlite_path=sys.argv[1]), close_at_exit=True)
for i in range(200):
    runtime.bus.emit(EventName.TOUR_BOOKED, DEMO_TENANT_ID, {"i": i, "name": f"Guest {i}"})
print("accepted", flush=True)
time.sleep(60)
"""


def test_sigterm_persists_every_accepted_event_and_exits_cleanly(tmp_path: Path) -> None:
    import signal

    database = tmp_path / "sigterm.sqlite3"
    with subprocess.Popen(
        [sys.executable, "-c", SIGTERM_CHILD, str(database)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "accepted"
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 0
    store = SqliteStore(database)
    records = store.events.find(DEMO_TENANT_ID, limit=1000)
    assert [r.event.payload["i"] for r in records] == list(range(200))
    statuses = {run.status for r in records for run in r.runs}
    assert statuses <= {RunStatus.SUCCEEDED, RunStatus.PENDING}
    store.close()


def test_a_run_left_running_by_a_dead_process_runs_again_at_the_next_start(
    store: Store, tenant: Tenant
) -> None:
    from datetime import timedelta

    from agent_core.clock import utcnow

    event = Event(uuid4(), tenant.id, "tour.booked", {"name": "Zoë"}, utcnow())
    store.events.save([OutboxEvent(event, ("mailer",))])
    assert store.events.claim_run(tenant.id, event.id, "mailer")  # then the process died
    mailer = ScriptedListener("mailer")
    bus = EventBus(store, [mailer], retry=FAST, stale_after=timedelta(0))
    bus.start()
    bus.close()
    assert [e.id for e in mailer.seen] == [event.id]
    assert runs_of(store, tenant.id) == [("tour.booked", "mailer", RunStatus.SUCCEEDED, 1)]


@pytest.mark.parametrize(
    "store",
    [
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("supabase-today", marks=pytest.mark.postgres),
    ],
    indirect=True,
)
def test_a_run_that_outlasts_the_lease_in_a_live_process_is_not_taken_by_another(
    store: Store, tenant: Tenant
) -> None:
    release = threading.Event()
    name = f"mailer-{uuid4().hex[:8]}"  # other tests' runs on the same database are not its
    slow, other = ScriptedListener(name, blocked_until(release)), ScriptedListener(name)
    running, watching = (
        EventBus(store, [listener], stale_after=timedelta(seconds=1.5), reconcile_every=0.1)
        for listener in (slow, other)
    )
    running.start()
    watching.start()
    try:
        running.emit(EventName.TOUR_BOOKED, tenant.id, {"name": "Zoë"})
        # Twice the lease: without the running process marking its run alive, the other
        # would have taken it for a dead process's and run it again.
        time.sleep(3.5)
        release.set()
    finally:
        running.close()
        watching.close()
    assert (len(slow.seen), other.seen) == (1, [])
    assert runs_of(store, tenant.id) == [("tour.booked", name, RunStatus.SUCCEEDED, 1)]


@pytest.mark.postgres
def test_a_run_held_by_a_killed_process_is_delivered_once_by_the_others(
    postgres_store: Store, postgres_url: str
) -> None:
    tenant = add_tenant(postgres_store, f"Killed {uuid4().hex[:6]}", "Be brief.")
    name = f"mailer-{uuid4().hex[:8]}"  # other tests' runs on the same database are not its
    killed_while_running(postgres_url, tenant.id, name)
    delivered = threading.Event()
    survivors = [
        ScriptedListener(name, lambda event: delivered.set(), frozenset({"tour.booked"})) for _ in range(2)
    ]
    buses = [
        EventBus(postgres_store, [listener], stale_after=timedelta(seconds=1), reconcile_every=0.1)
        for listener in survivors
    ]
    for bus in buses:
        bus.start()
    try:
        assert delivered.wait(30), "nobody took over the dead process's run"
        time.sleep(1.5)  # more than a lease: a second delivery would have happened by now
    finally:
        for bus in buses:
            bus.close()
    assert sum(len(listener.seen) for listener in survivors) == 1
    assert runs_of(postgres_store, tenant.id) == [("tour.booked", name, RunStatus.SUCCEEDED, 1)]

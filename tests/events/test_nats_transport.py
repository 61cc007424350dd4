"""Listener runs over a real NATS JetStream: shared by every process, each run once, nothing
lost when NATS goes away or comes back, or when a process dies holding a run."""

from __future__ import annotations

import gc
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from agent_core.domain import Event, EventName, RunStatus
from agent_core.events.bus import EventBus, Listener, RetryPolicy
from agent_core.events.nats_transport import NatsRunTransport, decode_event, encode_event
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.store.base import Store
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from tests.conftest import add_tenant
from tests.events.listeners import ScriptedListener, blocked_until, killed_while_running, runs_of
from tests.events.nats_server import NatsServer

BACK_OFF = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "events.sqlite3")
    yield store
    store.close()


@contextmanager
def process_bus(
    store: Store,
    listener: Listener,
    nats: NatsServer,
    *,
    retry: RetryPolicy = BACK_OFF,
    stale_after: float = 60.0,
    ack_wait: float = 30.0,
) -> Iterator[EventBus]:
    """What one process runs: a bus whose runs go through NATS."""
    bus = EventBus(
        store,
        [listener],
        retry=retry,
        stale_after=timedelta(seconds=stale_after),
        reconcile_every=0.2,
        transport=NatsRunTransport(nats.url, ack_wait=ack_wait),
    )
    bus.start()
    try:
        yield bus
    finally:
        bus.close()


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def all_finished(store: Store, tenant_id: UUID, count: int) -> Callable[[], bool]:
    def finished() -> bool:
        runs = runs_of(store, tenant_id)
        return len(runs) == count and all(
            status in (RunStatus.SUCCEEDED, RunStatus.FAILED) for *_, status, _ in runs
        )

    return finished


def test_an_event_travels_as_its_own_json() -> None:
    event = Event(uuid4(), uuid4(), "tour.booked", {"name": "Zoë", "n": [1, 2]}, datetime.now(UTC), 7)
    assert decode_event(encode_event(event)) == event


def test_runs_committed_in_one_process_are_shared_by_every_process_and_each_runs_once(
    sqlite_store: SqliteStore, nats: NatsServer
) -> None:
    tenant = add_tenant(sqlite_store, "Shared", "Be brief.")
    slow = ScriptedListener("mailer", lambda event: time.sleep(0.05))
    idle = ScriptedListener("mailer")
    with process_bus(sqlite_store, slow, nats) as committing, process_bus(sqlite_store, idle, nats):
        for i in range(30):
            committing.emit(EventName.NOTE_TAKEN, tenant.id, {"i": i})
        assert wait_until(all_finished(sqlite_store, tenant.id, 30))
    handled = Counter(event.id for event in slow.seen + idle.seen)
    assert len(handled) == 30
    assert set(handled.values()) == {1}
    # The process that committed nothing took part of the work.
    assert idle.seen
    assert {status for *_, status, _ in runs_of(sqlite_store, tenant.id)} == {RunStatus.SUCCEEDED}


def test_a_failing_run_comes_back_after_its_back_off_until_it_succeeds_or_fails_for_good(
    sqlite_store: SqliteStore, nats: NatsServer
) -> None:
    tenant = add_tenant(sqlite_store, "Retries", "Be brief.")
    failures = Counter[str]()

    def fails_twice_on_the_first_event(event: Event) -> None:
        key = "first" if event.payload["i"] == 0 else "second"
        failures[key] += 1
        if key == "second" or failures[key] <= 2:
            raise ConnectionError("CRM unreachable")

    crm = ScriptedListener("crm", fails_twice_on_the_first_event)
    with process_bus(sqlite_store, crm, nats) as bus:
        for i in range(2):
            bus.emit(EventName.NOTE_TAKEN, tenant.id, {"i": i})
        assert wait_until(all_finished(sqlite_store, tenant.id, 2))
    records = {record.event.payload["i"]: record.runs[0] for record in sqlite_store.events.find(tenant.id)}
    assert (records[0].status, records[0].attempts) == (RunStatus.SUCCEEDED, 3)
    assert (records[1].status, records[1].attempts) == (RunStatus.FAILED, 3)
    assert records[1].last_error == "ConnectionError: CRM unreachable"
    assert failures == {"first": 3, "second": 3}


def test_nothing_is_lost_or_run_twice_when_nats_dies_and_comes_back(
    sqlite_store: SqliteStore, nats: NatsServer
) -> None:
    tenant = add_tenant(sqlite_store, "Outage", "Be brief.")
    release = threading.Event()
    mailer = ScriptedListener("mailer", blocked_until(release))
    with process_bus(sqlite_store, mailer, nats, ack_wait=2.0) as bus:
        # Ten runs in NATS's hands (one held by the blocked listener) when it is killed.
        for i in range(10):
            bus.emit(EventName.NOTE_TAKEN, tenant.id, {"i": i})
        assert wait_until(lambda: len(mailer.seen) == 1)
        nats.stop()
        # Ten more while it is down: this process runs them itself.
        release.set()
        for i in range(10, 20):
            bus.emit(EventName.NOTE_TAKEN, tenant.id, {"i": i})
        nats.start()
        assert wait_until(lambda: bus.transport is not None and bus.transport.status()[0])
        for i in range(20, 30):
            bus.emit(EventName.NOTE_TAKEN, tenant.id, {"i": i})
        assert wait_until(all_finished(sqlite_store, tenant.id, 30))
        time.sleep(2.5)  # past the ack wait: a redelivered message would have run by now
    handled = Counter(event.payload["i"] for event in mailer.seen)
    assert sorted(handled) == list(range(30))
    assert set(handled.values()) == {1}
    assert {status for *_, status, _ in runs_of(sqlite_store, tenant.id)} == {RunStatus.SUCCEEDED}


def test_an_event_committed_before_the_bus_starts_runs_once_it_has(
    sqlite_store: SqliteStore, nats: NatsServer
) -> None:
    tenant = add_tenant(sqlite_store, "Early", "Be brief.")
    mailer = ScriptedListener("mailer")
    bus = EventBus(sqlite_store, [mailer], transport=NatsRunTransport(nats.url))
    bus.emit(EventName.NOTE_TAKEN, tenant.id, {})
    bus.start()
    try:
        assert wait_until(all_finished(sqlite_store, tenant.id, 1))
    finally:
        bus.close()
    assert len(mailer.seen) == 1


def test_without_nats_at_start_a_process_runs_its_own_events_and_says_so(
    sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    tenant = add_tenant(sqlite_store, "No NATS", "Be brief.")
    absent = NatsServer(tmp_path / "never")  # a free port nobody serves
    mailer = ScriptedListener("mailer")
    bus = EventBus(sqlite_store, [mailer], transport=NatsRunTransport(absent.url, connect_wait=0.5))
    bus.start()
    try:
        bus.emit(EventName.NOTE_TAKEN, tenant.id, {})
        assert wait_until(all_finished(sqlite_store, tenant.id, 1))
        assert bus.transport is not None
        ok, detail = bus.transport.status()
        assert not ok
        assert "unreachable" in detail
    finally:
        bus.close()
    assert len(mailer.seen) == 1


def test_with_events_nats_url_the_runtime_sends_its_runs_through_nats_and_health_says_so(
    tmp_path: Path, nats: NatsServer
) -> None:
    runtime = build_runtime(load_settings(sqlite_path=tmp_path / "app.sqlite3", events_nats_url=nats.url))
    try:
        bus = next(check for check in runtime.health() if check.name == "bus")
        assert (bus.backend, bus.ok) == ("nats", True)
        assert "booking_confirmation" in bus.detail
        runtime.bus.emit(EventName.TOUR_BOOKED, DEMO_TENANT_ID, {"name": "Zoë Brandt", "date": "2027-03-15"})
        assert wait_until(lambda: bool(runtime.store.events.outbox(DEMO_TENANT_ID)))
        (message,) = runtime.store.events.outbox(DEMO_TENANT_ID)
        assert (message.kind, message.payload["customer_name"]) == ("booking_confirmation", "Zoë Brandt")
    finally:
        runtime.close()


@pytest.mark.postgres
def test_a_run_held_by_a_killed_process_is_delivered_once_by_another_machine(
    postgres_store: Store, postgres_url: str, nats: NatsServer
) -> None:
    tenant = add_tenant(postgres_store, f"Killed NATS {uuid4().hex[:6]}", "Be brief.")
    name = f"mailer-{uuid4().hex[:8]}"  # other tests' runs on the same database are not its
    killed_while_running(postgres_url, tenant.id, name, nats.url)
    delivered = threading.Event()
    survivors = [
        ScriptedListener(name, lambda event: delivered.set(), frozenset({"tour.booked"})) for _ in range(2)
    ]
    with (
        process_bus(postgres_store, survivors[0], nats, stale_after=1.0, ack_wait=1.0),
        process_bus(postgres_store, survivors[1], nats, stale_after=1.0, ack_wait=1.0),
    ):
        assert delivered.wait(30), "nobody took over the dead process's run"
        time.sleep(2.5)  # more than a lease and an ack wait: a second delivery would have happened
    assert sum(len(listener.seen) for listener in survivors) == 1
    assert runs_of(postgres_store, tenant.id) == [("tour.booked", name, RunStatus.SUCCEEDED, 1)]


def test_a_bus_on_nats_closed_started_or_not_leaves_no_event_loop_open(
    sqlite_store: SqliteStore, nats: NatsServer
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        never_started = EventBus(
            sqlite_store, [ScriptedListener("mailer")], transport=NatsRunTransport(nats.url)
        )
        started = EventBus(sqlite_store, [ScriptedListener("mailer")], transport=NatsRunTransport(nats.url))
        started.start()
        never_started.close(1)
        started.close(1)
        del never_started, started
        gc.collect()

    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []

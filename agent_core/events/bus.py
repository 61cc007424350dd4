"""In-process event bus over a transactional outbox (the seed's EventEmitter standing in
for Inngest, made durable).

Events are stored by the store in the transaction of the change they describe, each with a
pending run per interested listener; this bus only delivers them. After a commit the writer
hands the events to `deliver`, and each listener's own worker runs them, so a slow or failing
listener delays nobody else. A failing run is retried with exponential backoff and then
recorded as failed; it can be replayed. Runs are claimed in the store before they start, so
with several processes on one database each run executes once. A reconciler, at start and
every few seconds, marks the runs this process is running as alive, picks up every pending
run (however many: it pages through them) and puts back runs whose process died while
running them (not marked alive for `stale_after`), so a crash loses nothing and nothing
waits, and a run that outlasts `stale_after` in a live process is not taken from it.

Why a compare-and-set claim rather than a queue read with SKIP LOCKED, and no NOTIFY: the
process that commits an event hands it to its own listeners at once, so other processes
only ever pick up what a dead process left, after `stale_after`; a claim is one short UPDATE
that exactly one process wins (a loser reads zero rows), and nobody needs waking.

With a `RunTransport` (NATS JetStream) runs go to whichever process is free instead; the
claim in the store still makes each run execute once, and the store's attempt count decides
when a failing run has failed for good.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from agent_core.access.models import AuditEntry
from agent_core.clock import utcnow
from agent_core.domain import Event, EventName, EventRecord, JsonDict, OutboxEvent, RunStatus
from agent_core.ids import new_id
from agent_core.store.base import Store

log = logging.getLogger(__name__)

_STOP = object()


class Listener(Protocol):
    """Reacts to some events; raising means 'failed, retry me'."""

    @property
    def name(self) -> str:
        """Stable name, stored with each run."""
        ...

    @property
    def events(self) -> frozenset[str]:
        """Event names this listener handles."""
        ...

    def handle(self, event: Event) -> None:
        """Do the side effect; must be idempotent, since a run may be retried or replayed."""
        ...


class RunTransport(Protocol):
    """Carries listener runs to whichever process takes them (NATS JetStream, say), so work
    committed in one process is shared by all. Without one, each process runs what it
    commits and the reconciler picks up what dead processes left."""

    @property
    def name(self) -> str:
        """What the health check calls this transport."""
        ...

    def start(
        self,
        listeners: Sequence[str],
        run: Callable[[str, Event], float | None],
        run_here: Callable[[Event, str], None],
    ) -> None:
        """Connect and take deliveries for `listeners`: each goes to `run(listener, event)`,
        which returns None when done or the seconds before delivering it again. A run the
        transport cannot send goes to `run_here`. Never raises: an unreachable transport
        connects in the background and runs stay with this process meanwhile."""
        ...

    def send(self, runs: Sequence[tuple[Event, str]], *, again: bool = False) -> None:
        """Queue runs for delivery; never blocks on I/O, never raises. `again`: a run sent
        before (a replay, or left pending), not to be dropped as a duplicate of that sending."""
        ...

    def status(self) -> tuple[bool, str]:
        """Whether it is connected, and a line for the health check."""
        ...

    def close(self, timeout: float) -> None:
        """Stop taking deliveries, let the ones in hand finish within `timeout`, disconnect."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a failing listener run is retried."""

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the given failed attempt (1-based)."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class _ListenerWorker:
    def __init__(self, bus: EventBus, listener: Listener) -> None:
        self.listener = listener
        self.queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._bus = bus
        self._queued: set[UUID] = set()
        self._lock = threading.Lock()
        self.holding: Event | None = None
        """The event whose run this worker has claimed and not finished."""
        self.thread = threading.Thread(target=self._loop, name=f"listener-{listener.name}", daemon=True)

    def offer(self, event: Event) -> None:
        """Queue a run unless it is queued already (delivery and reconciliation may both offer it)."""
        with self._lock:
            if event.id in self._queued:
                return
            self._queued.add(event.id)
        self.queue.put(event)

    def _loop(self) -> None:
        while True:
            item = self.queue.get()
            if item is _STOP or self._bus.past_deadline():
                return
            assert isinstance(item, Event)
            try:
                self._run(item)
            except Exception:
                # A store outage while recording a run must not kill the worker; the run
                # stays pending or running in the store and the reconciler offers it again.
                log.exception("listener %s: could not record run of %s", self.listener.name, item.id)
            finally:
                with self._lock:
                    self._queued.discard(item.id)

    def _run(self, event: Event) -> None:
        store = self._bus.store
        if not store.events.claim_run(event.tenant_id, event.id, self.listener.name):
            return
        self.holding = event
        try:
            self._run_claimed(event)
        finally:
            self.holding = None

    def _run_claimed(self, event: Event) -> None:
        store, retry = self._bus.store, self._bus.retry
        started = time.perf_counter()
        attempts, error = 0, None
        while True:
            attempts += 1
            error = self.attempt(event)
            if error is None or attempts >= retry.max_attempts:
                break
            if self._bus.stopping.wait(retry.delay(attempts)):
                # Shutting down mid-backoff: hand the run back so the next start retries it.
                store.events.finish_run(
                    event.tenant_id,
                    event.id,
                    self.listener.name,
                    RunStatus.PENDING,
                    attempts,
                    error,
                    self._ms(started),
                )
                return
        status = RunStatus.SUCCEEDED if error is None else RunStatus.FAILED
        store.events.finish_run(
            event.tenant_id, event.id, self.listener.name, status, attempts, error, self._ms(started)
        )

    def attempt(self, event: Event) -> str | None:
        """Run the listener once; the error it raised, as recorded, or None."""
        try:
            self.listener.handle(event)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("listener %s failed on %s %s: %s", self.listener.name, event.name, event.id, error)
            return error
        return None

    def run_delivered(self, event: Event) -> float | None:
        """One attempt at a run a transport delivered: None when the run needs no more
        deliveries (done, failed for good, or another process has it), else the seconds to
        wait before delivering it again."""
        store, retry = self._bus.store, self._bus.retry
        if not store.events.claim_run(event.tenant_id, event.id, self.listener.name):
            return None
        self.holding = event
        try:
            started = time.perf_counter()
            error = self.attempt(event)
            status: RunStatus = RunStatus.SUCCEEDED
            retry_in: float | None = None
            if error is not None:
                # The store counts attempts across deliveries: a delivery may be a duplicate,
                # so the transport's count of this message's deliveries is not the run's.
                attempts = 1 + self._attempts_so_far(event)
                if attempts >= retry.max_attempts:
                    status = RunStatus.FAILED
                else:
                    status, retry_in = RunStatus.PENDING, retry.delay(attempts)
            store.events.finish_run(
                event.tenant_id, event.id, self.listener.name, status, 1, error, self._ms(started)
            )
            return retry_in
        finally:
            self.holding = None

    def _attempts_so_far(self, event: Event) -> int:
        record = self._bus.store.events.get(event.tenant_id, event.id)
        runs = [run for run in record.runs if run.listener == self.listener.name] if record else []
        return runs[0].attempts if runs else 0

    @staticmethod
    def _ms(started: float) -> float:
        return (time.perf_counter() - started) * 1000


class EventBus:
    """Delivers stored events to listeners. Call `start()` once, `close()` on shutdown."""

    def __init__(
        self,
        store: Store,
        listeners: Sequence[Listener] = (),
        *,
        retry: RetryPolicy | None = None,
        stale_after: timedelta = timedelta(seconds=60),
        reconcile_every: float = 5.0,
        page_size: int = 500,
        transport: RunTransport | None = None,
    ) -> None:
        self.store = store
        self.transport = transport
        self._sending_to: RunTransport | None = None
        """The transport once started; until then the workers' queues hold the runs."""
        self.retry = retry or RetryPolicy()
        self.stopping = threading.Event()
        self._stale_after = stale_after
        self._reconcile_every = reconcile_every
        self._page_size = page_size
        self._workers = {listener.name: _ListenerWorker(self, listener) for listener in listeners}
        self._closed = False
        self._deadline: float | None = None
        self._reconciler = threading.Thread(target=self._reconcile_loop, name="event-reconciler", daemon=True)
        self._started = False

    @property
    def listener_names(self) -> list[str]:
        """Names of the registered listeners."""
        return list(self._workers)

    def start(self) -> None:
        """Start the workers, resume what earlier processes left, then reconcile periodically."""
        if self._started:
            return
        self._started = True
        for worker in self._workers.values():
            worker.thread.start()
        if self.transport is not None:
            self.transport.start(list(self._workers), self._run_delivered, self._run_here)
            self._sending_to = self.transport
        self._reconcile_logged()
        self._reconciler.start()

    def outbox(self, name: EventName, tenant_id: UUID, payload: JsonDict) -> OutboxEvent:
        """A new event with the listeners that will run on it, for a store write to include."""
        event = Event(new_id(), tenant_id, name, payload, utcnow())
        return OutboxEvent(event, tuple(self.listeners_for(name)))

    def deliver(self, events: Sequence[OutboxEvent]) -> None:
        """Hand committed events to their listeners now; never raises, never blocks on I/O."""
        if self._closed:
            return  # their runs stay pending in the store for the next start
        self._dispatch([(o.event, name) for o in events for name in o.listeners if name in self._workers])

    def _dispatch(self, runs: Sequence[tuple[Event, str]], *, again: bool = False) -> None:
        if self._sending_to is not None:
            self._sending_to.send(runs, again=again)
            return
        for event, name in runs:
            self._run_here(event, name)

    def _run_here(self, event: Event, listener: str) -> None:
        if not self._closed:
            self._workers[listener].offer(event)

    def _run_delivered(self, listener: str, event: Event) -> float | None:
        try:
            return self._workers[listener].run_delivered(event)
        except Exception:
            # The store is out: deliver it again later; a claim it made is put back as stale.
            log.exception("listener %s: could not record run of %s", listener, event.id)
            return self._reconcile_every

    def emit(self, name: EventName, tenant_id: UUID, payload: JsonDict) -> None:
        """Store an event that describes no other write, then deliver it (raises if the store is down)."""
        outbox = self.outbox(name, tenant_id, payload)
        self.store.events.save([outbox])
        self.deliver([outbox])

    def listeners_for(self, name: EventName) -> list[str]:
        """Names of the listeners that run on events of this name."""
        return [w.listener.name for w in self._workers.values() if name in w.listener.events]

    def reconcile(self) -> int:
        """Mark this process's running runs alive, put back runs whose process died mid-run,
        then offer every pending run; returns how many."""
        for worker in self._workers.values():
            held = worker.holding
            if held is not None:
                self.store.events.renew_run(held.tenant_id, held.id, worker.listener.name)
        self.store.events.requeue_stale_runs(utcnow() - self._stale_after)
        offered, after = 0, 0
        while not self._closed:
            page = self.store.events.pending_runs(after_seq=after, limit=self._page_size)
            runs = [(event, name) for event, name in page if name in self._workers]
            if self.transport is not None:
                # A newer pending run is in the transport's hands (or being retried by it);
                # an older one was left by a process that died before sending it, or by one
                # that died running it.
                before = utcnow() - self._stale_after
                runs = [(event, name) for event, name in runs if event.created_at < before]
            self._dispatch(runs, again=True)
            offered += len(runs)
            if len({event.seq for event, _ in page}) < self._page_size:
                break
            after = page[-1][0].seq
        return offered

    def _reconcile_logged(self) -> None:
        try:
            self.reconcile()
        except Exception:
            log.exception("event reconciliation failed; retrying in %.0f s", self._reconcile_every)

    def _reconcile_loop(self) -> None:
        while not self.stopping.wait(self._reconcile_every) and not self._closed:
            self._reconcile_logged()

    def past_deadline(self) -> bool:
        """True once a shutdown's time budget is used up."""
        return self._deadline is not None and time.monotonic() > self._deadline

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking work and let listeners finish what they hold within `timeout`.

        Runs not finished by then stay pending in the store and resume on the next start.
        """
        if self._closed:
            return
        self._closed = True
        self._deadline = time.monotonic() + timeout
        if self.transport is not None:
            self.transport.close(timeout)
        if not self._started:
            return
        for worker in self._workers.values():
            worker.queue.put(_STOP)
        for worker in self._workers.values():
            worker.thread.join(max(0.0, self._deadline - time.monotonic()))
        self.stopping.set()
        self._reconciler.join(1.0)
        for worker in self._workers.values():
            worker.thread.join(1.0)

    def replay(self, tenant_id: UUID, event_id: UUID, audit: AuditEntry) -> list[str]:
        """Run this event's failed listeners again (the replay recorded by `audit`); returns
        their names."""
        names = self.store.events.reset_failed_runs(tenant_id, event_id, audit=audit)
        record = self.store.events.get(tenant_id, event_id)
        if record is not None:
            self._dispatch([(record.event, name) for name in names if name in self._workers], again=True)
        return names

    def events_since(
        self, tenant_id: UUID, cursor: int = 0, limit: int = 100
    ) -> tuple[list[EventRecord], int]:
        """Events of one tenant after `cursor`, and the cursor to pass next time."""
        records = self.store.events.find(tenant_id, after_seq=cursor, limit=limit)
        return records, (records[-1].event.seq if records else cursor)

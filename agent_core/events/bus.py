"""In-process event bus with durable events and background listeners (the seed's
EventEmitter standing in for Inngest, made durable).

`emit` only appends to an in-memory queue: the turn never waits for I/O. A worker thread
persists events in batches together with one pending run per interested listener; each
listener has its own worker, so a slow or failing listener delays nobody else. A failing
run is retried with exponential backoff and then recorded as failed; it can be replayed.
Runs are claimed in the store before they start, so with several processes on one
database each run executes once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, cast
from uuid import UUID, uuid4

from agent_core.domain import Event, EventName, EventRecord, JsonDict, RunStatus
from agent_core.store.base import Store

log = logging.getLogger(__name__)

_STOP = object()
_Emitted = tuple[str, UUID, JsonDict, float]


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
        self.thread = threading.Thread(target=self._loop, name=f"listener-{listener.name}", daemon=True)

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
                # stays pending or running in the store and can be replayed.
                log.exception("listener %s: could not record run of %s", self.listener.name, item.id)

    def _run(self, event: Event) -> None:
        store, retry = self._bus.store, self._bus.retry
        if not store.claim_listener_run(event.tenant_id, event.id, self.listener.name):
            return
        started = time.perf_counter()
        attempts, error = 0, None
        while True:
            attempts += 1
            try:
                self.listener.handle(event)
                error = None
                break
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "listener %s failed on %s (attempt %d): %s",
                    self.listener.name,
                    event.name,
                    attempts,
                    error,
                )
            if attempts >= retry.max_attempts:
                break
            if self._bus.stopping.wait(retry.delay(attempts)):
                # Shutting down mid-backoff: hand the run back so the next start retries it.
                store.finish_listener_run(
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
        store.finish_listener_run(
            event.tenant_id, event.id, self.listener.name, status, attempts, error, self._ms(started)
        )

    @staticmethod
    def _ms(started: float) -> float:
        return (time.perf_counter() - started) * 1000


class EventBus:
    """Durable, non-blocking event bus. Call `start()` once, `close()` on shutdown."""

    def __init__(
        self,
        store: Store,
        listeners: Sequence[Listener] = (),
        *,
        retry: RetryPolicy | None = None,
        batch_size: int = 256,
        stale_after: timedelta = timedelta(minutes=10),
    ) -> None:
        self.store = store
        self.retry = retry or RetryPolicy()
        self.stopping = threading.Event()
        self._batch_size = batch_size
        self._stale_after = stale_after
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._workers = {listener.name: _ListenerWorker(self, listener) for listener in listeners}
        self._closed = False
        self._deadline: float | None = None
        self._persister = threading.Thread(target=self._persist_loop, name="event-persister", daemon=True)
        self._started = False

    @property
    def listener_names(self) -> list[str]:
        """Names of the registered listeners."""
        return list(self._workers)

    def start(self) -> None:
        """Start the workers and resume runs a previous process accepted but did not finish.

        A run still `running` after `stale_after` belonged to a process that died mid-run;
        it goes back to pending (listeners are idempotent, so running it again is safe).
        """
        if self._started:
            return
        self._started = True
        self.store.requeue_stale_runs(datetime.now(UTC) - self._stale_after)
        self._persister.start()
        for worker in self._workers.values():
            worker.thread.start()
        for event, listener in self.store.pending_listener_runs():
            if listener in self._workers:
                self._workers[listener].queue.put(event)

    def emit(self, name: EventName, tenant_id: UUID, payload: JsonDict) -> None:
        """Accept an event. Costs a queue append; never raises into the caller."""
        if self._closed:
            self._persist_now(name, tenant_id, payload)
            return
        self._queue.put((name, tenant_id, payload, time.time()))

    def _persist_now(self, name: EventName, tenant_id: UUID, payload: JsonDict) -> None:
        # After close the event is still kept, with pending runs for the next start.
        try:
            self.store.save_events(
                [(self._event(name, tenant_id, payload, time.time()), self._interested(name))]
            )
        except Exception:
            log.exception("event %s emitted after shutdown could not be stored", name)

    def _event(self, name: str, tenant_id: UUID, payload: JsonDict, timestamp: float) -> Event:
        return Event(uuid4(), tenant_id, name, payload, datetime.fromtimestamp(timestamp, UTC))

    def _interested(self, name: str) -> list[str]:
        return [w.listener.name for w in self._workers.values() if name in w.listener.events]

    def _persist_loop(self) -> None:
        stop = False
        while not stop:
            items = [self._queue.get()]
            while len(items) < self._batch_size:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in items:
                stop = True
                items = [i for i in items if i is not _STOP]
            batch = []
            for item in items:
                name, tenant_id, payload, timestamp = cast(_Emitted, item)
                batch.append((self._event(name, tenant_id, payload, timestamp), self._interested(name)))
            if batch:
                self._save_with_retry(batch)
                for event, listeners in batch:
                    for listener in listeners:
                        self._workers[listener].queue.put(event)

    def _save_with_retry(self, batch: list[tuple[Event, list[str]]]) -> None:
        attempt = 0
        while True:
            try:
                self.store.save_events(batch)
                return
            except Exception:
                attempt += 1
                if self.past_deadline():
                    log.exception("dropping %d events: store unavailable at shutdown", len(batch))
                    return
                if attempt == 1:
                    log.exception("could not store %d events; retrying", len(batch))
                time.sleep(min(5.0, 0.1 * 2**attempt))

    def past_deadline(self) -> bool:
        """True once a shutdown's time budget is used up."""
        return self._deadline is not None and time.monotonic() > self._deadline

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking work, persist every accepted event, let listeners finish within `timeout`.

        Runs not finished by then stay pending in the store and resume on the next start.
        """
        if self._closed:
            return
        self._closed = True
        self._deadline = time.monotonic() + timeout
        if not self._started:
            self.start()
        self._queue.put(_STOP)
        self._persister.join(timeout)
        for worker in self._workers.values():
            worker.queue.put(_STOP)
        for worker in self._workers.values():
            worker.thread.join(max(0.0, self._deadline - time.monotonic()))
        self.stopping.set()
        for worker in self._workers.values():
            worker.thread.join(1.0)

    def replay(self, tenant_id: UUID, event_id: UUID) -> list[str]:
        """Run this event's failed listeners again; returns their names."""
        names = self.store.reset_failed_runs(tenant_id, event_id)
        record = self.store.get_event(tenant_id, event_id)
        if record is not None:
            for name in names:
                if name in self._workers:
                    self._workers[name].queue.put(record.event)
        return names

    def events_since(
        self, tenant_id: UUID, cursor: int = 0, limit: int = 100
    ) -> tuple[list[EventRecord], int]:
        """Events of one tenant after `cursor`, and the cursor to pass next time."""
        records = self.store.list_events(tenant_id, after_seq=cursor, limit=limit)
        return records, (records[-1].event.seq if records else cursor)

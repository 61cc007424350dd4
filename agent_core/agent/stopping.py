"""Stopping a turn while it runs: the turns this process runs, each with a flag someone
allowed to may raise (which also wakes a model blocked on its socket), and a helper thread
to wait on a model that cannot be woken without waiting past a stop."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

from agent_core.errors import TurnStoppedError

# How long the turn waits on a silent model before it looks again for a stop or its deadline.
POLL_SECONDS = 0.25

T = TypeVar("T")


@dataclass(slots=True)
class StopFlag:
    """Raised once by whoever stops the turn; the turn looks at it before every step and
    while it waits on the model. It is the turn's `llm.base.Interrupt`: raising it (or a
    shutdown) wakes a model blocked on I/O, which never waits past `deadline`."""

    tenant_id: UUID
    deadline: float
    """The turn's deadline, as a `time.monotonic()` value."""
    reason: str = ""
    # Looked at, never waited on (a wait is woken through `_wakes`): a bool, not an Event,
    # which cost every turn a Condition and two locks to make.
    _raised: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _woken: bool = False
    _wakes: list[Callable[[], None]] = field(default_factory=list)

    def raise_flag(self, reason: str) -> None:
        """Ask the turn to stop; `reason` is what the conversation shows as why."""
        with self._lock:
            if not self._raised:
                self.reason = reason
                self._raised = True
        self.wake()

    def check(self) -> None:
        """TurnStoppedError when someone stopped the turn."""
        if self._raised:
            raise TurnStoppedError(self.reason)

    def wake(self) -> None:
        """Make whatever the turn waits on return now (the turn then finds out why)."""
        with self._lock:
            self._woken = True
            wakes = list(self._wakes)
        for wake in wakes:
            wake()

    @contextmanager
    def waking(self, wake: Callable[[], None]) -> Iterator[None]:
        """Call `wake` on a stop or shutdown while the block runs; at once if one came already."""
        with self._lock:
            self._wakes.append(wake)
            woken = self._woken
        if woken:
            wake()
        try:
            yield
        finally:
            with self._lock:
                self._wakes.remove(wake)


class RunningTurns:
    """The turns this process is running, by turn id, so they can be stopped from another
    thread (the dashboard's Stop button, the API's stop route)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: dict[UUID, StopFlag] = {}

    def add(self, tenant_id: UUID, turn_id: UUID, deadline: float) -> StopFlag:
        """Register a turn that just started and must end by `deadline` (`time.monotonic()`);
        its flag."""
        flag = StopFlag(tenant_id, deadline)
        with self._lock:
            self._flags[turn_id] = flag
        return flag

    def remove(self, turn_id: UUID) -> None:
        """Forget a turn that ended (no-op when it is not registered)."""
        with self._lock:
            self._flags.pop(turn_id, None)

    def stop(self, tenant_id: UUID, turn_id: UUID, reason: str) -> bool:
        """Stop the tenant's turn if this process runs it; False otherwise (ended already, or
        another tenant's: a stop never reaches across tenants)."""
        with self._lock:
            flag = self._flags.get(turn_id)
        if flag is None or flag.tenant_id != tenant_id:
            return False
        flag.raise_flag(reason)
        return True

    def wake_all(self) -> None:
        """Wake every running turn's wait (a shutdown: each then sees why at its next look)."""
        with self._lock:
            flags = list(self._flags.values())
        for flag in flags:
            flag.wake()


class _HelperThreads:
    """Daemon threads kept idle for the next model answer (starting one per answer cost more
    than a fast model's whole answer); there is always one for a new answer, however many
    are busy or abandoned, and an idle one ends after a minute."""

    def __init__(self, idle_seconds: float = 60.0) -> None:
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[Callable[[], None]]] = []

    def run(self, job: Callable[[], None]) -> None:
        """Run `job` on an idle thread, or a new one."""
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(inbox,), name="model-stream", daemon=True).start()
        inbox.put(job)

    def _serve(self, inbox: queue.SimpleQueue[Callable[[], None]]) -> None:
        while True:
            try:
                job = inbox.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        return
                continue  # taken just now: its job is on the way
            job()
            with self._lock:
                self._idle.append(inbox)


_HELPERS = _HelperThreads()


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


class _Ended:
    pass


def interruptible(source: Callable[[], Iterator[T]], check: Callable[[], None]) -> Iterator[T]:
    """The items of `source()` (a `Reading.HELPER_THREAD` model's answer), read on a helper
    thread so that `check` runs at least every POLL_SECONDS even while the source blocks (a
    model that does not answer): whatever `check` raises ends the wait at once. An
    abandoned source is closed as soon as it yields again or fails, so its connection is
    released."""
    items: queue.SimpleQueue[T | _Failed | _Ended] = queue.SimpleQueue()
    abandoned = threading.Event()

    def pump() -> None:
        iterator = source()
        try:
            for item in iterator:
                if abandoned.is_set():
                    break
                items.put(item)
        except BaseException as error:
            items.put(_Failed(error))
        else:
            items.put(_Ended())
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    _HELPERS.run(pump)
    try:
        while True:
            check()
            try:
                got = items.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if isinstance(got, _Ended):
                return
            if isinstance(got, _Failed):
                raise got.error
            yield got
    finally:
        abandoned.set()

"""Leases of running turns: the process running a turn keeps renewing its lease, so a turn
whose lease ran out belongs to a process that died (SIGKILL, a crash, a lost host), and any
process closes it as failed — with its completed tool calls kept — instead of leaving it
`running` forever."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from uuid import UUID

from agent_core.store.base import DEFAULT_LEASE_SECONDS, Store

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted: the process running this turn stopped before it finished"


class TurnLeases:
    """The turns this process runs; `start()` renews their leases and reaps expired ones."""

    def __init__(
        self,
        store: Store,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        renew_every: float = 5.0,
        failed_listeners: Sequence[str] = (),
    ) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self._renew_every = renew_every
        self._failed_listeners = tuple(failed_listeners)
        self._held: set[UUID] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="turn-leases", daemon=True)

    def hold(self, turn_id: UUID) -> None:
        """Keep this turn's lease alive until `release`."""
        with self._lock:
            self._held.add(turn_id)

    def release(self, turn_id: UUID) -> None:
        """The turn is finished (or could not be recorded: its lease then runs out and is reaped)."""
        with self._lock:
            self._held.discard(turn_id)

    @property
    def held(self) -> list[UUID]:
        """Turns this process is running now."""
        with self._lock:
            return list(self._held)

    def renew(self) -> int:
        """Extend the leases of every held turn; returns how many were running."""
        return self.store.renew_turn_leases(self.held, self.lease_seconds)

    def reap(self) -> int:
        """Close turns whose lease expired as failed (with their event); returns how many."""
        closed = self.store.fail_expired_turns(INTERRUPTED, self._failed_listeners)
        for turn in closed:
            log.warning("closed turn %s left running by a stopped process", turn.turn_id)
        return len(closed)

    def start(self) -> None:
        """Renew and reap now, then every few seconds, in a background thread."""
        self._thread.start()

    def _loop(self) -> None:
        while True:
            for step in (self.renew, self.reap):
                try:
                    step()
                except Exception:
                    log.exception("turn lease %s failed; retrying", step.__name__)
            if self._stop.wait(self._renew_every):
                return

    def close(self) -> None:
        """Stop the background thread (held turns keep their leases until they run out)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)

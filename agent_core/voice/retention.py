"""Recordings kept as long as each tenant says (`recording_days`), then forgotten: their audio
goes, their timings stay for Analytics. Every process sweeps (the sweep is idempotent), a
minute after it starts and every hour after that."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from agent_core.clock import utcnow
from agent_core.store.base import Store
from agent_core.tenant_settings import settings_from

log = logging.getLogger(__name__)


class RecordingRetention:
    """Forgets each tenant's recordings once they are older than it keeps them."""

    def __init__(self, store: Store, *, first_after: float = 60.0, every: float = 3600.0) -> None:
        self._store = store
        self._first_after = first_after
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="recording-retention", daemon=True)

    def sweep(self, now: datetime | None = None) -> int:
        """Forget every recording past its tenant's retention at `now`; returns how many
        spoken turns lost their audio."""
        moment = now or utcnow()
        forgotten = 0
        for tenant in self._store.list_tenants():
            days = settings_from(tenant.settings).recording_days
            forgotten += self._store.voice_turns.forget_recordings(tenant.id, moment - timedelta(days=days))
        return forgotten

    def start(self) -> None:
        """Sweep in a background thread: first after `first_after` seconds, then every `every`."""
        self._thread.start()

    def _loop(self) -> None:
        wait = self._first_after
        while not self._stop.wait(wait):
            try:
                if forgotten := self.sweep():
                    log.info("forgot the recordings of %d spoken turns past their retention", forgotten)
            except Exception:
                log.exception("the recording retention sweep failed; trying again later")
            wait = self._every

    def close(self) -> None:
        """Stop sweeping."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)

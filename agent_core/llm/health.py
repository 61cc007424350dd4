"""Whether the model answers: the outcome of its last call, and a cheap probe.

"Configured" is not "working": a status display that shows the model green while its
server is down misleads the people watching it. The agent records every call's outcome
here; `ModelStatus` combines it with a probe of the server, cached for a few seconds so a
dashboard refreshing every two seconds does not hammer it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from agent_core.errors import AgentCoreError


@runtime_checkable
class Probeable(Protocol):
    """A model whose server can be asked cheaply whether it answers."""

    def probe(self) -> None:
        """Return when the server answers; ModelUnavailableError or ModelError when not."""
        ...


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How the last model call ended, and when (monotonic seconds)."""

    ok: bool
    at: float
    error: str | None = None


class ModelHealth:
    """The last call's outcome, recorded by the agent, read by status displays."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._last: CallOutcome | None = None

    @property
    def last(self) -> CallOutcome | None:
        """The last call's outcome, or None before the first call."""
        return self._last

    def succeeded(self) -> None:
        """A call returned a whole answer."""
        self._last = CallOutcome(True, self._now())

    def failed(self, error: str) -> None:
        """A call failed with `error` (a message safe to show)."""
        self._last = CallOutcome(False, self._now(), error)

    def ago(self, outcome: CallOutcome) -> str:
        """`12 s ago`, `3 min ago`."""
        seconds = max(0, int(self._now() - outcome.at))
        return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


class ModelStatus:
    """The model's health for /api/health and the sidebar: a probe (cached `cache_seconds`)
    and the last call's outcome. A failed last call shows until a later call succeeds."""

    def __init__(
        self,
        model: object,
        health: ModelHealth,
        *,
        cache_seconds: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._model = model
        self._health = health
        self._cache_seconds = cache_seconds
        self._now = monotonic
        self._lock = threading.Lock()
        self._probed: tuple[float, str | None] | None = None

    def check(self) -> tuple[bool, str]:
        """(ok, what to show). Never raises."""
        probe_error = self._probe()
        last = self._health.last
        if probe_error is not None:
            return False, f"unreachable: {probe_error}"
        if last is not None and not last.ok:
            return False, f"the last call failed {self._health.ago(last)}: {last.error}"
        if last is not None:
            return True, f"answering; last answer {self._health.ago(last)}"
        return True, "reachable; no call yet"

    def _probe(self) -> str | None:
        if not isinstance(self._model, Probeable):
            return None
        with self._lock:
            if self._probed is not None and self._now() - self._probed[0] < self._cache_seconds:
                return self._probed[1]
            try:
                self._model.probe()
                error = None
            except AgentCoreError as exc:
                error = str(exc)
            self._probed = (self._now(), error)
            return error

"""A turn run on its own thread, so a page can redraw its steps as they come while the rest
of the page (the event log) stays live, and a Stop button can reach it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from uuid import UUID

from agent_core.agent.steps import TurnFinished, TurnStarted, TurnStep
from agent_core.domain import TurnResult
from agent_core.errors import AgentCoreError

log = logging.getLogger(__name__)


class BackgroundTurn:
    """Consumes a turn's steps on a daemon thread and keeps them for whoever shows them.

    Errors end up in `error` (an unexpected one as a generic message; the server log has the
    rest). The thread holds no page state: a page that goes away leaves the turn to finish.
    """

    def __init__(self, steps: Callable[[], Iterator[TurnStep]]) -> None:
        self.started_at = time.monotonic()
        self.error: AgentCoreError | None = None
        self._steps: list[TurnStep] = []
        self._lock = threading.Lock()
        self._began = threading.Event()
        self._done = threading.Event()
        threading.Thread(target=self._consume, args=(steps,), name="dashboard-turn", daemon=True).start()

    def _consume(self, steps: Callable[[], Iterator[TurnStep]]) -> None:
        try:
            for step in steps():
                with self._lock:
                    self._steps.append(step)
                self._began.set()
        except AgentCoreError as exc:
            self.error = exc
        except Exception:
            log.exception("a dashboard turn failed")
            self.error = AgentCoreError("the turn failed unexpectedly; the server log has the details")
        finally:
            self._began.set()
            self._done.set()

    def steps(self) -> list[TurnStep]:
        """The steps so far, in order."""
        with self._lock:
            return list(self._steps)

    @property
    def done(self) -> bool:
        """True once the turn ended, answered or not."""
        return self._done.is_set()

    @property
    def started(self) -> TurnStarted | None:
        """The turn's first step (its message is stored), once it came."""
        with self._lock:
            first = self._steps[0] if self._steps else None
        return first if isinstance(first, TurnStarted) else None

    @property
    def elapsed_seconds(self) -> float:
        """Time since the message was sent."""
        return time.monotonic() - self.started_at

    def wait_began(self, timeout: float) -> bool:
        """Wait until the message is stored or the turn ended; False when `timeout` passed first."""
        return self._began.wait(timeout)

    def wait_done(self, timeout: float) -> bool:
        """Wait until the turn ended; False when `timeout` passed first."""
        return self._done.wait(timeout)

    @property
    def result(self) -> TurnResult | None:
        """The finished turn, once it finished answered."""
        with self._lock:
            last = self._steps[-1] if self._steps else None
        return last.result if isinstance(last, TurnFinished) else None

    @property
    def conversation_id(self) -> UUID | None:
        """The conversation the turn belongs to, once its message is stored."""
        started = self.started
        return None if started is None else started.conversation_id

"""Running an ASGI app (the headless API, or the dashboard with the API beside it) under
uvicorn with the shutdown the product promises.

On SIGTERM or Ctrl+C the server stops accepting connections; running turns get two thirds
of the grace period to finish, then stop at their next step and answer 503 with their ids,
recorded as failed — all before the grace ends and the store closes. Then the process
exits 0.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

import uvicorn

from agent_core.runtime import shared_runtime


def serve(app: Any, *, host: str, port: int, graceful_seconds: float, factory: bool = False) -> None:
    """Serve `app` (an ASGI app, or an import string) until a signal, then shut down cleanly."""

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if not self.should_exit:
                budget = graceful_seconds * 2 / 3
                threading.Thread(target=_stop_turns, args=(budget,), name="stop-turns", daemon=True).start()
            super().handle_exit(sig, frame)

    # uvicorn finishes in-flight requests and the lifespan on SIGTERM, then re-raises the
    # signal; exiting through this handler makes that clean shutdown exit with status 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    config = uvicorn.Config(
        app,
        factory=factory,
        host=host,
        port=port,
        timeout_graceful_shutdown=max(1, int(graceful_seconds)),
    )
    Server(config).run()


def _stop_turns(budget: float) -> None:
    shared_runtime().stop_turns(budget)

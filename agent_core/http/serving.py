"""Running an ASGI app (the headless API, or the dashboard with the API beside it) under
uvicorn with the shutdown the product promises, in one process or several.

On SIGTERM or Ctrl+C the server stops accepting connections; running turns get two thirds
of the grace period to finish, then stop at their next step and answer 503 with their ids,
recorded as failed — all before the grace ends and the store closes. Then the process
exits 0.

With several workers the parent binds the port once and runs that same server in each
child (the kernel spreads connections over them); SIGTERM to the parent reaches every child,
each shuts down as above, and a child that dies is replaced. uvicorn's own `--workers`
supervisor runs its plain server in the children, without the stop of running turns.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from agent_core.runtime import shared_runtime

# uvicorn's logger, which its logging configuration prints (as the workers' own lines).
log = logging.getLogger("uvicorn.error")

# A worker's exit status when its server never started (the app or the port failed):
# replacing it would fail the same way, so the whole server stops instead.
_STARTUP_FAILURE = 3


class _GracefulServer(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            budget = self.config.timeout_graceful_shutdown or 1
            threading.Thread(
                target=_stop_turns, args=(budget * 2 / 3,), name="stop-turns", daemon=True
            ).start()
        super().handle_exit(sig, frame)


def serve(
    app: Any,
    *,
    host: str,
    port: int,
    graceful_seconds: float,
    factory: bool = False,
    workers: int = 1,
    own_logging: bool = True,
) -> None:
    """Serve `app` (an ASGI app, or an import string; an import string with several
    `workers`) until a signal, then shut down cleanly. Without `own_logging` uvicorn adds no
    log handlers: the app's (Streamlit's) already print its lines, and both would print each
    request twice."""
    config = uvicorn.Config(
        app,
        factory=factory,
        host=host,
        port=port,
        timeout_graceful_shutdown=max(1, int(graceful_seconds)),
        log_config=LOGGING_CONFIG if own_logging else None,
    )
    if workers > 1:
        _supervise(config, workers)
    else:
        _run_server(config)


def _run_server(config: uvicorn.Config, sockets: list[socket.socket] | None = None) -> bool:
    """Serve until a signal, then shut down cleanly; False when the server never started."""
    # uvicorn finishes in-flight requests and the lifespan on SIGTERM, then re-raises the
    # signal; exiting through this handler makes that clean shutdown exit with status 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    server = _GracefulServer(config)
    server.run(sockets=sockets)
    return server.started


def _run_worker(config: uvicorn.Config, sockets: list[socket.socket]) -> None:
    # A spawned child unpickles the configuration without running its __init__, which is
    # where uvicorn sets up its logging.
    config.configure_logging()
    if not _run_server(config, sockets):
        sys.exit(_STARTUP_FAILURE)


def _supervise(config: uvicorn.Config, workers: int) -> None:
    listening = config.bind_socket()
    spawn = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> multiprocessing.process.BaseProcess:
        child = spawn.Process(target=_run_worker, args=(config, [listening]), name="vam-api-worker")
        child.start()
        return child

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    children = [start() for _ in range(workers)]
    log.info("serving with %d workers (pids %s)", workers, ", ".join(str(c.pid) for c in children))
    failed = False
    while not stopping.wait(0.5):
        for index, child in enumerate(children):
            if child.is_alive():
                continue
            if child.exitcode == _STARTUP_FAILURE:
                log.error("worker %s failed to start: stopping", child.pid)
                failed = True
                stopping.set()
                break
            log.warning("worker %s died (exit code %s): starting another", child.pid, child.exitcode)
            children[index] = start()
    for child in children:
        if child.is_alive() and child.pid is not None:
            os.kill(child.pid, signal.SIGTERM)
    for child in children:
        child.join()
    listening.close()
    if failed:
        raise SystemExit(1)


def _stop_turns(budget: float) -> None:
    shared_runtime().stop_turns(budget)

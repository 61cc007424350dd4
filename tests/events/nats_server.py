"""A real `nats-server` with JetStream of a test's own: its port, its store directory, and
stop/start to play an outage and a restart."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent_core.testing.net import free_port
from tests.conftest import service_missing

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


class NatsServer:
    """One nats-server process; `stop()` kills it, `start()` brings it back on the same port
    with the same store, as a restarted server."""

    def __init__(self, store_dir: Path) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._store_dir = store_dir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self._store_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nats-server did not listen on {self.port}")

    def stop(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self._process is not None:
            self._process.send_signal(sig)
            self._process.wait(10)
            self._process = None


@contextmanager
def nats_server(store_dir: Path) -> Iterator[NatsServer]:
    """A running nats-server of the caller's own (skipped locally, failed in CI, without one)."""
    if not Path(NATS_SERVER).exists():
        service_missing(f"nats-server is not installed ({NATS_SERVER}): apt-get install nats-server")
    server = NatsServer(store_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()

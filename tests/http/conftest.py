"""A real HTTP server (uvicorn on a free loopback port) over a runtime the test chooses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from agent_core.clock import FixedClock
from agent_core.http.app import create_api, dashboard_middleware, dashboard_routes
from agent_core.http.errors import EXCEPTION_HANDLERS
from agent_core.runtime import Runtime, build_runtime
from agent_core.settings import load_settings
from agent_core.testing.net import free_port


@dataclass
class RunningApi:
    runtime: Runtime
    url: str
    client: httpx.Client


@pytest.fixture
def serve(tmp_path: Path, clock: FixedClock, unconfigured: None) -> Iterator[Callable[..., RunningApi]]:
    """Start the API on settings of the test's choosing; stopped and closed afterwards."""
    started: list[tuple[uvicorn.Server, threading.Thread, RunningApi]] = []

    def start(*, dashboard: bool = False, **settings: object) -> RunningApi:
        """`dashboard`: serve the sign-in routes and the page gate too (no Streamlit pages)."""
        runtime = build_runtime(
            load_settings(sqlite_path=tmp_path / f"api{len(started)}.sqlite3", **settings), clock=clock
        )
        port = free_port()
        app = (
            Starlette(
                routes=dashboard_routes(lambda: runtime),
                middleware=dashboard_middleware(lambda: runtime),
                exception_handlers=EXCEPTION_HANDLERS,
            )
            if dashboard
            else create_api(runtime)
        )
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        url = f"http://127.0.0.1:{port}"
        running = RunningApi(runtime, url, httpx.Client(base_url=url, timeout=30))
        started.append((server, thread, running))
        return running

    yield start
    for server, thread, running in started:
        running.client.close()
        server.should_exit = True
        thread.join(timeout=20)
        running.runtime.close()


@pytest.fixture
def api(serve: Callable[..., RunningApi]) -> RunningApi:
    """The API on embedded defaults (SQLite, demo model), no API keys."""
    return serve()

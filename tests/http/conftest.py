"""A real HTTP server (uvicorn on a free loopback port) over a runtime the test chooses."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from agent_core.clock import FixedClock
from agent_core.http.app import create_api
from agent_core.http.errors import EXCEPTION_HANDLERS
from agent_core.runtime import Runtime, build_runtime
from agent_core.settings import load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.testing.net import bound_socket
from agent_core.testing.openai_server import FakeOpenAIServer
from dashboard.web import dashboard_middleware, dashboard_routes


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
        listening = bound_socket()
        port = int(listening.getsockname()[1])
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
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
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
        thread.join(timeout=20)  # uvicorn closes the socket it was handed as it stops
        running.runtime.close()


@pytest.fixture
def api(serve: Callable[..., RunningApi]) -> RunningApi:
    """The API on embedded defaults (SQLite, demo model), no API keys."""
    return serve()


@pytest.fixture
def model() -> Iterator[FakeOpenAIServer]:
    """A local OpenAI-compatible server whose answers the test scripts (or replays)."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def model_api(serve: Callable[..., RunningApi], model: FakeOpenAIServer) -> RunningApi:
    """The API answered by `model` through the real openai client, without retries."""
    return serve(openai_api_key="sk-test", openai_base_url=model.base_url, openai_max_retries=0)


def failed_turn(api: RunningApi, response: httpx.Response) -> str:
    """The stored error of the turn a failed response names (it must have failed)."""
    error = response.json()["error"]
    turns = api.runtime.store.list_turns(DEMO_TENANT_ID, UUID(error["conversationId"]))
    [turn] = [t for t in turns if str(t.id) == error["turnId"]]
    assert turn.status == "failed"
    assert turn.error is not None
    return turn.error


def booking_turn(url: str, i: int) -> httpx.Response:
    """One turn asking the API at `url` for a booking (the i-th of a test)."""
    body = {"tenantId": str(DEMO_TENANT_ID), "message": f"Book Ana Silva, turn {i}"}
    return httpx.post(f"{url}/api/chat", json=body, timeout=60)


def sigterm_with_turns_in_flight(
    server: subprocess.Popen[bytes], url: str, model: FakeOpenAIServer, turns: int
) -> list[httpx.Response]:
    """Send `turns` booking turns at once to the API `server` serves at `url`, SIGTERM it once
    every one has reached the model, and wait for it to exit 0; the turns' answers."""
    responses: list[httpx.Response] = []
    clients = [
        threading.Thread(target=lambda i=i: responses.append(booking_turn(url, i))) for i in range(turns)
    ]
    for client in clients:
        client.start()
    deadline = time.monotonic() + 30
    while len(model.requests) < turns:
        assert time.monotonic() < deadline, "the turns never reached the model"
        time.sleep(0.01)
    server.send_signal(signal.SIGTERM)
    for client in clients:
        client.join(timeout=60)
    output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output
    return responses

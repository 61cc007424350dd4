"""The model's status tells the truth: a probe of the server and the last call's outcome,
through the real client over HTTP — not "configured"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_core.clock import FixedClock
from agent_core.errors import ModelUnavailableError
from agent_core.llm.health import ModelHealth, ModelStatus
from agent_core.runtime import Runtime, build_runtime
from agent_core.settings import load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.testing.net import free_port
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from tests.conftest import whole_turn


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


def runtime_for(base_url: str, tmp_path: Path, clock: FixedClock) -> Runtime:
    settings = load_settings(
        sqlite_path=tmp_path / "db.sqlite3",
        openai_api_key="sk-test",
        openai_base_url=base_url,
        openai_model="gpt-test",
        openai_max_retries=0,
    )
    return build_runtime(settings, clock=clock)


def model_check(runtime: Runtime) -> tuple[bool, str]:
    part = next(p for p in runtime.health() if p.name == "model")
    return part.ok, part.detail


def test_a_model_server_that_is_down_shows_down_with_the_reason(tmp_path: Path, clock: FixedClock) -> None:
    runtime = runtime_for(f"http://127.0.0.1:{free_port()}/v1", tmp_path, clock)
    try:
        ok, detail = model_check(runtime)
    finally:
        runtime.close()
    assert not ok
    assert detail == "unreachable: cannot reach the model server (check OPENAI_BASE_URL)"


def test_a_failed_call_shows_until_a_call_succeeds(
    server: FakeOpenAIServer, tmp_path: Path, clock: FixedClock
) -> None:
    runtime = runtime_for(server.base_url, tmp_path, clock)
    try:
        assert model_check(runtime) == (True, "reachable; no call yet")
        server.enqueue(FakeCompletion(status=500, text="boom"))
        with pytest.raises(ModelUnavailableError):
            whole_turn(runtime.agent, DEMO_TENANT_ID, "Hello")
        ok, detail = model_check(runtime)
        assert not ok
        assert detail.startswith("the last call failed 0 s ago: the model server failed (HTTP 500)")
        server.enqueue(FakeCompletion(text="Hello!"))
        whole_turn(runtime.agent, DEMO_TENANT_ID, "Hello again")
        assert model_check(runtime) == (True, "answering; last answer 0 s ago")
    finally:
        runtime.close()


class CountingModel:
    name = "counting"

    def __init__(self) -> None:
        self.probes = 0
        self.down = False

    def probe(self) -> None:
        self.probes += 1
        if self.down:
            raise ModelUnavailableError("cannot reach the model server")


def test_the_probe_is_cached_so_a_refreshing_dashboard_does_not_hammer_the_server() -> None:
    now = [100.0]
    model = CountingModel()
    status = ModelStatus(model, ModelHealth(lambda: now[0]), cache_seconds=10, monotonic=lambda: now[0])
    assert status.check() == (True, "reachable; no call yet")
    model.down = True
    now[0] += 5
    assert status.check()[0] is True
    assert model.probes == 1
    now[0] += 6
    assert status.check() == (False, "unreachable: cannot reach the model server")
    assert model.probes == 2


def test_scenario_runs_do_not_change_the_live_status(tmp_path: Path, clock: FixedClock) -> None:
    from agent_core.workspace import cli_principal

    runtime = build_runtime(load_settings(sqlite_path=tmp_path / "db.sqlite3"), clock=clock)
    try:
        runtime.acting_as(cli_principal("tests")).scenarios.run(DEMO_TENANT_ID)
        assert runtime.agent.health.last is None
    finally:
        runtime.close()

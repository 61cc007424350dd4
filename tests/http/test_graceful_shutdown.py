"""SIGTERM on the headless API: accepted turns finish and are persisted, then a clean exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from agent_core.testing.environment import unconfigured_environment
from agent_core.testing.net import free_port, wait_for_http
from agent_core.testing.openai_server import FakeOpenAIServer, booking_responder
from tests.conftest import ROOT
from tests.http.conftest import sigterm_with_turns_in_flight

TURNS = 8


def test_sigterm_lets_in_flight_turns_finish_and_persists_them(tmp_path: Path) -> None:
    database = tmp_path / "shutdown.sqlite3"
    port = free_port()
    with FakeOpenAIServer(booking_responder(delay=1.0)) as model:
        env = unconfigured_environment(
            SQLITE_PATH=str(database),
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=model.base_url,
            OPENAI_MAX_RETRIES="0",
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "agent_core.cli", "api", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        assert wait_for_http(f"{url}/api/health", timeout=30), "the API did not start"
        responses = sigterm_with_turns_in_flight(server, url, model, TURNS)

    assert [r.status_code for r in responses] == [200] * TURNS
    assert all(r.json()["reply"] == "Booked." for r in responses)
    store = SqliteStore(database)
    try:
        assert store.list_tours(DEMO_TENANT_ID).total == TURNS
        conversations = store.list_conversations(DEMO_TENANT_ID)
        assert len(conversations) == TURNS
        assert all(c.message_count == 4 for c in conversations)
        events = store.events.find(DEMO_TENANT_ID, limit=1000)
        assert sum(1 for r in events if r.event.name == "tour.booked") == TURNS
        assert sum(1 for r in events if r.event.name == "chat.reply.sent") == TURNS
    finally:
        store.close()

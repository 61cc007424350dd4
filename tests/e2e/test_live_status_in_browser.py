"""What the dashboard says while the model fails or hangs, in Chromium: the message marked
not answered, the model red in the status panel, Retry answering it once the model is back,
the conversation in the Conversations page, and a hanging answer stopped while the event log
keeps updating. The model is a local OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer
from tests.e2e.conftest import running_dashboard, send_message, shoot

pytestmark = pytest.mark.browser


@pytest.fixture
def model() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def dashboard_url(tmp_path: Path, model: FakeOpenAIServer) -> Iterator[str]:
    settings = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model.base_url, "OPENAI_MAX_RETRIES": "0"}
    with running_dashboard(tmp_path / "dashboard.sqlite3", **settings) as url:
        yield url


def test_a_failed_answer_is_marked_red_and_retried_once_the_model_is_back(
    page: Page, dashboard_url: str, model: FakeOpenAIServer
) -> None:
    page.goto(dashboard_url)
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    model.enqueue(FakeCompletion(status=500, text="boom"))
    send_message(page, page.get_by_placeholder("assistant", exact=False), "Hello there")
    expect(page.get_by_text("Not answered: the model server failed (HTTP 500)")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("System status: model not working")).to_be_visible(timeout=30_000)
    shoot(page, "chat-not-answered")

    model.enqueue(FakeCompletion(text="Hello! How can I help you today?"))
    page.get_by_role("button", name="Retry").click()
    # While the page redraws, the streamed answer and the redrawn history may both show it.
    # Once in the conversation (the event log beside it quotes replies too).
    replies = page.get_by_test_id("stChatMessage")
    expect(replies.get_by_text("Hello! How can I help you today?")).to_have_count(1, timeout=30_000)
    expect(page.get_by_text("Not answered", exact=False)).to_have_count(0)
    conversation = page.url.split("conversation=")[1].split("&")[0]

    # The link to a conversation opens it in the Conversations page.
    page.goto(f"{dashboard_url}/conversations?conversation={conversation}")
    expect(page.get_by_role("heading", name="Conversations · Demo Tours")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("1 conversation · showing 1–1")).to_be_visible()
    expect(page.locator("td[role=gridcell]", has_text="Hello there")).to_have_count(1)
    expect(page.get_by_text("Hello! How can I help you today?")).to_be_visible(timeout=30_000)
    shoot(page, "conversations")

    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics · Demo Tours")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("1 (50.0%)")).to_be_visible()
    expect(page.locator("[data-testid=stVegaLiteChart]").first).to_be_visible(timeout=30_000)
    shoot(page, "analytics")


def test_a_hanging_model_can_be_stopped_while_the_event_log_keeps_updating(
    page: Page, dashboard_url: str, model: FakeOpenAIServer
) -> None:
    page.goto(dashboard_url)
    expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
    model.enqueue(FakeCompletion(text="Far too late.", delay=30))
    send_message(page, page.get_by_placeholder("assistant", exact=False), "Is anyone there?")
    thinking = page.get_by_text("Thinking…", exact=False)
    expect(thinking).to_be_visible(timeout=30_000)
    # The event log redraws on its own while the answer is awaited.
    expect(page.get_by_text("chat.message.received")).to_be_visible(timeout=30_000)
    expect(page.get_by_placeholder("Answering…", exact=False)).to_be_disabled()
    shoot(page, "chat-thinking")

    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("Not answered: stopped by the local admin")).to_be_visible(timeout=30_000)
    expect(thinking).to_have_count(0)
    expect(page.get_by_text("chat.turn.failed")).to_be_visible(timeout=30_000)
    model.enqueue(FakeCompletion(text="Yes, I am here."))
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_test_id("stChatMessage").get_by_text("Yes, I am here.")).to_have_count(
        1, timeout=30_000
    )
    expect(page.get_by_text("Far too late.")).to_have_count(0)

"""A conversation started over the API is logged as the API's, with the key that started it."""

from __future__ import annotations

from collections.abc import Callable

from agent_core.domain import Channel
from agent_core.store.conversation_log import ConversationQuery
from agent_core.store.demo_data import DEMO_TENANT_ID
from tests.conftest import TEST_ADMIN
from tests.http.conftest import RunningApi


def test_an_api_conversation_is_logged_with_its_channel_and_key(serve: Callable[..., RunningApi]) -> None:
    api = serve()
    admin = api.runtime.acting_as(TEST_ADMIN)
    admin.accounts.add_user("boss@example.com", "admin", password="correct horse battery staple")
    _, secret = admin.accounts.create_api_key("phone gateway", DEMO_TENANT_ID)
    answered = api.client.post(
        "/api/chat",
        json={"tenantId": str(DEMO_TENANT_ID), "message": "Hello"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert answered.status_code == 200
    [row] = api.runtime.store.search_conversations(DEMO_TENANT_ID, ConversationQuery()).rows
    assert row.channel is Channel.API
    assert "phone gateway" in row.started_by

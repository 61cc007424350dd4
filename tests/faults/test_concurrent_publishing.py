"""Two operators publish a prompt at the same moment, on every store: one version goes live,
attributed to its author; the other operator is told and nothing of theirs is written. A
draft written on an older version cannot be published over a newer one."""

from __future__ import annotations

import threading
from uuid import uuid4

import pytest

from agent_core.access.models import Principal, PrincipalKind, UserRole
from agent_core.domain import Tenant
from agent_core.errors import PromptChangedError
from agent_core.prompt_changes import Publication
from agent_core.store.base import Store
from agent_core.workspace import Workspace
from tests.conftest import make_workspace

SAYS_HELLO = {"name": "Says hello", "steps": [{"say": "Hello", "expect": {"no_tools": True}}]}


def admin(tenant: Tenant, email: str) -> Principal:
    return Principal(PrincipalKind.USER, email, UserRole.ADMIN, frozenset({tenant.id}), uuid4())


def test_two_operators_publishing_at_once_one_wins_and_the_other_is_told(
    store: Store, tenant: Tenant
) -> None:
    kim, lee = (
        make_workspace(store, admin(tenant, "kim@example.com")),
        make_workspace(store, admin(tenant, "lee@example.com")),
    )
    kim.scenarios.save(tenant.id, SAYS_HELLO)
    # Both are inside the publish gate (their scenario runs) before either writes.
    both_testing = threading.Barrier(2, timeout=30)
    outcomes: dict[str, Publication | Exception] = {}

    def meet_in_the_gate(done: int, total: int, scenario: str) -> None:
        if done == 0:
            both_testing.wait()

    def publish(name: str, workspace: Workspace, text: str) -> None:
        try:
            outcomes[name] = workspace.prompts.publish(tenant.id, text, on_progress=meet_in_the_gate)
        except Exception as exc:
            outcomes[name] = exc

    threads = [
        threading.Thread(target=publish, args=("kim", kim, "You are Kim, the morning host.")),
        threading.Thread(target=publish, args=("lee", lee, "You are Lee, the evening host.")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    published = [o for o in outcomes.values() if isinstance(o, Publication)]
    refused = [o for o in outcomes.values() if isinstance(o, PromptChangedError)]
    assert (len(published), len(refused)) == (1, 1), outcomes
    [winner] = published
    assert "version 2 of the prompt went live after version 1" in str(refused[0])
    versions = store.list_prompt_versions(tenant.id)
    assert [v.version for v in versions] == [2, 1]
    assert (versions[0].prompt, versions[0].author) == (winner.version.prompt, winner.version.author)
    author = "kim@example.com" if "Kim" in winner.version.prompt else "lee@example.com"
    assert winner.version.author == author
    live = store.get_tenant(tenant.id)
    assert live is not None
    assert live.system_prompt == winner.version.prompt


def test_a_draft_written_on_an_older_version_is_not_published_over_a_newer_one(
    store: Store, tenant: Tenant
) -> None:
    kim, lee = (
        make_workspace(store, admin(tenant, "kim@example.com")),
        make_workspace(store, admin(tenant, "lee@example.com")),
    )
    kim.prompts.save_draft(tenant.id, "You are Kim, the weekend host.")
    lee.prompts.publish(tenant.id, "You are Lee, who took over.")
    with pytest.raises(PromptChangedError, match="version 2 of the prompt went live after version 1"):
        kim.prompts.publish_draft(tenant.id)
    assert [v.prompt for v in store.list_prompt_versions(tenant.id)] == [
        "You are Lee, who took over.",
        tenant.system_prompt,
    ]
    assert store.get_prompt_draft(tenant.id) is not None  # kept, to be reviewed

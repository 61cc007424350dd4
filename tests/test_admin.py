"""Prompt edits: validated, versioned, undoable, and used by the very next turn."""

from __future__ import annotations

from uuid import uuid4

import pytest
from agent_core.admin import MAX_PROMPT_CHARS, roll_back_prompt, save_prompt

from agent_core.clock import FixedClock
from agent_core.domain import Tenant
from agent_core.errors import InvalidInputError, NotFoundError
from agent_core.prompt_cache import PromptCache
from agent_core.store.base import Store
from tests.conftest import make_agent


def test_a_saved_prompt_changes_the_next_reply(store: Store, tenant: Tenant, clock: FixedClock) -> None:
    agent = make_agent(store, clock)
    assert agent.run_turn(tenant.id, "Hello").reply.startswith("Hello! I'm Kim")
    assert isinstance(agent.prompts, PromptCache)
    save_prompt(store, agent.prompts, tenant.id, "You are Robin, the weekend host.", "ops@example.com")
    assert agent.run_turn(tenant.id, "Hello").reply.startswith("Hello! I'm Robin, the weekend host.")


@pytest.mark.parametrize(
    ("prompt", "author", "problem"),
    [
        ("   ", "ops", "prompt: String should have at least 1 character"),
        (
            "x" * (MAX_PROMPT_CHARS + 1),
            "ops",
            f"prompt: String should have at most {MAX_PROMPT_CHARS} characters",
        ),
        ("fine", "", "author: String should have at least 1 character"),
        ("bad\x00prompt", "ops", "prompt: must not contain NUL characters"),
    ],
)
def test_bad_prompts_are_refused_and_nothing_changes(
    store: Store, tenant: Tenant, prompt: str, author: str, problem: str
) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        save_prompt(store, PromptCache(store), tenant.id, prompt, author)
    assert [v.version for v in store.list_prompt_versions(tenant.id)] == [1]


def test_every_version_is_kept_and_a_rollback_is_a_new_version(store: Store, tenant: Tenant) -> None:
    cache = PromptCache(store)
    save_prompt(store, cache, tenant.id, "Second", "ana")
    save_prompt(store, cache, tenant.id, "Third", "ben")
    rolled = roll_back_prompt(store, cache, tenant.id, 1, "cara")
    assert rolled.version == 4
    assert cache.system_prompt(tenant.id) == tenant.system_prompt
    history = [(v.version, v.prompt, v.author) for v in store.list_prompt_versions(tenant.id)]
    assert history == [
        (4, tenant.system_prompt, "cara"),
        (3, "Third", "ben"),
        (2, "Second", "ana"),
        (1, tenant.system_prompt, "created"),
    ]
    with pytest.raises(InvalidInputError, match="version 9 does not exist"):
        roll_back_prompt(store, cache, tenant.id, 9, "cara")


def test_editing_an_unknown_tenant_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        save_prompt(store, PromptCache(store), uuid4(), "Hello", "ops")


def test_tenants_are_added_with_a_validated_name_and_prompt(store: Store) -> None:
    from agent_core.admin import create_tenant

    name = f"Alpine Walks {uuid4().hex[:6]}"
    tenant = create_tenant(store, f"  {name} ", "You are Heidi.")
    assert tenant.name == name
    assert store.list_prompt_versions(tenant.id)[0].prompt == "You are Heidi."
    with pytest.raises(InvalidInputError, match="already exists"):
        create_tenant(store, name.lower(), "Another")
    with pytest.raises(InvalidInputError, match="name: String should have at least 1 character"):
        create_tenant(store, "   ", "prompt")

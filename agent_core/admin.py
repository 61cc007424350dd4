"""Operator actions: adding tenants and editing their prompts (validated, versioned, and
visible to the next turn in every process)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_core.domain import PromptVersion, Tenant
from agent_core.errors import InvalidInputError, check_storable_text, invalid_input
from agent_core.prompt_cache import PromptCache
from agent_core.store.base import Store

MAX_PROMPT_CHARS = 8000


class PromptEdit(BaseModel):
    """A prompt change as submitted by an operator."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    author: str = Field(min_length=1, max_length=100)

    @field_validator("prompt", "author")
    @classmethod
    def _storable(cls, value: str) -> str:
        return check_storable_text(value)


class NewTenant(BaseModel):
    """A tenant as submitted by an operator."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    name: str = Field(min_length=1, max_length=100)
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)

    @field_validator("name", "prompt")
    @classmethod
    def _storable(cls, value: str) -> str:
        return check_storable_text(value)


def create_tenant(store: Store, name: str, prompt: str) -> Tenant:
    """Validate and add a tenant; InvalidInputError for a bad or taken name."""
    try:
        new = NewTenant(name=name, prompt=prompt)
    except ValidationError as exc:
        raise invalid_input("tenant", exc) from None
    return store.create_tenant(new.name, new.prompt)


def save_prompt(store: Store, cache: PromptCache, tenant_id: UUID, prompt: str, author: str) -> PromptVersion:
    """Validate and store a new prompt version, then refresh the cache everywhere.

    The store is written first, so a cache failure can never leave the new prompt unsaved;
    NotFoundError for an unknown tenant, InvalidInputError for a bad prompt.
    """
    try:
        edit = PromptEdit(prompt=prompt, author=author)
    except ValidationError as exc:
        raise invalid_input("prompt", exc) from None
    version = store.update_system_prompt(tenant_id, edit.prompt, edit.author)
    cache.invalidate(tenant_id, version.prompt)
    return version


def roll_back_prompt(
    store: Store, cache: PromptCache, tenant_id: UUID, version: int, author: str
) -> PromptVersion:
    """Make an earlier version current again, as a new version (history is never rewritten)."""
    earlier = next((v for v in store.list_prompt_versions(tenant_id) if v.version == version), None)
    if earlier is None:
        raise InvalidInputError(f"version {version} does not exist for this tenant")
    return save_prompt(store, cache, tenant_id, earlier.prompt, author)

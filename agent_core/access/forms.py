"""What people submit — tenants, prompt edits, users, passwords, API keys — validated before
anything is written."""

from __future__ import annotations

import json
from datetime import date
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator

from agent_core.access.models import UserRole
from agent_core.errors import StorableText, check_storable_text, invalid_input
from agent_core.submitted import text_field
from agent_core.tools.fields import BookableDate, PlaceName, validation_context

MAX_PROMPT_CHARS = 8000
MIN_REASON_CHARS = 5
MAX_REASON_CHARS = 500
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256

FormT = TypeVar("FormT", bound=BaseModel)


def parse_form(form: type[FormT], what: str, **values: object) -> FormT:
    """The submission validated, or InvalidInputError listing every problem."""
    try:
        return form.model_validate(values)
    except ValidationError as exc:
        raise invalid_input(what, exc) from None


def parse_like_a_tool(
    form: type[FormT], what: str, today: date, *, phone_region: str | None = None, **values: object
) -> FormT:
    """A correction validated exactly as a tool validates the model's arguments: as JSON
    (dates as YYYY-MM-DD), against today's date, phone numbers read for `phone_region`."""
    try:
        return form.model_validate_json(
            json.dumps(values, default=str), context=validation_context(today, phone_region)
        )
    except ValidationError as exc:
        raise invalid_input(what, exc) from None


class _Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, frozen=True, extra="forbid")


class PromptEdit(_Form):
    """A system prompt as an operator submits it."""

    prompt: str = text_field(1, MAX_PROMPT_CHARS)

    @field_validator("prompt")
    @classmethod
    def _storable(cls, value: str) -> str:
        return check_storable_text(value)


class OverrideReason(_Form):
    """Why an admin publishes a prompt whose scenarios failed (kept in the audit log)."""

    reason: StorableText = text_field(MIN_REASON_CHARS, MAX_REASON_CHARS)


class NewTenant(PromptEdit):
    """A tenant with its first system prompt."""

    name: str = Field(min_length=1, max_length=100)

    @field_validator("name")
    @classmethod
    def _storable_name(cls, value: str) -> str:
        return check_storable_text(value)


class NewPassword(BaseModel):
    """A password someone chose: long enough to resist guessing (spaces count)."""

    model_config = ConfigDict(frozen=True)

    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS, repr=False)

    @field_validator("password")
    @classmethod
    def _storable(cls, value: str) -> str:
        return check_storable_text(value)


class UserForm(_Form):
    """A user's email, role and assigned tenants (an admin's tenants are all of them)."""

    email: EmailStr = Field(max_length=254)
    role: UserRole
    tenants: frozenset[UUID] = frozenset()


class TourMove(_Form):
    """A booking's new date and place as an operator gives them (validated like the tools')."""

    new_date: BookableDate
    new_location: PlaceName | None = None


class ApiKeyForm(_Form):
    """A new API key: a name saying who uses it, and its tenant (None: admin-wide)."""

    name: str = Field(min_length=1, max_length=100)
    tenant_id: UUID | None = None

    @field_validator("name")
    @classmethod
    def _storable(cls, value: str) -> str:
        return check_storable_text(value)

"""Errors that cross module boundaries; each carries a message safe to show a user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BeforeValidator, ValidationError

if TYPE_CHECKING:
    from agent_core.domain import ScenarioRunRecord


class AgentCoreError(Exception):
    """Base class: `str(error)` is a user-facing message without secrets."""


class ConfigError(AgentCoreError):
    """Start-up configuration is present but wrong."""


class InvalidInputError(AgentCoreError):
    """A request (chat message, tenant id, prompt edit) failed validation; nothing was written."""

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


class NotFoundError(AgentCoreError):
    """A tenant or conversation does not exist (or belongs to another tenant)."""


class ConflictError(AgentCoreError):
    """The request is well formed but the tenant's data is not in a state it applies to
    (nothing to publish, a name already taken); `code` names which, for clients."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class ForbiddenError(AgentCoreError):
    """The acting principal's role or tenants do not allow this; nothing was read or written."""


class SignInError(AgentCoreError):
    """A sign-in failed; the message never says whether the email exists."""


class ThrottledError(SignInError):
    """Too many failed sign-ins for this email lately; try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConversationBusyError(AgentCoreError):
    """The conversation is answering another message; one turn runs at a time."""


class PromptChangedError(AgentCoreError):
    """Another version of the prompt went live after the change being published was based
    on the live one; nothing was published (publishing it would undo that version)."""


class GateBlockedError(AgentCoreError):
    """The scenarios failed against the prompt about to go live; nothing was published."""

    def __init__(self, message: str, run: ScenarioRunRecord) -> None:
        super().__init__(message)
        self.run = run


class ModelUnavailableError(AgentCoreError):
    """The language model could not be reached or kept failing after retries."""


class VoiceUnavailableError(AgentCoreError):
    """Speech cannot be heard or spoken here: no speech model is installed or configured, or
    the one configured failed; the message names the fix."""


class ShuttingDownError(AgentCoreError):
    """The server is stopping: no new turns, and turns still running at the end of the
    shutdown budget are stopped (and recorded as failed) at their next step."""


class TurnStoppedError(AgentCoreError):
    """Someone stopped the turn while it ran; it is recorded as failed with who stopped it."""


class ModelError(AgentCoreError):
    """The language model rejected the request (bad key, bad model name, bad request)."""


class StoreUnavailableError(AgentCoreError):
    """The database could not be reached."""


def check_storable_text(value: str) -> str:
    """Refuse text a database cannot store: NUL characters and unpaired surrogates.

    Both can arrive through JSON (`"\\u0000"`, `"\\ud800"`) and would otherwise fail only
    at the INSERT, as a server error instead of a clear validation message.
    """
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (unpaired surrogate)") from None
    return value


StorableText = Annotated[str, BeforeValidator(lambda v: check_storable_text(v) if isinstance(v, str) else v)]
"""Text a person submits, refused when a database could not store it."""


def storable_text(value: str) -> str:
    """Model output made storable: NUL characters dropped, unpaired surrogates replaced.

    What a model sends is data, not trust: it is cleaned rather than refused, so one odd
    character does not fail a turn."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def validation_details(error: ValidationError, root: str = "body") -> list[dict[str, str]]:
    """Pydantic errors as `{field, message}` pairs without input values (may be secret).

    `root` names the whole input, for errors about it rather than one field.
    """
    return [
        {
            "field": ".".join(str(part) for part in item["loc"]) or root,
            "message": item["msg"].removeprefix("Value error, "),
        }
        for item in error.errors(include_url=False, include_input=False)
    ]


def summarize(details: list[dict[str, str]]) -> str:
    """`field: message; field: message`."""
    return "; ".join(f"{d['field']}: {d['message']}" for d in details)


def invalid_input(what: str, error: ValidationError) -> InvalidInputError:
    """An InvalidInputError listing every problem found by pydantic."""
    details = validation_details(error)
    return InvalidInputError(f"invalid {what} — {summarize(details)}", details)

"""Validation of an incoming turn (chat pane or HTTP), before anything is written."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agent_core.errors import check_storable_text, invalid_input
from agent_core.submitted import text_field


class TurnRequest(BaseModel):
    """A user message for one tenant, optionally continuing a conversation.

    Field aliases match the HTTP API's JSON (`tenantId`, `conversationId`).
    """

    model_config = ConfigDict(
        populate_by_name=True,
        frozen=True,
        str_strip_whitespace=True,
        # The document says what the validator below checks: a retry names its conversation.
        json_schema_extra={
            "dependentSchemas": {
                "retryOf": {
                    "required": ["conversationId"],
                    "properties": {"conversationId": {"type": "string", "format": "uuid"}},
                }
            }
        },
    )

    tenant_id: UUID = Field(alias="tenantId", description="The tenant the caller speaks to")
    # Not blank, no NUL; the validator below applies the length limit (MAX_MESSAGE_CHARS),
    # which the API document adds to the pattern.
    message: str = text_field(1, None, description="What the caller said")
    conversation_id: UUID | None = Field(
        default=None, alias="conversationId", description="Continue this conversation"
    )
    retry_of: UUID | None = Field(
        default=None,
        alias="retryOf",
        description=(
            "Answer again the conversation's last message, whose turn (this id) failed; `message`"
            " must be that message. It is not stored a second time."
        ),
    )

    @field_validator("message")
    @classmethod
    def _printable(cls, value: str, info: ValidationInfo) -> str:
        check_storable_text(value)
        limit = (info.context or {}).get("max_chars")
        if isinstance(limit, int) and len(value) > limit:
            raise ValueError(f"is {len(value)} characters long; the limit is {limit}")
        return value

    @model_validator(mode="after")
    def _retry_in_its_conversation(self) -> TurnRequest:
        if self.retry_of is not None and self.conversation_id is None:
            raise ValueError("retryOf needs the conversationId of the turn it retries")
        return self


def parse_turn_request(data: Mapping[str, object], max_chars: int) -> TurnRequest:
    """Validate raw input into a TurnRequest or raise InvalidInputError listing every problem."""
    try:
        return TurnRequest.model_validate(data, context={"max_chars": max_chars})
    except ValidationError as exc:
        raise invalid_input("request", exc) from None

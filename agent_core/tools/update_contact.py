"""`update_contact_info`: create a contact or update its email and phone."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from agent_core.domain import Claim, Contact, EventName, JsonDict
from agent_core.store.conversation_log import Outcome
from agent_core.tools.fields import PersonName, PhoneNumber
from agent_core.tools.registry import Tool, ToolContext


class UpdateContactArgs(BaseModel):
    """Arguments of update_contact_info."""

    model_config = ConfigDict(extra="forbid")

    name: PersonName
    email: EmailStr | None = Field(
        default=None,
        max_length=254,
        description="Email address exactly as the caller gave it; never make one up",
    )
    phone: PhoneNumber | None = None

    @field_validator("email", "phone", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def contact_summary(contact: Contact) -> JsonDict:
    """A contact as tools answer, events carry and the CRM sync reads it."""
    return {
        "contact_id": str(contact.id),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
    }


def update_contact_info(args: UpdateContactArgs, context: ToolContext) -> JsonDict:
    """Create the contact or update the given fields of the one these details find (by name
    ignoring case, accents and spacing, or by an email or phone number on file)."""
    contact, created = context.writer.upsert_contact(args.name, args.email, args.phone)
    return {**contact_summary(contact), "created": created}


UPDATE_CONTACT_INFO = Tool(
    name="update_contact_info",
    description=(
        "Create a contact or update an existing one: the same name (ignoring case and accents)"
        " is the same person; an email or phone number already on file under another name is"
        " refused (ask the caller). Pass only the fields the caller gave; omitted fields keep"
        " their stored values."
    ),
    arguments=UpdateContactArgs,
    handler=update_contact_info,
    success_event=EventName.CONTACT_UPDATED,
    backs=frozenset({Claim.CONTACT_CHANGE}),
    outcome=Outcome.UPDATED,
)

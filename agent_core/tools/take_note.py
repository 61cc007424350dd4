"""`take_note`: record a note about the caller."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agent_core.domain import Claim, EventName, JsonDict
from agent_core.store.conversation_log import Outcome
from agent_core.tools.fields import NoteText
from agent_core.tools.registry import Tool, ToolContext


class TakeNoteArgs(BaseModel):
    """Arguments of take_note."""

    model_config = ConfigDict(extra="forbid")

    content: NoteText


def take_note(args: TakeNoteArgs, context: ToolContext) -> JsonDict:
    """Insert the note."""
    note = context.writer.add_note(args.content)
    return {"note_id": str(note.id), "content": note.content}


TAKE_NOTE = Tool(
    name="take_note",
    description="Record a note about the caller: preferences, requests, anything to remember.",
    arguments=TakeNoteArgs,
    handler=take_note,
    success_event=EventName.NOTE_TAKEN,
    backs=frozenset({Claim.NOTE}),
    outcome=Outcome.NOTED,
)

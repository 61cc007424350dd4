"""`book_tour`: book a tour for a customer on a date at a place."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agent_core.domain import Claim, EventName, JsonDict
from agent_core.store.conversation_log import Outcome
from agent_core.tools.fields import BookableDate, PersonName, PlaceName
from agent_core.tools.registry import Tool, ToolContext


class BookTourArgs(BaseModel):
    """Arguments of book_tour."""

    model_config = ConfigDict(extra="forbid")

    name: PersonName
    date: BookableDate
    location: PlaceName


def book_tour(args: BookTourArgs, context: ToolContext) -> JsonDict:
    """Book and return the reference; a booking that already exists is returned as it is, so
    a repeated request (a retry, a second caller, a duplicated model call) books once."""
    tour, created = context.writer.add_tour(args.name, args.date, args.location)
    result: JsonDict = {
        "booking_id": str(tour.id),
        "name": tour.customer_name,
        "date": tour.tour_date.isoformat(),
        "location": tour.location,
    }
    if not created:
        result["already_booked"] = True
    return result


BOOK_TOUR = Tool(
    name="book_tour",
    description="Book a tour for a customer. Use only when the name, date and location are known.",
    arguments=BookTourArgs,
    handler=book_tour,
    success_event=EventName.TOUR_BOOKED,
    backs=frozenset({Claim.BOOKING}),
    outcome=Outcome.BOOKED,
    date_argument="date",
    # No second confirmation for a booking that already existed.
    changed=lambda result: not result.get("already_booked"),
)

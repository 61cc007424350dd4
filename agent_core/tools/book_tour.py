"""`book_tour`: book a tour for a customer on a date at a place."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agent_core.domain import EventName, JsonDict
from agent_core.tools.fields import BookableDate, PersonName, PlaceName
from agent_core.tools.registry import Tool, ToolContext


class BookTourArgs(BaseModel):
    """Arguments of book_tour."""

    model_config = ConfigDict(extra="forbid")

    name: PersonName
    date: BookableDate
    location: PlaceName


def book_tour(args: BookTourArgs, context: ToolContext) -> JsonDict:
    """Insert the booking and return its reference."""
    tour = context.writer.add_tour(args.name, args.date, args.location)
    return {
        "booking_id": str(tour.id),
        "name": tour.customer_name,
        "date": tour.tour_date.isoformat(),
        "location": tour.location,
    }


BOOK_TOUR = Tool(
    name="book_tour",
    description="Book a tour for a customer. Use only when the name, date and location are known.",
    arguments=BookTourArgs,
    handler=book_tour,
    success_event=EventName.TOUR_BOOKED,
)

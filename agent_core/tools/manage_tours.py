"""Looking up, cancelling and moving a customer's bookings.

Each tool finds the customer's upcoming bookings first (narrowed by the date or booking id
the caller gave). None: the tool fails and says so. Several: it changes nothing and lists
them, so the agent asks which one. One: it acts on that booking — at most once, like every
tool call — and says what changed.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from agent_core.domain import Claim, EventName, JsonDict, Tour
from agent_core.store.base import ToolFailure
from agent_core.store.conversation_log import Outcome
from agent_core.store.matching import name_key
from agent_core.tools.fields import BookableDate, PersonName, PlaceName
from agent_core.tools.registry import Tool, ToolContext


class _Lookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName
    # `date` is also the argument's name the model sees, hence `dt.date` for the type.
    date: dt.date | None = Field(
        default=None, strict=True, description="The booking's current date (YYYY-MM-DD), if said"
    )
    booking_id: UUID | None = Field(default=None, description="The booking reference, if known")


class FindToursArgs(_Lookup):
    """Arguments of find_tours."""


class CancelTourArgs(_Lookup):
    """Arguments of cancel_tour."""


class RescheduleTourArgs(_Lookup):
    """Arguments of reschedule_tour."""

    new_date: BookableDate
    new_location: PlaceName | None = Field(default=None, description="The new place, if it changes")


def _matches(args: _Lookup, context: ToolContext) -> list[Tour]:
    tours = context.writer.find_tours(args.name, args.date, context.today)
    return [t for t in tours if args.booking_id is None or t.id == args.booking_id]


def _one(args: _Lookup, context: ToolContext) -> Tour | JsonDict:
    """The one booking meant, or the answer listing the candidates."""
    found = _matches(args, context)
    if not found:
        on = f" on {args.date.isoformat()}" if args.date else ""
        raise ToolFailure(f"{args.name} has no upcoming booking{on}")
    if len(found) > 1:
        return {
            "ambiguous": True,
            "matches": [t.summary() for t in found],
            "message": "several bookings match: ask the caller which one (by date or place)",
        }
    return found[0]


def find_tours(args: FindToursArgs, context: ToolContext) -> JsonDict:
    """The customer's upcoming bookings (possibly none)."""
    found = _matches(args, context)
    return {"name": args.name, "count": len(found), "bookings": [t.summary() for t in found]}


def cancel_tour(args: CancelTourArgs, context: ToolContext) -> JsonDict:
    """Cancel the one booking meant."""
    tour = _one(args, context)
    if isinstance(tour, dict):
        return tour
    return context.writer.cancel_tour(tour).summary()


def reschedule_tour(args: RescheduleTourArgs, context: ToolContext) -> JsonDict:
    """Move the one booking meant to its new date (and place)."""
    tour = _one(args, context)
    if isinstance(tour, dict):
        return tour
    new_location = args.new_location or tour.location
    if args.new_date == tour.tour_date and name_key(new_location) == name_key(tour.location):
        raise ToolFailure("the booking is already on that day at that place")
    moved = context.writer.reschedule_tour(tour, args.new_date, new_location)
    return {
        **moved.summary(),
        "previous_date": tour.tour_date.isoformat(),
        "previous_location": tour.location,
    }


def _acted(result: JsonDict) -> bool:
    return not result.get("ambiguous")


FIND_TOURS = Tool(
    name="find_tours",
    description="Look up a customer's upcoming bookings (optionally on one date).",
    arguments=FindToursArgs,
    handler=find_tours,
    success_event=None,
    # Telling a caller the booking they asked about is booked is what finding it backs.
    backs=frozenset({Claim.BOOKING}),
)
CANCEL_TOUR = Tool(
    name="cancel_tour",
    description=(
        "Cancel a customer's upcoming booking. If several match, nothing is cancelled and they"
        " are listed: ask which one, then call again with its date or booking_id."
    ),
    arguments=CancelTourArgs,
    handler=cancel_tour,
    success_event=EventName.TOUR_CANCELLED,
    backs=frozenset({Claim.CANCELLATION}),
    outcome=Outcome.CANCELLED,
    changed=_acted,
)
RESCHEDULE_TOUR = Tool(
    name="reschedule_tour",
    description=(
        "Move a customer's upcoming booking to a new date (and optionally a new place). If several"
        " match, nothing changes and they are listed: ask which one."
    ),
    arguments=RescheduleTourArgs,
    handler=reschedule_tour,
    success_event=EventName.TOUR_RESCHEDULED,
    backs=frozenset({Claim.BOOKING, Claim.MOVE, Claim.CONTACT_CHANGE}),
    outcome=Outcome.MOVED,
    date_argument="new_date",
    changed=_acted,
)

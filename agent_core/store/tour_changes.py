"""A booking's cancellation or move on the SQL backends: applied only to the booking as the
change saw it, and kept in tour_changes, in the caller's transaction."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from agent_core.domain import Tour, TourChange, TourChangeKind
from agent_core.store.matching import name_key, same_booking
from agent_core.store.rows import tour_from_row
from agent_core.store.sql_backend import SqlSession, fetch_one

CUSTOMERS_BOOKINGS_OF_A_DAY = (
    "SELECT * FROM tours WHERE tenant_id = :tenant_id AND name_key = :name_key AND tour_date = :tour_date"
    " AND status = 'booked'"
)
"""A customer's live bookings of one day, by the folded name (index tours_booked_by_name)."""


def live_booking(
    session: SqlSession, tenant_id: UUID, customer_name: str, tour_date: date, location: str
) -> Tour | None:
    """The booked (not cancelled) tour of this customer on that day at that place, if any:
    one indexed look-up of the customer's bookings that day, however full the day is."""
    booked = session.query(
        CUSTOMERS_BOOKINGS_OF_A_DAY,
        {"tenant_id": tenant_id, "tour_date": tour_date, "name_key": name_key(customer_name)},
    )
    return next((t for t in map(tour_from_row, booked) if same_booking(t, customer_name, location)), None)


def apply_tour_change(session: SqlSession, tenant_id: UUID, change: TourChange) -> Tour | None:
    """The tour after `change`, or None when it is no longer booked as the change saw it."""
    status = "cancelled" if change.kind is TourChangeKind.CANCELLED else "booked"
    updated = session.execute(
        "UPDATE tours SET status = :status, tour_date = :to_date, location = :to_location"
        " WHERE tenant_id = :tenant_id AND id = :tour_id AND status = 'booked'"
        " AND tour_date = :from_date AND location = :from_location",
        {
            "status": status,
            "to_date": change.to_date or change.from_date,
            "to_location": change.to_location or change.from_location,
            "tenant_id": tenant_id,
            "tour_id": change.tour_id,
            "from_date": change.from_date,
            "from_location": change.from_location,
        },
    )
    if not updated:
        return None
    session.execute(
        "INSERT INTO tour_changes (id, tenant_id, tour_id, kind, from_date, from_location, to_date,"
        " to_location, by_kind, by_label, conversation_id, created_at) VALUES (:id, :tenant_id,"
        " :tour_id, :kind, :from_date, :from_location, :to_date, :to_location, :by_kind, :by_label,"
        " :conversation_id, :created_at)",
        {
            "id": change.id,
            "tenant_id": tenant_id,
            "tour_id": change.tour_id,
            "kind": change.kind.value,
            "from_date": change.from_date,
            "from_location": change.from_location,
            "to_date": change.to_date,
            "to_location": change.to_location,
            "by_kind": change.by.kind,
            "by_label": change.by.label,
            "conversation_id": change.by.conversation_id,
            "created_at": change.created_at,
        },
    )
    row = fetch_one(session, "tours", tenant_id, change.tour_id)
    assert row is not None  # just updated in this transaction
    return tour_from_row(row)

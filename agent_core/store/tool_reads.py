"""What a tool reads before it writes, on the SQL backends: the same statements inside the
tool's own transaction on SQLite, and before the function that applies its staged writes on
PostgreSQL (Supabase asks PostgREST the same questions)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from agent_core.domain import Contact, Tour
from agent_core.store.rows import contact_from_row, tour_from_row
from agent_core.store.sql_backend import SqlSession


def live_bookings(
    session: SqlSession, tenant_id: UUID, key: str, from_date: date, on: date | None
) -> list[Tour]:
    """The tenant's live bookings of the customer with the folded name `key`, from
    `from_date` (on `on` only, when given), by date then id."""
    rows = session.query(
        "SELECT * FROM tours WHERE tenant_id = :tenant_id AND status = 'booked' AND name_key = :key"
        " AND tour_date >= :from_date" + (" AND tour_date = :on" if on else "") + " ORDER BY tour_date, id",
        {"tenant_id": tenant_id, "key": key, "from_date": from_date, "on": on},
    )
    return [tour_from_row(row) for row in rows]


def latest_customer(session: SqlSession, tenant_id: UUID, conversation_id: UUID) -> str | None:
    """The customer of the conversation's latest booking, if it made one."""
    latest = session.query(
        "SELECT customer_name FROM tours WHERE tenant_id = :tenant_id"
        " AND conversation_id = :conversation_id ORDER BY created_at DESC LIMIT 1",
        {"tenant_id": tenant_id, "conversation_id": conversation_id},
    )
    return str(latest[0]["customer_name"]) if latest else None


def contacts_matching(session: SqlSession, tenant_id: UUID, lookup: dict[str, str | None]) -> list[Contact]:
    """The tenant's contacts sharing any of the match keys in `lookup` (None: no key), by id."""
    rows = session.query(
        "SELECT * FROM contacts WHERE tenant_id = :tenant_id AND (name_key = :name_key"
        " OR email_key = :email_key OR phone_key = :phone_key) ORDER BY id",
        {"tenant_id": tenant_id, **lookup},
    )
    return [contact_from_row(r) for r in rows]

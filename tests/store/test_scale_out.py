"""What keeps a turn light as a tenant's data grows and several processes share one
database: a booking is found by one indexed look-up however full its day is, and turns of
one tenant in different conversations do not wait on each other's daily rollups."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest

from agent_core.domain import Tour
from agent_core.store.analytics import AnalyticsQuery
from agent_core.store.base import TenantWriter
from agent_core.store.postgres import PostgresStore, to_pyformat
from agent_core.store.sqlite import SqliteStore
from agent_core.store.tour_changes import CUSTOMERS_BOOKINGS_OF_A_DAY
from tests.conftest import add_tenant, in_a_tool_turn

DAY = date(2027, 3, 15)


def _fill_the_day(store: SqliteStore | PostgresStore, tenant_id: UUID, bookings: int) -> None:
    for name in (f"Caller {i}" for i in range(bookings)):
        in_a_tool_turn(store, tenant_id, "book_tour", partial(_book, name=name))


def _book(writer: TenantWriter, name: str) -> tuple[Tour, bool]:
    return writer.add_tour(name, DAY, "Paris")


def test_on_sqlite_a_booking_is_found_through_the_customer_index(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "busy.sqlite3")
    tenant = add_tenant(store, "Busy Tours", "Be brief.")
    _fill_the_day(store, tenant.id, 30)
    booked, created = in_a_tool_turn(
        store, tenant.id, "book_tour", lambda w: w.add_tour("CALLER 7", DAY, "paris")
    )
    assert (created, booked.customer_name) == (False, "Caller 7")
    store.close()
    with sqlite3.connect(tmp_path / "busy.sqlite3") as connection:
        plan = connection.execute(
            f"EXPLAIN QUERY PLAN {CUSTOMERS_BOOKINGS_OF_A_DAY}",
            {"tenant_id": str(tenant.id), "name_key": "caller 7", "tour_date": DAY.isoformat()},
        ).fetchall()
    assert "USING INDEX tours_booked_by_name" in " ".join(str(row[-1]) for row in plan)


@pytest.mark.postgres
def test_on_postgres_a_booking_is_found_through_the_customer_index(
    postgres_store: PostgresStore, postgres_url: str
) -> None:
    tenant = add_tenant(postgres_store, f"Busy Tours {uuid4().hex[:6]}", "Be brief.")
    _fill_the_day(postgres_store, tenant.id, 30)
    _, created = in_a_tool_turn(
        postgres_store, tenant.id, "book_tour", lambda w: w.add_tour("Caller 7", DAY, "Paris")
    )
    assert not created
    with psycopg.connect(postgres_url) as connection:
        connection.execute("SET enable_seqscan = off")
        plan = connection.execute(
            "EXPLAIN " + to_pyformat(CUSTOMERS_BOOKINGS_OF_A_DAY),
            {"tenant_id": tenant.id, "name_key": "caller 7", "tour_date": DAY},
        ).fetchall()
    assert "tours_booked_by_name" in " ".join(row[0] for row in plan)


def _slot(connection: psycopg.Connection, conversation_id: UUID) -> int:
    row = connection.execute("SELECT hashtext(%s::text) & 15", (conversation_id,)).fetchone()
    assert row is not None
    return int(row[0])


def _start_turn(connection: psycopg.Connection, tenant_id: UUID, conversation_id: UUID) -> None:
    connection.execute(
        "INSERT INTO turns (id, tenant_id, conversation_id, status, user_message) VALUES (%s, %s, %s, 'running', 'Hi')",
        (uuid4(), tenant_id, conversation_id),
    )


@pytest.mark.postgres
def test_turns_of_one_tenant_in_two_conversations_do_not_wait_on_each_others_rollups(
    postgres_store: PostgresStore, postgres_url: str
) -> None:
    tenant = add_tenant(postgres_store, f"Busy Tours {uuid4().hex[:6]}", "Be brief.")
    with psycopg.connect(postgres_url) as first, psycopg.connect(postgres_url) as second:
        one = uuid4()
        other = next(c for c in iter(uuid4, None) if _slot(first, c) != _slot(first, one))
        for conversation in (one, other):
            first.execute(
                "INSERT INTO conversations (id, tenant_id) VALUES (%s, %s)", (conversation, tenant.id)
            )
        first.commit()
        _start_turn(first, tenant.id, one)  # its transaction stays open, holding what it wrote
        # Before the rollups were split, this waited for the first turn's commit: one row
        # per tenant and day took every turn's start.
        second.execute("SET lock_timeout = '2s'")
        _start_turn(second, tenant.id, other)
        second.commit()
        first.commit()
    today = datetime.now(UTC).date()
    [day] = postgres_store.analytics(AnalyticsQuery(tenant.id, today, today)).days
    assert (day.turns, day.conversations) == (2, 2)

"""The Python steps of migrations: data the application computes, which SQL cannot
reproduce exactly on every backend (see `agent_core.store.matching`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection

from agent_core.clock import utcnow
from agent_core.store.demo_data import demo_scenario_rows
from agent_core.store.matching import detail_keys, name_key
from agent_core.store.sql_backend import SqlSession

log = logging.getLogger(__name__)


def rekey_contacts(session: SqlSession) -> None:
    """Migration 6: give every contact the keys it now matches by (accents ignored in names,
    email and phone keys).

    Two contacts of a tenant whose names differ only by accents ("José Silva", "Jose Silva")
    would now share a key, which the table keeps unique. A contact whose key does not change
    keeps it, then the older one takes it; the other keeps its previous key, so no row is
    changed beyond its keys, none is lost, and no name finds another contact than before.
    Those are logged for staff to merge on the Records page.
    """
    rows = session.query(
        "SELECT id, tenant_id, name, name_key, email, phone FROM contacts ORDER BY tenant_id, created_at, id"
    )
    wanted = {row["id"]: detail_keys(row["name"], row["email"], row["phone"]) for row in rows}
    unchanged_first = sorted(rows, key=lambda row: wanted[row["id"]]["name_key"] != row["name_key"])
    claimed: set[tuple[object, str | None]] = set()
    keys: dict[object, dict[str, str | None]] = {}
    kept_apart = []
    for row in unchanged_first:
        key = (row["tenant_id"], wanted[row["id"]]["name_key"])
        if key in claimed:
            kept_apart.append(row)
        else:
            claimed.add(key)
            keys[row["id"]] = wanted[row["id"]]
    for row in kept_apart:
        old = row["name_key"]
        name = old if (row["tenant_id"], old) not in claimed else f"{old} #{row['id']}"
        claimed.add((row["tenant_id"], name))
        keys[row["id"]] = {**wanted[row["id"]], "name_key": name}
    changing = [row for row in rows if keys[row["id"]]["name_key"] != row["name_key"]]
    # Keys move in two steps so that no intermediate state repeats one (the unique index
    # is checked row by row).
    for row in changing:
        session.execute(
            "UPDATE contacts SET name_key = :placeholder WHERE id = :id",
            {"placeholder": f"#rekeying {row['id']}", "id": row["id"]},
        )
    for row in rows:
        session.execute(
            "UPDATE contacts SET name_key = :name_key, email_key = :email_key, phone_key = :phone_key"
            " WHERE id = :id",
            {**keys[row["id"]], "id": row["id"]},
        )
    for row in kept_apart:
        log.warning(
            "contact %r (%s) now has the same name as another contact of its tenant; merge the two"
            " on the Records page",
            row["name"],
            row["id"],
        )


def seed_demo_scenarios(session: SqlSession, only: Collection[str] | None = None) -> None:
    """Migration 7: the demo tenants' scenarios (`demo_data.DEMO_SCENARIOS`), for those demo
    tenants the database holds (of `only`, when given); a scenario already there by name is
    left as it is."""
    present = {str(row["id"]) for row in session.query("SELECT id FROM tenants")}
    if only is not None:
        present &= set(only)
    now = utcnow()
    for row in demo_scenario_rows():
        if str(row["tenant_id"]) in present:
            session.execute(
                "INSERT INTO scenarios (id, tenant_id, name, spec, author, updated_at)"
                " VALUES (:id, :tenant_id, :name, :spec, 'seed', :now) ON CONFLICT DO NOTHING",
                {**row, "spec": json.dumps(row["spec"]), "now": now},
            )


def key_tours(session: SqlSession) -> None:
    """Migration 15: give every tour the folded customer name its bookings are found by."""
    for row in session.query("SELECT id, customer_name FROM tours"):
        session.execute(
            "UPDATE tours SET name_key = :name_key WHERE id = :id",
            {"name_key": name_key(row["customer_name"]), "id": row["id"]},
        )


def demo_scenarios_sql() -> str:
    """What `seed_demo_scenarios` writes on a new PostgreSQL database, as one statement."""
    values = ",\n".join(
        f"    ({_literal(row['id'])}, {_literal(row['tenant_id'])}, {_literal(row['name'])},"
        f" {_literal(json.dumps(row['spec']))})"
        for row in demo_scenario_rows()
    )
    return (
        "INSERT INTO public.scenarios (id, tenant_id, name, spec, author, updated_at)\n"
        "SELECT s.id::uuid, s.tenant_id::uuid, s.name, s.spec::jsonb, 'seed', now() FROM (VALUES\n"
        f"{values}\n) AS s (id, tenant_id, name, spec)\n"
        "WHERE EXISTS (SELECT FROM public.tenants t WHERE t.id = s.tenant_id::uuid)\n"
        "ON CONFLICT DO NOTHING;"
    )


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


SCENARIOS_VERSION = 7

BACKFILLS: dict[int, Callable[[SqlSession], None]] = {
    6: rekey_contacts,
    SCENARIOS_VERSION: seed_demo_scenarios,
    15: key_tours,
}
"""Python steps by migration version."""

ON_A_NEW_DATABASE: dict[int, Callable[[], str] | None] = {
    6: None,
    SCENARIOS_VERSION: demo_scenarios_sql,
    15: None,
}
"""What each Python step writes on a new PostgreSQL database, as SQL for schema.sql, which
cannot run Python (None: nothing; a new database has no contacts or tours to key)."""

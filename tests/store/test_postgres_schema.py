"""schema.sql on a real PostgreSQL: idempotent, seeded, and row-level security that holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from uuid import UUID, uuid4

import psycopg
import pytest

from agent_core.store.demo_data import DEMO_TENANTS

pytestmark = pytest.mark.postgres


@pytest.fixture
def admin(postgres_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        yield connection


def _tenant(admin: psycopg.Connection[tuple[object, ...]]) -> UUID:
    tenant_id = uuid4()
    admin.execute(
        "INSERT INTO tenants (id, name, system_prompt) VALUES (%s, %s, 'p')", (tenant_id, f"RLS {tenant_id}")
    )
    admin.execute(
        "INSERT INTO tours (tenant_id, customer_name, tour_date, location)"
        " VALUES (%s, 'A', '2027-01-01', 'X')",
        (tenant_id,),
    )
    return tenant_id


def _as_tenant(connection: psycopg.Connection[tuple[object, ...]], tenant_id: UUID | None) -> None:
    connection.execute("SET ROLE authenticated")
    claims = json.dumps({"tenant_id": str(tenant_id)}) if tenant_id else ""
    connection.execute("SELECT set_config('request.jwt.claims', %s, false)", (claims,))


def test_demo_tenants_in_schema_match_the_embedded_seed(
    admin: psycopg.Connection[tuple[object, ...]],
) -> None:
    rows = admin.execute(
        "SELECT id, name, system_prompt FROM tenants WHERE id = ANY(%s) ORDER BY id",
        ([t[0] for t in DEMO_TENANTS],),
    ).fetchall()
    assert rows == [tuple(t) for t in DEMO_TENANTS]


def test_every_table_has_row_level_security(admin: psycopg.Connection[tuple[object, ...]]) -> None:
    rows = admin.execute(
        "SELECT relname, relrowsecurity FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relkind = 'r'"
    ).fetchall()
    assert len(rows) > 20
    assert [name for name, secured in rows if not secured] == []


def test_a_tenant_role_sees_and_writes_only_its_own_rows(
    postgres_url: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    mine, theirs = _tenant(admin), _tenant(admin)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        _as_tenant(connection, mine)
        visible = connection.execute("SELECT DISTINCT tenant_id FROM tours").fetchall()
        assert visible == [(mine,)]
        assert connection.execute("SELECT id FROM tenants").fetchall() == [(mine,)]
        assert (
            connection.execute(
                "UPDATE tours SET location = 'Hacked' WHERE tenant_id = %s", (theirs,)
            ).rowcount
            == 0
        )
        assert connection.execute("DELETE FROM tours WHERE tenant_id = %s", (theirs,)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            connection.execute(
                "INSERT INTO tours (tenant_id, customer_name, tour_date, location)"
                " VALUES (%s, 'Intruder', '2027-01-01', 'X')",
                (theirs,),
            )
    untouched = admin.execute("SELECT location FROM tours WHERE tenant_id = %s", (theirs,)).fetchall()
    assert untouched == [("X",)]


def test_without_a_tenant_claim_nothing_is_visible(
    postgres_url: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    _tenant(admin)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        _as_tenant(connection, None)
        assert connection.execute("SELECT count(*) FROM tours").fetchone() == (0,)


def test_anon_gets_nothing(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("SET ROLE anon")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("SELECT * FROM tours")


@pytest.mark.parametrize(
    "table", ["app_users", "user_tenants", "user_sessions", "sign_in_attempts", "api_keys"]
)
def test_a_tenant_role_cannot_touch_credentials(postgres_url: str, table: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        _as_tenant(connection, DEMO_TENANTS[0][0])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(f"SELECT * FROM {table}")


def test_a_tenant_role_reads_only_its_own_audit_trail_and_cannot_write_it(
    postgres_url: str, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    mine, theirs = _tenant(admin), _tenant(admin)
    for tenant in (mine, theirs):
        admin.execute(
            "INSERT INTO audit_log (id, tenant_id, actor, actor_kind, action, target)"
            " VALUES (%s, %s, 'ops@example.com', 'user', 'prompt.saved', 'prompt')",
            (uuid4(), tenant),
        )
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        _as_tenant(connection, mine)
        assert connection.execute("SELECT DISTINCT tenant_id FROM audit_log").fetchall() == [(mine,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(
                "INSERT INTO audit_log (id, tenant_id, actor, actor_kind, action, target)"
                " VALUES (%s, %s, 'forger', 'user', 'prompt.saved', 'prompt')",
                (uuid4(), mine),
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("DELETE FROM audit_log WHERE tenant_id = %s", (mine,))

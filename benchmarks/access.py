"""What knowing who asks costs: a sign-in (argon2id on purpose), the session check every
dashboard run makes, an API key check per request (from API_KEYS, or managed and looked up
by hash), and a workspace read against the store read it guards.

Run: `.venv/bin/python -m benchmarks.access` (SQLite file; BENCH_DATABASE_URL=postgresql://…
adds the same rows on PostgreSQL, on a database that has `vam migrate` applied).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from uuid import uuid4

from agent_core.access.authentication import Authenticator
from agent_core.access.models import Principal, PrincipalKind, UserRole
from agent_core.runtime import Runtime, build_runtime
from agent_core.settings import ApiKey, load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID
from benchmarks.timing import HEADER, Timing, measure

PASSWORD = "correct horse battery staple"
ADMIN = Principal(PrincipalKind.CLI, "cli:bench", UserRole.ADMIN)


def rows_for(runtime: Runtime, name: str) -> list[Timing]:
    """The access costs on one runtime's store."""
    store = runtime.store
    admin = runtime.acting_as(ADMIN)
    email = f"bench-{uuid4().hex[:8]}@example.com"
    operator, _ = admin.accounts.add_user(email, "operator", [DEMO_TENANT_ID], password=PASSWORD)
    env_key = "e" * 40
    auth = Authenticator(store, listen_host="127.0.0.1", env_keys=[ApiKey(env_key, None)])
    _, managed = admin.accounts.create_api_key("bench", DEMO_TENANT_ID)
    token = auth.sign_in(email, PASSWORD, "bench").token
    guarded = runtime.acting_as(operator.principal())
    return [
        measure(
            f"{name}: sign-in (argon2id verify + session write)",
            lambda: auth.sign_in(email, PASSWORD, "bench"),
            50,
            warmup=3,
        ),
        measure(f"{name}: session check (each dashboard run)", lambda: auth.session_principal(token), 2000),
        measure(f"{name}: API key from API_KEYS", lambda: auth.api_key_principal(env_key), 2000),
        measure(f"{name}: managed API key (SHA-256 + lookup)", lambda: auth.api_key_principal(managed), 2000),
        measure(f"{name}: store read of a tenant's tours", lambda: store.list_tours(DEMO_TENANT_ID), 2000),
        measure(
            f"{name}: the same through an operator's workspace",
            lambda: guarded.list_tours(DEMO_TENANT_ID),
            2000,
        ),
    ]


def main() -> None:
    rows: list[Timing] = []
    with tempfile.TemporaryDirectory() as folder:
        runtime = build_runtime(load_settings(sqlite_path=Path(folder) / "bench.sqlite3"))
        rows += rows_for(runtime, "SQLite file")
        runtime.close()
    if url := os.environ.get("BENCH_DATABASE_URL"):
        runtime = build_runtime(load_settings(database_url=url))
        rows += rows_for(runtime, "PostgreSQL")
        runtime.close()
    print(HEADER)
    for row in rows:
        print(row.row())


if __name__ == "__main__":
    main()

"""A first start killed at any step: the process dies right after each migration commits
(and after the last, before the demo content), then the app starts again on the same file.
The demo tenants come back whole — their first prompt version and every scenario — so the
publish gate has something to test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent_core.store.demo_data import DEMO_TENANTS, demo_scenario_rows
from agent_core.store.migrations import latest_version
from agent_core.store.sqlite import SqliteStore
from tests.conftest import ROOT

# Runs `SqliteStore(path)` and kills the process (no cleanup runs) once migration `version`
# has committed.
DIE_AFTER_MIGRATION = """
import os, sys
from agent_core.store import sqlite
version, applied = int(sys.argv[2]), sqlite.SqliteMigrations.apply
def apply(self, migration):
    applied(self, migration)
    if migration.version == version:
        os._exit(9)
sqlite.SqliteMigrations.apply = apply
sqlite.SqliteStore(sys.argv[1])
"""


@pytest.mark.parametrize("version", range(1, latest_version("sqlite") + 1))
def test_a_first_start_killed_after_any_migration_leaves_the_demo_tenants_whole(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "first-start.sqlite3"
    died = subprocess.run(
        [sys.executable, "-c", DIE_AFTER_MIGRATION, str(path), str(version)],
        check=False,
        cwd=ROOT,
        capture_output=True,
    )
    assert died.returncode == 9, died.stderr.decode()
    store = SqliteStore(path)
    try:
        for tenant_id, name, prompt in DEMO_TENANTS:
            tenant = store.get_tenant(tenant_id)
            assert tenant is not None
            assert (tenant.name, tenant.system_prompt) == (name, prompt)
            assert [(v.version, v.prompt) for v in store.list_prompt_versions(tenant_id)] == [(1, prompt)]
            expected = sorted(r["name"] for r in demo_scenario_rows() if r["tenant_id"] == tenant_id)
            assert sorted(s.name for s in store.list_scenarios(tenant_id)) == expected
            assert expected
    finally:
        store.close()

"""Prompt drafts, scenarios and scenario runs on the SQL backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from agent_core.access.models import AuditEntry
from agent_core.domain import PromptDraft, ScenarioRunRecord, StoredScenario
from agent_core.errors import InvalidInputError
from agent_core.store.refusals import UNKNOWN_SCENARIO
from agent_core.store.rows import (
    draft_from_row,
    scenario_from_row,
    scenario_run_from_row,
    scenario_run_values,
)
from agent_core.store.scenario_store import MAX_KEPT_RUNS
from agent_core.store.sql_access import SqlAccess

_RUN_COLUMNS = "id, tenant_id, target, model, passed, summary, report, started_by, created_at"


class SqlScenarios(SqlAccess):
    """The prompt-safety part of the SQL store; each change commits with its audit entry."""

    def get_prompt_draft(self, tenant_id: UUID) -> PromptDraft | None:
        with self._reader() as session:
            rows = session.query("SELECT * FROM prompt_drafts WHERE tenant_id = :t", {"t": tenant_id})
        return draft_from_row(rows[0]) if rows else None

    def save_prompt_draft(self, draft: PromptDraft, *, audit: AuditEntry) -> None:
        with self._transaction() as session:
            session.execute(
                "INSERT INTO prompt_drafts (tenant_id, prompt, base_version, author, updated_at)"
                " VALUES (:tenant_id, :prompt, :base_version, :author, :updated_at)"
                " ON CONFLICT (tenant_id) DO UPDATE SET prompt = excluded.prompt,"
                " base_version = excluded.base_version, author = excluded.author,"
                " updated_at = excluded.updated_at",
                {
                    "tenant_id": draft.tenant_id,
                    "prompt": draft.prompt,
                    "base_version": draft.base_version,
                    "author": draft.author,
                    "updated_at": draft.updated_at,
                },
            )
            self._write_audit(session, audit)

    def discard_prompt_draft(self, tenant_id: UUID, *, audit: AuditEntry) -> bool:
        with self._transaction() as session:
            if not session.execute("DELETE FROM prompt_drafts WHERE tenant_id = :t", {"t": tenant_id}):
                return False
            self._write_audit(session, audit)
        return True

    def list_scenarios(self, tenant_id: UUID) -> list[StoredScenario]:
        with self._reader() as session:
            rows = session.query(
                "SELECT * FROM scenarios WHERE tenant_id = :t ORDER BY name", {"t": tenant_id}
            )
        return [scenario_from_row(row) for row in rows]

    def save_scenarios(
        self, tenant_id: UUID, scenarios: Sequence[StoredScenario], *, audit: AuditEntry
    ) -> None:
        try:
            with self._transaction() as session:
                for scenario in scenarios:
                    session.execute(
                        "INSERT INTO scenarios (id, tenant_id, name, spec, author, updated_at)"
                        " VALUES (:id, :tenant_id, :name, :spec, :author, :updated_at)"
                        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, spec = excluded.spec,"
                        " author = excluded.author, updated_at = excluded.updated_at"
                        " WHERE scenarios.tenant_id = excluded.tenant_id",
                        {
                            "id": scenario.id,
                            "tenant_id": tenant_id,
                            "name": scenario.name,
                            "spec": self._json_param(scenario.spec),
                            "author": scenario.author,
                            "updated_at": scenario.updated_at,
                        },
                    )
                self._write_audit(session, audit)
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise InvalidInputError("another scenario of this tenant already has that name") from None
            raise

    def delete_scenario(self, tenant_id: UUID, scenario_id: UUID, *, audit: AuditEntry) -> None:
        with self._transaction() as session:
            if not session.execute(
                "DELETE FROM scenarios WHERE tenant_id = :t AND id = :id", {"t": tenant_id, "id": scenario_id}
            ):
                raise UNKNOWN_SCENARIO(scenario_id)
            self._write_audit(session, audit)

    def save_scenario_run(self, run: ScenarioRunRecord) -> None:
        with self._transaction() as session:
            session.execute(
                f"INSERT INTO scenario_runs ({_RUN_COLUMNS}) VALUES (:id, :tenant_id, :target, :model,"
                " :passed, :summary, :report, :started_by, :created_at)",
                {**scenario_run_values(run), "report": self._json_param(run.report)},
            )

    def list_scenario_runs(self, tenant_id: UUID, limit: int = MAX_KEPT_RUNS) -> list[ScenarioRunRecord]:
        with self._reader() as session:
            rows = session.query(
                f"SELECT {_RUN_COLUMNS} FROM scenario_runs WHERE tenant_id = :t"
                " ORDER BY created_at DESC, id LIMIT :limit",
                {"t": tenant_id, "limit": limit},
            )
        return [scenario_run_from_row(row) for row in rows]

    def get_scenario_run(self, tenant_id: UUID, run_id: UUID) -> ScenarioRunRecord | None:
        with self._reader() as session:
            rows = session.query(
                f"SELECT {_RUN_COLUMNS} FROM scenario_runs WHERE tenant_id = :t AND id = :id",
                {"t": tenant_id, "id": run_id},
            )
        return scenario_run_from_row(rows[0]) if rows else None

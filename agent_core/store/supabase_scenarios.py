"""Prompt drafts, scenarios and scenario runs on Supabase: changes through database functions
that write their audit row in the same transaction, reads through PostgREST."""

from __future__ import annotations

from uuid import UUID

from agent_core.domain import PromptDraft, ScenarioRunRecord, StoredScenario
from agent_core.store.function_access import jsonable
from agent_core.store.rows import (
    draft_from_row,
    scenario_from_row,
    scenario_run_from_row,
    scenario_run_values,
)
from agent_core.store.scenario_store import MAX_KEPT_RUNS
from agent_core.store.supabase_access import SupabaseAccess


class SupabaseScenarios(SupabaseAccess):
    """The prompt-safety part of the Supabase store."""

    def get_prompt_draft(self, tenant_id: UUID) -> PromptDraft | None:
        rows = self._rows(self._table("prompt_drafts").select("*").eq("tenant_id", str(tenant_id)))
        return draft_from_row(rows[0]) if rows else None

    def list_scenarios(self, tenant_id: UUID) -> list[StoredScenario]:
        rows = self._all(
            self._table("scenarios").select("*").eq("tenant_id", str(tenant_id)).order("name").order("id")
        )
        return [scenario_from_row(row) for row in rows]

    def save_scenario_run(self, run: ScenarioRunRecord) -> None:
        self._rows(self._table("scenario_runs").insert(jsonable(scenario_run_values(run))))

    def list_scenario_runs(self, tenant_id: UUID, limit: int = MAX_KEPT_RUNS) -> list[ScenarioRunRecord]:
        rows = self._all(
            self._table("scenario_runs")
            .select("*")
            .eq("tenant_id", str(tenant_id))
            .order("created_at", desc=True)
            .order("id"),
            limit=limit,
        )
        return [scenario_run_from_row(row) for row in rows]

    def get_scenario_run(self, tenant_id: UUID, run_id: UUID) -> ScenarioRunRecord | None:
        rows = self._rows(
            self._table("scenario_runs").select("*").eq("tenant_id", str(tenant_id)).eq("id", str(run_id))
        )
        return scenario_run_from_row(rows[0]) if rows else None

"""What the stores keep for safe prompt changes: one draft per tenant, its scenarios, and runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from agent_core.access.models import AuditEntry
from agent_core.domain import PromptDraft, ScenarioRunRecord, StoredScenario

MAX_KEPT_RUNS = 50
"""How many runs the lists show; older runs stay stored."""


class ScenarioStore(Protocol):
    """Drafts, scenarios and runs of every tenant, always read and written per tenant."""

    def get_prompt_draft(self, tenant_id: UUID) -> PromptDraft | None:
        """The tenant's draft, or None."""
        ...

    def save_prompt_draft(self, draft: PromptDraft, *, audit: AuditEntry) -> None:
        """Create or replace the tenant's draft, with its audit entry."""
        ...

    def discard_prompt_draft(self, tenant_id: UUID, *, audit: AuditEntry) -> bool:
        """Drop the draft (False when there was none; then nothing is audited)."""
        ...

    def list_scenarios(self, tenant_id: UUID) -> list[StoredScenario]:
        """The tenant's scenarios by name."""
        ...

    def save_scenarios(
        self, tenant_id: UUID, scenarios: Sequence[StoredScenario], *, audit: AuditEntry
    ) -> None:
        """Insert or replace (by id) all of them in one transaction; InvalidInputError and
        nothing written when a name is another scenario's of the tenant."""
        ...

    def delete_scenario(self, tenant_id: UUID, scenario_id: UUID, *, audit: AuditEntry) -> None:
        """Delete one scenario; NotFoundError when the tenant has no such scenario."""
        ...

    def save_scenario_run(self, run: ScenarioRunRecord) -> None:
        """Keep a finished run."""
        ...

    def list_scenario_runs(self, tenant_id: UUID, limit: int = MAX_KEPT_RUNS) -> list[ScenarioRunRecord]:
        """The tenant's latest runs, newest first."""
        ...

    def get_scenario_run(self, tenant_id: UUID, run_id: UUID) -> ScenarioRunRecord | None:
        """One run of the tenant, or None."""
        ...

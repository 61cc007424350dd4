"""Users, sign-in attempts, API keys, the audit log, prompt drafts and scenarios: the writes of
the PostgreSQL family through its SQL functions, each change with its audit entry in one
transaction. Supabase calls them over PostgREST, PostgreSQL over its own connection."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from agent_core.access.models import ApiKeyRecord, AuditEntry, User
from agent_core.domain import PromptDraft, StoredScenario
from agent_core.errors import InvalidInputError
from agent_core.store.access_rows import api_key_values, audit_values, tenant_ids, user_values


def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Values as JSON a function's argument carries (UUIDs and times as text)."""
    return {
        k: str(v) if isinstance(v, UUID) else v.isoformat() if isinstance(v, datetime) else v
        for k, v in values.items()
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    """An audit entry as the `p_audit` argument of the functions that write one."""
    return jsonable(audit_values(entry))


class FunctionAccess(ABC):
    """Access and prompt-safety writes through the SQL functions, for a store that says how
    it calls a function."""

    @abstractmethod
    def _rpc(self, function: str, arguments: dict[str, Any]) -> Any:
        """Call `public.<function>` with named arguments (see `FunctionWrites._rpc`)."""

    def save_user(self, user: User, audit: AuditEntry, *, end_sessions: bool = False) -> None:
        try:
            self._rpc(
                "app_save_user",
                {
                    "p_user": jsonable(user_values(user)),
                    "p_tenants": tenant_ids(user.tenants),
                    "p_end_sessions": end_sessions,
                    "p_audit": audit_json(audit),
                },
            )
        except InvalidInputError:
            raise InvalidInputError(f"a user with the email {user.email!r} already exists") from None

    def take_sign_in_attempt(self, key: str, now: datetime, window_start: datetime) -> tuple[int, datetime]:
        rows = self._rpc(
            "app_take_sign_in_attempt",
            {"p_key": key, "p_now": now.isoformat(), "p_window_start": window_start.isoformat()},
        )
        return int(rows[0]["attempts"]), datetime.fromisoformat(str(rows[0]["since"]))

    def give_back_sign_in_attempt(self, key: str) -> None:
        self._rpc("app_give_back_sign_in_attempt", {"p_key": key})

    def save_api_key(self, key: ApiKeyRecord, audit: AuditEntry) -> None:
        self._rpc("app_save_api_key", {"p_key": jsonable(api_key_values(key)), "p_audit": audit_json(audit)})

    def record_audit(self, entry: AuditEntry) -> None:
        self._rpc("app_write_audit", {"p_audit": audit_json(entry)})

    def save_prompt_draft(self, draft: PromptDraft, *, audit: AuditEntry) -> None:
        values = {
            "prompt": draft.prompt,
            "base_version": draft.base_version,
            "author": draft.author,
            "updated_at": draft.updated_at,
        }
        self._rpc(
            "app_save_prompt_draft",
            {"p_tenant": str(draft.tenant_id), "p_draft": jsonable(values), "p_audit": audit_json(audit)},
        )

    def discard_prompt_draft(self, tenant_id: UUID, *, audit: AuditEntry) -> bool:
        return bool(
            self._rpc("app_discard_prompt_draft", {"p_tenant": str(tenant_id), "p_audit": audit_json(audit)})
        )

    def save_scenarios(
        self, tenant_id: UUID, scenarios: Sequence[StoredScenario], *, audit: AuditEntry
    ) -> None:
        values = [
            {"id": s.id, "name": s.name, "spec": s.spec, "author": s.author, "updated_at": s.updated_at}
            for s in scenarios
        ]
        self._rpc(
            "app_save_scenarios",
            {
                "p_tenant": str(tenant_id),
                "p_scenarios": [jsonable(v) for v in values],
                "p_audit": audit_json(audit),
            },
        )

    def delete_scenario(self, tenant_id: UUID, scenario_id: UUID, *, audit: AuditEntry) -> None:
        self._rpc(
            "app_delete_scenario",
            {"p_tenant": str(tenant_id), "p_scenario": str(scenario_id), "p_audit": audit_json(audit)},
        )

"""The one guard of a workspace: who acts, what they may do, and the audit entry of what they
change. The `Workspace` is a guard, and its facades (`workspace.prompts`,
`workspace.scenarios`, `workspace.accounts`, `workspace.corrections`) check and audit
through the workspace they belong to, so a rule about who may do what is written once.
"""

from __future__ import annotations

from uuid import UUID

from agent_core.access.models import Action, AuditAction, AuditEntry, Principal
from agent_core.domain import Tenant
from agent_core.errors import ForbiddenError
from agent_core.store.base import Store
from agent_core.store.refusals import UNKNOWN_TENANT

_REFUSALS = {
    Action.READ: "see this tenant",
    Action.CHAT: "chat as this tenant's agent",
    Action.CORRECT: "correct this tenant's records",
    Action.EDIT_PROMPT: "change this tenant's prompt or its scenarios",
    Action.OVERRIDE_GATE: "publish a prompt whose scenarios fail (admins only)",
    Action.REPLAY: "replay this tenant's events",
    Action.READ_AUDIT: "see this tenant's audit log",
    Action.ADMINISTER: "manage tenants, users and API keys (admins only)",
}


class Guard:
    """One acting principal's checks over one store."""

    def __init__(self, principal: Principal, store: Store) -> None:
        self.principal = principal
        self._store = store

    def may(self, action: Action, tenant_id: UUID | None = None) -> bool:
        """True when the principal may do `action` (on `tenant_id`)."""
        return self.principal.may(action, tenant_id)

    def require(self, action: Action, tenant_id: UUID | None = None) -> None:
        """ForbiddenError unless the principal may do `action` (on `tenant_id`)."""
        if not self.may(action, tenant_id):
            raise ForbiddenError(f"{self.principal.label} may not {_REFUSALS[action]}")

    def tenant(self, tenant_id: UUID, action: Action = Action.READ) -> Tenant:
        """The tenant, when the principal may do `action` on it; NotFoundError when it does
        not exist (asked only once access is settled, so existence leaks to no one)."""
        self.require(action, tenant_id)
        tenant = self._store.get_tenant(tenant_id)
        if tenant is None:
            raise UNKNOWN_TENANT(tenant_id)
        return tenant

    def audit_entry(
        self,
        action: AuditAction,
        target: str,
        *,
        tenant_id: UUID | None = None,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
    ) -> AuditEntry:
        """The audit entry of a change this principal makes, to write with the change."""
        return AuditEntry.by(self.principal, action, target, tenant_id=tenant_id, before=before, after=after)

"""Who acts (principals, users, API keys), what they may do (roles), and what they did (audit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from agent_core.domain import JsonDict
from agent_core.ids import new_id


class UserRole(StrEnum):
    """A dashboard user's role: admins act on every tenant, the others on their assigned ones."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class Action(StrEnum):
    """Something a principal may be allowed to do."""

    READ = "read"
    """See a tenant's conversations, records, events and prompt history."""
    CHAT = "chat"
    """Talk to a tenant's agent (its tools write records)."""
    CORRECT = "correct"
    """Correct the tenant's records: cancel or move a booking, edit or merge contacts, delete a note."""
    EDIT_PROMPT = "edit_prompt"
    """Draft, test, publish or roll back a tenant's prompt; write and run its scenarios."""
    OVERRIDE_GATE = "override_gate"
    """Publish a prompt whose scenarios fail, giving a reason (admins only)."""
    REPLAY = "replay"
    """Replay an event's failed listeners."""
    READ_AUDIT = "read_audit"
    """See a tenant's audit trail."""
    ADMINISTER = "administer"
    """Create tenants; manage users, roles and API keys; read every audit entry."""


ROLE_ACTIONS: dict[UserRole, frozenset[Action]] = {
    UserRole.ADMIN: frozenset(Action),
    UserRole.OPERATOR: frozenset(
        {Action.READ, Action.CHAT, Action.CORRECT, Action.EDIT_PROMPT, Action.REPLAY, Action.READ_AUDIT}
    ),
    UserRole.VIEWER: frozenset({Action.READ}),
}


class PrincipalKind(StrEnum):
    """How a principal proved who it is."""

    USER = "user"
    API_KEY = "api_key"
    LOCAL = "local"
    """Local mode: nobody signed in, the dashboard on loopback with no user created yet."""
    CLI = "cli"
    """Someone with shell access to the server and its database (the `vam` command)."""
    SYSTEM = "system"
    """The process itself (the anonymous sign-in attempt, the lease reaper)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The acting identity every read or change of tenant data names.

    `tenants` is None for every tenant (admins, admin-wide keys), else the tenants assigned.
    """

    kind: PrincipalKind
    label: str
    role: UserRole
    tenants: frozenset[UUID] | None = None
    user_id: UUID | None = None

    def may(self, action: Action, tenant_id: UUID | None = None) -> bool:
        """True when the role allows `action`, and on `tenant_id` when one is named."""
        if action not in ROLE_ACTIONS[self.role]:
            return False
        return tenant_id is None or self.tenants is None or tenant_id in self.tenants

    def sees(self, tenant_id: UUID) -> bool:
        """True when the tenant is one of this principal's."""
        return self.tenants is None or tenant_id in self.tenants


@dataclass(frozen=True, slots=True)
class User:
    """A dashboard account. `password_hash` is None for single-sign-on-only users."""

    id: UUID
    email: str
    role: UserRole
    tenants: frozenset[UUID]
    password_hash: str | None
    disabled: bool
    created_at: datetime
    password_changed_at: datetime | None = None

    def principal(self) -> Principal:
        """This user as the acting principal."""
        return Principal(
            PrincipalKind.USER,
            self.email,
            self.role,
            None if self.role is UserRole.ADMIN else self.tenants,
            self.id,
        )

    @property
    def must_change_password(self) -> bool:
        """True while the user signs in with a one-time password an admin was given (made
        for them, never changed by them): the dashboard asks for a new one first."""
        return self.password_hash is not None and self.password_changed_at is None

    def summary(self) -> JsonDict:
        """What the audit log keeps of a user: never the password hash."""
        return {
            "email": self.email,
            "role": self.role.value,
            "tenants": sorted(str(t) for t in self.tenants),
            "disabled": self.disabled,
            "password": self.password_hash is not None,
        }


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """A managed API key: only the SHA-256 of the secret is kept; `prefix` identifies it on screen."""

    id: UUID
    tenant_id: UUID | None
    name: str
    prefix: str
    secret_hash: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        """False once revoked."""
        return self.revoked_at is None

    def principal(self) -> Principal:
        """This key as the acting principal: a tenant's key acts as its operator, an
        admin-wide key as an admin."""
        if self.tenant_id is None:
            return Principal(PrincipalKind.API_KEY, f"key {self.name}", UserRole.ADMIN)
        return Principal(
            PrincipalKind.API_KEY, f"key {self.name}", UserRole.OPERATOR, frozenset({self.tenant_id})
        )

    def summary(self) -> JsonDict:
        """What the audit log keeps of a key: never its secret or hash."""
        return {
            "name": self.name,
            "prefix": self.prefix,
            "tenant_id": str(self.tenant_id) if self.tenant_id else None,
            "revoked": self.revoked_at is not None,
        }


class AuditAction(StrEnum):
    """What an audit entry records."""

    TENANT_CREATED = "tenant.created"
    TENANT_SETTINGS_CHANGED = "tenant.settings_changed"
    PROMPT_SAVED = "prompt.saved"
    """Written before drafts existed (a save went live at once); older logs hold it."""
    PROMPT_ROLLED_BACK = "prompt.rolled_back"
    PROMPT_DRAFT_SAVED = "prompt.draft_saved"
    PROMPT_DRAFT_DISCARDED = "prompt.draft_discarded"
    PROMPT_PUBLISHED = "prompt.published"
    SCENARIOS_SAVED = "scenario.saved"
    SCENARIO_DELETED = "scenario.deleted"
    EVENT_REPLAYED = "event.replayed"
    TOUR_CANCELLED = "tour.cancelled"
    TOUR_RESCHEDULED = "tour.rescheduled"
    CONTACT_CORRECTED = "contact.corrected"
    CONTACTS_MERGED = "contact.merged"
    NOTE_DELETED = "note.deleted"
    RECORDINGS_FORGOTTEN = "recordings.forgotten"
    USER_ADDED = "user.added"
    USER_CHANGED = "user.changed"
    PASSWORD_CHANGED = "user.password_changed"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    SIGN_IN_FAILED = "sign_in.failed"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change, by whom, when, on which tenant, with what it was before and after."""

    actor: str
    actor_kind: PrincipalKind
    action: AuditAction
    target: str
    tenant_id: UUID | None = None
    before: JsonDict | None = None
    after: JsonDict | None = None
    id: UUID = field(default_factory=new_id)
    created_at: datetime | None = None
    seq: int = 0

    @classmethod
    def by(
        cls,
        principal: Principal,
        action: AuditAction,
        target: str,
        *,
        tenant_id: UUID | None = None,
        before: JsonDict | None = None,
        after: JsonDict | None = None,
    ) -> AuditEntry:
        """An entry naming `principal` as the actor."""
        return cls(principal.label, principal.kind, action, target, tenant_id, before, after)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of the audit log; `tenants` None means every tenant (and entries of none)."""

    tenants: frozenset[UUID] | None = None
    actions: tuple[str, ...] = ()
    actor: str = ""
    since: datetime | None = None
    limit: int = 200

"""User accounts and API keys, as one acting principal: a facade of the `Workspace`
(`workspace.accounts`) that checks and audits through its guard. Adding, changing and
resetting users and keys is for admins; a signed-in user may read and re-password their own
account. The rules that keep the app manageable live here: the first user of a local install
is an admin, and the last active admin cannot be demoted or disabled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from agent_core.access.credentials import (
    hash_password,
    new_api_key,
    new_password,
    token_hash,
    verify_password,
)
from agent_core.access.forms import ApiKeyForm, NewPassword, UserForm, parse_form
from agent_core.access.models import Action, ApiKeyRecord, AuditAction, PrincipalKind, User, UserRole
from agent_core.clock import utcnow
from agent_core.errors import ForbiddenError, InvalidInputError, NotFoundError
from agent_core.guard import Guard
from agent_core.ids import new_id
from agent_core.store.base import Store


class Accounts:
    """Users and API keys."""

    def __init__(self, guard: Guard, store: Store) -> None:
        self._guard = guard
        self._store = store

    # -- users -------------------------------------------------------------------------

    def users(self) -> list[User]:
        """Every user (admins)."""
        self._guard.require(Action.ADMINISTER)
        return self._store.list_users()

    def add_user(
        self,
        email: str,
        role: UserRole | str,
        tenants: Sequence[UUID] = (),
        *,
        password: str | None = None,
        sso_only: bool = False,
    ) -> tuple[User, str | None]:
        """Add a user (admins); returns it with the one-time password made for it when none
        was given (None for single-sign-on-only users)."""
        self._guard.require(Action.ADMINISTER)
        form = parse_form(UserForm, "user", email=email, role=role, tenants=frozenset(tenants))
        self._check_tenants(form)
        if (
            self._guard.principal.kind is PrincipalKind.LOCAL
            and form.role is not UserRole.ADMIN
            and not self._active_admins()
        ):
            # The first user ends local mode: anyone but an admin would leave nobody able to
            # manage users, and only the command line could recover.
            raise InvalidInputError(
                "the first user must be an admin: adding them ends local mode, and from then on"
                " only an admin can add users"
            )
        chosen = None if sso_only else password if password is not None else new_password()
        if password is not None:
            parse_form(NewPassword, "password", password=password)
        now = utcnow()
        user = User(
            new_id(),
            str(form.email),
            form.role,
            frozenset() if form.role is UserRole.ADMIN else form.tenants,
            hash_password(chosen) if chosen is not None else None,
            False,
            now,
            # A password the adder chose is theirs to keep; one made here is one-time.
            password_changed_at=now if password is not None else None,
        )
        self._store.save_user(
            user, self._guard.audit_entry(AuditAction.USER_ADDED, f"user {user.email}", after=user.summary())
        )
        return user, chosen if password is None else None

    def change_user(
        self, user_id: UUID, *, role: UserRole | str, tenants: Sequence[UUID], disabled: bool
    ) -> User:
        """Change a user's role, tenants or whether they may sign in (admins). The last
        active admin cannot be demoted or disabled, so the app always has one."""
        self._guard.require(Action.ADMINISTER)
        user = self._user(user_id)
        form = parse_form(UserForm, "user", email=user.email, role=role, tenants=frozenset(tenants))
        self._check_tenants(form)
        changed = replace(
            user,
            role=form.role,
            tenants=frozenset() if form.role is UserRole.ADMIN else form.tenants,
            disabled=disabled,
        )
        if (
            user.role is UserRole.ADMIN
            and not user.disabled
            and (changed.role is not UserRole.ADMIN or disabled)
            and len(self._active_admins()) <= 1
        ):
            raise InvalidInputError("this is the last active admin: make another admin first")
        audit = self._guard.audit_entry(
            AuditAction.USER_CHANGED, f"user {user.email}", before=user.summary(), after=changed.summary()
        )
        self._store.save_user(changed, audit, end_sessions=disabled and not user.disabled)
        return changed

    def reset_password(self, user_id: UUID) -> str:
        """Give a user a new one-time password (admins); signs them out everywhere."""
        self._guard.require(Action.ADMINISTER)
        user = self._user(user_id)
        password = new_password()
        self._set_password(user, password, one_time=True)
        return password

    def me(self) -> User | None:
        """The signed-in user's own account (None for keys, the CLI and local mode)."""
        return self._store.get_user(self._guard.principal.user_id) if self._guard.principal.user_id else None

    def change_own_password(self, current: str, new: str) -> None:
        """A signed-in user's own password change; signs out their other sessions too."""
        if self._guard.principal.user_id is None:
            raise ForbiddenError("only a signed-in user has a password to change")
        user = self._user(self._guard.principal.user_id)
        if user.password_hash is None or not verify_password(user.password_hash, current):
            raise InvalidInputError("the current password is wrong")
        chosen = parse_form(NewPassword, "password", password=new)
        self._set_password(user, chosen.password)

    def _set_password(self, user: User, password: str, *, one_time: bool = False) -> None:
        changed = replace(
            user,
            password_hash=hash_password(password),
            password_changed_at=None if one_time else utcnow(),
        )
        audit = self._guard.audit_entry(AuditAction.PASSWORD_CHANGED, f"user {user.email}")
        self._store.save_user(changed, audit, end_sessions=True)

    def _active_admins(self) -> list[User]:
        return [u for u in self._store.list_users() if u.role is UserRole.ADMIN and not u.disabled]

    def _user(self, user_id: UUID) -> User:
        user = self._store.get_user(user_id)
        if user is None:
            raise NotFoundError(f"unknown user {user_id}")
        return user

    def _check_tenants(self, form: UserForm) -> None:
        known = {t.id for t in self._store.list_tenants()}
        if unknown := sorted(str(t) for t in form.tenants - known):
            raise InvalidInputError(f"unknown tenant(s): {', '.join(unknown)}")
        if form.role is not UserRole.ADMIN and not form.tenants:
            raise InvalidInputError(f"an {form.role.value} needs at least one tenant")

    # -- API keys ----------------------------------------------------------------------

    def api_keys(self) -> list[ApiKeyRecord]:
        """Every managed API key (admins); secrets are never kept, only prefixes."""
        self._guard.require(Action.ADMINISTER)
        return self._store.list_api_keys()

    def create_api_key(self, name: str, tenant_id: UUID | None) -> tuple[ApiKeyRecord, str]:
        """A new key (admins): the record and the secret, which is shown this once."""
        self._guard.require(Action.ADMINISTER)
        form = parse_form(ApiKeyForm, "API key", name=name, tenant_id=tenant_id)
        if form.tenant_id is not None:
            self._guard.tenant(form.tenant_id)
        secret, prefix = new_api_key()
        key = ApiKeyRecord(
            new_id(),
            form.tenant_id,
            form.name,
            prefix,
            token_hash(secret),
            self._guard.principal.label,
            utcnow(),
        )
        audit = self._guard.audit_entry(
            AuditAction.API_KEY_CREATED, f"API key {prefix}", tenant_id=key.tenant_id, after=key.summary()
        )
        self._store.save_api_key(key, audit)
        return key, secret

    def revoke_api_key(self, key_id: UUID) -> ApiKeyRecord:
        """Revoke a key (admins): from now on it is refused."""
        self._guard.require(Action.ADMINISTER)
        key = next((k for k in self._store.list_api_keys() if k.id == key_id), None)
        if key is None:
            raise NotFoundError(f"unknown API key {key_id}")
        if not key.active:
            return key
        revoked = replace(key, revoked_at=utcnow())
        audit = self._guard.audit_entry(
            AuditAction.API_KEY_REVOKED,
            f"API key {key.prefix}",
            tenant_id=key.tenant_id,
            before=key.summary(),
            after=revoked.summary(),
        )
        self._store.save_api_key(revoked, audit)
        return revoked

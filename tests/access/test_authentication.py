"""Sign-in, sessions, throttling, single sign-on and API keys as the authenticator sees them,
on every store backend; and the rule for local mode."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from agent_core.access.authentication import (
    LOCAL_PRINCIPAL,
    UNKNOWN_EMAIL,
    WRONG_CREDENTIALS,
    Authenticator,
    SignInPolicy,
)
from agent_core.access.models import AuditAction, AuditQuery, PrincipalKind, UserRole
from agent_core.clock import utcnow
from agent_core.domain import Tenant
from agent_core.errors import SignInError, ThrottledError
from agent_core.settings import ApiKey
from agent_core.store.base import Store
from agent_core.store.sqlite import SqliteStore
from agent_core.workspace import Workspace
from tests.conftest import make_workspace

PASSWORD = "correct horse battery staple"


class Clock:
    """A clock the test moves forward."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def now() -> Clock:
    return Clock()


@pytest.fixture
def admin(store: Store) -> Workspace:
    return make_workspace(store)


def authenticator(store: Store, now: Clock, host: str = "127.0.0.1", **kwargs: object) -> Authenticator:
    return Authenticator(store, listen_host=host, now=now, **kwargs)  # type: ignore[arg-type]


def failures(store: Store, email: str) -> list[str]:
    entries = store.list_audit(AuditQuery(actions=(AuditAction.SIGN_IN_FAILED.value,), limit=50))
    return [str((e.after or {}).get("reason")) for e in entries if e.target == f"user {email}"]


def test_the_right_password_opens_a_session_whose_principal_is_the_user(
    store: Store, admin: Workspace, tenant: Tenant, now: Clock
) -> None:
    email = f"op{uuid4().hex[:6]}@example.com"
    admin.accounts.add_user(email, "operator", [tenant.id], password=PASSWORD)
    auth = authenticator(store, now)
    signed_in = auth.sign_in(email.upper(), PASSWORD, "10.0.0.7")
    principal = auth.session_principal(signed_in.token)
    assert principal is not None
    assert (principal.kind, principal.label, principal.role, principal.tenants) == (
        PrincipalKind.USER,
        email,
        UserRole.OPERATOR,
        frozenset({tenant.id}),
    )
    assert signed_in.expires_at == now.now + SignInPolicy().session_lifetime
    now.now = signed_in.expires_at + timedelta(seconds=1)
    assert auth.session_principal(signed_in.token) is None


@pytest.mark.parametrize("wrong", ["wrong password", ""])
def test_a_wrong_password_or_unknown_email_fails_alike_and_is_audited(
    store: Store, admin: Workspace, tenant: Tenant, now: Clock, wrong: str
) -> None:
    email = f"v{uuid4().hex[:6]}@example.com"
    admin.accounts.add_user(email, "viewer", [tenant.id], password=PASSWORD)
    auth = authenticator(store, now)
    with pytest.raises(SignInError, match=WRONG_CREDENTIALS):
        auth.sign_in(email, wrong, "10.0.0.7")
    stranger = f"nobody{uuid4().hex[:6]}@example.com"
    with pytest.raises(SignInError, match=WRONG_CREDENTIALS):
        auth.sign_in(stranger, PASSWORD, "10.0.0.7")
    assert failures(store, email) == ["wrong email or password"]
    # What was typed for an email that is no user's is not kept (it may be a password).
    [newest, *_] = store.list_audit(AuditQuery(actions=(AuditAction.SIGN_IN_FAILED.value,), limit=50))
    assert (newest.target, newest.after) == (UNKNOWN_EMAIL, {"reason": "wrong email or password"})
    assert stranger not in repr(store.list_audit(AuditQuery(limit=500)))
    failed = store.list_audit(AuditQuery(actions=(AuditAction.SIGN_IN_FAILED.value,), limit=50))
    (entry,) = [e for e in failed if e.target == f"user {email}"]
    assert entry.actor == "anonymous from 10.0.0.7"


def test_after_five_failures_even_the_right_password_waits_its_pause(
    store: Store, admin: Workspace, tenant: Tenant, now: Clock
) -> None:
    email = f"t{uuid4().hex[:6]}@example.com"
    admin.accounts.add_user(email, "operator", [tenant.id], password=PASSWORD)
    auth = authenticator(store, now)
    for _ in range(5):
        with pytest.raises(SignInError):
            auth.sign_in(email, "guess", "10.0.0.9")
    with pytest.raises(ThrottledError, match="try again in 30 s") as throttled:
        auth.sign_in(email, PASSWORD, "10.0.0.9")
    assert throttled.value.retry_after == 30
    assert failures(store, email)[0] == "throttled"
    # Asking again during the pause does not make it longer.
    now.now += timedelta(seconds=20)
    with pytest.raises(ThrottledError) as still:
        auth.sign_in(email, PASSWORD, "10.0.0.9")
    assert still.value.retry_after == 10
    now.now += timedelta(seconds=still.value.retry_after)
    assert auth.session_principal(auth.sign_in(email, PASSWORD, "10.0.0.9").token) is not None
    # A success forgets the failures: the next mistake starts the count again.
    with pytest.raises(SignInError) as again:
        auth.sign_in(email, "guess", "10.0.0.9")
    assert not isinstance(again.value, ThrottledError)


def test_sign_out_a_disabled_user_and_a_password_change_end_sessions(
    store: Store, admin: Workspace, tenant: Tenant, now: Clock
) -> None:
    email = f"d{uuid4().hex[:6]}@example.com"
    user, _ = admin.accounts.add_user(email, "operator", [tenant.id], password=PASSWORD)
    auth = authenticator(store, now)
    first, second = auth.sign_in(email, PASSWORD, "ip"), auth.sign_in(email, PASSWORD, "ip")
    auth.sign_out(first.token)
    assert auth.session_principal(first.token) is None
    assert auth.session_principal(second.token) is not None
    admin.accounts.change_user(user.id, role="operator", tenants=[tenant.id], disabled=True)
    assert auth.session_principal(second.token) is None
    with pytest.raises(SignInError, match=WRONG_CREDENTIALS):
        auth.sign_in(email, PASSWORD, "ip")
    admin.accounts.change_user(user.id, role="operator", tenants=[tenant.id], disabled=False)
    third = auth.sign_in(email, PASSWORD, "ip")
    principal = auth.session_principal(third.token)
    assert principal is not None
    own = make_workspace(store, principal)
    own.accounts.change_own_password(PASSWORD, "an even longer passphrase")
    assert auth.session_principal(third.token) is None
    assert auth.session_principal(auth.sign_in(email, "an even longer passphrase", "ip").token) is not None


def test_single_sign_on_maps_only_a_verified_email_of_an_added_user(
    store: Store, admin: Workspace, tenant: Tenant, now: Clock
) -> None:
    email = f"sso{uuid4().hex[:6]}@example.com"
    admin.accounts.add_user(email, "viewer", [tenant.id], sso_only=True)
    auth = authenticator(store, now)
    principal = auth.sso_principal(email.upper(), email_verified=True)
    assert principal is not None
    assert principal.role is UserRole.VIEWER
    assert auth.sso_principal(email, email_verified=False) is None
    assert auth.sso_principal("stranger@example.com", email_verified=True) is None
    with pytest.raises(SignInError):  # no password to sign in with
        auth.sign_in(email, "", "ip")


def test_managed_keys_act_for_their_tenant_until_revoked_and_record_their_last_use(
    store: Store, admin: Workspace, tenant: Tenant, now: Clock
) -> None:
    key, secret = admin.accounts.create_api_key("phone gateway", tenant.id)
    auth = authenticator(store, now)
    principal = auth.api_key_principal(secret)
    assert principal is not None
    assert (principal.role, principal.tenants) == (UserRole.OPERATOR, frozenset({tenant.id}))
    used = store.find_api_key(key.secret_hash)
    assert used is not None
    assert used.last_used_at is not None
    assert auth.api_key_principal(secret + "x") is None
    admin.accounts.revoke_api_key(key.id)
    assert auth.api_key_principal(secret) is None


def test_keys_from_the_environment_keep_working(store: Store, tenant: Tenant, now: Clock) -> None:
    auth = authenticator(store, now, env_keys=[ApiKey("k" * 20, None), ApiKey("b" * 20, tenant.id)])
    wide, bound = auth.api_key_principal("k" * 20), auth.api_key_principal("b" * 20)
    assert wide is not None and wide.role is UserRole.ADMIN  # noqa: PT018
    assert bound is not None and bound.tenants == frozenset({tenant.id})  # noqa: PT018
    assert not auth.api_open()


@pytest.mark.parametrize(
    ("host", "local"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("192.168.1.20", False)],
)
def test_local_mode_needs_a_loopback_address_and_no_user(tmp_path: Path, host: str, local: bool) -> None:
    store = SqliteStore(tmp_path / "local.sqlite3")
    auth = Authenticator(store, listen_host=host)
    assert auth.local_mode() is local
    assert auth.api_open() is local
    make_workspace(store).accounts.add_user("first@example.com", "admin", password=PASSWORD)
    assert not Authenticator(store, listen_host=host).local_mode()
    assert LOCAL_PRINCIPAL.role is UserRole.ADMIN
    store.close()


def test_an_environment_key_is_told_without_the_store(store: Store, tenant: Tenant, now: Clock) -> None:
    keyed = authenticator(store, now, env_keys=[ApiKey("k" * 20, tenant.id)])
    assert keyed.identifies_from_memory("k" * 20)
    assert not keyed.identifies_from_memory("m" * 20)  # a managed key is looked up
    assert keyed.identifies_from_memory(None)  # a key exists: the API is closed


def test_an_open_api_is_told_without_the_store_for_a_second_after_it_looked(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "local.sqlite3")
    open_api = Authenticator(store, listen_host="127.0.0.1")
    assert not open_api.identifies_from_memory(None)  # it never looked
    assert open_api.api_open()
    assert open_api.identifies_from_memory(None)
    store.close()  # a store read from here on would fail
    assert open_api.api_open()

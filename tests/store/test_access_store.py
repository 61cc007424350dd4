"""The access half of the store contract, on every backend: users and their tenants,
sessions, sign-in failures, API keys, and an audit log nobody can rewrite."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import psycopg
import pytest

from agent_core.access.credentials import hash_password, token_hash
from agent_core.access.models import (
    ApiKeyRecord,
    AuditAction,
    AuditEntry,
    AuditQuery,
    PrincipalKind,
    User,
    UserRole,
)
from agent_core.clock import utcnow
from agent_core.domain import Tenant
from agent_core.errors import InvalidInputError
from agent_core.store.base import Store
from agent_core.store.sqlite import SqliteStore
from tests.conftest import audit_entry, database_behind


def new_user(email: str, role: UserRole, *tenants: Tenant) -> User:
    return User(
        uuid4(),
        email,
        role,
        frozenset(t.id for t in tenants),
        hash_password("correct horse battery"),
        False,
        utcnow(),
    )


def test_a_user_is_saved_with_its_tenants_and_found_by_any_casing_of_its_email(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    email = f"Ana.{uuid4().hex[:6]}@Example.com"
    user = new_user(email, UserRole.OPERATOR, tenant, other_tenant)
    store.save_user(user, audit_entry(AuditAction.USER_ADDED))
    found = store.find_user(email.upper())
    assert found == user
    assert store.get_user(user.id) == user
    assert store.count_users() >= 1
    fewer = User(
        user.id, email, UserRole.VIEWER, frozenset({tenant.id}), user.password_hash, True, user.created_at
    )
    store.save_user(fewer, audit_entry(AuditAction.USER_CHANGED))
    assert store.get_user(user.id) == fewer
    with pytest.raises(InvalidInputError, match="already exists"):
        store.save_user(new_user(email.lower(), UserRole.ADMIN), audit_entry(AuditAction.USER_ADDED))


def test_sessions_live_until_they_expire_or_end_and_can_be_ended_all_at_once(
    store: Store, tenant: Tenant
) -> None:
    user = new_user(f"s{uuid4().hex[:6]}@example.com", UserRole.VIEWER, tenant)
    store.save_user(user, audit_entry(AuditAction.USER_ADDED))
    now = utcnow()
    store.add_session("a" * 64, user.id, now + timedelta(hours=1))
    store.add_session("b" * 64, user.id, now + timedelta(hours=1))
    store.add_session("c" * 64, user.id, now - timedelta(seconds=1))
    assert store.session_user("a" * 64, now) == user
    assert store.session_user("c" * 64, now) is None
    store.end_session("a" * 64)
    assert store.session_user("a" * 64, now) is None
    store.save_user(user, audit_entry(AuditAction.PASSWORD_CHANGED), end_sessions=True)
    assert store.session_user("b" * 64, now) is None


def test_sign_in_attempts_count_within_their_window_and_start_over_after_it(store: Store) -> None:
    key, other = uuid4().hex, uuid4().hex
    now = utcnow()
    window = timedelta(minutes=15)
    step = timedelta(seconds=10)
    counts = [store.take_sign_in_attempt(key, now + i * step, now + i * step - window) for i in range(3)]
    assert counts == [(1, now), (2, now), (3, now)]
    store.give_back_sign_in_attempt(key)
    assert store.take_sign_in_attempt(key, now + step, now + step - window) == (3, now)
    assert store.take_sign_in_attempt(other, now, now - window) == (1, now)
    later = now + window + timedelta(seconds=1)
    assert store.take_sign_in_attempt(key, later, later - window) == (1, later)
    store.clear_sign_in_attempts(key)
    assert store.take_sign_in_attempt(key, later, later - window) == (1, later)


def test_concurrent_sign_in_attempts_each_get_a_count_of_their_own(store: Store) -> None:
    key, now = uuid4().hex, utcnow()
    barrier = threading.Barrier(8)
    counts: list[int] = []

    def attempt() -> None:
        barrier.wait()
        counts.append(store.take_sign_in_attempt(key, now, now - timedelta(minutes=15))[0])

    workers = [threading.Thread(target=attempt) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(counts) == list(range(1, 9))


def test_api_keys_are_found_by_hash_listed_per_tenant_touched_and_revoked(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    secret_hash = token_hash(f"vam_{uuid4().hex}")
    key = ApiKeyRecord(
        uuid4(), tenant.id, "phone gateway", "vam_abcdefgh", secret_hash, "cli:tests", utcnow()
    )
    store.save_api_key(key, audit_entry(AuditAction.API_KEY_CREATED))
    assert store.find_api_key(secret_hash) == key
    assert key in store.list_api_keys(frozenset({tenant.id}))
    assert key not in store.list_api_keys(frozenset({other_tenant.id}))
    used = utcnow()
    store.touch_api_key(key.id, used)
    touched = store.find_api_key(secret_hash)
    assert touched is not None
    assert touched.last_used_at is not None
    assert abs(touched.last_used_at - used) < timedelta(milliseconds=1)
    store.save_api_key(replace(key, revoked_at=used), audit_entry(AuditAction.API_KEY_REVOKED))
    revoked = store.find_api_key(secret_hash)
    assert revoked is not None
    assert not revoked.active


def test_the_audit_log_keeps_each_entry_and_filters_by_tenant_action_actor_and_time(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    actor = f"ana{uuid4().hex[:6]}@example.com"
    mine = AuditEntry(
        actor,
        PrincipalKind.USER,
        AuditAction.PROMPT_SAVED,
        "prompt",
        tenant.id,
        {"prompt": "old"},
        {"prompt": "new ü"},
    )
    theirs = AuditEntry(actor, PrincipalKind.USER, AuditAction.EVENT_REPLAYED, "event", other_tenant.id)
    store.record_audit(mine)
    store.record_audit(theirs)
    found = store.list_audit(AuditQuery(frozenset({tenant.id}), actor=actor[:6].upper()))
    assert [(e.id, e.action, e.before, e.after, e.actor) for e in found] == [
        (mine.id, AuditAction.PROMPT_SAVED, {"prompt": "old"}, {"prompt": "new ü"}, actor)
    ]
    both = store.list_audit(AuditQuery(frozenset({tenant.id, other_tenant.id})))
    assert [e.id for e in both][:2] == [theirs.id, mine.id]  # newest first
    assert store.list_audit(AuditQuery(frozenset({tenant.id}), actions=("event.replayed",))) == []
    assert store.list_audit(AuditQuery(frozenset({tenant.id}), since=utcnow() + timedelta(minutes=1))) == []


def test_the_database_refuses_to_rewrite_or_delete_audit_entries(
    store: Store, request: pytest.FixtureRequest
) -> None:
    store.record_audit(audit_entry(AuditAction.PROMPT_SAVED))
    if isinstance(store, SqliteStore):
        local = sqlite3.connect(store.path)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            local.execute("UPDATE audit_log SET actor = 'someone else'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            local.execute("DELETE FROM audit_log")
        local.close()
    else:  # PostgreSQL, also under the Supabase store
        with psycopg.connect(database_behind(request)) as connection:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                connection.execute("UPDATE audit_log SET actor = 'someone else'")
            connection.rollback()
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                connection.execute("DELETE FROM audit_log")

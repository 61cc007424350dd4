"""Sign-in as an attacker tries it: wrong passwords sent all at once (on every store: the
counts are taken atomically by each), guesses spread over many emails from one client, a
stranger trying to lock the admin out, and a password typed into the email field. Throttling
holds without a lock anyone can trigger, and nothing typed for a non-existent account is
stored."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from agent_core.access.authentication import Authenticator, SignInPolicy
from agent_core.access.models import AuditAction, AuditQuery
from agent_core.clock import FixedClock, utcnow
from agent_core.domain import Tenant
from agent_core.errors import SignInError, ThrottledError
from agent_core.store.base import Store
from agent_core.store.sqlite import SqliteStore
from tests.conftest import make_workspace

PASSWORD = "correct horse battery staple"


def authenticator(
    store: Store, clock: FixedClock | None = None, policy: SignInPolicy | None = None
) -> Authenticator:
    """The authenticator over `store`, on a clock the test moves forward."""
    now = (clock or FixedClock(utcnow())).now
    return Authenticator(store, listen_host="127.0.0.1", now=now, policy=policy)


def add_admin(store: Store) -> str:
    address = f"boss{uuid4().hex[:6]}@example.com"
    make_workspace(store).accounts.add_user(address, "admin", password=PASSWORD)
    return address


@pytest.fixture
def email(store: Store, tenant: Tenant) -> str:
    return add_admin(store)


@pytest.fixture
def one_store(tmp_path: Path) -> Iterator[SqliteStore]:
    """One store for what does not depend on the backend (the policy)."""
    store = SqliteStore(tmp_path / "sign-in.sqlite3")
    yield store
    store.close()


def attempt(auth: Authenticator, email: str, password: str, source: str) -> str:
    """What one sign-in ended in: signed in, wrong or throttled."""
    try:
        auth.sign_in(email, password, source)
    except ThrottledError:
        return "throttled"
    except SignInError:
        return "wrong"
    return "signed in"


def test_forty_wrong_passwords_at_once_get_only_five_password_checks(store: Store, email: str) -> None:
    auth = authenticator(store)
    start = threading.Barrier(40)
    outcomes: list[str] = []

    def guess(i: int) -> None:
        start.wait()
        outcomes.append(attempt(auth, email, f"guess {i}", "198.51.100.7"))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["throttled"] * 35 + ["wrong"] * 5


def test_a_strangers_guesses_do_not_lock_the_owner_out(one_store: SqliteStore) -> None:
    email = add_admin(one_store)
    auth = authenticator(one_store)
    stranger = [attempt(auth, email, "let me in", "203.0.113.66") for _ in range(8)]
    assert stranger == ["wrong"] * 5 + ["throttled"] * 3
    assert attempt(auth, email, PASSWORD, "192.0.2.10") == "signed in"


def test_guesses_spread_over_many_emails_from_one_client_are_paused(one_store: SqliteStore) -> None:
    # A lower limit than the default 20 only to keep the test short: every wrong try costs a hash.
    auth = authenticator(one_store, policy=SignInPolicy(max_client_attempts=6))
    emails = [f"user{i}.{uuid4().hex[:6]}@example.com" for i in range(10)]
    outcomes = [attempt(auth, address, "x", "198.51.100.99") for address in emails]
    assert outcomes == ["wrong"] * 6 + ["throttled"] * 4


def test_the_pause_grows_for_a_client_that_keeps_guessing_and_ends(one_store: SqliteStore) -> None:
    email = add_admin(one_store)
    clock = FixedClock(utcnow())
    auth = authenticator(one_store, clock)
    for _ in range(5):
        attempt(auth, email, "nope", "198.51.100.5")
    pauses = []
    for _ in range(4):
        with pytest.raises(ThrottledError) as paused:
            auth.sign_in(email, "nope", "198.51.100.5")
        pauses.append(paused.value.retry_after)
        clock.instant += timedelta(seconds=paused.value.retry_after)
        assert attempt(auth, email, "nope", "198.51.100.5") == "wrong"
    assert pauses == [30, 60, 120, 240]
    clock.instant += SignInPolicy().window
    assert attempt(auth, email, PASSWORD, "198.51.100.5") == "signed in"


def test_a_password_typed_into_the_email_field_is_not_stored(one_store: SqliteStore) -> None:
    auth = authenticator(one_store)
    typed = f"hunter2-{uuid4().hex}"
    assert attempt(auth, typed, "", "192.0.2.44") == "wrong"
    entries = one_store.list_audit(AuditQuery(actions=(AuditAction.SIGN_IN_FAILED.value,), limit=500))
    assert entries
    assert typed not in repr(entries)
    # Nor anywhere in the database (the throttle counts are under hashed keys).
    raw = sqlite3.connect(one_store.path)
    try:
        assert typed not in "\n".join(raw.iterdump())
    finally:
        raw.close()

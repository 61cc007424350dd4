"""The part of the store interface that holds users, sessions, API keys and the audit log.

Every change here that the audit log must show takes its `AuditEntry`, which the backend
writes in the same transaction as the change: there is no change without its entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from agent_core.access.models import ApiKeyRecord, AuditEntry, AuditQuery, User


def email_key(email: str) -> str:
    """The case-insensitive key an email is known by."""
    return email.strip().casefold()


class AccessStore(Protocol):
    """Users, sessions, sign-in throttling, API keys and the append-only audit log."""

    def count_users(self) -> int:
        """How many users exist (none: the dashboard may run in local mode)."""
        ...

    def get_user(self, user_id: UUID) -> User | None:
        """The user, or None."""
        ...

    def find_user(self, email: str) -> User | None:
        """The user with this email (case-insensitive), or None."""
        ...

    def list_users(self) -> list[User]:
        """Every user by email."""
        ...

    def save_user(self, user: User, audit: AuditEntry, *, end_sessions: bool = False) -> None:
        """Create or replace a user and its tenant assignments, with its audit entry;
        `end_sessions` signs the user out everywhere. InvalidInputError when the email is taken."""
        ...

    def add_session(self, token_hash: str, user_id: UUID, expires_at: datetime) -> None:
        """Remember a signed-in session by the hash of its token."""
        ...

    def session_user(self, token_hash: str, now: datetime) -> User | None:
        """The user of an unexpired session, or None."""
        ...

    def end_session(self, token_hash: str) -> None:
        """Forget a session (sign-out)."""
        ...

    def take_sign_in_attempt(self, key: str, now: datetime, window_start: datetime) -> tuple[int, datetime]:
        """Count one sign-in attempt under `key` in one atomic step (a window that began
        before `window_start` starts over at `now`): the count with this attempt, and when
        its window began. Concurrent attempts each get a count of their own."""
        ...

    def give_back_sign_in_attempt(self, key: str) -> None:
        """Uncount one attempt under `key` (it was refused before any password was checked)."""
        ...

    def clear_sign_in_attempts(self, key: str) -> None:
        """Forget the attempts under `key` (a sign-in succeeded)."""
        ...

    def save_api_key(self, key: ApiKeyRecord, audit: AuditEntry) -> None:
        """Create a key, or record its revocation, with its audit entry."""
        ...

    def find_api_key(self, secret_hash: str) -> ApiKeyRecord | None:
        """The key whose secret hashes to `secret_hash` (revoked ones too), or None."""
        ...

    def list_api_keys(self, tenants: frozenset[UUID] | None = None) -> list[ApiKeyRecord]:
        """Keys, newest first: of these tenants, or every key (admin-wide ones too) for None."""
        ...

    def touch_api_key(self, key_id: UUID, used_at: datetime) -> None:
        """Record when a key was last used."""
        ...

    def record_audit(self, entry: AuditEntry) -> None:
        """Append an entry that goes with no other change."""
        ...

    def list_audit(self, query: AuditQuery) -> list[AuditEntry]:
        """Entries matching the query, newest first."""
        ...

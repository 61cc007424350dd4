"""Who is asking: a signed-in dashboard session, a single-sign-on identity, an API key, or
nobody (local mode, only on loopback before the first user exists)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from agent_core.access.credentials import new_token, token_hash, verify_password
from agent_core.access.models import AuditAction, AuditEntry, Principal, PrincipalKind, User, UserRole
from agent_core.clock import utcnow
from agent_core.errors import SignInError, ThrottledError
from agent_core.settings import ApiKey
from agent_core.store.access_store import email_key
from agent_core.store.base import Store

WRONG_CREDENTIALS = "the email or password is wrong"
UNKNOWN_EMAIL = "an email that is no user's"
"""The audit target of a failed sign-in at an unknown email: what was typed is not kept (it
may be a password typed into the wrong field)."""
LOCAL_PRINCIPAL = Principal(PrincipalKind.LOCAL, "the local admin", UserRole.ADMIN)
_TOUCH_EVERY = timedelta(minutes=1)
_RECHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    """How sign-in attempts are throttled, and how long a session lasts.

    Attempts are counted per email from one client, per client (whatever the emails) and per
    email (whatever the clients), each within `window`. Past a count's limit each further
    attempt waits twice as long as the one before, from the window's start (`first_pause`
    for the first): back-off, never a lock. A stranger's guesses pause that email only from
    the stranger's client; a client that keeps guessing, at any emails, waits longer each time.
    """

    max_failures: int = 5
    """Attempts at one email from one client before the back-off."""
    max_client_attempts: int = 20
    """Attempts from one client, at any emails."""
    max_email_attempts: int = 50
    """Attempts at one email, from any clients."""
    first_pause: timedelta = timedelta(seconds=30)
    window: timedelta = timedelta(minutes=15)
    session_lifetime: timedelta = timedelta(hours=12)

    def allowed_at(self, attempt: int, limit: int, since: datetime) -> datetime:
        """When attempt number `attempt` of a count whose window began at `since` may be made."""
        over = min(attempt - limit, 20)  # 30 s doubled 20 times is far past any window
        return since if over <= 0 else since + self.first_pause * (2**over - 1)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the token for the cookie, its user and when it ends."""

    token: str
    user: User
    expires_at: datetime


def _hashed(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()


def _pause_message(seconds: int) -> str:
    after = f"{seconds} s" if seconds < 60 else f"{math.ceil(seconds / 60)} min"
    return f"too many failed sign-ins; try again in {after}"


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Authenticator:
    """Turns credentials into principals; throttles and audits failed sign-ins."""

    def __init__(
        self,
        store: Store,
        *,
        listen_host: str,
        env_keys: Sequence[ApiKey] = (),
        policy: SignInPolicy | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._loopback = is_loopback(listen_host)
        self._env_keys = [(key.secret.encode(), key.tenant_id) for key in env_keys]
        self.policy = policy or SignInPolicy()
        self._now = now
        self._users_seen = False
        self._users_checked = -_RECHECK_SECONDS
        self._keys_seen = False
        self._keys_checked = -_RECHECK_SECONDS

    # -- the dashboard ----------------------------------------------------------------

    def users_exist(self) -> bool:
        """True once any user exists (remembered: users are disabled, never deleted). While
        there is none, the store is asked again at most every `_RECHECK_SECONDS`, so local
        mode costs no query per request yet ends within a second of `vam users add`."""
        if not self._users_seen and time.monotonic() >= self._users_checked + _RECHECK_SECONDS:
            self._users_seen = self._store.count_users() > 0
            self._users_checked = time.monotonic()
        return self._users_seen

    def local_mode(self) -> bool:
        """True when the dashboard runs open: on loopback, with no user created yet."""
        return self._loopback and not self.users_exist()

    def sign_in(self, email: str, password: str, source: str) -> SignedIn:
        """A new session for the right email and password.

        Each attempt is counted before the password is checked, so concurrent attempts cannot
        outrun the limits (see SignInPolicy); ThrottledError, checking nothing, while one of the
        counts is in its back-off; SignInError otherwise, never saying which part was wrong.
        Every failure leaves an audit entry naming `source` (the client's address) and the
        user when the email is one — never text that was typed for an email that is not.
        """
        email = email.strip()[:254]
        now = self._now()
        user = self._store.find_user(email) if email else None
        email_here, client, email_anywhere = self._throttle_keys(email, source)
        taken: list[str] = []
        for key, limit in (email_here, client, email_anywhere):
            attempt, since = self._store.take_sign_in_attempt(key, now, now - self.policy.window)
            allowed = self.policy.allowed_at(attempt, limit, since)
            if allowed > now:
                # A refused attempt is no attempt: it does not push the back-off further.
                for counted in [*taken, key]:
                    self._store.give_back_sign_in_attempt(counted)
                self._store.record_audit(self._failure(user, source, "throttled"))
                wait = math.ceil((allowed - now).total_seconds())
                raise ThrottledError(_pause_message(wait), wait)
            taken.append(key)
        matches = verify_password(user.password_hash if user else None, password)
        if user is None or not matches or user.disabled:
            reason = "disabled" if user is not None and matches else "wrong email or password"
            self._store.record_audit(self._failure(user, source, reason))
            raise SignInError(WRONG_CREDENTIALS)
        # This email's counts start over; the client's stays (it may be guessing at others).
        for key, _ in (email_here, email_anywhere):
            self._store.clear_sign_in_attempts(key)
        token = new_token()
        expires_at = now + self.policy.session_lifetime
        self._store.add_session(token_hash(token), user.id, expires_at)
        self._users_seen = True
        return SignedIn(token, user, expires_at)

    def _throttle_keys(
        self, email: str, source: str
    ) -> tuple[tuple[str, int], tuple[str, int], tuple[str, int]]:
        """The counts an attempt is taken under, with their limits: this email from this
        client, this client at any email, this email from any client. Hashed, so what was
        typed is never stored."""
        typed = email_key(email)
        return (
            (_hashed("email from client", typed, source), self.policy.max_failures),
            (_hashed("client", source), self.policy.max_client_attempts),
            (_hashed("email", typed), self.policy.max_email_attempts),
        )

    @staticmethod
    def _failure(user: User | None, source: str, reason: str) -> AuditEntry:
        return AuditEntry(
            f"anonymous from {source}",
            PrincipalKind.USER,
            AuditAction.SIGN_IN_FAILED,
            f"user {user.email}" if user is not None else UNKNOWN_EMAIL,
            after={"reason": reason},
        )

    def session_user(self, token: str | None) -> User | None:
        """The user of a live session cookie, or None (no cookie, expired, signed out, disabled)."""
        if not token:
            return None
        user = self._store.session_user(token_hash(token), self._now())
        return None if user is None or user.disabled else user

    def session_principal(self, token: str | None) -> Principal | None:
        """The principal of a live session cookie (see `session_user`)."""
        user = self.session_user(token)
        return None if user is None else user.principal()

    def sign_out(self, token: str | None) -> None:
        """End the session of this cookie (nothing when there is none)."""
        if token:
            self._store.end_session(token_hash(token))

    def sso_principal(self, email: str | None, email_verified: bool) -> Principal | None:
        """The user an identity provider vouched for, by its verified email; None for an
        unverified email or one no admin has added."""
        if not email or not email_verified:
            return None
        user = self._store.find_user(email)
        return None if user is None or user.disabled else user.principal()

    # -- the API ----------------------------------------------------------------------

    def api_key_principal(self, secret: str) -> Principal | None:
        """The principal of a bearer token: an `API_KEYS` entry (compared in constant time,
        every one of them) or a managed key that is not revoked; None otherwise."""
        presented = secret.encode()
        bound: list[UUID | None] = [t for s, t in self._env_keys if hmac.compare_digest(s, presented)]
        if bound:
            tenant = bound[0]
            if tenant is None:
                return Principal(PrincipalKind.API_KEY, "API_KEYS key", UserRole.ADMIN)
            return Principal(PrincipalKind.API_KEY, "API_KEYS key", UserRole.OPERATOR, frozenset({tenant}))
        key = self._store.find_api_key(token_hash(secret))
        if key is None or not key.active:
            return None
        now = self._now()
        if key.last_used_at is None or now - key.last_used_at >= _TOUCH_EVERY:
            self._store.touch_api_key(key.id, now)
        return key.principal()

    def identifies_from_memory(self, token: str | None) -> bool:
        """Whether telling who presents `token` (`api_key_principal`, or `api_open` without
        one) reads no store right now: an `API_KEYS` key, or an open API whose last look at
        the store is under a second old. A server may then answer it on its event loop."""
        if token is not None:
            presented = token.encode()
            # Every key is compared, as in api_key_principal: how long it takes tells nothing.
            matches = [hmac.compare_digest(s, presented) for s, _ in self._env_keys]
            return any(matches)
        if self._env_keys or self._keys_seen or not self._loopback:
            return True
        now = time.monotonic()
        if self._users_seen:
            return True
        return now < self._users_checked + _RECHECK_SECONDS and now < self._keys_checked + _RECHECK_SECONDS

    def api_open(self) -> bool:
        """True when the API answers without a key: only in local mode, and only while no key
        exists (`API_KEYS` or managed) — a key, a user or a public address closes it."""
        if self._env_keys or self._keys_seen or not self.local_mode():
            return False
        if time.monotonic() >= self._keys_checked + _RECHECK_SECONDS:
            self._keys_seen = bool(self._store.list_api_keys())
            self._keys_checked = time.monotonic()
        return not self._keys_seen

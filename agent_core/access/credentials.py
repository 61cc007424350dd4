"""Secrets as they are made and kept: argon2 for passwords (slow on purpose, salted), SHA-256
for random tokens and API keys (256 random bits need no slowing down), never the plain text."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

API_KEY_PREFIX = "vam_"
_PREFIX_CHARS = len(API_KEY_PREFIX) + 8
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of the password (its own salt and parameters inside)."""
    return _HASHER.hash(password)


@cache
def _decoy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches. With no hash (unknown email, SSO-only user) a decoy
    hash is checked instead, so the answer takes as long either way."""
    try:
        return _HASHER.verify(password_hash or _decoy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A one-time password to hand to a new user (about 96 random bits)."""
    return secrets.token_urlsafe(12)


def new_token() -> str:
    """A session token for the sign-in cookie."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a session token or an API key."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def new_api_key() -> tuple[str, str]:
    """A new API key and the prefix that identifies it on screen."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return secret, secret[:_PREFIX_CHARS]

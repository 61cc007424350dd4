"""Who is calling the API: a bearer API key (managed, or from `API_KEYS`), or nobody while
the API runs open in local mode."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from agent_core.access.authentication import LOCAL_PRINCIPAL, Authenticator
from agent_core.access.models import Principal
from agent_core.http.errors import ApiError


def bearer_token(request: HTTPConnection) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def identify(authenticator: Authenticator, token: str | None) -> Principal | None:
    """The principal of a bearer token (None: no token, and the API is not open); 401 for a
    key that is not valid (or revoked). Reads the store: call it on a worker thread."""
    if token is None:
        return LOCAL_PRINCIPAL if authenticator.api_open() else None
    principal = authenticator.api_key_principal(token)
    if principal is None:
        raise ApiError(
            401, "unauthorized", "the API key is not valid", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


async def caller(authenticator: Authenticator, request: HTTPConnection) -> Principal | None:
    """The principal of the request (see `identify`), on a worker thread when that reads the
    store (a hop costs more than the check when it does not)."""
    token = bearer_token(request)
    if authenticator.identifies_from_memory(token):
        return identify(authenticator, token)
    return await run_in_threadpool(identify, authenticator, token)


async def required_caller(authenticator: Authenticator, request: HTTPConnection) -> Principal:
    """The principal of the request; 401 without a valid key (unless the API is open)."""
    principal = await caller(authenticator, request)
    if principal is None:
        raise ApiError(
            401,
            "unauthorized",
            "send Authorization: Bearer <API key> (made with `vam keys create` or on the API keys page)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal

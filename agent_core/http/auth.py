"""Optional bearer-token API keys, each possibly bound to one tenant."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from uuid import UUID

from starlette.requests import Request

from agent_core.http.errors import ApiError
from agent_core.settings import ApiKey


class ApiKeyGuard:
    """Checks `Authorization: Bearer <key>`; open when no keys are configured."""

    def __init__(self, keys: Sequence[ApiKey]) -> None:
        self._keys = [(key.secret.encode(), key.tenant_id) for key in keys]

    def authorize(self, request: Request, tenant_id: UUID | None = None) -> UUID | None:
        """The tenant the key is bound to (None: any). 401 without a valid key, 403 for a
        tenant the key does not cover. Keys are compared in constant time, all of them."""
        if not self._keys:
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "unauthorized",
                "send Authorization: Bearer <API key>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        presented = token.strip().encode()
        matched: list[UUID | None] = []
        for secret, bound in self._keys:
            if hmac.compare_digest(secret, presented):
                matched.append(bound)
        if not matched:
            raise ApiError(
                401, "unauthorized", "the API key is not valid", headers={"WWW-Authenticate": "Bearer"}
            )
        bound = matched[0]
        if bound is not None and tenant_id is not None and bound != tenant_id:
            raise ApiError(403, "forbidden", "this API key is not allowed for that tenant")
        return bound

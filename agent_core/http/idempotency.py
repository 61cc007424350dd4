"""`Idempotency-Key` on POST /api/chat and the booking corrections: a client may always retry.

The first request with a key runs the turn (or the correction) and its answer is stored with the request's
fingerprint; a repeat gets that answer again (header `Idempotent-Replayed: true`), a repeat
sent while the first still runs waits for it, and the same key with a different body is a
422. An answer a retry may improve (a 5xx, a 409) is not kept: the key is released, so the
retry runs the turn again — and a booking the failed attempt already made is returned, not
repeated, by the tool.

A claimed key holds a lease that its process renews while the request runs, like a turn's: when
the process dies the lease runs out within `lease_seconds` and a retry takes the key over,
instead of waiting for a fixed, long lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agent_core.domain import JsonDict, KeyState, fingerprint
from agent_core.http.errors import ApiError
from agent_core.workspace import RequestKeys

HEADER = "idempotency-key"
MAX_KEY_CHARS = 255
KEY_PATTERN = "^[\\x20-\\x7e]+$"
"""Visible ASCII and spaces: what every HTTP client can send in a header."""


def key_of(request: Request) -> str | None:
    """The request's Idempotency-Key, or None; 422 for an empty, overlong or non-ASCII key."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_CHARS or not re.fullmatch(KEY_PATTERN, key):
        raise ApiError(
            422,
            "validation_error",
            "invalid Idempotency-Key",
            [
                {
                    "field": "Idempotency-Key",
                    "message": f"must be 1 to {MAX_KEY_CHARS} visible ASCII characters or spaces",
                }
            ],
        )
    return key


class KeyedRequest:
    """One request sent with a key: claims it, then stores or releases its answer.

    `request` is what identifies the request (its route and body): the same key sent with
    another is refused."""

    def __init__(
        self,
        keys: RequestKeys,
        key: str,
        request: JsonDict,
        *,
        lease_seconds: float,
        longest_seconds: float,
    ) -> None:
        """`lease_seconds`: how long the claim outlives a dead holder; `longest_seconds`: the
        longest a request may hold it (renewal stops then, whatever happens to the request)."""
        self._keys = keys
        self._key = key
        self._fingerprint = fingerprint(json.dumps(request, sort_keys=True, default=str))
        self._lease_seconds = lease_seconds
        self._longest_seconds = longest_seconds
        self._renewal: asyncio.Task[None] | None = None

    async def claim(self) -> Response | None:
        """None when this request runs the turn; otherwise the answer to send instead. A
        repeat waits for the first answer as long as a dead holder's lease could last."""
        deadline = time.monotonic() + 2 * self._lease_seconds
        delay = 0.05
        while True:
            claim = await run_in_threadpool(
                self._keys.claim, self._key, self._fingerprint, self._lease_seconds
            )
            if claim.state is KeyState.CLAIMED:
                self._renewal = asyncio.create_task(self._renew())
                return None
            if claim.state is KeyState.DONE:
                assert claim.status is not None
                return JSONResponse(claim.response, claim.status, headers={"Idempotent-Replayed": "true"})
            if claim.state is KeyState.MISMATCH:
                # 409 like a key still in use: the key is taken, the request itself is
                # valid (the IETF draft's 422 would call a well-formed body invalid).
                raise ApiError(
                    409,
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used with a different request body",
                )
            if time.monotonic() > deadline:
                raise ApiError(
                    409,
                    "idempotency_key_in_use",
                    "a request with this Idempotency-Key is still running; retry later",
                    headers={"Retry-After": "5"},
                )
            await asyncio.sleep(delay)
            delay = min(0.5, delay * 1.5)

    async def _renew(self) -> None:
        """Keep the claim while this process runs the request (a third of the lease apart)."""
        until = time.monotonic() + self._longest_seconds
        while time.monotonic() < until:
            await asyncio.sleep(self._lease_seconds / 3)
            try:
                held = await run_in_threadpool(self._keys.renew, self._key, self._lease_seconds)
            except Exception:
                continue  # the store is down for now; the lease may still outlast it
            if not held:
                return

    async def _stop_renewing(self) -> None:
        if self._renewal is not None:
            self._renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewal

    async def succeeded(self, body: JsonDict) -> None:
        """Keep the answer for every repeat."""
        await self._stop_renewing()
        await run_in_threadpool(self._keys.finish, self._key, 200, body)

    async def failed(self, error: ApiError | None) -> None:
        """Keep a final answer (bad input, unknown tenant); release the key when a retry may help
        (a 5xx, a 409, or no answer at all: a crash, a client that hung up mid-stream)."""
        await self._stop_renewing()
        if error is None or error.status >= 500 or error.status == 409:
            await run_in_threadpool(self._keys.release, self._key)
        else:
            await run_in_threadpool(self._keys.finish, self._key, error.status, error.body())

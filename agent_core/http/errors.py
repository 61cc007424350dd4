"""One error shape for every failure: `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from uuid import UUID

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agent_core.errors import (
    AgentCoreError,
    ConflictError,
    ConversationBusyError,
    ForbiddenError,
    GateBlockedError,
    InvalidInputError,
    ModelError,
    ModelUnavailableError,
    NotFoundError,
    PromptChangedError,
    ShuttingDownError,
    StoreUnavailableError,
    TurnStoppedError,
    VoiceUnavailableError,
)
from agent_core.http.schemas import ErrorDetail, ErrorInfo, ErrorResponse

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer with its HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[Mapping[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = [ErrorDetail(field=d["field"], message=d["message"]) for d in details]
        self.headers = dict(headers or {})
        self.conversation_id: UUID | None = None
        self.turn_id: UUID | None = None

    def of_turn(self, conversation_id: UUID, turn_id: UUID) -> ApiError:
        """Name the turn this error ended, so a client can look it up or continue it."""
        self.conversation_id, self.turn_id = conversation_id, turn_id
        return self

    def body(self) -> dict[str, object]:
        """The error as JSON data (turn ids only when a turn had started)."""
        info = ErrorInfo(
            code=self.code,
            message=self.message,
            details=self.details,
            conversation_id=self.conversation_id,
            turn_id=self.turn_id,
        )
        return ErrorResponse(error=info).model_dump(mode="json", by_alias=True, exclude_none=True)

    def response(self) -> JSONResponse:
        """The JSON response for this error."""
        return JSONResponse(self.body(), self.status, headers=self.headers)


def from_core(error: AgentCoreError) -> ApiError:
    """Map an agent_core error onto its HTTP meaning."""
    if isinstance(error, InvalidInputError):
        return ApiError(422, "validation_error", str(error), error.details)
    if isinstance(error, NotFoundError):
        return ApiError(404, "not_found", str(error))
    if isinstance(error, ForbiddenError):
        return ApiError(403, "forbidden", str(error))
    if isinstance(error, GateBlockedError):
        # The kept run says which scenario failed and why.
        return ApiError(409, "gate_blocked", str(error), [{"field": "runId", "message": str(error.run.id)}])
    if isinstance(error, ConflictError):
        return ApiError(409, error.code, str(error))
    if isinstance(error, PromptChangedError):
        return ApiError(409, "prompt_changed", str(error))
    if isinstance(error, TurnStoppedError):
        return ApiError(409, "turn_stopped", str(error))
    if isinstance(error, ConversationBusyError):
        return ApiError(409, "conversation_busy", str(error), headers={"Retry-After": "1"})
    if isinstance(error, ModelUnavailableError):
        return ApiError(503, "model_unavailable", str(error), headers={"Retry-After": "5"})
    if isinstance(error, VoiceUnavailableError):
        return ApiError(503, "voice_unavailable", str(error))
    if isinstance(error, ShuttingDownError):
        return ApiError(503, "shutting_down", str(error), headers={"Retry-After": "5"})
    if isinstance(error, StoreUnavailableError):
        return ApiError(503, "store_unavailable", str(error), headers={"Retry-After": "5"})
    if isinstance(error, ModelError):
        return ApiError(502, "model_error", str(error))
    return ApiError(500, "internal_error", str(error))


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


async def handle_api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error.response()


async def handle_core_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, AgentCoreError)
    return from_core(error).response()


async def handle_http_exception(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = _HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
    return ApiError(error.status_code, code, str(error.detail), headers=error.headers).response()


async def handle_unexpected(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return ApiError(500, "internal_error", "internal error; it has been logged").response()


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    AgentCoreError: handle_core_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}

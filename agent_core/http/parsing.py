"""Parsing what a request carries: bodies and query strings by a model, ids from the path."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from agent_core.errors import invalid_input
from agent_core.http.errors import ApiError, from_core

ParamsT = TypeVar("ParamsT", bound=BaseModel)


def validated(model: type[ParamsT], data: object, what: str) -> ParamsT:
    """`data` parsed by `model`; 422 listing every problem (`what`: query or body)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_core(invalid_input(what, exc)) from None


def path_id(request: Request, name: str, what: str) -> UUID:
    """A record's id from the path; 404 for one that cannot be an id (no such record)."""
    try:
        return UUID(request.path_params[name])
    except ValueError:
        raise ApiError(404, "not_found", f"unknown {what}") from None

"""The OpenAPI 3.1 document of the HTTP API, built from the same models that parse requests
(the turn request, the query parameters) and serialise responses."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from agent_core.agent.requests import TurnRequest
from agent_core.http import schemas
from agent_core.http.idempotency import KEY_PATTERN, MAX_KEY_CHARS
from agent_core.scenarios.spec import Scenario
from agent_core.store.records import CONTACTS, NOTES, TOURS, TableSpec
from agent_core.store.voice_turns import RECORDING_SIDES
from agent_core.submitted import text_pattern

_REF = "#/components/schemas/{model}"
_BODIES = (
    schemas.RescheduleBody,
    schemas.ContactPatch,
    schemas.TenantSettingsBody,
    schemas.PromptDraftBody,
    schemas.PublishBody,
    schemas.RollbackBody,
    schemas.RunBody,
    schemas.ScenarioFileBody,
    Scenario,
)
"""Models that parse requests (two are also answers): documented as they validate (a scenario
check's shorthand, say), where answers are documented as they serialise."""
_ANSWERS = (
    schemas.ChatResponse,
    schemas.VoiceResponse,
    schemas.ErrorResponse,
    schemas.HealthResponse,
    schemas.TenantList,
    schemas.TenantOut,
    schemas.TourPage,
    schemas.NotePage,
    schemas.ContactPage,
    schemas.ConversationPage,
    schemas.ConversationDetail,
    schemas.ForgottenOut,
    schemas.EventPage,
    schemas.AnalyticsOut,
    schemas.StopOut,
    schemas.TourOut,
    schemas.ContactOut,
    schemas.PromptDraftOut,
    schemas.PublicationOut,
    schemas.RunOut,
    schemas.RunList,
    schemas.ScenarioList,
    schemas.ScenarioOut,
    schemas.ImportOut,
)


def _ref(model: type) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(model: type, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    meaning = {
        400: "Malformed JSON",
        401: "Missing or invalid API key",
        403: "The API key is not allowed for this tenant",
        404: "Unknown tenant, conversation or route",
        409: (
            "The request is valid but conflicts with the tenant's data: the conversation is busy"
            " (`conversation_busy`, retry after Retry-After), someone stopped the turn"
            " (`turn_stopped`), scenarios failed (`gate_blocked`), another prompt version went"
            " live since the one being replaced (`prompt_changed`), there is no draft"
            " (`no_draft`), the name is taken (`name_taken`), or the Idempotency-Key is in use"
            " (`idempotency_key_in_use`) or was used with another body (`idempotency_key_reused`)"
        ),
        413: "Body too large",
        415: "The body is not sent as application/json (as audio/* for /api/voice)",
        422: "Validation failed; `details` lists each problem",
        502: "The model rejected the request",
        503: "The model, the store or the speech model is unavailable; retry later",
    }
    return {str(s): _json(schemas.ErrorResponse, meaning[s]) for s in statuses}


def _uuid_path(name: str) -> dict[str, Any]:
    """A path parameter holding a record's id."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}


_TENANT = _uuid_path("tenantId")


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """`node` with each `{"$ref": "#/$defs/Name"}` replaced by that definition: a parameter's
    schema stands alone in the document, where the model's `$defs` do not exist."""
    if isinstance(node, dict):
        target = node.get("$ref", "")
        if isinstance(target, str) and target.startswith("#/$defs/"):
            found = definitions[target.removeprefix("#/$defs/")]
            return _inlined({k: v for k, v in found.items() if k != "title"}, definitions)
        return {key: _inlined(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    return node


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI query parameters of a model that parses them (names are its aliases)."""
    schema = model.model_json_schema(by_alias=True)
    definitions = schema.get("$defs", {})
    parameters = []
    for name, field_schema in schema["properties"].items():
        described = {
            k: _inlined(v, definitions) for k, v in field_schema.items() if k not in ("title", "description")
        }
        parameter: dict[str, Any] = {"name": name, "in": "query", "schema": described}
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameters.append(parameter)
    return parameters


def chat_request_schema(max_message_chars: int) -> dict[str, Any]:
    """The body of POST /api/chat: the turn request, with the configured message limit."""
    schema = TurnRequest.model_json_schema(by_alias=True)
    schema["properties"]["message"]["pattern"] = text_pattern(1, max_message_chars)
    return schema


_PAGE = query_parameters(schemas.PageParams)


def record_parameters(table: TableSpec) -> list[dict[str, Any]]:
    """The query parameters of one record list: `sort` names only that table's columns."""
    parameters = query_parameters(schemas.RecordParams)
    for parameter in parameters:
        if parameter["name"] == "sort":
            parameter["schema"] = {"type": "string", "enum": ["", *table.sortable]}
    return parameters


_ANALYTICS = query_parameters(schemas.AnalyticsParams)


_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Retry safely: a repeat with the same key and body gets the first answer"
        " and runs nothing; the same key with another body is 409 `idempotency_key_reused`"
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS, "pattern": KEY_PATTERN},
}
_SCENARIO = _uuid_path("scenarioId")
_TURN = _uuid_path("turnId")
_TOUR = _uuid_path("tourId")


def _correction(summary: str, body: type | None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [_TENANT, _TOUR, _IDEMPOTENCY_KEY],
        "responses": {
            "200": _json(schemas.TourOut, "The booking as the change left it"),
            **_errors(400, 401, 403, 404, 409, 415, 422),
        },
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return {"post": operation}


def _write(
    summary: str,
    body: type | None,
    status: int,
    answer: type | None,
    *errors: int,
    path: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """A POST/PUT/DELETE operation on a tenant: its body, its answer, its errors (a path id
    that is not a UUID is a 422 on every one)."""
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [_TENANT, *path],
        "responses": {
            str(status): _json(answer, summary) if answer is not None else {"description": summary},
            **_errors(401, 403, 404, 422, *errors),
        },
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return operation


def _read(summary: str, model: type, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": [_TENANT, *parameters],
            "responses": {"200": _json(model, summary), **_errors(401, 403, 404, 422)},
        }
    }


@cache
def openapi_document(max_message_chars: int) -> dict[str, Any]:
    """The whole document (built once per message limit)."""
    _, definitions = models_json_schema(
        [(m, "validation") for m in _BODIES] + [(m, "serialization") for m in _ANSWERS],
        ref_template=_REF,
        by_alias=True,
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "voice-assistant-mini",
            "version": "0.2.0",
            "description": "Multi-tenant tool-calling agent: chat turns and the records they produce.",
        },
        "components": {
            "schemas": {
                **definitions.get("$defs", {}),
                "ChatRequestBody": chat_request_schema(max_message_chars),
            },
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"apiKey": []}],
        "paths": {
            "/api/health": {
                "get": {
                    "summary": "Overall status and a check per component",
                    "security": [],
                    "responses": {
                        "200": _json(
                            schemas.HealthResponse, "The store is reachable (other parts may be degraded)"
                        ),
                        "503": _json(schemas.HealthResponse, "The store is unreachable"),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document (OpenAPI 3.1)",
                    "responses": {
                        "200": {
                            "description": "The API's description",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(401),
                    },
                }
            },
            "/api/chat": {
                "post": {
                    "summary": "Run one agent turn (JSON; or SSE with Accept: text/event-stream)",
                    "parameters": [_IDEMPOTENCY_KEY],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": _REF.format(model="ChatRequestBody")}}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": (
                                "The finished turn; as SSE: turn.started, tool.started,"
                                " tool.finished, reply.delta, done (or error)"
                            ),
                            "content": {
                                "application/json": {"schema": _ref(schemas.ChatResponse)},
                                "text/event-stream": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 401, 403, 404, 409, 413, 415, 422, 502, 503),
                    },
                }
            },
            "/api/voice": {
                "post": {
                    "summary": "One spoken message: heard, answered as a chat turn, the reply spoken",
                    "parameters": query_parameters(schemas.VoiceParams),
                    "requestBody": {
                        "required": True,
                        "description": (
                            "The caller's audio: WAV, or MP3, Ogg/Opus, WebM, M4A or FLAC with the voice"
                            " extra; at most VOICE_MAX_SECONDS long and VOICE_MAX_BYTES large"
                        ),
                        "content": {"audio/*": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "responses": {
                        "200": _json(
                            schemas.VoiceResponse, "What was heard, the finished turn, the reply spoken"
                        ),
                        **_errors(401, 403, 404, 409, 413, 415, 422, 502, 503),
                    },
                }
            },
            "/api/tenants": {
                "get": {
                    "summary": "Tenants (only its own for a tenant-bound key)",
                    "responses": {"200": _json(schemas.TenantList, "Tenants"), **_errors(401)},
                }
            },
            "/api/tenants/{tenantId}": _read("One tenant", schemas.TenantOut, []),
            "/api/tenants/{tenantId}/tours": _read(
                "Tours of a tenant", schemas.TourPage, record_parameters(TOURS)
            ),
            "/api/tenants/{tenantId}/settings": {
                "get": {
                    "summary": "A tenant's settings",
                    "parameters": [_TENANT],
                    "responses": {
                        "200": _json(schemas.TenantSettingsBody, "The settings"),
                        **_errors(401, 403, 404, 422),
                    },
                },
                "put": {
                    "summary": "Replace a tenant's settings (admin keys); missing fields take their defaults",
                    "parameters": [_TENANT],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(schemas.TenantSettingsBody)}},
                    },
                    "responses": {
                        "200": _json(schemas.TenantSettingsBody, "The settings as saved"),
                        **_errors(400, 401, 403, 404, 415, 422),
                    },
                },
            },
            "/api/tenants/{tenantId}/tours/{tourId}/cancel": _correction(
                "Cancel a booking (the customer is told)", None
            ),
            "/api/tenants/{tenantId}/tours/{tourId}/reschedule": _correction(
                "Move a booking to a new date and optionally a new place (the customer is told)",
                schemas.RescheduleBody,
            ),
            "/api/tenants/{tenantId}/contacts/{contactId}": {
                "patch": {
                    "summary": "Correct a contact: the fields sent replace the stored ones (the CRM is told)",
                    "parameters": [
                        _TENANT,
                        _uuid_path("contactId"),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(schemas.ContactPatch)}},
                    },
                    "responses": {
                        "200": _json(schemas.ContactOut, "The contact as corrected"),
                        **_errors(400, 401, 403, 404, 415, 422),
                    },
                }
            },
            "/api/tenants/{tenantId}/notes": _read(
                "Notes of a tenant", schemas.NotePage, record_parameters(NOTES)
            ),
            "/api/tenants/{tenantId}/contacts": _read(
                "Contacts of a tenant", schemas.ContactPage, record_parameters(CONTACTS)
            ),
            "/api/tenants/{tenantId}/conversations": _read(
                "The tenant's conversation log, latest activity first, from every channel",
                schemas.ConversationPage,
                query_parameters(schemas.ConversationParams),
            ),
            "/api/tenants/{tenantId}/conversations/{conversationId}": _read(
                "One conversation with its messages and tool calls",
                schemas.ConversationDetail,
                [{"name": "conversationId", "in": "path", "required": True, "schema": {"type": "string"}}],
            ),
            "/api/tenants/{tenantId}/conversations/{conversationId}/recordings": {
                "delete": _write(
                    "Forget the conversation's recordings now (a caller asked); the timings stay",
                    None,
                    200,
                    schemas.ForgottenOut,
                    path=(_uuid_path("conversationId"),),
                )
            },
            "/api/tenants/{tenantId}/conversations/{conversationId}/turns/{turnId}/recordings/{side}": {
                "get": {
                    "summary": "What the caller said (caller) or what was answered (reply) in a spoken turn",
                    "parameters": [
                        _TENANT,
                        _uuid_path("conversationId"),
                        _TURN,
                        {
                            "name": "side",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": list(RECORDING_SIDES)},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The recording: Ogg/Opus (or WAV without the voice extra)",
                            "content": {
                                media: {"schema": {"type": "string", "format": "binary"}}
                                for media in ("audio/ogg", "audio/wav")
                            },
                        },
                        **_errors(401, 403, 404, 422),
                    },
                }
            },
            "/api/tenants/{tenantId}/events": _read(
                "Events of a tenant after the cursor, oldest first", schemas.EventPage, _PAGE
            ),
            "/api/tenants/{tenantId}/analytics": _read(
                "What the tenant's agent did over a range of days", schemas.AnalyticsOut, _ANALYTICS
            ),
            "/api/analytics": {
                "get": {
                    "summary": "What every tenant's agent did over a range of days (admins)",
                    "parameters": _ANALYTICS,
                    "responses": {
                        "200": _json(schemas.AnalyticsOut, "Every tenant's activity"),
                        **_errors(401, 403, 422),
                    },
                }
            },
            "/api/tenants/{tenantId}/turns/{turnId}/stop": {
                "post": _write(
                    "Stop a turn this server runs; its message stays, marked not answered",
                    None,
                    202,
                    schemas.StopOut,
                    path=(_TURN,),
                )
            },
            "/api/tenants/{tenantId}/prompt/draft": {
                "get": _read("The tenant's unpublished prompt draft", schemas.PromptDraftOut, [])["get"],
                "put": _write(
                    "Save the draft (the live prompt does not change)",
                    schemas.PromptDraftBody,
                    200,
                    schemas.PromptDraftOut,
                    400,
                    415,
                    422,
                ),
                "delete": _write("Discard the draft", None, 204, None),
            },
            "/api/tenants/{tenantId}/prompt/publish": {
                "post": _write(
                    "Run the scenarios against the draft and make it live if they pass",
                    schemas.PublishBody,
                    200,
                    schemas.PublicationOut,
                    400,
                    409,
                    415,
                    422,
                )
            },
            "/api/tenants/{tenantId}/prompt/rollback": {
                "post": _write(
                    "Make an earlier version live again, through the same scenario gate",
                    schemas.RollbackBody,
                    200,
                    schemas.PublicationOut,
                    400,
                    409,
                    415,
                    422,
                )
            },
            "/api/tenants/{tenantId}/scenarios": {
                "get": _read("The tenant's scenarios by name", schemas.ScenarioList, [])["get"],
                "post": _write("Add a scenario", Scenario, 201, schemas.ScenarioOut, 400, 409, 415, 422),
            },
            "/api/tenants/{tenantId}/scenarios/export": _read(
                "The tenant's scenarios, prompt and settings as YAML", schemas.ScenarioFileBody, []
            ),
            "/api/tenants/{tenantId}/scenarios/import": {
                "post": _write(
                    "Add or replace (by name) every scenario of a YAML suite, all or none",
                    schemas.ScenarioFileBody,
                    200,
                    schemas.ImportOut,
                    400,
                    415,
                    422,
                )
            },
            "/api/tenants/{tenantId}/scenarios/{scenarioId}": {
                "put": _write(
                    "Replace a scenario",
                    Scenario,
                    200,
                    schemas.ScenarioOut,
                    400,
                    409,
                    415,
                    422,
                    path=(_SCENARIO,),
                ),
                "delete": _write("Delete a scenario", None, 204, None, path=(_SCENARIO,)),
            },
            "/api/tenants/{tenantId}/scenario-runs": {
                "get": _read("The tenant's latest scenario runs, newest first", schemas.RunList, [])["get"],
                "post": _write(
                    "Run the scenarios (in sandboxes: nothing real is written) and keep the run",
                    schemas.RunBody,
                    201,
                    schemas.RunOut,
                    400,
                    409,
                    415,
                    422,
                ),
            },
            "/api/tenants/{tenantId}/scenario-runs/{runId}": _read(
                "One scenario run with every attempt",
                schemas.RunOut,
                [_uuid_path("runId")],
            ),
        },
    }

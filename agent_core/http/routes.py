"""Route handlers. Turns and store reads are synchronous, so they run on worker threads and
the event loop only moves bytes."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from datetime import date, timedelta
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import anyio.to_thread
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute
from starlette.websockets import WebSocket

from agent_core.access.models import Action, Principal
from agent_core.agent.requests import TurnRequest
from agent_core.agent.steps import (
    ReplyDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
    TurnStep,
    collect,
)
from agent_core.domain import (
    Channel,
    ChatMessage,
    Contact,
    JsonDict,
    Tenant,
    ToolCallRecord,
    Tour,
    TurnResult,
    json_text,
)
from agent_core.errors import AgentCoreError
from agent_core.http.auth import bearer_token, caller, identify, required_caller
from agent_core.http.errors import ApiError, from_core
from agent_core.http.hosts import same_origin
from agent_core.http.idempotency import KeyedRequest, key_of
from agent_core.http.openapi import openapi_document
from agent_core.http.parsing import path_id, validated
from agent_core.http.prompt_routes import PromptRoutes
from agent_core.http.schemas import (
    AnalyticsOut,
    AnalyticsParams,
    ChatResponse,
    ComponentOut,
    ContactOut,
    ContactPage,
    ContactPatch,
    ConversationDetail,
    ConversationPage,
    ConversationParams,
    EventOut,
    EventPage,
    ForgottenOut,
    HealthResponse,
    MessageOut,
    NotePage,
    PageParams,
    RecordParams,
    RescheduleBody,
    Shape,
    SpokenTurnOut,
    StopOut,
    TenantList,
    TenantOut,
    TenantSettingsBody,
    ToolCallOut,
    TourOut,
    TourPage,
    VoiceParams,
    VoiceResponse,
)
from agent_core.http.voice_call import LiveCall, refuse
from agent_core.runtime import Runtime
from agent_core.store.conversation_log import ConversationQuery
from agent_core.store.records import Page, RecordQuery
from agent_core.store.refusals import UNKNOWN_CONVERSATION
from agent_core.store.voice_turns import RECORDING_SIDES
from agent_core.tenant_settings import settings_from
from agent_core.voice.recording import SpokenTurn
from agent_core.workspace import RequestKeys, Workspace

log = logging.getLogger(__name__)
ParamsT = TypeVar("ParamsT", bound=BaseModel)
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def json_response(model: Shape, status: int = 200) -> JSONResponse:
    """A model as camelCase JSON."""
    return JSONResponse(model.model_dump(mode="json", by_alias=True), status)


def encode_cursor(position: int) -> str:
    """The cursor of the next page: its position (an offset, or the last event's number)."""
    return str(position)


def decode_cursor(cursor: str | None) -> int:
    """The position a cursor points at (its pattern was checked with the query)."""
    return int(cursor) if cursor else 0


def sse(event: str, data: Any) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json_text(data)}\n\n"


SignedInCaller = Callable[[HTTPConnection], Principal | None]
"""Who is signed in to the dashboard on a connection (beside the dashboard only)."""


class ApiRoutes:
    """The API's handlers over a runtime provider (the shared runtime, or one given in tests)."""

    def __init__(self, runtime: Callable[[], Runtime], signed_in: SignedInCaller | None = None) -> None:
        self._runtime = runtime
        self._signed_in = signed_in
        self._health_threads = anyio.CapacityLimiter(4)
        self._prompts = PromptRoutes(self._tenant, self._body)

    async def _workspace(self, request: Request) -> Workspace:
        """The caller's workspace; 401 without a valid key (unless the API is open)."""
        runtime = self._runtime()
        return runtime.acting_as(await required_caller(runtime.authenticator, request))

    def _keyed(self, keys: RequestKeys, key: str, request: JsonDict) -> KeyedRequest:
        """A request sent with an Idempotency-Key: its claim outlives a dead process by one turn
        lease, and is held at most as long as a turn and a shutdown may take."""
        settings = self._runtime().settings
        return KeyedRequest(
            keys,
            key,
            request,
            lease_seconds=settings.lease_seconds,
            longest_seconds=settings.turn_deadline_seconds + settings.shutdown_grace_seconds,
        )

    def routes(self) -> list[BaseRoute]:
        """Every route of the API, mounted under /api (the live call's WebSocket too), then a
        catch-all for the rest of /api.

        Beside the dashboard, a path no API route takes would otherwise reach Streamlit and
        get its HTML page with status 200; the catch-all answers in the API's error shape.
        """
        known = self._known_routes()
        live = WebSocketRoute("/api/voice/live", self.voice_call)
        return [*known, live, Route("/api/{path:path}", self._unmatched(known), methods=_EVERY_METHOD)]

    def _known_routes(self) -> list[Route]:
        return [
            Route("/api/health", self.health, methods=["GET"]),
            Route("/api/openapi.json", self.openapi, methods=["GET"]),
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/voice", self.voice, methods=["POST"]),
            Route("/api/tenants", self.tenants, methods=["GET"]),
            Route("/api/tenants/{tenant_id}", self.tenant, methods=["GET"]),
            Route("/api/tenants/{tenant_id}/settings", self.settings, methods=["GET", "PUT"]),
            Route("/api/tenants/{tenant_id}/tours", self.tours, methods=["GET"]),
            Route("/api/tenants/{tenant_id}/tours/{tour_id}/cancel", self.cancel_tour, methods=["POST"]),
            Route(
                "/api/tenants/{tenant_id}/tours/{tour_id}/reschedule", self.reschedule_tour, methods=["POST"]
            ),
            Route("/api/tenants/{tenant_id}/notes", self.notes, methods=["GET"]),
            Route("/api/tenants/{tenant_id}/contacts/{contact_id}", self.patch_contact, methods=["PATCH"]),
            Route("/api/tenants/{tenant_id}/contacts", self.contacts, methods=["GET"]),
            Route("/api/tenants/{tenant_id}/conversations", self.conversations, methods=["GET"]),
            Route(
                "/api/tenants/{tenant_id}/conversations/{conversation_id}", self.conversation, methods=["GET"]
            ),
            Route(
                "/api/tenants/{tenant_id}/conversations/{conversation_id}/recordings",
                self.forget_recordings,
                methods=["DELETE"],
            ),
            Route(
                "/api/tenants/{tenant_id}/conversations/{conversation_id}/turns/{turn_id}/recordings/{side}",
                self.recording,
                methods=["GET"],
            ),
            Route("/api/tenants/{tenant_id}/events", self.events, methods=["GET"]),
            Route("/api/tenants/{tenant_id}/analytics", self.analytics, methods=["GET"]),
            Route("/api/analytics", self.analytics, methods=["GET"]),
            Route("/api/tenants/{tenant_id}/turns/{turn_id}/stop", self.stop_turn, methods=["POST"]),
            *self._prompts.routes(),
        ]

    @staticmethod
    def _unmatched(known: list[Route]) -> Callable[[Request], Awaitable[Response]]:
        async def unmatched(request: Request) -> Response:
            # The route that takes this path is the first whose path matches, as in routing:
            # `/scenarios/export` is not also a `/scenarios/{scenarioId}`.
            taker = next((r for r in known if r.matches(request.scope)[0] is Match.PARTIAL), None)
            allowed = sorted(taker.methods or ()) if taker is not None else []
            if allowed:
                raise ApiError(
                    405,
                    "method_not_allowed",
                    f"{request.method} is not allowed here; use {', '.join(allowed)}",
                    headers={"Allow": ", ".join(allowed)},
                )
            raise ApiError(404, "not_found", f"no API route at {request.url.path}")

        return unmatched

    # -- helpers -----------------------------------------------------------------

    async def _body(self, request: Request) -> Any:
        # JSON only: a web page can send text/plain or a form to a local API without asking
        # the browser first (no CORS preflight), but not application/json.
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json" and not kind.endswith("+json"):
            raise ApiError(
                415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json"
            )
        body = await _read_body(request, self._runtime().settings.api_max_body_bytes)
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
        except RecursionError:
            raise ApiError(400, "invalid_json", "the body's JSON is nested too deeply") from None

    def _params(self, request: Request, model: type[ParamsT]) -> ParamsT:
        return validated(model, dict(request.query_params), "query")

    async def _tenant(self, request: Request) -> tuple[Workspace, Tenant]:
        """The caller's workspace and the path's tenant, which the caller may read."""
        workspace = await self._workspace(request)
        raw = request.path_params["tenant_id"]
        try:
            tenant_id = UUID(raw)
        except ValueError:
            raise ApiError(
                422,
                "validation_error",
                "tenantId is not a UUID",
                [{"field": "tenantId", "message": "must be a UUID"}],
            ) from None
        return workspace, await run_in_threadpool(workspace.tenant, tenant_id)

    # -- routes --------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        # Its own threads: with every worker thread busy in a turn, health still answers.
        runtime = self._runtime()
        checks = await anyio.to_thread.run_sync(runtime.health, limiter=self._health_threads)
        out = {c.name: ComponentOut(ok=c.ok, backend=c.backend, detail=c.detail) for c in checks}
        store_ok = out["store"].ok
        status = "down" if not store_ok else "ok" if all(c.ok for c in out.values()) else "degraded"
        # Error texts name hosts and causes: only a caller with a key (or local mode) sees them.
        # Telling who calls reads the store, which may be the part that is down: health
        # still answers, to a stranger.
        try:
            principal = await anyio.to_thread.run_sync(
                identify, runtime.authenticator, bearer_token(request), limiter=self._health_threads
            )
            known = principal is not None
        except Exception:
            known = False
        answer = HealthResponse(status=status, checks=out if known else None)
        return JSONResponse(
            answer.model_dump(mode="json", by_alias=True, exclude_none=True), 200 if store_ok else 503
        )

    async def openapi(self, request: Request) -> Response:
        await self._workspace(request)
        return JSONResponse(openapi_document(self._runtime().settings.max_message_chars))

    async def chat(self, request: Request) -> Response:
        workspace = await self._workspace(request)
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(
                422,
                "validation_error",
                "the body must be a JSON object",
                [{"field": "body", "message": "must be an object"}],
            )
        key = key_of(request)
        runtime = self._runtime()
        turn = runtime.agent.validate(body)
        workspace.require(Action.CHAT, turn.tenant_id)
        keyed = None
        if key is not None:
            keys = await run_in_threadpool(workspace.request_keys, Action.CHAT, turn.tenant_id)
            keyed = self._keyed(keys, key, turn.model_dump(mode="json"))
            if (answered := await keyed.claim()) is not None:
                return answered
        try:
            return await self._run_turn(request, workspace, turn, keyed)
        except (ApiError, AgentCoreError) as exc:
            error = exc if isinstance(exc, ApiError) else from_core(exc)
            if keyed is not None:
                await keyed.failed(error)
            raise error from exc
        except BaseException:
            if keyed is not None:
                await keyed.failed(None)
            raise

    async def _run_turn(
        self, request: Request, workspace: Workspace, turn: TurnRequest, keyed: KeyedRequest | None
    ) -> Response:
        if "text/event-stream" in request.headers.get("accept", ""):
            stream, started = await run_in_threadpool(_start, workspace, turn)
            return StreamingResponse(
                _sse_steps(started, stream, keyed),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )
        # The whole turn in one hop to a worker thread: each hop costs the event loop more
        # than a step of the turn does.
        answer = _chat_answer(*await run_in_threadpool(_run_to_end, workspace, turn))
        if keyed is not None:
            await keyed.succeeded(answer.model_dump(mode="json", by_alias=True))
        return json_response(answer)

    async def voice(self, request: Request) -> Response:
        """One spoken message: hear the audio (the body) as the caller's message, run the turn
        as `/api/chat` does, and speak the reply. Audio that cannot be heard writes nothing."""
        workspace = await self._workspace(request)
        params = self._params(request, VoiceParams)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        # As for JSON: a web page cannot send audio types to a local API without asking first.
        if not kind.startswith("audio/") and kind != "application/octet-stream":
            raise ApiError(
                415,
                "unsupported_media_type",
                "send the audio as the body with its type, e.g. Content-Type: audio/wav",
            )
        runtime = self._runtime()
        audio = await _read_body(request, runtime.settings.voice_max_bytes)
        heard = await run_in_threadpool(workspace.hear, params.tenant_id, audio)
        turn = workspace.turn_request(params.tenant_id, heard.text, params.conversation_id)
        stream, started = await run_in_threadpool(partial(_start, workspace, turn, spoken=True))
        timed = SpokenTurn(heard)
        timed.started(started.turn_id, started.conversation_id)
        try:
            answer = _chat_answer(started, await run_in_threadpool(_outcome, stream))
            timed.answered()
            speaking = time.perf_counter()
            spoken = await run_in_threadpool(workspace.say, params.tenant_id, answer.reply)
            timed.spoke(spoken)
        except BaseException:
            await run_in_threadpool(workspace.keep_spoken_turn, params.tenant_id, timed)
            raise
        response = json_response(
            VoiceResponse(
                **answer.model_dump(),
                transcript=heard.text,
                heard_seconds=round(heard.seconds, 2),
                transcribe_ms=heard.transcribe_ms,
                reply_audio=None if spoken is None else base64.b64encode(spoken).decode(),
                speak_ms=None if spoken is None else (time.perf_counter() - speaking) * 1000,
            )
        )
        # Encoding and writing the recordings (tens of ms) waits until the caller has the answer.
        response.background = BackgroundTask(workspace.keep_spoken_turn, params.tenant_id, timed)
        return response

    async def voice_call(self, socket: WebSocket) -> None:
        """A live call (see agent_core.http.voice_call): who calls and for which tenant are
        checked as for any route; a refusal is an `error` event, then the socket closes."""
        await socket.accept()
        try:
            runtime = self._runtime()
            workspace = runtime.acting_as(await self._call_principal(socket))
            params = validated(VoiceParams, dict(socket.query_params), "query")
            workspace.require(Action.CHAT, params.tenant_id)
            await run_in_threadpool(workspace.tenant, params.tenant_id)
            call = LiveCall(socket, workspace, params.tenant_id, params.conversation_id)
        except (ApiError, AgentCoreError) as exc:
            await refuse(socket, exc if isinstance(exc, ApiError) else from_core(exc))
            return
        await call.run()

    async def _call_principal(self, socket: WebSocket) -> Principal:
        """Who calls: an API key (or the open API), else the dashboard user whose page opened
        the socket — only from this site's own pages, so another site's page cannot ride a
        visitor's session (cross-site WebSocket hijacking)."""
        if not same_origin(socket):
            raise ApiError(403, "forbidden", "a call from another site's page is refused")
        runtime = self._runtime()
        principal = await caller(runtime.authenticator, socket)
        if principal is None and self._signed_in is not None:
            principal = await run_in_threadpool(self._signed_in, socket)
        if principal is None:
            raise ApiError(
                401, "unauthorized", "send Authorization: Bearer <API key>, or sign in to the dashboard"
            )
        return principal

    async def tenants(self, request: Request) -> Response:
        workspace = await self._workspace(request)
        visible = await run_in_threadpool(workspace.tenants)
        return json_response(TenantList.model_validate({"data": visible}))

    async def tenant(self, request: Request) -> Response:
        _, tenant = await self._tenant(request)
        return json_response(TenantOut.model_validate(tenant))

    async def _records(self, request: Request) -> tuple[Workspace, UUID, RecordQuery, int]:
        workspace, tenant = await self._tenant(request)
        params = self._params(request, RecordParams)
        offset = decode_cursor(params.cursor)
        query = RecordQuery(
            search=params.search,
            date_from=params.date_from,
            date_to=params.date_to,
            sort=params.sort,
            descending=params.order == "desc",
            limit=params.limit,
            offset=offset,
        )
        return workspace, tenant.id, query, offset

    async def tours(self, request: Request) -> Response:
        return await self._record_page(request, Workspace.list_tours, TourPage)

    async def notes(self, request: Request) -> Response:
        return await self._record_page(request, Workspace.list_notes, NotePage)

    async def contacts(self, request: Request) -> Response:
        return await self._record_page(request, Workspace.list_contacts, ContactPage)

    async def _record_page(
        self,
        request: Request,
        lister: Callable[[Workspace, UUID, RecordQuery], Page[Any]],
        page_type: type[Shape],
    ) -> Response:
        """One page of tours, notes or contacts with the cursor to the next."""
        workspace, tenant_id, query, offset = await self._records(request)
        page = await run_in_threadpool(lister, workspace, tenant_id, query)
        shown = len(page.rows)
        following = encode_cursor(offset + shown) if offset + shown < page.total else None
        return json_response(
            page_type.model_validate({"data": page.rows, "total": page.total, "next_cursor": following})
        )

    async def settings(self, request: Request) -> Response:
        """A tenant's settings (GET), or all of them replaced (PUT, admins)."""
        workspace, tenant = await self._tenant(request)
        if request.method == "PUT":
            body = validated(TenantSettingsBody, await self._body(request), "body")
            tenant = await run_in_threadpool(
                lambda: workspace.update_tenant_settings(tenant.id, **body.model_dump())
            )
        out = TenantSettingsBody.model_validate(settings_from(tenant.settings))
        return JSONResponse(out.model_dump(mode="json", by_alias=True))

    async def cancel_tour(self, request: Request) -> Response:
        return await self._correct_tour(
            request, None, lambda w, t, tour, _: w.corrections.cancel_tour(t, tour)
        )

    async def reschedule_tour(self, request: Request) -> Response:
        return await self._correct_tour(
            request,
            RescheduleBody,
            lambda w, t, tour, body: w.corrections.reschedule_tour(t, tour, body.new_date, body.new_location),
        )

    async def _correct_tour(
        self,
        request: Request,
        body_type: type[RescheduleBody] | None,
        apply: Callable[[Workspace, UUID, UUID, Any], Tour],
    ) -> Response:
        """An operator's correction of a booking, retried safely with an Idempotency-Key."""
        workspace, tenant = await self._tenant(request)
        tour_id = path_id(request, "tour_id", "booking")
        raw = await self._body(request) if body_type is not None else None
        body = validated(body_type, raw, "body") if body_type is not None else None
        key = key_of(request)
        identity = {"route": request.url.path, "body": raw}
        keyed = None
        if key is not None:
            keys = await run_in_threadpool(workspace.request_keys, Action.CORRECT, tenant.id)
            keyed = self._keyed(keys, key, identity)
            if (answered := await keyed.claim()) is not None:
                return answered
        try:
            tour = await run_in_threadpool(apply, workspace, tenant.id, tour_id, body)
        except (ApiError, AgentCoreError) as exc:
            error = exc if isinstance(exc, ApiError) else from_core(exc)
            if keyed is not None:
                await keyed.failed(error)
            raise error from exc
        except BaseException:
            if keyed is not None:
                await keyed.failed(None)
            raise
        answer = TourOut.model_validate(tour).model_dump(mode="json", by_alias=True)
        if keyed is not None:
            await keyed.succeeded(answer)
        return JSONResponse(answer)

    async def patch_contact(self, request: Request) -> Response:
        """Correct a contact: the fields sent replace the stored ones."""
        workspace, tenant = await self._tenant(request)
        contact_id = path_id(request, "contact_id", "contact")
        patch = validated(ContactPatch, await self._body(request), "body")

        def apply() -> Contact:
            current = workspace.corrections.contact(tenant.id, contact_id)
            sent = patch.model_fields_set
            return workspace.corrections.correct_contact(
                tenant.id,
                contact_id,
                patch.name if "name" in sent and patch.name is not None else current.name,
                patch.email if "email" in sent else current.email,
                patch.phone if "phone" in sent else current.phone,
            )

        return JSONResponse(
            ContactOut.model_validate(await run_in_threadpool(apply)).model_dump(mode="json", by_alias=True)
        )

    async def conversations(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        params = self._params(request, ConversationParams)
        offset = decode_cursor(params.cursor)
        query = ConversationQuery(
            text=params.q,
            customer=params.customer,
            date_from=params.date_from,
            date_to=params.date_to,
            outcome=params.outcome,
            tool=params.tool,
            channel=params.channel,
            limit=params.limit,
            offset=offset,
        )
        page = await run_in_threadpool(workspace.search_conversations, tenant.id, query)
        shown = len(page.rows)
        beyond = offset + shown < page.total or (page.at_least and shown == params.limit)
        more = encode_cursor(offset + shown) if beyond else None
        return json_response(
            ConversationPage.model_validate(
                {
                    "data": page.rows,
                    "total": page.total,
                    "total_is_lower_bound": page.at_least,
                    "next_cursor": more,
                }
            )
        )

    async def analytics(self, request: Request) -> Response:
        """One tenant's analytics (`/api/tenants/{id}/analytics`) or every tenant's
        (`/api/analytics`, admins)."""
        if "tenant_id" in request.path_params:
            workspace, tenant = await self._tenant(request)
            tenant_id: UUID | None = tenant.id
        else:
            workspace, tenant_id = await self._workspace(request), None
        params = self._params(request, AnalyticsParams)
        # Days are the tenant's: today where it is.
        last = (
            params.date_to
            if params.date_to is not None
            else await run_in_threadpool(workspace.analytics_today, tenant_id)
        )
        # 30 days by default, never before the calendar's first day.
        first = params.date_from or last - timedelta(days=min(29, (last - date.min).days))
        result = await run_in_threadpool(workspace.analytics, tenant_id, first, last)
        prices = self._runtime().settings.parsed_model_prices
        return json_response(AnalyticsOut.of(result, tenant_id, (first, last), prices))

    async def stop_turn(self, request: Request) -> Response:
        """Stop a turn this server runs for the tenant; it is recorded as not answered."""
        workspace, tenant = await self._tenant(request)
        turn_id = path_id(request, "turn_id", "turn")
        if not await run_in_threadpool(workspace.stop_turn, tenant.id, turn_id):
            raise ApiError(
                404,
                "not_found",
                f"turn {turn_id} is not running on this server for this tenant (it ended, or another"
                " server runs it)",
            )
        return json_response(StopOut(stopped=True), 202)

    async def _conversation(
        self, request: Request
    ) -> tuple[Workspace, Tenant, UUID, list[ChatMessage], list[ToolCallRecord]]:
        """The path's conversation with its messages and tool calls; 404 when the tenant has
        no such conversation."""
        workspace, tenant = await self._tenant(request)
        conversation_id = path_id(request, "conversation_id", "conversation")
        messages, calls = await run_in_threadpool(workspace.conversation, tenant.id, conversation_id)
        if not messages:
            raise ApiError(404, "not_found", str(UNKNOWN_CONVERSATION(conversation_id)))
        return workspace, tenant, conversation_id, messages, calls

    async def conversation(self, request: Request) -> Response:
        workspace, tenant, conversation_id, messages, calls = await self._conversation(request)
        spoken = await run_in_threadpool(workspace.spoken_turns, tenant.id, conversation_id)
        return json_response(
            ConversationDetail(
                id=conversation_id,
                messages=[MessageOut.of(m) for m in messages],
                tool_calls=[ToolCallOut.model_validate(c) for c in calls],
                spoken_turns=[SpokenTurnOut.of(v) for v in spoken],
            )
        )

    async def forget_recordings(self, request: Request) -> Response:
        """Forget a conversation's recordings now (a caller asked); the timings stay."""
        workspace, tenant, conversation_id, _, _ = await self._conversation(request)
        forgotten = await run_in_threadpool(workspace.forget_recordings, tenant.id, conversation_id)
        return json_response(ForgottenOut(forgotten=forgotten))

    async def recording(self, request: Request) -> Response:
        """One side of a spoken turn as audio, while the tenant keeps it."""
        workspace, tenant = await self._tenant(request)
        conversation_id = path_id(request, "conversation_id", "conversation")
        turn_id = path_id(request, "turn_id", "turn")
        side = request.path_params["side"]
        spoken = await run_in_threadpool(workspace.spoken_turns, tenant.id, conversation_id)
        voice = next((v for v in spoken if v.turn_id == turn_id), None)
        recording = voice.recording(side) if voice is not None and side in RECORDING_SIDES else None
        if recording is None:
            raise ApiError(
                404,
                "not_found",
                f"no {side} recording of turn {turn_id} in this conversation: it was not spoken,"
                " or its tenant no longer keeps it",
            )
        return Response(recording.data, media_type=recording.media_type, headers={"Cache-Control": "private"})

    async def events(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        params = self._params(request, PageParams)
        after = decode_cursor(params.cursor)
        records = await run_in_threadpool(
            lambda: workspace.list_events(tenant.id, after_seq=after, limit=params.limit)
        )
        # The cursor always advances to the last event seen, so a poller never misses one.
        last = records[-1].event.seq if records else after
        return json_response(
            EventPage(data=[EventOut.of(r) for r in records], next_cursor=encode_cursor(last))
        )


def _start(
    workspace: Workspace, turn: TurnRequest, *, spoken: bool = False
) -> tuple[Generator[TurnStep, None, None], TurnStarted]:
    """A turn of the API, run to its first step (its message is stored)."""
    stream = workspace.stream(turn, Channel.API, spoken=spoken)
    started = next(stream)
    assert isinstance(started, TurnStarted)
    return stream, started


def _outcome(stream: Generator[TurnStep, None, None]) -> TurnResult | AgentCoreError:
    """A started turn run to its end: its result, or what ended it."""
    try:
        return collect(stream)
    except AgentCoreError as exc:
        return exc


def _run_to_end(workspace: Workspace, turn: TurnRequest) -> tuple[TurnStarted, TurnResult | AgentCoreError]:
    """A turn of the API from start to end: how it started, and its outcome (an error before
    the start is raised)."""
    stream, started = _start(workspace, turn)
    return started, _outcome(stream)


def _chat_answer(started: TurnStarted, outcome: TurnResult | AgentCoreError) -> ChatResponse:
    """A turn's outcome as the chat answer; an error names the turn it ended."""
    if isinstance(outcome, AgentCoreError):
        raise from_core(outcome).of_turn(started.conversation_id, started.turn_id) from outcome
    return ChatResponse.model_validate(outcome)


async def _sse_steps(
    started: TurnStarted, stream: Generator[TurnStep, None, None], keyed: KeyedRequest | None
) -> AsyncIterator[str]:
    """The turn's steps as server-sent events; an error after the start ends the stream with
    `error`. With an idempotency key, the finished turn is what a repeat gets (as JSON)."""
    yield sse(
        "turn.started",
        {"conversationId": started.conversation_id, "turnId": started.turn_id, "model": started.model},
    )
    answered = False
    try:
        async for step in iterate_in_threadpool(stream):
            if isinstance(step, ToolCallStarted):
                yield sse(
                    "tool.started", {"id": step.call_id, "name": step.name, "arguments": step.arguments}
                )
            elif isinstance(step, ToolCallFinished):
                out = ToolCallOut.model_validate(step.record).model_dump(mode="json", by_alias=True)
                yield sse("tool.finished", {**out, "replayed": step.replayed})
            elif isinstance(step, ReplyDelta):
                yield sse("reply.delta", {"text": step.text})
            elif isinstance(step, TurnFinished):
                done = ChatResponse.model_validate(step.result).model_dump(mode="json", by_alias=True)
                if keyed is not None:
                    await keyed.succeeded(done)
                answered = True
                yield sse("done", done)
    except Exception as exc:
        # Whatever ends the turn, the stream ends with `error` (never cut without a word).
        if not isinstance(exc, AgentCoreError):
            log.exception("turn %s failed while streaming", started.turn_id)
        error = (
            from_core(exc)
            if isinstance(exc, AgentCoreError)
            else ApiError(500, "internal_error", "internal error; it has been logged")
        ).of_turn(started.conversation_id, started.turn_id)
        if keyed is not None:
            await keyed.failed(error)
        answered = True
        yield sse("error", error.body())
    finally:
        await run_in_threadpool(stream.close)
        if keyed is not None and not answered:
            await keyed.failed(None)  # the client hung up: a retry runs the turn again


async def _read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to be larger than `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "payload_too_large", f"the body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "payload_too_large", f"the body is larger than {limit} bytes")
    return bytes(body)

"""API routes for safe prompt changes: the draft, publishing through the scenario gate,
roll-back, scenarios (one by one or as a YAML suite) and runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agent_core.domain import ScenarioRunRecord, Tenant
from agent_core.http.errors import ApiError
from agent_core.http.parsing import ParamsT, path_id, validated
from agent_core.http.schemas import (
    ImportOut,
    PromptDraftBody,
    PromptDraftOut,
    PublicationOut,
    PublishBody,
    RollbackBody,
    RunBody,
    RunList,
    RunOut,
    RunSummaryOut,
    ScenarioFileBody,
    ScenarioList,
    ScenarioOut,
    Shape,
)
from agent_core.prompt_changes import Publication
from agent_core.workspace import Workspace


def _out(model: Shape, status: int = 200) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json", by_alias=True), status)


TenantOf = Callable[[Request], Awaitable[tuple[Workspace, Tenant]]]
"""The caller's workspace and the path's tenant, which the caller may read (`ApiRoutes._tenant`)."""
BodyOf = Callable[[Request], Awaitable[Any]]
"""A request's JSON body, read within the API's limits (`ApiRoutes._body`)."""


class PromptRoutes:
    """Handlers of the prompt-safety routes, mounted by `ApiRoutes` with its way to find the
    caller's workspace and tenant and to read a body."""

    def __init__(self, tenant: TenantOf, body: BodyOf) -> None:
        self._tenant = tenant
        self._body = body

    def routes(self) -> list[Route]:
        """The routes, for ApiRoutes to mount."""
        base = "/api/tenants/{tenant_id}"
        return [
            Route(f"{base}/prompt/draft", self.draft, methods=["GET", "PUT", "DELETE"]),
            Route(f"{base}/prompt/publish", self.publish, methods=["POST"]),
            Route(f"{base}/prompt/rollback", self.rollback, methods=["POST"]),
            Route(f"{base}/scenarios", self.scenarios, methods=["GET", "POST"]),
            Route(f"{base}/scenarios/export", self.export_scenarios, methods=["GET"]),
            Route(f"{base}/scenarios/import", self.import_scenarios, methods=["POST"]),
            Route(f"{base}/scenarios/{{scenario_id}}", self.scenario, methods=["PUT", "DELETE"]),
            Route(f"{base}/scenario-runs", self.runs, methods=["GET", "POST"]),
            Route(f"{base}/scenario-runs/{{run_id}}", self.run, methods=["GET"]),
        ]

    async def _json_body(self, request: Request, model: type[ParamsT]) -> ParamsT:
        return validated(model, await self._body(request), "body")

    async def draft(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        if request.method == "DELETE":
            if not await run_in_threadpool(lambda: workspace.prompts.discard_draft(tenant.id)):
                raise ApiError(404, "not_found", "this tenant has no draft")
            return Response(status_code=204)
        if request.method == "PUT":
            body: PromptDraftBody = await self._json_body(request, PromptDraftBody)
            draft = await run_in_threadpool(lambda: workspace.prompts.save_draft(tenant.id, body.prompt))
        else:
            found = await run_in_threadpool(lambda: workspace.prompts.draft(tenant.id))
            if found is None:
                raise ApiError(404, "not_found", "this tenant has no draft")
            draft = found
        return _out(PromptDraftOut.model_validate(draft))

    async def publish(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        body: PublishBody = await self._json_body(request, PublishBody)
        published = await run_in_threadpool(
            lambda: workspace.prompts.publish_draft(tenant.id, override_reason=body.override_reason)
        )
        return _publication(published)

    async def rollback(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        body: RollbackBody = await self._json_body(request, RollbackBody)
        published = await run_in_threadpool(
            lambda: workspace.prompts.roll_back(tenant.id, body.version, override_reason=body.override_reason)
        )
        return _publication(published)

    async def scenarios(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        if request.method == "POST":
            data = await self._body(request)
            saved = await run_in_threadpool(lambda: workspace.scenarios.save(tenant.id, data))
            return _out(ScenarioOut.model_validate(saved), 201)
        suite = await run_in_threadpool(lambda: workspace.scenarios.suite(tenant.id))
        return _out(ScenarioList.model_validate({"data": suite.stored}))

    async def scenario(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        scenario_id = path_id(request, "scenario_id", "scenario")
        if request.method == "DELETE":
            await run_in_threadpool(lambda: workspace.scenarios.delete(tenant.id, scenario_id))
            return Response(status_code=204)
        data = await self._body(request)
        saved = await run_in_threadpool(lambda: workspace.scenarios.save(tenant.id, data, scenario_id))
        return _out(ScenarioOut.model_validate(saved))

    async def export_scenarios(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        text = await run_in_threadpool(lambda: workspace.scenarios.export_file(tenant.id))
        return _out(ScenarioFileBody(yaml=text))

    async def import_scenarios(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        body: ScenarioFileBody = await self._json_body(request, ScenarioFileBody)
        added, replaced = await run_in_threadpool(
            lambda: workspace.scenarios.import_file(tenant.id, body.yaml)
        )
        return _out(ImportOut(added=added, replaced=replaced))

    async def runs(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        if request.method == "POST":
            body: RunBody = await self._json_body(request, RunBody)
            run = await run_in_threadpool(
                lambda: workspace.scenarios.run(tenant.id, body.target, repetitions=body.repetitions)
            )
            return _out(RunOut.model_validate(run), 201)
        runs = await run_in_threadpool(lambda: workspace.scenarios.runs(tenant.id))
        return _out(RunList.model_validate({"data": runs}))

    async def run(self, request: Request) -> Response:
        workspace, tenant = await self._tenant(request)
        run_id: UUID = path_id(request, "run_id", "run")
        found: ScenarioRunRecord = await run_in_threadpool(
            lambda: workspace.scenarios.get_run(tenant.id, run_id)
        )
        return _out(RunOut.model_validate(found))


def _publication(published: Publication) -> Response:
    return _out(
        PublicationOut(
            version=published.version.version,
            overridden=published.overridden,
            run=RunSummaryOut.model_validate(published.run),
        )
    )

"""The API's reference page: Swagger UI rendered from the OpenAPI document, its files served
from the installed `swagger-ui-bundle-v2` package (nothing fetched from a CDN, offline too).

The document is written into the page (a JSON data block the page's own script reads), so
the page is for whoever may read `/api/openapi.json` — a caller with a key, or anyone while
the API is open — and for whom a front end beside the API vouches (`also_for`: the
dashboard's signed-in users).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from importlib.resources import files

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from agent_core.http.auth import bearer_token, identify
from agent_core.http.errors import ApiError
from agent_core.http.openapi import openapi_document
from agent_core.runtime import Runtime

DOCS_PATH = "/api/docs"
_ASSETS = f"{DOCS_PATH}/assets"
_PAGE = files("agent_core.http").joinpath("api_docs.html").read_text("utf-8")
# Started from a file, not inline: a page's Content-Security-Policy may forbid inline scripts.
_START = (
    "SwaggerUIBundle({spec: JSON.parse(document.getElementById('openapi-document').textContent),"
    " dom_id: '#swagger-ui', deepLinking: true});"
)


def docs_page(document: dict[str, object]) -> str:
    """The reference page with `document` in it; `</` is escaped so no text of the document
    can end its data block."""
    data = json.dumps(document, ensure_ascii=False).replace("</", "<\\/")
    return _PAGE.format(assets=_ASSETS, document=data)


class ApiDocs:
    """`/api/docs` and the Swagger UI files it loads."""

    def __init__(
        self,
        runtime: Callable[[], Runtime],
        also_for: Callable[[Request], bool] | None = None,
        sign_in_path: str | None = None,
    ) -> None:
        self._runtime = runtime
        self._also_for = also_for
        self._sign_in_path = sign_in_path

    def routes(self) -> list[BaseRoute]:
        """The page, and its files under /api/docs/assets (before the API's catch-all)."""
        return [
            Route(DOCS_PATH, self.page, methods=["GET"]),
            Route(f"{DOCS_PATH}/start.js", self.start, methods=["GET"]),
            Mount(_ASSETS, app=StaticFiles(directory=str(swagger_ui_path)), name="api-docs-assets"),
        ]

    def _may_read(self, request: Request) -> bool:
        try:
            if identify(self._runtime().authenticator, bearer_token(request)) is not None:
                return True
        except ApiError:  # a key that is not valid
            return False
        return self._also_for is not None and self._also_for(request)

    async def start(self, request: Request) -> Response:
        return Response(_START, media_type="text/javascript")

    async def page(self, request: Request) -> Response:
        if not await run_in_threadpool(self._may_read, request):
            sign_in = (
                f'Sign in to the <a href="{html.escape(f"{self._sign_in_path}?next={DOCS_PATH}")}">'
                "dashboard</a> to read its reference, or send"
                if self._sign_in_path
                else "Send"
            )
            return HTMLResponse(
                "<!doctype html><title>API reference</title><p>The API needs a key."
                f" {sign_in} <code>Authorization: Bearer &lt;key&gt;</code>.</p>",
                401,
            )
        document = openapi_document(self._runtime().settings.max_message_chars)
        return HTMLResponse(docs_page(document))

"""The API as an ASGI app of its own (API-only deployments) and the lifespan both modes share.

Headless: `uvicorn agent_core.http.app:create_api --factory`. Beside the dashboard, `server.py`
mounts the same routes on Streamlit's own server (`st.App`).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from agent_core.http.account import AccountRoutes, DashboardGate
from agent_core.http.api_docs import ApiDocs
from agent_core.http.errors import EXCEPTION_HANDLERS
from agent_core.http.hosts import AllowedHosts
from agent_core.http.routes import ApiRoutes
from agent_core.runtime import Runtime, close_shared_runtime, shared_runtime
from agent_core.settings import Settings


def api_routes(runtime: Callable[[], Runtime] = shared_runtime) -> list[BaseRoute]:
    """The API's reference page, then the API's routes over a runtime provider."""
    return [*ApiDocs(runtime).routes(), *ApiRoutes(runtime).routes()]


@asynccontextmanager
async def api_lifespan(app: Any) -> AsyncIterator[None]:
    """Start the shared runtime before serving; on shutdown (after in-flight requests
    finished) drain the event bus and close connections."""
    runtime = await run_in_threadpool(shared_runtime)
    _size_thread_pool(runtime)
    try:
        yield
    finally:
        await run_in_threadpool(close_shared_runtime)


def _size_thread_pool(runtime: Runtime) -> None:
    # Turns run on worker threads while they wait for the model; allow enough of them.
    anyio.to_thread.current_default_thread_limiter().total_tokens = runtime.settings.api_threads


def api_middleware(runtime: Callable[[], Runtime] = shared_runtime) -> list[Middleware]:
    """Middleware every server of the API (and the dashboard beside it) runs."""
    return [Middleware(AllowedHosts, runtime=runtime)]


def dashboard_routes(
    runtime: Callable[[], Runtime] = shared_runtime, font_url: str | None = None
) -> list[BaseRoute]:
    """What serves beside the dashboard: sign-in and sign-out (in the dashboard's font, at
    `font_url`, when given), then the API."""
    return [*AccountRoutes(runtime, font_url).routes(), *api_routes(runtime)]


def dashboard_middleware(runtime: Callable[[], Runtime] = shared_runtime) -> list[Middleware]:
    """The API's middleware, then the gate that sends page loads without a session to sign-in."""
    return [*api_middleware(runtime), Middleware(DashboardGate, runtime=runtime)]


def streamlit_secrets(settings: Settings) -> dict[str, Any]:
    """Streamlit's `[auth]` secrets for `st.login` from OIDC_* settings (empty without SSO)."""
    if not settings.sso_configured or settings.oidc_client_secret is None:
        return {}
    cookie = settings.oidc_cookie_secret.get_secret_value() if settings.oidc_cookie_secret else None
    redirect = settings.oidc_redirect_uri or f"http://{settings.host}:{settings.port}/oauth2callback"
    return {
        "auth": {
            "redirect_uri": str(redirect),
            "cookie_secret": cookie or secrets.token_urlsafe(32),
            "client_id": settings.oidc_client_id,
            "client_secret": settings.oidc_client_secret.get_secret_value(),
            "server_metadata_url": str(settings.oidc_server_metadata_url),
            # Streamlit asks for `select_account`, which many providers refuse; `login` is the
            # prompt every OpenID provider supports (and an operator proves who they are anew).
            "client_kwargs": {"scope": "openid email profile", "prompt": "login"},
        }
    }


def create_api(runtime: Runtime | None = None) -> Starlette:
    """The headless API application; on the shared runtime unless one is given (tests)."""
    if runtime is None:
        return Starlette(
            routes=api_routes(),
            middleware=api_middleware(),
            exception_handlers=EXCEPTION_HANDLERS,
            lifespan=api_lifespan,
        )

    @asynccontextmanager
    async def given_runtime(app: Any) -> AsyncIterator[None]:
        _size_thread_pool(runtime)
        yield

    return Starlette(
        routes=api_routes(lambda: runtime),
        middleware=api_middleware(lambda: runtime),
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=given_runtime,
    )

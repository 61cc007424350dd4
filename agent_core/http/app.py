"""The API as an ASGI app of its own (API-only deployments) and the lifespan both modes share.

Headless: `uvicorn agent_core.http.app:create_api --factory`. Beside the dashboard, `server.py`
mounts the same routes on Streamlit's own server (`st.App`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from agent_core.http.api_docs import ApiDocs
from agent_core.http.errors import EXCEPTION_HANDLERS
from agent_core.http.hosts import AllowedHosts
from agent_core.http.routes import ApiRoutes, SignedInCaller
from agent_core.runtime import Runtime, close_shared_runtime, shared_runtime


def api_routes(
    runtime: Callable[[], Runtime] = shared_runtime,
    docs: ApiDocs | None = None,
    signed_in: SignedInCaller | None = None,
) -> list[BaseRoute]:
    """The API's reference page (`docs`, or one for key holders), then the API's routes over a
    runtime provider (a live call also from a page of a user `signed_in` gives, beside the
    dashboard)."""
    return [*(docs or ApiDocs(runtime)).routes(), *ApiRoutes(runtime, signed_in).routes()]


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

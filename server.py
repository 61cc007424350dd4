"""Dashboard and HTTP API in one process: `python server.py` (what `make run` does).

The dashboard (streamlit_app.py) is an ASGI app (`st.App`) with the API routes and the
sign-in routes mounted beside it; all use the one shared runtime. Started this way, the
runtime is built before the server listens, so a configuration error is one line on stderr
and exit status 2, and the server shuts down as `vam api` does (agent_core.http.serving).
"""

from __future__ import annotations

import sys
from typing import Any

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from agent_core.errors import AgentCoreError
from agent_core.http.app import api_lifespan
from agent_core.http.errors import EXCEPTION_HANDLERS
from agent_core.http.serving import serve
from agent_core.runtime import describe_store, shared_runtime
from agent_core.settings import Settings
from dashboard.web import dashboard_middleware, dashboard_routes, streamlit_font_url, streamlit_secrets


def create_app(settings: Settings) -> Any:
    """The dashboard with the API and sign-in beside it (and single sign-on when configured)."""
    # The menu is streamlit_app.py's st.navigation, which turns Streamlit's older "every file
    # in pages/ is a page" mode off — but only once it has run: a server's first visitor
    # arriving at a page's address (/records, say) got that page alone, with no sign-in
    # check of the entry point, no tenant picker and a menu of file names. Off from the start.
    PagesManager.uses_pages_directory = False
    return st.App(
        "streamlit_app.py",
        secrets=streamlit_secrets(settings),
        routes=dashboard_routes(font_url=streamlit_font_url()),
        middleware=dashboard_middleware(),
        lifespan=api_lifespan,
        exception_handlers=EXCEPTION_HANDLERS,
    )


def main() -> int:
    """Check the configuration, open the store, then serve until SIGTERM or Ctrl+C (exit 0)."""
    try:
        runtime = shared_runtime()
    except AgentCoreError as exc:
        print(f"voice-assistant-mini: {exc}", file=sys.stderr)
        return 2
    settings = runtime.settings
    print(f"voice-assistant-mini: {describe_store(settings)}", file=sys.stderr)
    if runtime.authenticator.local_mode():
        print(
            "voice-assistant-mini: local mode: no user yet, the dashboard runs without sign-in",
            file=sys.stderr,
        )
    print(f"voice-assistant-mini: dashboard at http://{settings.host}:{settings.port}", file=sys.stderr)
    serve(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        graceful_seconds=settings.shutdown_grace_seconds,
        own_logging=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

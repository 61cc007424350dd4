"""Dashboard and HTTP API in one process: `streamlit run server.py` (what `make run` does).

Streamlit's own server serves the dashboard (streamlit_app.py) and mounts the API routes
beside it; both use the one shared runtime.
"""

from __future__ import annotations

import streamlit as st

from agent_core.http.app import api_lifespan, api_routes
from agent_core.http.errors import EXCEPTION_HANDLERS

app = st.App(
    "streamlit_app.py",
    routes=api_routes(),
    lifespan=api_lifespan,
    exception_handlers=EXCEPTION_HANDLERS,
)

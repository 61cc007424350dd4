"""The shared runtime and the selected tenant, as every page reads them."""

from __future__ import annotations

from uuid import UUID

import streamlit as st

from agent_core.domain import Tenant
from agent_core.errors import AgentCoreError
from agent_core.runtime import Runtime, shared_runtime

TENANT_KEY = "tenant_id"


@st.cache_resource(show_spinner="Starting the agent runtime…")
def _runtime() -> Runtime:
    return shared_runtime()


def get_runtime() -> Runtime:
    """The one runtime of this server process; stops the page with the reason if it cannot start."""
    try:
        return _runtime()
    except AgentCoreError as exc:
        st.error(f"The app cannot start: {exc}", icon=":material/block:")
        st.stop()


def current_tenant(runtime: Runtime) -> Tenant:
    """The tenant picked in the sidebar, read fresh from the store."""
    tenant_id = st.session_state.get(TENANT_KEY)
    tenant = runtime.store.get_tenant(UUID(str(tenant_id))) if tenant_id else None
    if tenant is None:
        st.warning("Pick a tenant in the sidebar.")
        st.stop()
    return tenant


def session_key(tenant: Tenant, name: str) -> str:
    """A session-state key that belongs to one tenant, so a switch never shows another's state."""
    return f"{name}:{tenant.id}"

"""voice-assistant-mini's core: the agent, its tools, stores, models, event bus and HTTP API.

Nothing here imports Streamlit; `agent_core.runtime.build_runtime` wires it all from settings.
"""

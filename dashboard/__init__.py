"""Streamlit-side helpers shared by the dashboard's pages (agent_core stays UI-free)."""

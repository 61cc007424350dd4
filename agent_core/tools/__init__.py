"""The agent's tools and their registry."""

from __future__ import annotations

from agent_core.tools.book_tour import BOOK_TOUR
from agent_core.tools.manage_tours import CANCEL_TOUR, FIND_TOURS, RESCHEDULE_TOUR
from agent_core.tools.registry import Tool, ToolContext, ToolRegistry
from agent_core.tools.take_note import TAKE_NOTE
from agent_core.tools.update_contact import UPDATE_CONTACT_INFO

__all__ = ["TOOL_NAMES", "Tool", "ToolContext", "ToolRegistry", "default_registry"]

_TOOLS = (BOOK_TOUR, FIND_TOURS, CANCEL_TOUR, RESCHEDULE_TOUR, TAKE_NOTE, UPDATE_CONTACT_INFO)
TOOL_NAMES = tuple(tool.name for tool in _TOOLS)
"""Every business tool's name, in the order the model is offered them."""


def default_registry() -> ToolRegistry:
    """The business tools every tenant has (a tenant's settings may switch some off)."""
    return ToolRegistry(_TOOLS)

"""Which pages a principal's role opens (each page also checks for itself: a link reaches any)."""

from __future__ import annotations

from dataclasses import dataclass

from agent_core.access.models import Action
from agent_core.workspace import Workspace


@dataclass(frozen=True, slots=True)
class PageEntry:
    """A page of the dashboard: its script, title and icon."""

    script: str
    title: str
    icon: str


def pages_for(workspace: Workspace) -> list[PageEntry]:
    """The dashboard's pages for this principal, in menu order."""
    pages = [
        PageEntry("pages/chat.py", "Chat", ":material/chat:"),
        PageEntry("pages/conversations.py", "Conversations", ":material/forum:"),
        PageEntry("pages/analytics.py", "Analytics", ":material/insights:"),
        PageEntry("pages/records.py", "Records", ":material/table_view:"),
        PageEntry("pages/prompts.py", "Prompts", ":material/edit_note:"),
        PageEntry("pages/scenarios.py", "Scenarios", ":material/fact_check:"),
        PageEntry("pages/events.py", "Events", ":material/sensors:"),
    ]
    if workspace.may(Action.READ_AUDIT):
        pages.append(PageEntry("pages/audit.py", "Audit", ":material/policy:"))
    if workspace.may(Action.ADMINISTER):
        pages.append(PageEntry("pages/settings.py", "Settings", ":material/tune:"))
        pages.append(PageEntry("pages/users.py", "Users", ":material/group:"))
        pages.append(PageEntry("pages/api_keys.py", "API keys", ":material/key:"))
    if workspace.principal.user_id is not None:
        pages.append(PageEntry("pages/account.py", "Account", ":material/account_circle:"))
    return pages

"""Supabase store: the same Store contract over the `supabase` client (PostgREST over HTTPS).

Plain reads and single writes are table requests, each filtered by the tenant. Writes that
belong together (a tool's rows, its call record and its result message; a turn's start or
end; events with their listener runs) go to one PostgreSQL function over RPC, so PostgREST
runs them in one transaction; the functions are in schema.sql.

PostgREST answers at most its max rows (Supabase's default: 1,000) and says nothing when it
cuts an answer short, so every read that may be longer goes page by page (`_all`).
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

import httpx
from postgrest.exceptions import APIError
from supabase import Client, ClientOptions, create_client

from agent_core.domain import (
    ChatMessage,
    Contact,
    ConversationSummary,
    Note,
    PromptVersion,
    Tenant,
    ToolCallRecord,
    Tour,
    TourChange,
    TurnRecord,
)
from agent_core.errors import (
    ConfigError,
    StoreUnavailableError,
)
from agent_core.store.analytics import Analytics, AnalyticsQuery, from_json
from agent_core.store.conversation_log import ConversationOverview, ConversationQuery, overview_from_row
from agent_core.store.event_log import EventLog, SupabaseEvents
from agent_core.store.function_writes import FunctionWrites
from agent_core.store.idempotency import IdempotencyStore, SupabaseIdempotency
from agent_core.store.migrations import require_version
from agent_core.store.records import Page, RecordPages, RecordQuery, TableSpec, like_pattern
from agent_core.store.refusals import function_error
from agent_core.store.rows import (
    Row,
    contact_from_row,
    conversation_from_row,
    message_from_row,
    note_from_row,
    prompt_version_from_row,
    tenant_from_row,
    tool_call_from_row,
    tour_change_from_row,
    tour_from_row,
    turn_from_row,
)
from agent_core.store.supabase_access import ilike_pattern
from agent_core.store.supabase_scenarios import SupabaseScenarios
from agent_core.store.voice_turns import SupabaseVoiceTurns, VoiceTurnStore

DEFAULT_MAX_ROWS = 1000
"""Supabase's default for the most rows one REST answer holds (Settings → API → Max rows)."""


class _MissingSchema(ConfigError):
    """A table or function the store needs is not in the project."""


def _quoted(value: str) -> str:
    """A value PostgREST reads literally inside `or=(...)` (commas, parentheses, quotes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _require_service_role(key: str) -> None:
    """ConfigError when the key is a Supabase JWT for another role (the anon key, say): the
    store acts for every tenant and needs the role that bypasses row-level security."""
    parts = key.split(".")
    if len(parts) != 3:
        return  # not a JWT (Supabase's newer secret keys): the server judges it
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return
    role = claims.get("role") if isinstance(claims, dict) else None
    if role is not None and role != "service_role":
        raise ConfigError(
            f"SUPABASE_SERVICE_ROLE_KEY is the project's {role} key: use the service_role key"
            " (Project Settings → API keys)"
        )


class SupabaseStore(FunctionWrites, RecordPages, SupabaseScenarios):
    """Store on a Supabase project through its REST API, with the service-role key."""

    backend = "supabase"

    def __init__(
        self, url: str, service_role_key: str, *, timeout: float = 10.0, max_rows: int = DEFAULT_MAX_ROWS
    ) -> None:
        _require_service_role(service_role_key)
        self._max_rows = max_rows
        self._http = httpx.Client(timeout=timeout)
        self._client: Client = create_client(
            url,
            service_role_key,
            # No client-side retries: a dead project should fail the request in `timeout`, not
            # after a backoff series, and retrying a non-idempotent RPC could apply it twice.
            ClientOptions(
                httpx_client=self._http,
                postgrest_client_retry=False,
                auto_refresh_token=False,
                persist_session=False,
            ),
        )
        self._url = url
        self.voice_turns: VoiceTurnStore = SupabaseVoiceTurns(self)
        self.idempotency: IdempotencyStore = SupabaseIdempotency(self)
        self.events: EventLog = SupabaseEvents(self)

    # -- plumbing --------------------------------------------------------------------

    def _table(self, name: str) -> Any:
        return self._client.table(name)

    def _call(self, builder: Any) -> Any:
        """Run a request, turning transport and PostgREST errors into ours with the fix named."""
        try:
            return builder.execute()
        except APIError as error:
            raise self._translate(error) from None
        except httpx.HTTPError as error:
            raise StoreUnavailableError(
                f"cannot reach Supabase at SUPABASE_URL ({self._url}): {type(error).__name__};"
                " check the URL and the network"
            ) from None

    def _rows(self, builder: Any) -> list[Row]:
        """The rows of one request (a lookup by key, or a write returning what it wrote)."""
        data = self._call(builder).data
        return list(data) if isinstance(data, list) else []

    def _all(self, builder: Any, *, limit: int | None = None) -> list[Row]:
        """Every row a read selects (or its first `limit`), one page of the server's max rows
        at a time; the read must be in a total order, so that pages neither skip nor repeat."""
        base = builder.request.params
        rows: list[Row] = []
        while limit is None or len(rows) < limit:
            size = self._max_rows if limit is None else min(self._max_rows, limit - len(rows))
            builder.request.params = base.add("offset", len(rows)).add("limit", size)
            page = self._rows(builder)
            rows.extend(page)
            if len(page) < size:
                break
        return rows

    def _rpc(self, function: str, arguments: dict[str, Any]) -> Any:
        return self._call(self._function(function, arguments)).data

    def _function(self, function: str, arguments: dict[str, Any]) -> Any:
        """A call of a function returning rows, to read through `_all` (page by page)."""
        return self._client.rpc(function, arguments)

    def _translate(self, error: APIError) -> Exception:
        code, message = str(error.code or ""), str(error.message or "")
        if (ours := function_error(code, message)) is not None:
            return ours
        if code in ("PGRST202", "PGRST205", "42P01", "42883"):
            return _MissingSchema(
                "the Supabase project has no voice-assistant schema (or an old one): paste schema.sql"
                " into the SQL editor and run it (a new project), or `vam migrate` with DATABASE_URL set"
                f" to the project's connection string (an older schema) ({message})"
            )
        if "Invalid API key" in message or code in ("401", "PGRST301", "PGRST302"):
            return ConfigError(
                "Supabase rejected SUPABASE_SERVICE_ROLE_KEY: use the service_role key of this project"
            )
        if code == "42501":
            return StoreUnavailableError(
                f"Supabase refused: {message}. The service role lacks a grant this release's schema"
                " gives: a project of an older schema is upgraded with `vam migrate` and DATABASE_URL"
                " set to its connection string; a grant someone revoked is granted to service_role again"
            )
        return StoreUnavailableError(f"Supabase answered an error: {code} {message}".strip())

    def check_schema(self) -> None:
        """Fail with the fix named when the URL, the key or the schema version is wrong."""
        fix = "run `vam migrate` with DATABASE_URL set to the project's Postgres connection string"
        require_version(self.schema_version(), "postgres", fix)

    def schema_version(self) -> int:
        """The project's applied schema version (0: no tables; 1: release 0.1.0, unversioned)."""
        try:
            rows = self._rows(
                self._table("schema_migrations").select("version").order("version", desc=True).limit(1)
            )
        except _MissingSchema:
            try:
                nobody = "00000000-0000-0000-0000-000000000000"
                self._rows(self._table("tool_calls").select("call_id").eq("tenant_id", nobody).limit(1))
            except _MissingSchema:
                return 0
            return 1
        return int(rows[0]["version"]) if rows else 0

    def ping(self) -> None:
        self._rows(self._table("tenants").select("id").limit(1))

    def close(self) -> None:
        self._http.close()

    # -- tenants -----------------------------------------------------------------------

    def get_tenant(self, tenant_id: UUID) -> Tenant | None:
        rows = self._rows(self._table("tenants").select("*").eq("id", str(tenant_id)))
        return tenant_from_row(rows[0]) if rows else None

    def list_tenants(self) -> list[Tenant]:
        return [
            tenant_from_row(r)
            for r in self._all(self._table("tenants").select("*").order("name").order("id"))
        ]

    # -- reads of turns and conversations --------------------------------------------------

    def analytics(self, query: AnalyticsQuery) -> Analytics:
        query = query.checked()
        low, high = query.bounds()
        data = self._rpc(
            "app_analytics",
            {
                "p_tenant": None if query.tenant_id is None else str(query.tenant_id),
                "p_low": low.isoformat(),
                "p_high": high.isoformat(),
            },
        )
        return from_json(data if isinstance(data, dict) else {})

    def search_conversations(self, tenant_id: UUID, query: ConversationQuery) -> Page[ConversationOverview]:
        query = query.checked()
        low, high = query.bounds()
        rows = (
            self._rpc(
                "app_search_conversations",
                {
                    "p_tenant": str(tenant_id),
                    "p_text": like_pattern(query.text.strip()) if query.text.strip() else None,
                    "p_customer": like_pattern(query.customer.strip()) if query.customer.strip() else None,
                    "p_low": low.isoformat() if low else None,
                    "p_high": high.isoformat() if high else None,
                    "p_outcome": query.outcome.value if query.outcome else None,
                    "p_tool": query.tool.strip() or None,
                    "p_channel": query.channel.value if query.channel else None,
                    "p_limit": query.limit,
                    "p_offset": query.offset,
                },
            )
            or []
        )
        if rows:
            total = int(rows[0]["total"])
        else:  # past the last page the window count has no row to ride on
            total = (
                self.search_conversations(tenant_id, replace(query, offset=0, limit=1)).total
                if query.offset
                else 0
            )
        return Page([overview_from_row(row) for row in rows], total)

    def list_turns(self, tenant_id: UUID, conversation_id: UUID) -> list[TurnRecord]:
        rows = self._all(
            self._table("turns")
            .select("id,status,user_message,error,retry_of,started_at,withheld_claims,spoken")
            .eq("tenant_id", str(tenant_id))
            .eq("conversation_id", str(conversation_id))
            .order("started_at")
            .order("id")
        )
        return [turn_from_row(row) for row in rows]

    def _messages(self, tenant_id: UUID, conversation_id: UUID) -> Any:
        return (
            self._table("messages")
            .select("role,content,tool_calls,tool_call_id")
            .eq("tenant_id", str(tenant_id))
            .eq("conversation_id", str(conversation_id))
        )

    def load_history(self, tenant_id: UUID, conversation_id: UUID, limit: int) -> list[ChatMessage]:
        rows = self._all(self._messages(tenant_id, conversation_id).order("id", desc=True), limit=limit)
        return [message_from_row(r) for r in reversed(rows)]

    def list_messages(self, tenant_id: UUID, conversation_id: UUID) -> list[ChatMessage]:
        return [
            message_from_row(r) for r in self._all(self._messages(tenant_id, conversation_id).order("id"))
        ]

    def append_message(
        self, tenant_id: UUID, conversation_id: UUID, turn_id: UUID, message: ChatMessage
    ) -> None:
        calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls]
        self._call(
            self._table("messages").insert(
                {
                    "tenant_id": str(tenant_id),
                    "conversation_id": str(conversation_id),
                    "turn_id": str(turn_id),
                    "role": message.role,
                    "content": message.content,
                    "tool_calls": calls or None,
                    "tool_call_id": message.tool_call_id,
                }
            )
        )

    # -- reads ----------------------------------------------------------------------------

    def _tool_calls(self, tenant_id: UUID) -> Any:
        columns = "call_id,name,arguments,status,result,error,duration_ms,model_content"
        return (
            self._table("tool_calls").select(columns).eq("tenant_id", str(tenant_id)).neq("status", "running")
        )

    def list_tool_calls(self, tenant_id: UUID, conversation_id: UUID) -> list[ToolCallRecord]:
        rows = self._all(
            self._tool_calls(tenant_id)
            .eq("conversation_id", str(conversation_id))
            .order("created_at")
            .order("call_id")
            .order("arguments_hash")
        )
        return [tool_call_from_row(r) for r in rows]

    def list_conversations(
        self, tenant_id: UUID, limit: int = 50, offset: int = 0
    ) -> list[ConversationSummary]:
        rows = self._rpc(
            "app_list_conversations", {"p_tenant": str(tenant_id), "p_limit": limit, "p_offset": offset}
        )
        return [conversation_from_row(r) for r in rows or []]

    def _page(self, spec: TableSpec, tenant_id: UUID, query: RecordQuery) -> tuple[list[Row], int]:
        query = query.checked(spec)
        builder = self._table(spec.table).select("*", count="exact").eq("tenant_id", str(tenant_id))
        if search := query.search.strip():
            pattern = _quoted(ilike_pattern(search))
            builder = builder.or_(",".join(f"{column}.ilike.{pattern}" for column in spec.search_columns))
        low, high = query.bounds(spec)
        if low is not None:
            builder = builder.gte(spec.date_column, low.isoformat())
        if high is not None:
            builder = (builder.lt if spec.date_is_timestamp else builder.lte)(
                spec.date_column, high.isoformat()
            )
        sort = query.sort or spec.default_sort
        builder = builder.order(spec.sortable[sort], desc=query.descending, nullsfirst=False)
        builder = builder.order("id", desc=query.descending)
        response = self._call(builder.range(query.offset, query.offset + query.limit - 1))
        return list(response.data or []), int(response.count or 0)

    # -- what a staged tool reads ----------------------------------------------------------

    def _live_bookings(self, tenant_id: UUID, key: str, from_date: date, on: date | None) -> list[Tour]:
        request = (
            self._table("tours")
            .select("*")
            .eq("tenant_id", str(tenant_id))
            .eq("status", "booked")
            .eq("name_key", key)
            .gte("tour_date", from_date.isoformat())
            .order("tour_date")
            .order("id")
        )
        if on is not None:
            request = request.eq("tour_date", on.isoformat())
        return [tour_from_row(row) for row in self._all(request)]

    def _latest_customer(self, tenant_id: UUID, conversation_id: UUID) -> str | None:
        latest = self._rows(
            self._table("tours")
            .select("customer_name")
            .eq("tenant_id", str(tenant_id))
            .eq("conversation_id", str(conversation_id))
            .order("created_at", desc=True)
            .limit(1)
        )
        return str(latest[0]["customer_name"]) if latest else None

    def _contacts_matching(self, tenant_id: UUID, lookup: dict[str, str | None]) -> list[Contact]:
        rows = self._all(
            self._table("contacts")
            .select("*")
            .eq("tenant_id", str(tenant_id))
            .or_(",".join(f"{column}.eq.{_quoted(key)}" for column, key in lookup.items() if key))
            .order("id")
        )
        return [contact_from_row(r) for r in rows]

    def get_tour(self, tenant_id: UUID, tour_id: UUID) -> Tour | None:
        rows = self._rows(
            self._table("tours").select("*").eq("tenant_id", str(tenant_id)).eq("id", str(tour_id))
        )
        return tour_from_row(rows[0]) if rows else None

    def list_tour_changes(self, tenant_id: UUID, tour_id: UUID) -> list[TourChange]:
        rows = self._all(
            self._table("tour_changes")
            .select("*")
            .eq("tenant_id", str(tenant_id))
            .eq("tour_id", str(tour_id))
            .order("created_at")
            .order("id")
        )
        return [tour_change_from_row(r) for r in rows]

    def get_contact(self, tenant_id: UUID, contact_id: UUID) -> Contact | None:
        rows = self._rows(
            self._table("contacts").select("*").eq("tenant_id", str(tenant_id)).eq("id", str(contact_id))
        )
        return contact_from_row(rows[0]) if rows else None

    def get_note(self, tenant_id: UUID, note_id: UUID) -> Note | None:
        rows = self._rows(
            self._table("notes").select("*").eq("tenant_id", str(tenant_id)).eq("id", str(note_id))
        )
        return note_from_row(rows[0]) if rows else None

    # -- prompts -------------------------------------------------------------------------

    def list_prompt_versions(self, tenant_id: UUID) -> list[PromptVersion]:
        rows = self._all(
            self._table("prompt_versions")
            .select("*")
            .eq("tenant_id", str(tenant_id))
            .order("version", desc=True)
        )
        return [prompt_version_from_row(r) for r in rows]

"""The event log: events, each listener's run of them, and the outbox listeners write to. A
store role of its own (`store.events`), as Idempotency-Keys and spoken turns are: SQLite in
SQL, the PostgreSQL family saving, finishing and replaying through its functions (the same
ones a turn's writes call), Supabase through PostgREST.

Every read and change is per tenant, except the bus's own resumption after a restart
(`pending_runs`, `requeue_stale_runs`), which picks up every tenant's accepted work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from agent_core.access.models import AuditEntry
from agent_core.clock import utcnow
from agent_core.domain import Event, EventRecord, JsonDict, ListenerRun, OutboxEvent, OutboxMessage, RunStatus
from agent_core.ids import new_id
from agent_core.store.function_access import audit_json
from agent_core.store.rows import (
    Row,
    as_uuid,
    event_from_row,
    listener_run_from_row,
    outbox_from_row,
    records_from_joined_rows,
)
from agent_core.store.sql_backend import SqlSession
from agent_core.store.supabase_access import id_chunks
from agent_core.store.voice_turns import Rpc


class EventLog(Protocol):
    """Events with their listener runs, and the outbox."""

    def save(self, batch: Sequence[OutboxEvent]) -> None:
        """Persist events, each with a pending run per listener it names."""
        ...

    def claim_run(self, tenant_id: UUID, event_id: UUID, listener: str) -> bool:
        """Move a pending run to running; False when another worker already has it."""
        ...

    def renew_run(self, tenant_id: UUID, event_id: UUID, listener: str) -> bool:
        """Mark a run this process is still running as alive, so no process takes it for one
        whose process died; False when it is no longer running."""
        ...

    def finish_run(
        self,
        tenant_id: UUID,
        event_id: UUID,
        listener: str,
        status: RunStatus,
        attempts: int,
        last_error: str | None,
        duration_ms: float,
    ) -> None:
        """Record how a run ended."""
        ...

    def pending_runs(self, after_seq: int = 0, limit: int = 1000) -> list[tuple[Event, str]]:
        """Runs not yet started (left by a shutdown or a crash): every pending run of the first
        `limit` such events after `after_seq`, in event order; page on with the last event's seq."""
        ...

    def requeue_stale_runs(self, older_than: datetime) -> int:
        """Put runs left `running` since before `older_than` (their process died) back to pending."""
        ...

    def reset_failed_runs(self, tenant_id: UUID, event_id: UUID, *, audit: AuditEntry) -> list[str]:
        """Set this event's failed runs back to pending, with the audit entry of the replay;
        returns their listener names."""
        ...

    def find(
        self,
        tenant_id: UUID,
        *,
        after_seq: int = 0,
        limit: int = 100,
        newest_first: bool = False,
        names: Sequence[str] = (),
        status: RunStatus | None = None,
        since: datetime | None = None,
    ) -> list[EventRecord]:
        """Events of a tenant with `seq > after_seq`, with their listener runs.

        Optionally only events with one of `names`, with a run in `status`, or created at
        or after `since`.
        """
        ...

    def get(self, tenant_id: UUID, event_id: UUID) -> EventRecord | None:
        """One event of this tenant with its runs."""
        ...

    def add_outbox(self, tenant_id: UUID, kind: str, event_id: UUID, payload: JsonDict) -> bool:
        """Queue an outbound message once per (event, kind); False when already queued."""
        ...

    def outbox(self, tenant_id: UUID, limit: int = 100) -> list[OutboxMessage]:
        """Queued messages, newest first."""
        ...


def events_json(batch: Sequence[OutboxEvent]) -> list[JsonDict]:
    """Events as the SQL functions take them (`p_events`)."""
    return [
        {
            "id": str(o.event.id),
            "tenant_id": str(o.event.tenant_id),
            "name": o.event.name,
            "payload": o.event.payload,
            "created_at": o.event.created_at.isoformat(),
            "listeners": list(o.listeners),
        }
        for o in batch
    ]


def insert_events(
    session: SqlSession, batch: Sequence[OutboxEvent], json_param: Callable[[object], object]
) -> None:
    """Write events and their pending runs in `session` (SQLite's turns write theirs with the
    turn's own rows, in its transaction)."""
    now = utcnow()
    for outbox in batch:
        event = outbox.event
        session.execute(
            "INSERT INTO events (id, tenant_id, name, payload, created_at)"
            " VALUES (:id, :tenant_id, :name, :payload, :created_at)",
            {
                "id": event.id,
                "tenant_id": event.tenant_id,
                "name": event.name,
                "payload": json_param(event.payload),
                "created_at": event.created_at,
            },
        )
        for listener in outbox.listeners:
            session.execute(
                "INSERT INTO listener_runs (event_id, listener, tenant_id, status, attempts, updated_at)"
                " VALUES (:event_id, :listener, :tenant_id, 'pending', 0, :now)",
                {"event_id": event.id, "listener": listener, "tenant_id": event.tenant_id, "now": now},
            )


# The writes the PostgreSQL family makes through its functions, on PostgreSQL and Supabase.


def _save_by_function(rpc: Rpc, batch: Sequence[OutboxEvent]) -> None:
    if batch:
        rpc("app_save_events", {"p_events": events_json(batch)})


def _finish_by_function(
    rpc: Rpc,
    tenant_id: UUID,
    event_id: UUID,
    listener: str,
    status: RunStatus,
    attempts: int,
    last_error: str | None,
    duration_ms: float,
) -> None:
    rpc(
        "app_finish_listener_run",
        {
            "p_tenant": str(tenant_id),
            "p_event": str(event_id),
            "p_listener": listener,
            "p_status": status.value,
            "p_attempts": attempts,
            "p_error": last_error,
            "p_duration": duration_ms,
        },
    )


def _replay_by_function(rpc: Rpc, tenant_id: UUID, event_id: UUID, audit: AuditEntry) -> list[str]:
    listeners = rpc(
        "app_replay_event",
        {"p_tenant": str(tenant_id), "p_event": str(event_id), "p_audit": audit_json(audit)},
    )
    return sorted(str(name) for name in listeners or [])


_EVENT_JOIN = (
    "SELECT e.seq, e.id, e.tenant_id, e.name, e.payload, e.created_at, r.listener, r.status,"
    " r.attempts, r.last_error, r.duration_ms, r.updated_at FROM events e"
    " LEFT JOIN listener_runs r ON r.event_id = e.id"
)


class SqlEvents:
    """The event log on SQLite or PostgreSQL (`rpc`: PostgreSQL's way to call its functions,
    which save, finish and replay there)."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[SqlSession]],
        one_statement: Callable[[], AbstractContextManager[SqlSession]],
        reader: Callable[[], AbstractContextManager[SqlSession]],
        json_param: Callable[[object], object],
        write_audit: Callable[[SqlSession, AuditEntry], None],
        rpc: Rpc | None = None,
    ) -> None:
        self._transaction = transaction
        self._one_statement = one_statement
        self._reader = reader
        self._json_param = json_param
        self._write_audit = write_audit
        self._rpc = rpc

    def save(self, batch: Sequence[OutboxEvent]) -> None:
        if self._rpc is not None:
            _save_by_function(self._rpc, batch)
            return
        with self._transaction() as session:
            insert_events(session, batch, self._json_param)

    def claim_run(self, tenant_id: UUID, event_id: UUID, listener: str) -> bool:
        return self._mark_run(tenant_id, event_id, listener, "status = 'running', ", was="pending")

    def renew_run(self, tenant_id: UUID, event_id: UUID, listener: str) -> bool:
        return self._mark_run(tenant_id, event_id, listener, "", was="running")

    def _mark_run(self, tenant_id: UUID, event_id: UUID, listener: str, setting: str, *, was: str) -> bool:
        """Update one run that is still `was` (`setting`: a fixed SQL fragment); True if it was."""
        with self._one_statement() as session:
            return bool(
                session.execute(
                    f"UPDATE listener_runs SET {setting}updated_at = :now WHERE tenant_id = :tenant_id"
                    " AND event_id = :event_id AND listener = :listener AND status = :was",
                    {
                        "tenant_id": tenant_id,
                        "event_id": event_id,
                        "listener": listener,
                        "was": was,
                        "now": utcnow(),
                    },
                )
            )

    def finish_run(
        self,
        tenant_id: UUID,
        event_id: UUID,
        listener: str,
        status: RunStatus,
        attempts: int,
        last_error: str | None,
        duration_ms: float,
    ) -> None:
        if self._rpc is not None:
            _finish_by_function(
                self._rpc, tenant_id, event_id, listener, status, attempts, last_error, duration_ms
            )
            return
        with self._one_statement() as session:
            session.execute(
                "UPDATE listener_runs SET status = :status, attempts = attempts + :attempts,"
                " last_error = :last_error, duration_ms = :duration_ms, updated_at = :now"
                " WHERE tenant_id = :tenant_id AND event_id = :event_id AND listener = :listener",
                {
                    "tenant_id": tenant_id,
                    "status": status.value,
                    "attempts": attempts,
                    "last_error": last_error,
                    "duration_ms": duration_ms,
                    "now": utcnow(),
                    "event_id": event_id,
                    "listener": listener,
                },
            )

    def pending_runs(self, after_seq: int = 0, limit: int = 1000) -> list[tuple[Event, str]]:
        with self._reader() as session:
            rows = session.query(
                "SELECT e.seq, e.id, e.tenant_id, e.name, e.payload, e.created_at, r.listener"
                " FROM listener_runs r JOIN events e ON e.id = r.event_id"
                " WHERE r.status = 'pending' AND e.seq IN (SELECT DISTINCT e2.seq FROM listener_runs r2"
                " JOIN events e2 ON e2.id = r2.event_id WHERE r2.status = 'pending' AND e2.seq > :after_seq"
                " ORDER BY e2.seq LIMIT :limit) ORDER BY e.seq, r.listener",
                {"after_seq": after_seq, "limit": limit},
            )
        return [(event_from_row(r), r["listener"]) for r in rows]

    def requeue_stale_runs(self, older_than: datetime) -> int:
        with self._one_statement() as session:
            return session.execute(
                "UPDATE listener_runs SET status = 'pending', updated_at = :now"
                " WHERE status = 'running' AND updated_at < :older_than",
                {"now": utcnow(), "older_than": older_than},
            )

    def reset_failed_runs(self, tenant_id: UUID, event_id: UUID, *, audit: AuditEntry) -> list[str]:
        if self._rpc is not None:
            return _replay_by_function(self._rpc, tenant_id, event_id, audit)
        params = {"tenant_id": tenant_id, "event_id": event_id, "now": utcnow()}
        with self._transaction() as session:
            self._write_audit(session, audit)
            rows = session.query(
                "SELECT listener FROM listener_runs WHERE tenant_id = :tenant_id"
                " AND event_id = :event_id AND status = 'failed' ORDER BY listener",
                params,
            )
            session.execute(
                "UPDATE listener_runs SET status = 'pending', updated_at = :now"
                " WHERE tenant_id = :tenant_id AND event_id = :event_id AND status = 'failed'",
                params,
            )
        return [r["listener"] for r in rows]

    def find(
        self,
        tenant_id: UUID,
        *,
        after_seq: int = 0,
        limit: int = 100,
        newest_first: bool = False,
        names: Sequence[str] = (),
        status: RunStatus | None = None,
        since: datetime | None = None,
    ) -> list[EventRecord]:
        order = "DESC" if newest_first else "ASC"
        params: dict[str, object] = {"tenant_id": tenant_id, "after_seq": after_seq, "limit": limit}
        conditions = ["tenant_id = :tenant_id", "seq > :after_seq"]
        if names:
            params |= {f"name{i}": name for i, name in enumerate(names)}
            conditions.append("name IN (" + ", ".join(f":name{i}" for i in range(len(names))) + ")")
        if status is not None:
            params["status"] = status.value
            conditions.append(
                "id IN (SELECT event_id FROM listener_runs WHERE tenant_id = :tenant_id AND status = :status)"
            )
        if since is not None:
            params["since"] = since
            conditions.append("created_at >= :since")
        with self._reader() as session:
            rows = session.query(
                f"{_EVENT_JOIN} WHERE e.seq IN (SELECT seq FROM events WHERE {' AND '.join(conditions)}"
                f" ORDER BY seq {order} LIMIT :limit)"
                f" ORDER BY e.seq {order}, r.listener",
                params,
            )
        return records_from_joined_rows(rows)

    def get(self, tenant_id: UUID, event_id: UUID) -> EventRecord | None:
        with self._reader() as session:
            rows = session.query(
                f"{_EVENT_JOIN} WHERE e.tenant_id = :tenant_id AND e.id = :event_id ORDER BY r.listener",
                {"tenant_id": tenant_id, "event_id": event_id},
            )
        records = records_from_joined_rows(rows)
        return records[0] if records else None

    def add_outbox(self, tenant_id: UUID, kind: str, event_id: UUID, payload: JsonDict) -> bool:
        with self._one_statement() as session:
            return bool(
                session.execute(
                    "INSERT INTO outbox (id, tenant_id, kind, event_id, payload, created_at)"
                    " VALUES (:id, :tenant_id, :kind, :event_id, :payload, :now)"
                    " ON CONFLICT (event_id, kind) DO NOTHING",
                    {
                        "id": new_id(),
                        "tenant_id": tenant_id,
                        "kind": kind,
                        "event_id": event_id,
                        "payload": self._json_param(payload),
                        "now": utcnow(),
                    },
                )
            )

    def outbox(self, tenant_id: UUID, limit: int = 100) -> list[OutboxMessage]:
        with self._reader() as session:
            rows = session.query(
                "SELECT * FROM outbox WHERE tenant_id = :tenant_id ORDER BY created_at DESC LIMIT :limit",
                {"tenant_id": tenant_id, "limit": limit},
            )
        return [outbox_from_row(r) for r in rows]


class PostgrestTables(Protocol):
    """What the event log needs of the Supabase store: its PostgREST requests, run with its
    error translation and paging."""

    def _table(self, name: str) -> Any: ...

    def _rows(self, builder: Any) -> list[Row]: ...

    def _all(self, builder: Any, *, limit: int | None = None) -> list[Row]: ...

    def _rpc(self, function: str, arguments: dict[str, Any]) -> Any: ...

    def _function(self, function: str, arguments: dict[str, Any]) -> Any: ...


class SupabaseEvents:
    """The event log through PostgREST: saves, finishes and replays by function, the rest as
    table requests filtered by the tenant."""

    def __init__(self, client: PostgrestTables) -> None:
        self._client = client

    def save(self, batch: Sequence[OutboxEvent]) -> None:
        _save_by_function(self._client._rpc, batch)

    def claim_run(self, tenant_id: UUID, event_id: UUID, listener: str) -> bool:
        return self._mark_run(tenant_id, event_id, listener, {"status": "running"}, was="pending")

    def renew_run(self, tenant_id: UUID, event_id: UUID, listener: str) -> bool:
        return self._mark_run(tenant_id, event_id, listener, {}, was="running")

    def _mark_run(
        self, tenant_id: UUID, event_id: UUID, listener: str, values: JsonDict, *, was: str
    ) -> bool:
        rows = self._client._rows(
            self._client._table("listener_runs")
            .update({**values, "updated_at": utcnow().isoformat()})
            .eq("tenant_id", str(tenant_id))
            .eq("event_id", str(event_id))
            .eq("listener", listener)
            .eq("status", was)
        )
        return bool(rows)

    def finish_run(
        self,
        tenant_id: UUID,
        event_id: UUID,
        listener: str,
        status: RunStatus,
        attempts: int,
        last_error: str | None,
        duration_ms: float,
    ) -> None:
        _finish_by_function(
            self._client._rpc, tenant_id, event_id, listener, status, attempts, last_error, duration_ms
        )

    def pending_runs(self, after_seq: int = 0, limit: int = 1000) -> list[tuple[Event, str]]:
        # `limit` counts events, each with a row per pending run: the rows come page by page.
        rows = self._client._all(
            self._client._function("app_pending_runs", {"p_after_seq": after_seq, "p_limit": limit})
        )
        return [(event_from_row(r), r["listener"]) for r in rows]

    def requeue_stale_runs(self, older_than: datetime) -> int:
        rows = self._client._rows(
            self._client._table("listener_runs")
            .update({"status": "pending", "updated_at": utcnow().isoformat()})
            .eq("status", "running")
            .lt("updated_at", older_than.isoformat())
        )
        return len(rows)

    def reset_failed_runs(self, tenant_id: UUID, event_id: UUID, *, audit: AuditEntry) -> list[str]:
        return _replay_by_function(self._client._rpc, tenant_id, event_id, audit)

    def _with_runs(self, tenant_id: UUID, events: list[Event]) -> list[EventRecord]:
        runs: dict[str, list[ListenerRun]] = {str(e.id): [] for e in events}
        for chunk in id_chunks(list(runs)):
            rows = self._client._all(
                self._client._table("listener_runs")
                .select("*")
                .eq("tenant_id", str(tenant_id))
                .in_("event_id", chunk)
                .order("event_id")
                .order("listener")
            )
            for r in rows:
                runs[str(r["event_id"])].append(listener_run_from_row(r, as_uuid(r["event_id"])))
        return [EventRecord(e, tuple(sorted(runs[str(e.id)], key=lambda run: run.listener))) for e in events]

    def find(
        self,
        tenant_id: UUID,
        *,
        after_seq: int = 0,
        limit: int = 100,
        newest_first: bool = False,
        names: Sequence[str] = (),
        status: RunStatus | None = None,
        since: datetime | None = None,
    ) -> list[EventRecord]:
        # With a status, only events having a run of that status: an inner join on the runs.
        columns = "*" if status is None else "*,listener_runs!inner(status)"
        builder = (
            self._client._table("events").select(columns).eq("tenant_id", str(tenant_id)).gt("seq", after_seq)
        )
        if names:
            builder = builder.in_("name", list(names))
        if since is not None:
            builder = builder.gte("created_at", since.isoformat())
        if status is not None:
            builder = builder.eq("listener_runs.status", status.value)
        rows = self._client._all(builder.order("seq", desc=newest_first), limit=limit)
        return self._with_runs(tenant_id, [event_from_row(r) for r in rows])

    def get(self, tenant_id: UUID, event_id: UUID) -> EventRecord | None:
        rows = self._client._rows(
            self._client._table("events").select("*").eq("tenant_id", str(tenant_id)).eq("id", str(event_id))
        )
        return self._with_runs(tenant_id, [event_from_row(rows[0])])[0] if rows else None

    def add_outbox(self, tenant_id: UUID, kind: str, event_id: UUID, payload: JsonDict) -> bool:
        rows = self._client._rows(
            self._client._table("outbox").upsert(
                {
                    "id": str(new_id()),
                    "tenant_id": str(tenant_id),
                    "kind": kind,
                    "event_id": str(event_id),
                    "payload": payload,
                },
                on_conflict="event_id,kind",
                ignore_duplicates=True,
            )
        )
        return bool(rows)

    def outbox(self, tenant_id: UUID, limit: int = 100) -> list[OutboxMessage]:
        rows = self._client._all(
            self._client._table("outbox")
            .select("*")
            .eq("tenant_id", str(tenant_id))
            .order("created_at", desc=True)
            .order("id", desc=True),
            limit=limit,
        )
        return [outbox_from_row(r) for r in rows]

"""What a spoken turn leaves beside its turn: how long each part took (listening, transcribing,
answering, first audio) and, for as long as its tenant keeps recordings, what the caller said
and what the agent answered. Migration 0021 keeps them in `voice_turns` (deleted with their
conversation) and counts the parts in the latency rollups on the turn's day.

A store role of its own: the SQL stores and the Supabase store each hold one (`voice_turns`),
so the rest of the store is untouched by it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from agent_core.access.models import AuditEntry
from agent_core.clock import utcnow
from agent_core.errors import NotFoundError
from agent_core.store.function_access import audit_json
from agent_core.store.rows import Row, as_datetime, as_uuid
from agent_core.store.sql_backend import SqlSession
from agent_core.store.supabase_access import SupabaseAccess

VOICE_PARTS = ("listening", "transcribing", "answering", "first_audio")
"""A spoken turn's parts, as Analytics names them (their latency metrics)."""

RecordingSide = Literal["caller", "reply"]
RECORDING_SIDES: tuple[RecordingSide, ...] = ("caller", "reply")


@dataclass(frozen=True, slots=True)
class Recording:
    """One side of a spoken turn as audio."""

    data: bytes
    media_type: str
    """"audio/ogg" (Opus) or "audio/wav"."""


@dataclass(frozen=True, slots=True)
class VoiceTurn:
    """A spoken turn's timings and recordings."""

    tenant_id: UUID
    turn_id: UUID
    conversation_id: UUID
    listening_ms: float
    """How long the caller's audio lasted as it was transcribed (in a live call, with the
    first 0.16 s of the pause)."""
    transcribing_ms: float
    answering_ms: float | None
    """From the transcript to the whole reply text; None when the turn gave none."""
    first_audio_ms: float | None
    """From the end of the caller's speech to the first audio of the reply; None when nothing
    was spoken."""
    caller_audio: Recording | None = None
    reply_audio: Recording | None = None
    created_at: datetime | None = None

    def recording(self, side: RecordingSide) -> Recording | None:
        """What the caller said, or what was answered, while it is kept."""
        return self.caller_audio if side == "caller" else self.reply_audio


class VoiceTurnStore(Protocol):
    """Spoken turns of every tenant, always read and written per tenant."""

    def keep(self, turn: VoiceTurn) -> bool:
        """Keep a spoken turn once (False when it was already kept); NotFoundError when the
        turn is not one of the tenant's, in that conversation."""
        ...

    def in_conversation(self, tenant_id: UUID, conversation_id: UUID) -> list[VoiceTurn]:
        """The conversation's spoken turns with their recordings, oldest first."""
        ...

    def forget_recordings(self, tenant_id: UUID, older_than: datetime) -> int:
        """Drop the audio of the tenant's spoken turns kept before `older_than` (their timings
        stay); returns how many turns lost theirs."""
        ...

    def forget_conversation(self, tenant_id: UUID, conversation_id: UUID, *, audit: AuditEntry) -> int:
        """Drop the audio of a conversation's spoken turns now, with `audit` when there was
        any (together); returns how many turns lost theirs."""
        ...


def _recording(row: Row, column: str) -> Recording | None:
    data = row.get(column)
    if data is None or row.get("audio_type") is None:
        return None
    if isinstance(data, str):  # PostgREST sends bytea as hex: "\x4f67..."
        data = bytes.fromhex(data.removeprefix("\\x"))
    return Recording(bytes(data), str(row["audio_type"]))


def _from_row(row: Row) -> VoiceTurn:
    def optional(column: str) -> float | None:
        value = row.get(column)
        return None if value is None else float(value)

    return VoiceTurn(
        tenant_id=as_uuid(row["tenant_id"]),
        turn_id=as_uuid(row["turn_id"]),
        conversation_id=as_uuid(row["conversation_id"]),
        listening_ms=float(row["listening_ms"]),
        transcribing_ms=float(row["transcribing_ms"]),
        answering_ms=optional("answering_ms"),
        first_audio_ms=optional("first_audio_ms"),
        caller_audio=_recording(row, "caller_audio"),
        reply_audio=_recording(row, "reply_audio"),
        created_at=as_datetime(row["created_at"]),
    )


def _audio_type(turn: VoiceTurn) -> str | None:
    kept = turn.caller_audio or turn.reply_audio
    return None if kept is None else kept.media_type


def _not_found(turn: VoiceTurn) -> NotFoundError:
    return NotFoundError(
        f"turn {turn.turn_id} not found in conversation {turn.conversation_id} of this tenant"
    )


_COLUMNS = (
    "tenant_id, turn_id, conversation_id, listening_ms, transcribing_ms, answering_ms, first_audio_ms,"
    " audio_type, caller_audio, reply_audio, created_at"
)


_FORGET = (
    "UPDATE voice_turns SET audio_type = NULL, caller_audio = NULL, reply_audio = NULL"
    " WHERE tenant_id = :tenant_id AND audio_type IS NOT NULL"
)


Rpc = Callable[[str, dict[str, Any]], Any]
"""How a store of the PostgreSQL family calls one of its SQL functions (`FunctionWrites._rpc`)."""


def forget_by_function(rpc: Rpc, tenant_id: UUID, conversation_id: UUID, audit: AuditEntry) -> int:
    """`forget_conversation` as the PostgreSQL family does it: one function, so the audio and
    the audit entry go together."""
    forgotten = rpc(
        "app_forget_recordings",
        {"p_tenant": str(tenant_id), "p_conversation": str(conversation_id), "p_audit": audit_json(audit)},
    )
    return int(forgotten)


class SqlVoiceTurns:
    """Spoken turns on SQLite or PostgreSQL (`rpc`: PostgreSQL's way to call its functions,
    for the writes that are one there)."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[SqlSession]],
        reader: Callable[[], AbstractContextManager[SqlSession]],
        write_audit: Callable[[SqlSession, AuditEntry], None],
        rpc: Rpc | None = None,
    ) -> None:
        self._transaction = transaction
        self._reader = reader
        self._write_audit = write_audit
        self._rpc = rpc

    def keep(self, turn: VoiceTurn) -> bool:
        params = {
            "tenant_id": turn.tenant_id,
            "turn_id": turn.turn_id,
            "conversation_id": turn.conversation_id,
            "listening_ms": turn.listening_ms,
            "transcribing_ms": turn.transcribing_ms,
            "answering_ms": turn.answering_ms,
            "first_audio_ms": turn.first_audio_ms,
            "audio_type": _audio_type(turn),
            "caller_audio": turn.caller_audio.data if turn.caller_audio else None,
            "reply_audio": turn.reply_audio.data if turn.reply_audio else None,
            "created_at": turn.created_at or utcnow(),
        }
        with self._transaction() as session:
            # Only a turn of this tenant in this conversation gets them: the ids come from the
            # caller, and the foreign keys alone would accept another tenant's turn id.
            kept = session.execute(
                f"INSERT INTO voice_turns ({_COLUMNS})"
                " SELECT :tenant_id, id, conversation_id, :listening_ms, :transcribing_ms, :answering_ms,"
                " :first_audio_ms, :audio_type, :caller_audio, :reply_audio, :created_at"
                " FROM turns WHERE tenant_id = :tenant_id AND id = :turn_id"
                " AND conversation_id = :conversation_id"
                " ON CONFLICT (tenant_id, turn_id) DO NOTHING",
                params,
            )
            if kept:
                return True
            known = session.query(
                "SELECT 1 AS ok FROM turns WHERE tenant_id = :tenant_id AND id = :turn_id"
                " AND conversation_id = :conversation_id",
                params,
            )
        if not known:
            raise _not_found(turn)
        return False

    def in_conversation(self, tenant_id: UUID, conversation_id: UUID) -> list[VoiceTurn]:
        with self._reader() as session:
            rows = session.query(
                f"SELECT {_COLUMNS} FROM voice_turns"
                " WHERE tenant_id = :tenant_id AND conversation_id = :conversation_id"
                " ORDER BY created_at, turn_id",
                {"tenant_id": tenant_id, "conversation_id": conversation_id},
            )
        return [_from_row(row) for row in rows]

    def forget_recordings(self, tenant_id: UUID, older_than: datetime) -> int:
        with self._transaction() as session:
            return session.execute(
                f"{_FORGET} AND created_at < :older_than", {"tenant_id": tenant_id, "older_than": older_than}
            )

    def forget_conversation(self, tenant_id: UUID, conversation_id: UUID, *, audit: AuditEntry) -> int:
        if self._rpc is not None:
            return forget_by_function(self._rpc, tenant_id, conversation_id, audit)
        with self._transaction() as session:
            forgotten = session.execute(
                f"{_FORGET} AND conversation_id = :conversation_id",
                {"tenant_id": tenant_id, "conversation_id": conversation_id},
            )
            if forgotten:
                self._write_audit(session, audit)
        return forgotten


class SupabaseVoiceTurns:
    """Spoken turns through PostgREST: plain table requests, each filtered by the tenant, run
    by the Supabase store (its error translation and paging)."""

    def __init__(self, client: SupabaseAccess) -> None:
        self._client = client

    def keep(self, turn: VoiceTurn) -> bool:
        client = self._client
        found = client._rows(
            client._table("turns")
            .select("id")
            .eq("tenant_id", str(turn.tenant_id))
            .eq("id", str(turn.turn_id))
            .eq("conversation_id", str(turn.conversation_id))
        )
        if not found:
            raise _not_found(turn)
        row = {
            "tenant_id": str(turn.tenant_id),
            "turn_id": str(turn.turn_id),
            "conversation_id": str(turn.conversation_id),
            "listening_ms": turn.listening_ms,
            "transcribing_ms": turn.transcribing_ms,
            "answering_ms": turn.answering_ms,
            "first_audio_ms": turn.first_audio_ms,
            "audio_type": _audio_type(turn),
            "caller_audio": "\\x" + turn.caller_audio.data.hex() if turn.caller_audio else None,
            "reply_audio": "\\x" + turn.reply_audio.data.hex() if turn.reply_audio else None,
            "created_at": (turn.created_at or utcnow()).isoformat(),
        }
        written = client._rows(
            client._table("voice_turns").upsert(row, on_conflict="tenant_id,turn_id", ignore_duplicates=True)
        )
        return bool(written)

    def in_conversation(self, tenant_id: UUID, conversation_id: UUID) -> list[VoiceTurn]:
        client = self._client
        rows = client._all(
            client._table("voice_turns")
            .select(_COLUMNS.replace(" ", ""))
            .eq("tenant_id", str(tenant_id))
            .eq("conversation_id", str(conversation_id))
            .order("created_at")
            .order("turn_id")
        )
        return [_from_row(row) for row in rows]

    def forget_recordings(self, tenant_id: UUID, older_than: datetime) -> int:
        client = self._client
        rows = client._rows(
            client._table("voice_turns")
            .update({"audio_type": None, "caller_audio": None, "reply_audio": None})
            .eq("tenant_id", str(tenant_id))
            .not_.is_("audio_type", "null")
            .lt("created_at", older_than.isoformat())
        )
        return len(rows)

    def forget_conversation(self, tenant_id: UUID, conversation_id: UUID, *, audit: AuditEntry) -> int:
        return forget_by_function(self._client._rpc, tenant_id, conversation_id, audit)

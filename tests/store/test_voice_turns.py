"""Spoken turns' timings and recordings, on every store backend: kept once with their turn,
only for the tenant's own turn, forgotten by age, deleted with their conversation, and
counted in Analytics on the turn's day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import psycopg
import pytest

from agent_core.access.models import AuditAction, AuditEntry, AuditQuery
from agent_core.domain import ChatMessage, Tenant, Usage
from agent_core.errors import NotFoundError
from agent_core.store.analytics import AnalyticsQuery, bucket_of, bucket_value
from agent_core.store.base import Store, TurnOutcome, TurnStart
from agent_core.store.sqlite import SqliteStore
from agent_core.store.voice_turns import Recording, VoiceTurn
from tests.conftest import TEST_ADMIN, database_behind

CALLER = Recording(b"OggS caller \x00\xff bytes", "audio/ogg")
REPLY = Recording(bytes(range(256)) * 40, "audio/ogg")


def spoken(turn: TurnStart, tenant: Tenant, *, at: datetime | None = None, audio: bool = True) -> VoiceTurn:
    return VoiceTurn(
        tenant_id=tenant.id,
        turn_id=turn.turn_id,
        conversation_id=turn.conversation_id,
        listening_ms=2_400.0,
        transcribing_ms=510.0,
        answering_ms=35.0,
        first_audio_ms=800.0,
        caller_audio=CALLER if audio else None,
        reply_audio=REPLY if audio else None,
        created_at=at,
    )


def test_a_spoken_turn_is_kept_once_with_both_recordings(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "Book a tour for John Smith")
    assert store.voice_turns.keep(spoken(turn, tenant)) is True
    assert store.voice_turns.keep(spoken(turn, tenant)) is False  # once per turn

    [kept] = store.voice_turns.in_conversation(tenant.id, turn.conversation_id)
    assert (kept.turn_id, kept.listening_ms, kept.transcribing_ms) == (turn.turn_id, 2_400.0, 510.0)
    assert (kept.answering_ms, kept.first_audio_ms) == (35.0, 800.0)
    assert (kept.caller_audio, kept.reply_audio) == (CALLER, REPLY)


def test_a_spoken_turn_without_audio_keeps_its_timings(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "Hello")
    store.voice_turns.keep(spoken(turn, tenant, audio=False))
    [kept] = store.voice_turns.in_conversation(tenant.id, turn.conversation_id)
    assert (kept.caller_audio, kept.reply_audio, kept.listening_ms) == (None, None, 2_400.0)


def test_another_tenants_turn_gets_nothing_and_reads_nothing(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = store.start_turn(other_tenant.id, None, "My private words")
    with pytest.raises(NotFoundError, match="not found"):
        store.voice_turns.keep(spoken(theirs, tenant))
    store.voice_turns.keep(spoken(theirs, other_tenant))
    assert store.voice_turns.in_conversation(tenant.id, theirs.conversation_id) == []
    assert len(store.voice_turns.in_conversation(other_tenant.id, theirs.conversation_id)) == 1


def test_a_turn_of_another_conversation_is_refused(store: Store, tenant: Tenant) -> None:
    first = store.start_turn(tenant.id, None, "One")
    second = store.start_turn(tenant.id, None, "Two")
    wrong = VoiceTurn(tenant.id, first.turn_id, second.conversation_id, 1.0, 1.0, None, None)
    with pytest.raises(NotFoundError):
        store.voice_turns.keep(wrong)


def test_recordings_older_than_the_cut_are_forgotten_and_their_timings_stay(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    now = datetime.now(UTC)
    old = store.start_turn(tenant.id, None, "Old call")
    new = store.start_turn(tenant.id, None, "New call")
    theirs = store.start_turn(other_tenant.id, None, "Their old call")
    store.voice_turns.keep(spoken(old, tenant, at=now - timedelta(days=40)))
    store.voice_turns.keep(spoken(new, tenant, at=now - timedelta(days=2)))
    store.voice_turns.keep(spoken(theirs, other_tenant, at=now - timedelta(days=40)))

    assert store.voice_turns.forget_recordings(tenant.id, now - timedelta(days=30)) == 1
    assert store.voice_turns.forget_recordings(tenant.id, now - timedelta(days=30)) == 0

    [forgotten] = store.voice_turns.in_conversation(tenant.id, old.conversation_id)
    assert (forgotten.caller_audio, forgotten.reply_audio, forgotten.first_audio_ms) == (None, None, 800.0)
    [kept] = store.voice_turns.in_conversation(tenant.id, new.conversation_id)
    assert kept.caller_audio == CALLER
    [untouched] = store.voice_turns.in_conversation(other_tenant.id, theirs.conversation_id)
    assert untouched.reply_audio == REPLY


def test_spoken_turns_count_in_analytics_on_their_turns_day(store: Store, tenant: Tenant) -> None:
    for _ in range(3):
        turn = store.start_turn(tenant.id, None, "Hello")
        store.voice_turns.keep(spoken(turn, tenant))
    store.start_turn(tenant.id, None, "Typed, not spoken")
    today = datetime.now(UTC).date()
    result = store.analytics(AnalyticsQuery(tenant.id, today - timedelta(days=1), today + timedelta(days=1)))

    assert result.spoken_turns == 3
    expected = {
        part: bucket_value(bucket_of(ms))
        for part, ms in (("listening", 2_400), ("transcribing", 510), ("answering", 35), ("first_audio", 800))
    }
    assert {part: values[50] for part, values in result.voice_latency_ms.items()} == expected


def test_a_conversation_deleted_takes_its_recordings_with_it(
    store: Store, tenant: Tenant, request: pytest.FixtureRequest
) -> None:
    turn = store.start_turn(tenant.id, None, "Delete me")
    store.voice_turns.keep(spoken(turn, tenant))
    params = {"tenant": str(tenant.id), "conversation": str(turn.conversation_id)}
    if isinstance(store, SqliteStore):
        with store._transaction() as session:
            session.execute(
                "DELETE FROM conversations WHERE tenant_id = :tenant AND id = :conversation", params
            )
            left = session.query("SELECT count(*) AS n FROM voice_turns WHERE tenant_id = :tenant", params)
        assert left[0]["n"] == 0
    else:
        with psycopg.connect(database_behind(request), autocommit=True) as connection:
            connection.execute(
                "DELETE FROM conversations WHERE tenant_id = %(tenant)s AND id = %(conversation)s", params
            )
            counted = connection.execute(
                "SELECT count(*) FROM voice_turns WHERE tenant_id = %(tenant)s", params
            )
            assert counted.fetchone() == (0,)
    assert store.voice_turns.in_conversation(tenant.id, turn.conversation_id) == []


def test_a_spoken_turn_of_an_unknown_turn_is_refused(store: Store, tenant: Tenant) -> None:
    turn = store.start_turn(tenant.id, None, "Hello")
    unknown = VoiceTurn(tenant.id, uuid4(), turn.conversation_id, 1.0, 1.0, None, None)
    with pytest.raises(NotFoundError):
        store.voice_turns.keep(unknown)
    assert store.voice_turns.in_conversation(tenant.id, turn.conversation_id) == []


def test_a_conversations_recordings_are_forgotten_on_request_with_their_audit_entry(
    store: Store, tenant: Tenant, other_tenant: Tenant
) -> None:
    first = store.start_turn(tenant.id, None, "Please forget me")
    store.voice_turns.keep(spoken(first, tenant))
    outcome = TurnOutcome("succeeded", "Noted.", "scripted", Usage(1, 1), 1, 1.0)
    store.finish_turn(
        tenant.id, first.conversation_id, first.turn_id, ChatMessage("assistant", "Noted."), outcome
    )
    second = store.start_turn(tenant.id, first.conversation_id, "And this")
    store.voice_turns.keep(spoken(second, tenant))
    kept = store.start_turn(tenant.id, None, "Another caller")
    store.voice_turns.keep(spoken(kept, tenant))
    theirs = store.start_turn(other_tenant.id, None, "Their call")
    store.voice_turns.keep(spoken(theirs, other_tenant))
    target = f"conversation {first.conversation_id}"
    entry = AuditEntry.by(TEST_ADMIN, AuditAction.RECORDINGS_FORGOTTEN, target, tenant_id=tenant.id)

    # Another tenant's id for the conversation forgets nothing and audits nothing.
    assert store.voice_turns.forget_conversation(other_tenant.id, first.conversation_id, audit=entry) == 0
    assert store.voice_turns.forget_conversation(tenant.id, first.conversation_id, audit=entry) == 2
    assert store.voice_turns.forget_conversation(tenant.id, first.conversation_id, audit=entry) == 0

    forgotten = store.voice_turns.in_conversation(tenant.id, first.conversation_id)
    assert [(v.caller_audio, v.reply_audio) for v in forgotten] == [(None, None), (None, None)]
    assert [v.listening_ms for v in forgotten] == [2_400.0, 2_400.0]
    assert store.voice_turns.in_conversation(tenant.id, kept.conversation_id)[0].caller_audio == CALLER
    assert (
        store.voice_turns.in_conversation(other_tenant.id, theirs.conversation_id)[0].caller_audio == CALLER
    )
    audited = store.list_audit(
        AuditQuery(frozenset({tenant.id}), actions=(AuditAction.RECORDINGS_FORGOTTEN,))
    )
    assert [a.target for a in audited] == [target]

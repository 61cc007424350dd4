"""Spoken turns kept with their conversation: timed part by part, both sides recorded while
the tenant keeps recordings (and forgotten after its `recording_days`), and only by those who
may talk to its agent."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from agent_core.access.models import Principal, PrincipalKind, UserRole
from agent_core.agent.steps import TurnStarted, collect
from agent_core.domain import Tenant
from agent_core.errors import ForbiddenError
from agent_core.store.base import Store
from agent_core.store.sqlite import SqliteStore
from agent_core.store.voice_turns import VoiceTurn
from agent_core.voice.audio import AudioLimits, Clip, read_clip, wav_bytes
from agent_core.voice.channel import Heard, Voice
from agent_core.voice.offline import PiperSpeaker, WhisperTranscriber
from agent_core.voice.recording import SpokenTurn
from agent_core.voice.retention import RecordingRetention
from agent_core.voice.speech import Delivery
from agent_core.workspace import Workspace
from tests.conftest import add_tenant, audit_entry, eventually, make_workspace

LIMITS = AudioLimits(10**8, 600)


@pytest.fixture
def voice(whisper: WhisperTranscriber, piper: PiperSpeaker) -> Voice:
    return Voice(whisper, piper, AudioLimits(8_000_000, 30.0))


@pytest.fixture
def piper_said(piper: PiperSpeaker) -> bytes:
    return piper.speak("Please note that the client prefers morning tours.", Delivery())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """One backend: the store's part is proven on all of them in tests/store/test_voice_turns.py."""
    sqlite = SqliteStore(tmp_path / "recordings.sqlite3")
    yield sqlite
    sqlite.close()


def tone(seconds: float, pitch: float = 220.0) -> Clip:
    moments = np.arange(int(seconds * 16_000)) / 16_000
    return Clip((0.3 * np.sin(2 * np.pi * pitch * moments)).astype(np.float32))


def heard(text: str = "Hello there", seconds: float = 1.5) -> Heard:
    # As if the audio arrived 0.8 s ago and its words were known 0.3 s later.
    now = time.perf_counter()
    return Heard(text, seconds, 300.0, tone(seconds), now - 0.8, now - 0.5)


def spoken_answer(workspace: Workspace, tenant: Tenant, said: Heard) -> SpokenTurn:
    """A turn answering `said`, followed as a front end follows it, with two spoken sentences."""
    spoken = SpokenTurn(said)
    steps = workspace.stream(workspace.turn_request(tenant.id, said.text), spoken=True)
    first = next(steps)
    assert isinstance(first, TurnStarted)
    spoken.started(first.turn_id, first.conversation_id)
    collect(steps)
    spoken.answered()
    for seconds in (0.5, 0.75):
        pcm = (tone(seconds, 330.0).samples * 32767).astype("<i2").tobytes()
        spoken.spoke(wav_bytes(pcm, 16_000))
    return spoken


def kept_of(workspace: Workspace, tenant: Tenant, spoken: SpokenTurn) -> list[VoiceTurn]:
    assert spoken.conversation_id is not None
    return workspace.spoken_turns(tenant.id, spoken.conversation_id)


def with_recording_days(store: Store, tenant: Tenant, days: int) -> Tenant:
    return store.update_tenant_settings(tenant.id, {"recording_days": days}, audit=audit_entry())


def test_a_spoken_turn_is_kept_timed_with_both_sides_audio(store: Store) -> None:
    tenant = add_tenant(store, "Spoken Tours", "You are Kim.")
    workspace = make_workspace(store)
    spoken = spoken_answer(workspace, tenant, heard(seconds=1.5))

    assert workspace.keep_spoken_turn(tenant.id, spoken) is True
    [kept] = kept_of(workspace, tenant, spoken)
    assert kept.listening_ms == 1500.0
    assert kept.transcribing_ms == 300.0
    assert kept.answering_ms is not None
    assert kept.answering_ms >= 500.0  # from when the words were known, 0.5 s before
    assert kept.first_audio_ms is not None
    assert kept.first_audio_ms >= kept.answering_ms + 300.0  # the audio came 0.3 s before those
    assert kept.caller_audio is not None
    assert kept.reply_audio is not None
    assert read_clip(kept.caller_audio.data, LIMITS).seconds == pytest.approx(1.5, abs=0.05)
    # The two sentences spoken, as one recording.
    assert read_clip(kept.reply_audio.data, LIMITS).seconds == pytest.approx(1.25, abs=0.05)
    assert workspace.keep_spoken_turn(tenant.id, spoken) is False  # once


def test_a_tenant_keeping_no_recordings_keeps_the_timings_only(store: Store) -> None:
    tenant = with_recording_days(store, add_tenant(store, "Private Clinic", "You are Lee."), 0)
    workspace = make_workspace(store)
    spoken = spoken_answer(workspace, tenant, heard())
    workspace.keep_spoken_turn(tenant.id, spoken)
    [kept] = kept_of(workspace, tenant, spoken)
    assert (kept.caller_audio, kept.reply_audio) == (None, None)
    assert kept.first_audio_ms is not None


def test_a_message_that_never_started_a_turn_keeps_nothing(store: Store) -> None:
    tenant = add_tenant(store, "Quiet Tours", "You are Kim.")
    assert make_workspace(store).keep_spoken_turn(tenant.id, SpokenTurn(heard())) is False


def test_only_who_may_talk_to_the_agent_keeps_a_spoken_turn(store: Store) -> None:
    tenant = add_tenant(store, "Viewed Tours", "You are Kim.")
    spoken = spoken_answer(make_workspace(store), tenant, heard())
    viewer = Principal(PrincipalKind.USER, "viewer@example.com", UserRole.VIEWER, frozenset({tenant.id}))
    with pytest.raises(ForbiddenError):
        make_workspace(store, viewer).keep_spoken_turn(tenant.id, spoken)
    # A viewer may listen to what was kept.
    make_workspace(store).keep_spoken_turn(tenant.id, spoken)
    assert len(kept_of(make_workspace(store, viewer), tenant, spoken)) == 1


def test_a_store_that_cannot_keep_it_is_logged_and_the_answer_stands(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = add_tenant(store, "Closing Tours", "You are Kim.")
    workspace = make_workspace(store)
    spoken = spoken_answer(workspace, tenant, heard())
    # Another tenant's id for the turn's conversation: the store refuses it.
    other = add_tenant(store, "Other Tours", "You are Lee.")
    with caplog.at_level(logging.WARNING):
        assert workspace.keep_spoken_turn(other.id, spoken) is False
    assert "was not kept" in caplog.text


def test_recordings_are_forgotten_after_each_tenants_own_retention(store: Store) -> None:
    now = datetime.now(UTC)
    week = with_recording_days(store, add_tenant(store, "Week Tours", "You are Kim."), 7)
    month = add_tenant(store, "Month Tours", "You are Kim.")  # the default: 30 days
    workspace = make_workspace(store)
    kept: dict[str, VoiceTurn] = {}
    for tenant in (week, month):
        spoken = spoken_answer(workspace, tenant, heard())
        record = spoken.record(tenant.id, keep_audio=True)
        assert record is not None
        # Recorded ten days ago.
        store.voice_turns.keep(replace(record, created_at=now - timedelta(days=10)))
        kept[tenant.name] = record

    assert RecordingRetention(store).sweep(now) == 1
    [forgotten] = store.voice_turns.in_conversation(week.id, kept["Week Tours"].conversation_id)
    assert (forgotten.caller_audio, forgotten.reply_audio) == (None, None)
    [still] = store.voice_turns.in_conversation(month.id, kept["Month Tours"].conversation_id)
    assert still.caller_audio is not None
    # Shortened to none at all: the next sweep forgets the rest.
    with_recording_days(store, month, 0)
    assert RecordingRetention(store).sweep(now) == 1


def test_the_recording_of_a_real_utterance_is_heard_as_the_same_words(
    store: Store, voice: Voice, piper_said: bytes
) -> None:
    tenant = add_tenant(store, "Heard Tours", "You are Kim.")
    workspace = make_workspace(store, voice=voice)
    said = workspace.hear(tenant.id, piper_said)
    spoken = spoken_answer(workspace, tenant, said)
    workspace.keep_spoken_turn(tenant.id, spoken)
    [kept] = kept_of(workspace, tenant, spoken)
    assert kept.caller_audio is not None
    assert workspace.hear(tenant.id, kept.caller_audio.data).text == said.text


def test_the_sweep_runs_on_its_own_until_closed(store: Store) -> None:
    tenant = with_recording_days(store, add_tenant(store, "Swept Tours", "You are Kim."), 0)
    workspace = make_workspace(store)
    record = spoken_answer(workspace, tenant, heard()).record(tenant.id, keep_audio=True)
    assert record is not None
    store.voice_turns.keep(record)
    retention = RecordingRetention(store, first_after=0.01, every=0.05)
    retention.start()
    try:
        eventually(
            lambda: (
                store.voice_turns.in_conversation(tenant.id, record.conversation_id)[0].caller_audio is None
            ),
            "the recording forgotten by the background sweep",
        )
    finally:
        retention.close()


def test_a_failed_sweep_is_logged_and_tried_again(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    add_tenant(store, "Tours", "You are Kim.")
    retention = RecordingRetention(store, first_after=0.01, every=0.05)
    store.close()  # every sweep fails from now on
    with caplog.at_level(logging.ERROR):
        retention.start()
        try:
            eventually(lambda: caplog.text.count("sweep failed") >= 2, "two failed sweeps logged")
        finally:
            retention.close()


def test_an_operator_forgets_a_conversations_recordings_and_a_viewer_may_not(store: Store) -> None:
    tenant = add_tenant(store, "Forgetful Tours", "You are Kim.")
    spoken = spoken_answer(make_workspace(store), tenant, heard())
    make_workspace(store).keep_spoken_turn(tenant.id, spoken)
    assert spoken.conversation_id is not None
    viewer = Principal(PrincipalKind.USER, "viewer@example.com", UserRole.VIEWER, frozenset({tenant.id}))
    with pytest.raises(ForbiddenError):
        make_workspace(store, viewer).forget_recordings(tenant.id, spoken.conversation_id)
    operator = Principal(PrincipalKind.USER, "ops@example.com", UserRole.OPERATOR, frozenset({tenant.id}))
    assert make_workspace(store, operator).forget_recordings(tenant.id, spoken.conversation_id) == 1
    [forgotten] = kept_of(make_workspace(store), tenant, spoken)
    assert forgotten.caller_audio is None

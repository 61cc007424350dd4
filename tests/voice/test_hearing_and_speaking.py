"""The voice channel end to end with the real offline models: the seed's requests spoken by
Piper are heard by Whisper tiny.en and make the right tool calls with the right arguments;
replies are spoken; what cannot be heard writes nothing."""

from __future__ import annotations

import gc
import io
import warnings
import wave
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from agent_core.agent.steps import collect
from agent_core.domain import TurnResult
from agent_core.errors import InvalidInputError, VoiceUnavailableError
from agent_core.store.base import Store
from agent_core.store.sqlite import SqliteStore
from agent_core.voice.audio import AudioLimits, wav_bytes
from agent_core.voice.channel import Voice, spoken_text
from agent_core.voice.offline import (
    EspeakSpeaker,
    PiperSpeaker,
    WhisperTranscriber,
    bundled_piper_voice,
    find_espeak,
)
from agent_core.voice.speech import Delivery
from agent_core.workspace import Workspace
from tests.conftest import make_workspace, service_missing, whole_turn

LIMITS = AudioLimits(max_bytes=8_000_000, max_seconds=30.0)


@pytest.fixture
def voice(whisper: WhisperTranscriber, piper: PiperSpeaker) -> Voice:
    return Voice(whisper, piper, LIMITS)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """One backend is enough: hearing and speaking do not touch the store."""
    sqlite = SqliteStore(tmp_path / "voice.sqlite3")
    yield sqlite
    sqlite.close()


@pytest.fixture
def talking(store: Store, voice: Voice) -> Workspace:
    return make_workspace(store, voice=voice)


def seconds_of(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as audio:
        frames: int = audio.getnframes()
        rate: int = audio.getframerate()
    return frames / rate


# The seed's curl examples as a caller says them (dates and addresses in words).
SPOKEN = [
    (
        "I want to book a tour for John Smith on March fifteenth, 2027, in Paris.",
        "book_tour",
        {"name": "John Smith", "date": "2027-03-15", "location": "Paris"},
    ),
    (
        "Please note that the client prefers morning tours and vegetarian meals.",
        "take_note",
        {"content": "The client prefers morning tours and vegetarian meals."},
    ),
    ("Cancel the tour for John Smith on March fifteenth, 2027.", "cancel_tour", None),
]


@pytest.mark.parametrize(("said", "tool", "arguments"), SPOKEN, ids=[t for _, t, _ in SPOKEN])
def test_a_spoken_request_is_heard_and_makes_the_right_call(
    talking: Workspace, piper: PiperSpeaker, said: str, tool: str, arguments: dict[str, str] | None
) -> None:
    tenant_id = talking.tenants()[0].id
    if tool == "cancel_tour":
        whole_turn(talking, tenant_id, "Book a tour for John Smith on 2027-03-15 in Paris")
    heard = talking.hear(tenant_id, piper.speak(said, Delivery()))
    assert heard.seconds > 1.0
    result = whole_turn(talking, tenant_id, heard.text)
    assert [c.name for c in result.tool_calls] == [tool], heard.text
    if arguments is not None:
        assert result.tool_calls[0].arguments == arguments, heard.text
    assert result.tool_calls[0].status == "succeeded"


def test_a_spoken_email_or_phone_number_is_read_back_before_it_is_saved(
    talking: Workspace, store: Store
) -> None:
    tenant_id = talking.tenants()[0].id

    def spoken(message: str, conversation_id: UUID | None = None) -> TurnResult:
        request = talking.turn_request(tenant_id, message, conversation_id)
        return collect(talking.stream(request, spoken=True))

    heard = spoken("Update contact info for Sarah Jones: email is sarah@example.com.")
    assert heard.tool_calls == ()
    assert "spelled s a r a h at example dot com" in heard.reply
    assert store.list_contacts(tenant_id).total == 0
    saved = spoken("yes", heard.conversation_id)
    assert [c.name for c in saved.tool_calls] == ["update_contact_info"]
    # Typed, it is saved at once: the caller wrote it.
    typed = whole_turn(talking, tenant_id, "Update contact info for Bob Brown: phone is +1 555 0100.")
    assert [c.name for c in typed.tool_calls] == ["update_contact_info"]


def test_the_reply_is_spoken_in_the_tenants_pace(talking: Workspace, store: Store) -> None:
    tenant_id = talking.tenants()[0].id
    reply = "I've booked a tour for John Smith on Monday 15 March 2027 in Paris."
    usual = talking.say(tenant_id, reply)
    talking.update_tenant_settings(tenant_id, speech_speed=1.5)
    faster = talking.say(tenant_id, reply)
    assert usual is not None
    assert faster is not None
    assert seconds_of(faster) < seconds_of(usual) * 0.8


def test_audio_that_cannot_be_heard_writes_nothing(talking: Workspace, store: Store) -> None:
    tenant_id = talking.tenants()[0].id
    before = len(store.list_conversations(tenant_id))
    silence = wav_bytes(bytes(32_000), 16_000)
    with pytest.raises(InvalidInputError, match="silent"):
        talking.hear(tenant_id, silence)
    # A cough: sound, but no word in it.
    noise = wav_bytes(bytes([0, 40] * 4000) + bytes(16_000), 16_000)
    with pytest.raises(InvalidInputError, match="no words were recognised"):
        talking.hear(tenant_id, noise)
    assert len(store.list_conversations(tenant_id)) == before


def test_without_speech_to_text_hearing_says_what_to_install(store: Store) -> None:
    workspace = make_workspace(
        store, voice=Voice(None, None, LIMITS, "install the voice extra to hear callers offline")
    )
    with pytest.raises(VoiceUnavailableError, match="install the voice extra"):
        workspace.hear(workspace.tenants()[0].id, wav_bytes(bytes(3200), 16_000))
    assert workspace.say(workspace.tenants()[0].id, "Hello") is None


def test_espeak_speaks_a_wav_whisper_understands(whisper: WhisperTranscriber) -> None:
    program = find_espeak()
    if program is None:
        service_missing("espeak-ng is not installed (apt-get install espeak-ng)")
    wav = EspeakSpeaker(program).speak("Hello, what can you help me with?", Delivery())
    assert seconds_of(wav) > 1.0
    heard = Voice(whisper, None, LIMITS).hear(wav)
    assert "help me" in heard.text.lower()


def test_replies_are_spoken_without_links_ids_or_markup() -> None:
    assert (
        spoken_text(
            "Done: I've booked a tour for John Smith on Monday 15 March 2027 in Paris (booking reference a782f9c1)."
        )
        == "Done: I've booked a tour for John Smith on Monday 15 March 2027 in Paris."
    )
    assert spoken_text("Moved to 2027-03-16 (was 15 March).") == "Moved to 2027-03-16 (was 15 March)."
    reply = (
        "**Booked!** Reference 1ed59ad6-3b4c-4e5f-8a9b-0c1d2e3f4a5b; details at"
        " https://example.com/b/1 — see you."
    )
    assert spoken_text(reply) == (
        "Booked! Reference the reference in the chat; details at the link in the chat — see you."
    )


def test_piper_stopped_leaves_no_pipe_of_its_program_open(piper: PiperSpeaker) -> None:
    voice = bundled_piper_voice()
    assert voice is not None  # the piper fixture skipped otherwise
    speaker = PiperSpeaker(voice)
    assert seconds_of(speaker.speak("One.", Delivery())) > 0.2
    gc.collect()  # what earlier tests left is not this test's to judge
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        speaker.close()
        del speaker
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert [m for m in unclosed if m.startswith("unclosed file")] == []


def test_piper_speaks_again_after_its_programs_were_stopped(piper: PiperSpeaker) -> None:
    first = piper.speak("One.", Delivery(speed=1.25))
    piper.close()
    assert seconds_of(piper.speak("Two.", Delivery(speed=1.25))) > 0.2
    assert seconds_of(first) > 0.2

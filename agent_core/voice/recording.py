"""A spoken turn followed from the caller's audio to the reply's: each part timed, and both
sides' audio gathered to keep with the conversation. Every front end that answers speech
(push-to-talk, `/api/voice`, a live call) fills one and hands it to `Workspace.keep_spoken_turn`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from uuid import UUID

import numpy as np

from agent_core.store.voice_turns import VoiceTurn
from agent_core.voice.audio import Samples, encode_recording, wav_samples
from agent_core.voice.channel import Heard


def _since(moment: float) -> float:
    return (time.perf_counter() - moment) * 1000


@dataclass(slots=True)
class SpokenTurn:
    """One spoken message on its way: heard, answered by a turn, and (maybe) spoken back."""

    heard: Heard
    turn_id: UUID | None = None
    conversation_id: UUID | None = None
    answering_ms: float | None = None
    first_audio_ms: float | None = None
    _reply: list[Samples] = field(default_factory=list)

    def started(self, turn_id: UUID, conversation_id: UUID) -> None:
        """The turn that answers it began."""
        self.turn_id, self.conversation_id = turn_id, conversation_id

    def answered(self) -> None:
        """The reply's whole text is known."""
        self.answering_ms = _since(self.heard.heard_at)

    def spoke(self, audio: bytes | None) -> None:
        """Some of the reply was spoken as `audio` (WAV; None: nothing speaks here)."""
        if audio is None:
            return
        if self.first_audio_ms is None:
            self.first_audio_ms = _since(self.heard.received_at)
        self._reply.append(wav_samples(audio))

    def record(self, tenant_id: UUID, *, keep_audio: bool) -> VoiceTurn | None:
        """What to keep of it (with both sides' audio when `keep_audio`); None when no turn
        started, so there is nothing to keep it with."""
        if self.turn_id is None or self.conversation_id is None:
            return None
        return VoiceTurn(
            tenant_id=tenant_id,
            turn_id=self.turn_id,
            conversation_id=self.conversation_id,
            listening_ms=self.heard.seconds * 1000,
            transcribing_ms=self.heard.transcribe_ms,
            answering_ms=self.answering_ms,
            first_audio_ms=self.first_audio_ms,
            caller_audio=encode_recording(self.heard.clip.samples) if keep_audio else None,
            reply_audio=encode_recording(np.concatenate(self._reply)) if keep_audio and self._reply else None,
        )

"""A live call over a WebSocket (`/api/voice/live`): the caller's microphone streams in, each
utterance the voice activity detector finds is heard and answered as a turn, the reply comes
back as text and as speech sentence by sentence, and speaking over the reply interrupts it.

The protocol (documented in the README for integrators such as a telephony bridge):

- client → server: binary frames of 16 kHz 16-bit little-endian mono PCM, any size;
  `{"type": "hangup"}` ends the call.
- server → client, JSON text frames: `ready`, `speech_started` (stop playing the reply),
  `heard` (`text`), `not_heard` (`message`; `echo`: true when what was heard was the reply
  itself coming back, never taken as a message), `turn_started` (`conversationId`, `turnId`),
  `tool` (`name`, `status`, `arguments`), `audio` (`text`; the next frame is binary: that
  sentence spoken, a WAV file), `reply` (`text`, `conversationId`), `interrupted`, `error`
  (`code`, `message`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent_core.agent.steps import ReplyDelta, ToolCallFinished, TurnFinished, TurnStarted, TurnStep
from agent_core.domain import Channel
from agent_core.errors import AgentCoreError, InvalidInputError, TurnStoppedError
from agent_core.http.errors import ApiError, from_core
from agent_core.voice.audio import SAMPLE_RATE, wav_bytes, wav_seconds
from agent_core.voice.channel import Heard, whole_sentences
from agent_core.voice.echo import Playback
from agent_core.voice.listening import Listener, Paused, SpeechStarted, Utterance, sounds_unfinished
from agent_core.voice.recording import SpokenTurn
from agent_core.workspace import Workspace

ECHO_HEARD = "that was the assistant's own voice coming back (echo): not taken as a message"


async def refuse(socket: WebSocket, error: ApiError) -> None:
    """Refuse a call that cannot start (who calls, for which tenant): an `error`, then close."""
    await socket.send_text(json.dumps({"type": "error", "code": error.code, "message": error.message}))
    await socket.close(code=1008)


@dataclass(slots=True)
class _Guess:
    """What was said before a pause, being transcribed in case the pause is the end."""

    length: int
    hearing: asyncio.Task[Heard]
    weighed: bool = False


class LiveCall:
    """One caller on one WebSocket, for one tenant; a conversation across its utterances."""

    def __init__(
        self, socket: WebSocket, workspace: Workspace, tenant_id: UUID, conversation_id: UUID | None
    ) -> None:
        """VoiceUnavailableError when nothing here hears or finds the end of speech."""
        workspace.voice.require_ears()
        self._listener = Listener()
        self._socket = socket
        self._workspace = workspace
        self._tenant_id = tenant_id
        self._conversation_id = conversation_id
        self._answering: asyncio.Task[None] | None = None
        self._turn_id: UUID | None = None
        self._sending = asyncio.Lock()
        self._keeping: set[asyncio.Task[bool]] = set()
        self._playback = Playback()
        self._guess: _Guess | None = None

    async def run(self) -> None:
        """Listen until the caller hangs up or goes away."""
        await self._send({"type": "ready", "sampleRate": SAMPLE_RATE, "conversationId": self._conversation})
        try:
            while True:
                message = await self._socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes") is not None:
                    for heard in self._listener.feed(message["bytes"]):
                        await self._on(heard)
                    self._weigh_guess()
                elif await self._hangs_up(message.get("text")):
                    return
        except WebSocketDisconnect:
            return
        finally:
            await self._interrupt(quietly=True)
            await asyncio.gather(*self._keeping, return_exceptions=True)

    @property
    def _conversation(self) -> str | None:
        return None if self._conversation_id is None else str(self._conversation_id)

    async def _hangs_up(self, text: str | None) -> bool:
        """True for the hangup command; anything else is answered with an error (the call goes on)."""
        try:
            command = json.loads(text or "")
        except ValueError:
            command = None
        if isinstance(command, dict) and command.get("type") == "hangup":
            return True
        await self.error(
            ApiError(422, "validation_error", 'send audio as binary frames, or {"type": "hangup"}')
        )
        return False

    async def error(self, error: ApiError) -> None:
        """Tell the caller what went wrong, in the protocol's words."""
        await self._send({"type": "error", "code": error.code, "message": error.message})

    def _weigh_guess(self) -> None:
        """Once the words before a pause are known (and the caller has not spoken since):
        when they stop mid-phrase, wait longer for the rest; when they end a thought, the
        pause ends sooner."""
        guess = self._guess
        if guess is None or guess.weighed or not guess.hearing.done():
            return
        guess.weighed = True
        if guess.hearing.cancelled() or guess.hearing.exception() is not None:
            return
        if self._listener.paused_at != guess.length:
            return
        if sounds_unfinished(guess.hearing.result().text):
            self._listener.wait_longer()
        else:
            self._listener.end_sooner()

    def _hear(self, pcm: bytes) -> asyncio.Task[Heard]:
        """Transcribe on a worker thread; the task is awaited by an answer, or dropped."""
        hearing = asyncio.create_task(
            run_in_threadpool(self._workspace.hear, self._tenant_id, wav_bytes(pcm, SAMPLE_RATE))
        )
        # A dropped guess's failure is not news.
        hearing.add_done_callback(lambda done: done.cancelled() or done.exception())
        return hearing

    async def _on(self, heard: SpeechStarted | Paused | Utterance) -> None:
        if isinstance(heard, Paused):
            # Perhaps the end: transcribe what was said so far while waiting to be sure.
            self._guess = _Guess(len(heard.pcm), self._hear(heard.pcm))
            return
        if isinstance(heard, SpeechStarted):
            await self._send({"type": "speech_started"})
            self._playback.stopped()  # the client stops playing on speech_started
            # Speaking over the reply: the caller has something to say, the reply stops.
            await self._interrupt()
            return
        began = time.monotonic() - heard.seconds
        guess, self._guess = self._guess, None
        # Nothing was said after the pause: its transcript is the utterance's.
        hearing = guess.hearing if guess is not None and guess.length == heard.paused_at else None
        self._answering = asyncio.create_task(self._answer(hearing or self._hear(heard.pcm), began))

    async def _interrupt(self, *, quietly: bool = False) -> None:
        answering, self._answering = self._answering, None
        if answering is None or answering.done():
            return
        turn_id = self._turn_id
        if turn_id is not None:
            with contextlib.suppress(AgentCoreError):
                await run_in_threadpool(self._workspace.stop_turn, self._tenant_id, turn_id)
        answering.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await answering
        if not quietly:
            await self._send({"type": "interrupted"})

    async def _answer(self, hearing: asyncio.Task[Heard], began: float) -> None:
        workspace, tenant_id = self._workspace, self._tenant_id
        try:
            heard = await hearing
        except InvalidInputError as exc:
            await self._send({"type": "not_heard", "message": str(exc)})
            return
        except AgentCoreError as exc:
            await self.error(from_core(exc))
            return
        if self._playback.echoes(heard.text, began):
            await self._send({"type": "not_heard", "message": ECHO_HEARD, "echo": True})
            return
        await self._send({"type": "heard", "text": heard.text, "seconds": round(heard.seconds, 2)})
        spoken = SpokenTurn(heard)
        try:
            request = workspace.turn_request(tenant_id, heard.text, self._conversation_id)
            steps = await run_in_threadpool(partial(workspace.stream, request, Channel.API, spoken=True))
            await self._follow(steps, spoken)
        except TurnStoppedError:
            return
        except AgentCoreError as exc:
            await self.error(from_core(exc))
        finally:
            self._turn_id = None
            # Kept on a task of its own: an interrupted answer is cancelled, and what the
            # caller said before interrupting is still theirs to keep.
            keeping = asyncio.create_task(run_in_threadpool(workspace.keep_spoken_turn, tenant_id, spoken))
            self._keeping.add(keeping)
            keeping.add_done_callback(self._keeping.discard)

    async def _follow(self, steps: Iterator[TurnStep], spoken: SpokenTurn) -> None:
        written = ""
        async for step in iterate_in_threadpool(steps):
            if isinstance(step, TurnStarted):
                spoken.started(step.turn_id, step.conversation_id)
                self._conversation_id, self._turn_id = step.conversation_id, step.turn_id
                await self._send(
                    {
                        "type": "turn_started",
                        "conversationId": self._conversation,
                        "turnId": str(step.turn_id),
                    }
                )
            elif isinstance(step, ToolCallFinished):
                record = step.record
                await self._send(
                    {
                        "type": "tool",
                        "name": record.name,
                        "status": record.status,
                        "arguments": record.arguments,
                    }
                )
            elif isinstance(step, ReplyDelta):
                sentences, written = whole_sentences(written + step.text)
                for sentence in sentences:
                    spoken.spoke(await self._speak(sentence))
            elif isinstance(step, TurnFinished):
                spoken.answered()
                if written.strip():
                    spoken.spoke(await self._speak(written))
                await self._send(
                    {"type": "reply", "text": step.result.reply, "conversationId": self._conversation}
                )

    async def _speak(self, sentence: str) -> bytes | None:
        """Say a sentence to the caller; the audio sent (None: nothing speaks here, the reply
        comes as text only)."""
        audio = await run_in_threadpool(self._workspace.say, self._tenant_id, sentence)
        if audio is None:
            return None
        async with self._sending:
            await self._socket.send_text(json.dumps({"type": "audio", "text": sentence}))
            await self._socket.send_bytes(audio)
        self._playback.sent(sentence, wav_seconds(audio))
        return audio

    async def _send(self, event: dict[str, Any]) -> None:
        async with self._sending:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await self._socket.send_text(json.dumps(event))

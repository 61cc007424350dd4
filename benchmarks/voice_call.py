"""A live call's delay as the caller hears it: `vam api` on embedded defaults (demo model,
SQLite, Whisper tiny.en, Piper), one WebSocket call, a 3-second request streamed in real time
(20 ms frames at their own pace, then silence), timed from the last frame of speech to the
transcript (transcribed during the pause, which ends 0.5–1.2 s into the silence depending on
the words), the reply's text and the first audio of the reply.

Run: `.venv/bin/python -m benchmarks.voice_call` (needs the voice and piper extras; RUNS=10 by default).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.sync.client import connect

from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.testing.environment import unconfigured_environment
from agent_core.testing.net import free_port, wait_for_http
from agent_core.voice.audio import AudioLimits, read_clip
from agent_core.voice.offline import PiperSpeaker, bundled_piper_voice
from agent_core.voice.speech import Delivery
from benchmarks.timing import sized
from benchmarks.voice import UTTERANCE, quantile

ROOT = Path(__file__).resolve().parent.parent
FRAME = 640  # 20 ms of 16 kHz 16-bit mono
LABELS = {"heard": "the transcript", "reply": "the reply's text", "first audio": "the first audio"}


def speech() -> bytes:
    voice = bundled_piper_voice()
    if voice is None:
        raise SystemExit("needs the piper extra to speak the request")
    speaker = PiperSpeaker(voice)
    try:
        clip = read_clip(speaker.speak(UTTERANCE, Delivery()), AudioLimits(10_000_000, 60))
    finally:
        speaker.close()
    return (clip.samples * 32767).astype("<i2").tobytes()


def one_call(url: str, said: bytes) -> dict[str, float]:
    """Seconds from the last frame of speech to each mark."""
    with connect(f"ws://{url}/api/voice/live?tenantId={DEMO_TENANT_ID}") as socket:
        socket.recv(timeout=30)  # ready
        for offset in range(0, len(said), FRAME):
            socket.send(said[offset : offset + FRAME])
        spoke_until = time.perf_counter()
        marks: dict[str, float] = {}
        silence = bytes(FRAME)
        # The reply's text comes after the audio of its first sentence, often in a later read.
        give_up = spoke_until + 120
        while not LABELS.keys() <= marks.keys():
            if time.perf_counter() > give_up:
                raise SystemExit(f"the call heard only {sorted(marks)} within 120 s")
            socket.send(silence)  # the caller's line stays open, in real time
            time.sleep(0.02)
            while True:
                try:
                    frame = socket.recv(timeout=0)
                except TimeoutError:
                    break
                now = time.perf_counter() - spoke_until
                if isinstance(frame, bytes):
                    marks.setdefault("first audio", now)
                else:
                    marks.setdefault(json.loads(frame)["type"], now)
        socket.send(json.dumps({"type": "hangup"}))
    return marks


def main() -> None:
    runs = int(os.environ.get("RUNS", sized(10, 1)))
    said = speech()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = unconfigured_environment(SQLITE_PATH=str(Path(folder) / "call.sqlite3"))
        api = subprocess.Popen(
            [sys.executable, "-m", "agent_core.cli", "api", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if not wait_for_http(f"http://127.0.0.1:{port}/api/health", timeout=60):
                raise SystemExit("the API did not start")
            one_call(f"127.0.0.1:{port}", said)  # loads Whisper and starts Piper
            calls = [one_call(f"127.0.0.1:{port}", said) for _ in range(runs)]
        finally:
            api.terminate()
            api.wait(timeout=60)
    print(f"{runs} calls; a {len(said) / 32_000:.1f} s request streamed in real time\n")
    print("| from the last frame of speech to | p50 ms | p90 ms |")
    print("|---|---:|---:|")
    for mark, label in LABELS.items():
        values = [c[mark] * 1000 for c in calls if mark in c]
        print(f"| {label} | {statistics.median(values):,.0f} | {quantile(values, 0.9):,.0f} |")


if __name__ == "__main__":
    main()

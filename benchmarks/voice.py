"""A voice turn's time, offline, split where a caller waits: from the end of speech to the
transcript (Whisper tiny.en), to the reply's text (the turn: demo model, tools, SQLite), to
the first audio (Piper speaking the reply's first sentence) and to the last audio (the rest);
then what keeping the spoken turn costs once the caller was answered (both sides encoded as
Opus, the timings and recordings written).

The caller's utterance is a 3-second request Piper speaks once; each run hears it, answers it
in a new conversation and speaks the reply sentence by sentence, as a live call would.

Run: `.venv/bin/python -m benchmarks.voice` (needs the voice and piper extras; RUNS=20 by default).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from agent_core.access.authentication import LOCAL_PRINCIPAL
from agent_core.agent.steps import collect
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.testing.environment import unconfigured_environment
from agent_core.voice.channel import whole_sentences
from agent_core.voice.recording import SpokenTurn
from agent_core.voice.speech import Delivery
from benchmarks.timing import sized

UTTERANCE = "Book a tour for John Smith on March fifteenth in Paris."


def quantile(values: list[float], q: float) -> float:
    """The value at rank ceil(q x n)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def main() -> None:
    runs = int(os.environ.get("RUNS", sized(20, 1)))
    os.environ.clear()
    os.environ.update(unconfigured_environment())
    with tempfile.TemporaryDirectory() as folder:
        runtime = build_runtime(load_settings(sqlite_path=Path(folder) / "voice.sqlite3"))
        try:
            workspace = runtime.acting_as(LOCAL_PRINCIPAL)
            mouth = runtime.voice.mouth
            if mouth is None or runtime.voice.ears is None:
                raise SystemExit(f"needs the voice and piper extras: {runtime.voice.describe()}")
            said = mouth.speak(UTTERANCE, Delivery())
            workspace.hear(DEMO_TENANT_ID, said)  # loads Whisper (once per process)
            parts: dict[str, list[float]] = {
                k: [] for k in ("transcript", "reply", "first audio", "last audio")
            }
            keeping: list[float] = []
            heard_seconds = 0.0
            for _ in range(runs):
                start = time.perf_counter()
                heard = workspace.hear(DEMO_TENANT_ID, said)
                heard_seconds = heard.seconds
                transcribed = time.perf_counter()
                spoken = SpokenTurn(heard)
                request = workspace.turn_request(DEMO_TENANT_ID, heard.text, None)
                result = collect(workspace.stream(request, spoken=True))
                answered = time.perf_counter()
                spoken.started(result.turn_id, result.conversation_id)
                spoken.answered()
                finished, rest = whole_sentences(result.reply)
                sentences = [*finished, rest] if rest.strip() else finished
                spoken.spoke(workspace.say(DEMO_TENANT_ID, sentences[0]))
                first = time.perf_counter()
                for sentence in sentences[1:]:
                    spoken.spoke(workspace.say(DEMO_TENANT_ID, sentence))
                last = time.perf_counter()
                if not workspace.keep_spoken_turn(DEMO_TENANT_ID, spoken):
                    raise SystemExit("the spoken turn was not kept")
                keeping.append((time.perf_counter() - last) * 1000)
                parts["transcript"].append((transcribed - start) * 1000)
                parts["reply"].append((answered - start) * 1000)
                parts["first audio"].append((first - start) * 1000)
                parts["last audio"].append((last - start) * 1000)
        finally:
            runtime.close()
    print(f"{runs} runs; a {heard_seconds:.1f} s utterance; {runtime.voice.describe()}\n")
    print("| from the end of speech to | p50 ms | p90 ms |")
    print("|---|---:|---:|")
    for name, values in parts.items():
        print(f"| {name} | {statistics.median(values):,.0f} | {quantile(values, 0.9):,.0f} |")
    print(
        f"\nKeeping the spoken turn afterwards: {statistics.median(keeping):,.1f} ms p50,"
        f" {quantile(keeping, 0.9):,.1f} ms p90."
    )


if __name__ == "__main__":
    main()

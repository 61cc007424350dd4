"""CPU of one streamed model call on the caller's side: the OpenAI adapter against the
`openai` client's own streamed `chat.completions.create`, both against the local model
stand-in answering at once (a booking's tool call, the demo's system prompt and the six
tools' schemas in the request); then the adapter reading a real model's recorded answers
(`tests/llm/recordings/`, one piece per event as the server sent them), per chunk.

Run: `.venv/bin/python -m benchmarks.model_call` (`CALLS` sets how many per path).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from openai import OpenAI

from agent_core.domain import ChatMessage
from agent_core.llm.openai_model import OpenAIChatModel, _sse_chunks, to_openai_message, to_openai_tool
from agent_core.store.demo_data import DEMO_TENANTS
from agent_core.testing.net import wait_for_http
from agent_core.tools import default_registry
from benchmarks.model_stand_in import model_stand_in
from benchmarks.timing import sized

CALLS = int(os.environ.get("CALLS", sized(300, 3)))
_TENANT, _NAME, DEMO_PROMPT = DEMO_TENANTS[0]
MESSAGES = [ChatMessage("system", DEMO_PROMPT), ChatMessage("user", "Book Ana Silva tomorrow in Paris")]
TOOLS = default_registry().specs
RECORDINGS = Path(__file__).resolve().parent.parent / "tests/llm/recordings/qwen25-coder-1.5b.jsonl"


def cpu_per_call_ms(call: Callable[[], object]) -> float:
    """CPU milliseconds of this process per call, after a warm-up."""
    for _ in range(20):
        call()
    started = time.process_time()
    for _ in range(CALLS):
        call()
    return (time.process_time() - started) / CALLS * 1000


def main() -> None:
    with model_stand_in(0.0) as (url, _):
        if not wait_for_http(f"{url}/models", timeout=30):
            raise RuntimeError("the model stand-in did not start")
        client = OpenAI(api_key="sk-bench", base_url=url)
        adapter = OpenAIChatModel(client, "gpt-bench")
        wire_messages = [to_openai_message(m) for m in MESSAGES]
        wire_tools = [to_openai_tool(t) for t in TOOLS]

        def through_the_client() -> object:
            return list(
                client.chat.completions.create(
                    model="gpt-bench",
                    messages=wire_messages,  # type: ignore[arg-type]
                    tools=wire_tools,  # type: ignore[arg-type]
                    stream=True,
                )
            )

        print(f"{CALLS} calls per path; CPU of this process per call")
        print("| path | CPU ms per call |")
        print("|---|---:|")
        print(f"| `openai` client, streamed create | {cpu_per_call_ms(through_the_client):.2f} |")
        adapter_ms = cpu_per_call_ms(lambda: list(adapter.stream(MESSAGES, TOOLS)))
        print(f"| OpenAI adapter (kept connection) | {adapter_ms:.2f} |")
        chunks, reading_us = reading_us_per_chunk(adapter)
        print()
        print(
            f"Reading a real model's recorded answers ({chunks} chunks): {reading_us:.2f} µs of CPU per chunk"
        )


def reading_us_per_chunk(adapter: OpenAIChatModel) -> tuple[int, float]:
    """How many chunks the recorded answers hold, and the adapter's CPU µs per chunk to turn
    them into model events (the answers' bytes as they came, one piece per event)."""
    answers = [
        [b"data: " + chunk.encode() + b"\n\n" for chunk in json.loads(line)["response_chunks"]]
        + [b"data: [DONE]\n\n"]
        for line in RECORDINGS.read_text().splitlines()
    ]
    chunks = sum(len(pieces) for pieces in answers)
    rounds = sized(200, 2)
    started = time.process_time()
    for _ in range(rounds):
        for pieces in answers:
            for _event in adapter._consume(_sse_chunks(iter(pieces))):
                pass
    return chunks, (time.process_time() - started) / rounds / chunks * 1e6


if __name__ == "__main__":
    main()

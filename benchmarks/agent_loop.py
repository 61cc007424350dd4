"""Agent-loop overhead per turn with an instant in-process model (the loop alone, then
with each store), and import time.

Run: `.venv/bin/python -m benchmarks.agent_loop` (`make bench` runs it with the others).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from agent_core.agent.loop import Agent
from agent_core.agent.steps import collect
from agent_core.clock import FixedClock
from agent_core.domain import (
    ChatMessage,
    Event,
    EventName,
    JsonDict,
    OutboxEvent,
    ToolCallRequest,
    ToolSpec,
    TurnResult,
    Usage,
)
from agent_core.ids import new_id
from agent_core.llm.base import Interrupt, KeepsNothingOpen, ModelDone, ModelEvent, Reading, TextDelta
from agent_core.prompt_cache import PromptCache
from agent_core.store.base import Store
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.sqlite import SqliteStore
from agent_core.tools import default_registry
from benchmarks.no_store import no_store
from benchmarks.timing import HEADER, Timing, measure, sized

CLOCK = FixedClock(datetime(2026, 11, 24, 10, tzinfo=UTC))
BOOKING = json.dumps({"name": "John Smith", "date": "2027-03-15", "location": "Paris"})


class InstantModel(KeepsNothingOpen):
    """Answers at once: with one book_tour call when asked to book, else with text."""

    name = "instant"
    reading = Reading.DIRECT  # as the demo model: the turn reads it without a helper thread

    def __init__(self) -> None:
        self._calls = 0

    def stream(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], interrupt: Interrupt | None = None
    ) -> Iterator[ModelEvent]:
        last = messages[-1]
        if last.role == "user" and last.content == "book" and tools:
            self._calls += 1
            yield ToolCallRequest(f"call_{self._calls}", "book_tour", BOOKING)
        else:
            yield TextDelta("Done.")
        yield ModelDone(Usage(), self.name)


class NullSink:
    """Events with no listeners (they are still stored with each write): the loop without the bus."""

    def outbox(self, name: EventName, tenant_id: UUID, payload: JsonDict) -> OutboxEvent:
        return OutboxEvent(Event(new_id(), tenant_id, name, payload, datetime.now(UTC)), ())

    def deliver(self, events: Sequence[OutboxEvent]) -> None:
        return None


def agent_on(store: Store) -> Agent:
    return Agent(
        store=store,
        model=InstantModel(),
        tools=default_registry(),
        prompts=PromptCache(store, local_ttl_seconds=3600),
        events=NullSink(),
        clock=CLOCK,
    )


def turn(agent: Agent, message: str, conversation: UUID | None = None) -> TurnResult:
    """One turn of the demo tenant through the agent's one way in, waited for (in a new
    conversation, or in `conversation`)."""
    request: dict[str, object] = {"tenant_id": DEMO_TENANT_ID, "message": message}
    if conversation is not None:
        request["conversation_id"] = conversation
    return collect(agent.stream(agent.validate(request)))


def turn_timings(label: str, store: Store, runs: int) -> list[Timing]:
    agent = agent_on(store)
    # Measure what the label says: a booking turn that books, a greeting that calls nothing.
    if len(turn(agent, "book").tool_calls) != 1 or turn(agent, "hello").tool_calls:
        raise RuntimeError(f"{label}: the turns do not call the tools their labels say")
    return [
        measure(f"{label}: no-tool turn", lambda: turn(agent, "hello"), runs),
        measure(f"{label}: one-tool turn", lambda: turn(agent, "book"), runs),
    ]


def cpu_by_conversation_length(rounds: int = sized(3, 1), length: int = sized(200, 12)) -> list[str]:
    """Median CPU µs of a one-tool turn by how many turns its conversation had before, on a
    SQLite file: a turn must not cost more as its conversation grows (migration 0025)."""
    spans = [(0, 10), (10, 100), (100, 200)] if length >= 200 else [(0, length // 2), (length // 2, length)]
    samples: dict[tuple[int, int], list[int]] = {span: [] for span in spans}
    with tempfile.TemporaryDirectory() as folder:
        agent = agent_on(SqliteStore(Path(folder) / "long.sqlite3"))
        for _ in range(rounds):
            conversation: UUID | None = None
            for position in range(length):
                started = time.process_time_ns()
                conversation = turn(agent, "book", conversation).conversation_id
                spent = time.process_time_ns() - started
                span = next(s for s in spans if s[0] <= position < s[1])
                samples[span].append(spent)
    return [
        f"| turns {first + 1}–{last} | {len(xs)} | {statistics.median(xs) / 1000:,.0f} |"
        for (first, last), xs in samples.items()
    ]


def import_time_ms(module: str, repeats: int = sized(7, 1)) -> float:
    """Median wall time of a fresh interpreter importing `module`, minus an empty start."""
    code = "import time; t = time.perf_counter(); import {m}; print(time.perf_counter() - t)"
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code.format(m=module)], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeats)
    ]
    return statistics.median(samples) * 1000


def main() -> None:
    runs = 3000
    rows: list[Timing] = []
    rows += turn_timings("loop only (no store)", no_store(), runs)
    rows += turn_timings("SQLite :memory:", SqliteStore(":memory:"), runs)
    with tempfile.TemporaryDirectory() as folder:
        rows += turn_timings("SQLite file (WAL)", SqliteStore(Path(folder) / "bench.sqlite3"), runs)
    print(HEADER)
    for row in rows:
        print(row.row())
    print()
    print("One-tool turns of one conversation on a SQLite file, by the turn's place in it:")
    print("| turns of the conversation | turns measured | median CPU µs per turn |\n|---|---:|---:|")
    for line in cpu_by_conversation_length():
        print(line)
    print()
    for module in ("agent_core", "agent_core.agent.loop", "agent_core.runtime"):
        print(f"import {module}: {import_time_ms(module):.1f} ms")


if __name__ == "__main__":
    main()

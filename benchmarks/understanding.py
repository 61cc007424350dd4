"""How well the offline demo model understands callers, and what a reply costs: accuracy
per category and wrong writes on the labelled corpus (agent_core/testing/corpus.py; each held-out
set separately), then the time to answer one message.

Run: `.venv/bin/python -m benchmarks.understanding`
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from agent_core.clock import FixedClock
from agent_core.llm.demo_model import DemoModel
from agent_core.testing.corpus import AS_CALLERS_TALK, CORPUS, HELD_OUT
from agent_core.testing.held_out_callers import CALLERS_100, CALLERS_SECOND_ROUND
from agent_core.testing.understanding import Case, run_case, score
from agent_core.tools import default_registry
from benchmarks.timing import HEADER, measure

TODAY = date(2026, 11, 24)


def main() -> None:
    """Print the accuracy tables and the per-message timings."""
    model = DemoModel(FixedClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC)))
    specs = default_registry().specs
    started = time.perf_counter()
    # dateparser loads its language data on the first relative date.
    first = run_case(model, specs, next(c for c in CORPUS if c.category == "book: relative dates"), TODAY)
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(f"first relative date (dateparser loading): {elapsed_ms:,.0f} ms, right={first.right}\n")
    print("Corpus the rules were written against:\n")
    print(score(model, specs, CORPUS, TODAY).table())
    for title, cases in (
        ("Held-out cases", HELD_OUT),
        ("As callers talk", AS_CALLERS_TALK),
        ("callers-100 (held out until its first run)", CALLERS_100),
        ("second round (held out until its first run)", CALLERS_SECOND_ROUND),
    ):
        print(f"\n{title}:\n")
        print(score(model, specs, cases, TODAY).table())

    def one(case: Case) -> Callable[[], object]:
        return lambda: run_case(model, specs, case, TODAY)

    explicit = next(c for c in CORPUS if c.category == "book: explicit")
    relative = next(c for c in CORPUS if c.category == "book: relative dates" and len(c.turns) == 2)
    small_talk = next(c for c in CORPUS if c.category == "small talk and questions")
    print("\n" + HEADER)
    for label, case in (
        ("booking with an ISO date (1 message)", explicit),
        ("booking with 'tomorrow' then 'yes' (2 messages)", relative),
        ("small talk (1 message)", small_talk),
    ):
        print(measure(label, one(case), runs=300, warmup=20).row())
    all_cases = [*CORPUS, *HELD_OUT, *AS_CALLERS_TALK, *CALLERS_100, *CALLERS_SECOND_ROUND]
    started = time.perf_counter()
    score(model, specs, all_cases, TODAY)
    print(f"\nwhole corpus ({len(all_cases)} cases): {(time.perf_counter() - started) * 1000:,.0f} ms")


if __name__ == "__main__":
    main()

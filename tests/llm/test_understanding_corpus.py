"""The offline demo model on the labelled corpus of what callers say (agent_core/testing/corpus.py):
every case right, and never a write nobody asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from agent_core.clock import FixedClock
from agent_core.llm.demo_model import DemoModel
from agent_core.testing.corpus import CORPUS, HELD_OUT, book, case
from agent_core.testing.understanding import Case, Outcome, run_case, score
from agent_core.tools import default_registry

TODAY = date(2026, 11, 24)
SPECS = default_registry().specs
MODEL = DemoModel(FixedClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC)))


def test_the_corpus_is_large_and_covers_every_kind_of_request() -> None:
    cases = [*CORPUS, *HELD_OUT]
    assert len(cases) >= 300
    assert sum(len(c.turns) > 1 for c in cases) >= 50
    assert {c.category for c in CORPUS} >= {
        "note",
        "contact",
        "look up",
        "cancel",
        "reschedule",
        "seed messages",
    }


@pytest.mark.parametrize(
    "labelled", [*CORPUS, *HELD_OUT], ids=lambda c: f"{c.category}: {' / '.join(c.turns)}"[:90]
)
def test_each_case_is_understood(labelled: Case) -> None:
    outcome = run_case(MODEL, SPECS, labelled, TODAY)
    assert outcome.wrong_writes == []
    assert outcome.right, (outcome.calls, outcome.replies)


def test_the_score_counts_a_wrong_write_and_a_missed_question() -> None:
    # The scoring itself can fail: a case expecting another booking is wrong and a wrong write.
    mislabelled = case(
        "check",
        "Book a tour for John Smith on 2027-03-15 in Paris.",
        calls=(book("Jane Doe", "2027-03-15", "Paris"),),
    )
    outcome: Outcome = run_case(MODEL, SPECS, mislabelled, TODAY)
    assert not outcome.right
    assert outcome.wrong_writes == [
        ("book_tour", {"name": "John Smith", "date": "2027-03-15", "location": "Paris"})
    ]
    asks = case("check", "Book a tour for John Smith", reply="a reply it never gives")
    assert not run_case(MODEL, SPECS, asks, TODAY).right
    table = score(MODEL, SPECS, [mislabelled, asks], TODAY)
    assert (table.accuracy, table.wrong_writes) == (0.0, 1)

"""Time has two sources, both in agent_core/clock.py: `utcnow()` stamps rows and events, and
the injected `Clock` gives the business's 'now' and 'today' (so tests can pin the date)."""

from __future__ import annotations

import re

from tests.conftest import ROOT

READ_THE_TIME = re.compile(r"\bdatetime\.(now|utcnow|today)\(|\bdate\.today\(")


def test_only_the_clock_module_reads_the_time() -> None:
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "agent_core").rglob("*.py"))
        if path.name != "clock.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if READ_THE_TIME.search(line)
    ]
    assert readers == []

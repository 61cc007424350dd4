"""Row ids have one source, agent_core/ids.py: time-ordered (UUIDv7), so every table's index
takes new rows at its end. A random uuid4() minted elsewhere would scatter them again."""

from __future__ import annotations

import re

from tests.conftest import ROOT

# uuid5 stays: an id derived from a name on purpose, the same in every store.
MINTS_AN_ID = re.compile(r"\buuid[1467]\(|default_factory=uuid[1467]\b")
# Tool-call ids a model (or the stand-in for one) makes up: names in a conversation, not rows.
NOT_ROW_IDS = {"agent_core/llm/demo_model.py", "agent_core/testing/openai_server.py"}


def test_only_the_ids_module_mints_row_ids() -> None:
    minters = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "agent_core").rglob("*.py"))
        if path.name != "ids.py" and str(path.relative_to(ROOT)) not in NOT_ROW_IDS
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if MINTS_AN_ID.search(line)
    ]
    assert minters == []

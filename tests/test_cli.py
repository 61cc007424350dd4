"""The `vam` command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_core.cli import main


@pytest.fixture(autouse=True)
def offline(unconfigured: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "cli.sqlite3"))


def test_chat_prints_tool_calls_and_the_reply(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "Please note that Zoë prefers boats."]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[take_note succeeded]")
    assert "Noted: “Zoë prefers boats.”" in out


def test_chat_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--json", "Book a tour for Ana Silva on 2027-01-10 in Porto"]) == 0
    turn = json.loads(capsys.readouterr().out)
    assert turn["toolCalls"][0]["status"] == "succeeded"
    assert turn["model"] == "demo (offline, rule-based)"


def test_bad_input_exits_non_zero_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--tenant", "not-a-uuid", "hi"]) == 1
    assert "tenant_id" in capsys.readouterr().err


def test_tenants_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenants"]) == 0
    assert "Demo Tours" in capsys.readouterr().out

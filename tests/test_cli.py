"""The `vam` command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_core.cli import main
from agent_core.store.migrations import latest_version, migrations


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


def test_every_command_says_which_store_it_uses(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["tenants"]) == 0
    assert f"store: sqlite {tmp_path / 'cli.sqlite3'}" in capsys.readouterr().err


def test_migrate_upgrades_the_configured_sqlite_file_and_is_then_up_to_date(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["migrate"]) == 0
    first = capsys.readouterr()
    assert f"store: sqlite {tmp_path / 'cli.sqlite3'}" in first.err
    labels = [m.label for m in migrations("sqlite")]
    assert first.out.splitlines() == [
        *(f"applied {label}" for label in labels),
        f"database at version {len(labels)}",
    ]
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out == f"database at version {len(labels)} (up to date)\n"


@pytest.mark.postgres
def test_migrate_upgrades_a_postgres_database_given_by_url(
    capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    assert main(["migrate", "--database-url", postgres_url]) == 0
    captured = capsys.readouterr()
    assert "store: postgres 127.0.0.1:5432/vam_test_" in captured.err
    assert captured.out == f"database at version {latest_version('postgres')} (up to date)\n"


def test_a_configuration_error_is_one_line_and_exit_status_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HISTORY_LIMIT", "lots")
    assert main(["tenants"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: Invalid configuration — HISTORY_LIMIT: Input should be a valid integer")

"""The `vam` command line."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from agent_core.access.authentication import Authenticator
from agent_core.access.models import AuditQuery, UserRole
from agent_core.cli import main
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.migrations import latest_version, migrations
from agent_core.store.sqlite import SqliteStore
from agent_core.testing.corpus import HELD_OUT
from agent_core.testing.openai_server import FakeCompletion, FakeOpenAIServer


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


def test_the_first_admin_is_added_from_the_cli_with_a_one_time_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["users", "add", "Boss@Example.com", "--role", "admin"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("added Boss@example.com (admin)")  # the domain is case-insensitive
    password = out.split("one-time password: ")[1].strip()
    store = SqliteStore(tmp_path / "cli.sqlite3")
    signed_in = Authenticator(store, listen_host="127.0.0.1").sign_in("boss@example.com", password, "cli")
    assert signed_in.user.role is UserRole.ADMIN
    (entry,) = store.list_audit(AuditQuery(actions=("user.added",)))
    assert entry.actor == f"cli:{getpass.getuser()}"
    store.close()


def test_users_are_listed_changed_and_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    demo = str(DEMO_TENANT_ID)
    assert main(["users", "add", "ana@example.com", "--role", "operator", "--tenant", demo]) == 0
    assert main(["users", "set", "ana@example.com", "--role", "viewer", "--disable"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert f"ana@example.com  viewer  {demo} (disabled)" in capsys.readouterr().out
    assert main(["users", "add", "bob@example.com", "--role", "operator"]) == 1
    assert "an operator needs at least one tenant" in capsys.readouterr().err
    assert main(["users", "set", "nobody@example.com", "--enable"]) == 1


def test_keys_are_created_shown_once_listed_by_prefix_and_revoked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "phone gateway", "--tenant", str(DEMO_TENANT_ID)]) == 0
    secret = capsys.readouterr().out.splitlines()[-1]
    assert secret.startswith("vam_")
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert secret not in listed
    assert f"{secret[:12]}…  phone gateway  {DEMO_TENANT_ID}  active  last used never" in listed
    assert main(["keys", "revoke", secret[:12]]) == 0
    assert main(["keys", "list"]) == 0
    assert "revoked" in capsys.readouterr().out


def test_eval_scores_the_configured_model_and_writes_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "eval.md"
    assert main(["eval", "--cases", "held-out", "--report", str(report)]) == 0
    written = report.read_text()
    assert written == capsys.readouterr().out
    assert written.startswith("# `demo (offline, rule-based)` on 40 labelled exchanges")
    assert "| **all** | 40 | 40 | 100.0% | 0 |" in written
    assert "- right: 40; missed an expected call: 0; wrong writes: 0; unbacked claims: 0" in written


def test_eval_counts_calls_a_real_model_wrote_as_text_and_its_wrong_writes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever it is asked, the model books John Smith, writing the call as text as Qwen did.
    call = json.dumps(
        {"name": "book_tour", "arguments": {"name": "John Smith", "date": "2027-03-15", "location": "Paris"}}
    )
    with FakeOpenAIServer(lambda _: FakeCompletion(text=f"```json\n{call}\n```")) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        # Any wrong write fails the evaluation, whatever the score.
        assert main(["eval", "--cases", "held-out", "--report", str(tmp_path / "eval.md")]) == 1
    written = capsys.readouterr().out
    assert written.startswith("# `openai:")
    # No held-out case asks for that booking: every message's call is a wrong write.
    assert all(not case.calls or case.calls[0][1].get("name") != "John Smith" for case in HELD_OUT)
    wrong = sum(len(case.turns) for case in HELD_OUT)
    assert f"wrong writes: {wrong};" in written
    assert "## Wrong writes and unbacked claims" in written

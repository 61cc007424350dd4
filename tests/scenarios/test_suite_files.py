"""A tenant's suite as a file: the CLI and pytest run it alike and both fail when it fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent_core.cli import main

DEMO_SUITE = Path(__file__).with_name("demo_tours.scenarios.yaml")


@pytest.fixture(autouse=True)
def offline(unconfigured: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "cli.sqlite3"))


@pytest.fixture
def broken_suite(tmp_path: Path) -> Path:
    """The demo suite against a prompt that no longer names the business."""
    text = DEMO_SUITE.read_text(encoding="utf-8")
    prompt_line = next(line for line in text.splitlines() if line.startswith("prompt:"))
    path = tmp_path / "broken.scenarios.yaml"
    path.write_text(
        text.replace(prompt_line, "prompt: You are Max, the assistant of Acme."), encoding="utf-8"
    )
    return path


def run_pytest(path: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=path.parent,
        timeout=120,
        check=False,
    )


def test_the_cli_and_pytest_pass_the_same_suite(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "run", "--file", str(DEMO_SUITE)]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS  ") == 5
    assert out.rstrip().endswith("5 of 5 scenarios passed")
    collected = run_pytest(DEMO_SUITE)
    assert collected.returncode == 0, collected.stdout
    assert "5 passed" in collected.stdout


def test_both_fail_the_same_scenario_and_say_why(
    broken_suite: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenarios", "run", "--file", str(broken_suite), "--repeat", "2"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  Greets without using a tool (0/2)" in out
    assert "reply contains 'Demo Tours'" in out
    collected = run_pytest(broken_suite)
    assert collected.returncode == 1
    assert "1 failed, 4 passed" in collected.stdout
    assert "reply contains 'Demo Tours'" in collected.stdout


def test_a_file_that_does_not_load_is_an_error_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.scenarios.yaml"
    bad.write_text("prompt: You are Ava.\nscenarios: [{name: A, steps: []}]\n", encoding="utf-8")
    assert main(["scenarios", "run", "--file", str(bad)]) == 2
    assert "steps" in capsys.readouterr().err
    collected = run_pytest(bad)
    assert collected.returncode != 0
    assert "error" in collected.stdout.lower()


def test_a_stored_tenants_suite_runs_from_the_cli_and_imports_all_or_nothing(
    broken_suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenarios", "run"]) == 0
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "- name: Says it is Acme\n  steps: [{say: Hello, expect: {reply_contains: [Acme]}}]\n",
        encoding="utf-8",
    )
    assert main(["scenarios", "import", str(extra)]) == 0
    assert "1 added, 0 replaced" in capsys.readouterr().out
    assert main(["scenarios", "run"]) == 1
    assert "FAIL  Says it is Acme (0/1)" in capsys.readouterr().out
    assert main(["scenarios", "run", "--draft"]) == 1
    assert "there is no draft" in capsys.readouterr().err
    exported = tmp_path / "exported.yaml"
    assert main(["scenarios", "export"]) == 0
    exported.write_text(capsys.readouterr().out, encoding="utf-8")
    assert "Says it is Acme" in exported.read_text(encoding="utf-8")

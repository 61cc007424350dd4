"""Fixtures for the dashboard: the real app, on a fresh SQLite file, offline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agent_core.runtime import close_shared_runtime
from dashboard.state import _runtime
from tests.conftest import ROOT


@pytest.fixture
def app_env(unconfigured: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Environment of a fresh install: nothing configured but a private database file."""
    database = tmp_path / "dashboard.sqlite3"
    monkeypatch.setenv("SQLITE_PATH", str(database))
    return database


@pytest.fixture
def app(app_env: Path) -> Iterator[AppTest]:
    _runtime.clear()
    yield AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30)
    close_shared_runtime()
    _runtime.clear()


@pytest.fixture
def app_on_model(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], AppTest]]:
    """The app on an OpenAI-compatible server at the URL given (no retries, so a failure shows
    at once)."""

    def on(base_url: str) -> AppTest:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")
        _runtime.clear()
        return AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30)

    yield on
    close_shared_runtime()
    _runtime.clear()

"""Fixtures for the dashboard: the real app, on a fresh SQLite file, offline."""

from __future__ import annotations

from collections.abc import Iterator
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

"""Environments of a fresh install, for tests and benchmarks that start the app."""

from __future__ import annotations

import os

from agent_core.settings import Settings


def settings_variables() -> list[str]:
    """Every environment variable the app reads (the settings' field names, upper-cased)."""
    return [name.upper() for name in Settings.model_fields]


def unconfigured_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without any app setting, plus `overrides`, for a child process."""
    names = set(settings_variables())
    return {**{k: v for k, v in os.environ.items() if k not in names}, **overrides}

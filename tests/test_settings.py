"""Settings: nothing required, wrong values stop start-up naming the variable, secrets hidden."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from agent_core.errors import ConfigError
from agent_core.runtime import build_runtime
from agent_core.settings import load_settings
from agent_core.store.postgres import upgrade_postgres
from tests.conftest import POSTGRES_ADMIN_URL, eventually, fresh_database


@pytest.fixture(autouse=True)
def clean_environment(unconfigured: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)


def test_nothing_is_required() -> None:
    settings = load_settings()
    assert settings.database_url is None
    assert settings.openai_api_key is None
    assert settings.sqlite_path == Path("data/voice_assistant.sqlite3")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://nope", "DATABASE_URL:"),
        ("REDIS_URL", "not a url", "REDIS_URL:"),
        ("EVENTS_NATS_URL", "http://broker:4222", "EVENTS_NATS_URL: URL scheme should be 'nats'"),
        ("OPENAI_BASE_URL", "ftp://x", "OPENAI_BASE_URL:"),
        ("OPENAI_TIMEOUT_SECONDS", "-1", "OPENAI_TIMEOUT_SECONDS: Input should be greater than 0"),
        ("AGENT_MAX_STEPS", "0", "AGENT_MAX_STEPS: Input should be greater than or equal to 1"),
        ("HISTORY_LIMIT", "many", "HISTORY_LIMIT: Input should be a valid integer"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE: unknown time zone 'Mars/Olympus'"),
        (
            "OPENAI_DEADLINE_SECONDS",
            "20",
            "OPENAI_FIRST_TOKEN_SECONDS cannot be longer than OPENAI_DEADLINE_SECONDS",
        ),
        (
            "SUPABASE_URL",
            "https://xyz.supabase.co",
            "SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set together",
        ),
    ],
)
def test_a_wrong_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


@pytest.mark.parametrize(
    "variable",
    ["OPENAI_API_KEY", "DATABASE_URL", "SUPABASE_URL", "REDIS_URL", "API_KEYS", "TIMEZONE", "HISTORY_LIMIT"],
)
def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "")
    assert load_settings() == load_settings(**{})
    default = type(load_settings()).model_fields[variable.lower()].default
    assert getattr(load_settings(), variable.lower()) == default


def test_an_empty_openai_key_runs_the_demo_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    runtime = build_runtime()
    try:
        assert runtime.model.name.startswith("demo")
    finally:
        runtime.close()


def test_the_server_listens_on_this_machine_only_unless_host_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (load_settings().host, load_settings().port) == ("127.0.0.1", 8501)
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9000")
    assert (load_settings().host, load_settings().port) == ("0.0.0.0", 9000)


def test_secrets_never_appear_in_errors_or_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "service-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "service-secret" not in str(caught.value)
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY")
    settings = load_settings()
    assert "sk-very-secret" not in repr(settings)
    assert "sk-very-secret" not in str(settings.model_dump())


def test_dotenv_files_are_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("AGENT_MAX_STEPS=7\nTIMEZONE=Europe/Paris\n")
    settings = load_settings()
    assert (settings.agent_max_steps, settings.timezone) == (7, "Europe/Paris")


def test_the_default_runtime_runs_offline_on_sqlite(tmp_path: Path) -> None:
    runtime = build_runtime()
    try:
        health = {c.name: c for c in runtime.health()}
        assert (health["store"].backend, health["store"].ok) == ("sqlite", True)
        assert health["cache"].backend == "in-process"
        assert health["model"].detail == "offline demo model (no OPENAI_API_KEY)"
        assert (tmp_path / "data" / "voice_assistant.sqlite3").exists()
    finally:
        runtime.close()


def test_an_unreachable_database_fails_fast() -> None:
    from agent_core.errors import StoreUnavailableError

    with pytest.raises(StoreUnavailableError, match="cannot connect to PostgreSQL"):
        build_runtime(load_settings(database_url="postgresql://nobody@127.0.0.1:1/none"))


def connections_to(database_url: str) -> int:
    """How many sessions PostgreSQL has open on the database of `database_url`."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database_url.rsplit("/", 1)[1],)
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.postgres
def test_a_database_without_the_schema_says_how_to_apply_it_and_is_let_go() -> None:
    with fresh_database("vam_empty") as empty:
        with pytest.raises(ConfigError, match="no voice-assistant tables yet: run `vam migrate`"):
            build_runtime(load_settings(database_url=empty))

        eventually(lambda: connections_to(empty) == 0, "the refused store's connections closed")


@pytest.mark.postgres
def test_a_start_a_later_setting_stops_leaves_no_connection_open() -> None:
    # The dashboard builds the runtime again at its next rerun: each failed start must not
    # leave its database connections behind.
    with fresh_database("vam_start") as url:
        upgrade_postgres(url)
        with pytest.raises(ConfigError, match="VOICE_STT=openai needs OPENAI_API_KEY"):
            build_runtime(load_settings(database_url=url, voice_stt="openai"))

        eventually(lambda: connections_to(url) == 0, "the half-built runtime's connections closed")


def test_api_keys_are_parsed_with_optional_tenant_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "API_KEYS", "a-long-enough-key-1, a-long-enough-key-2:00000000-0000-0000-0000-000000000001"
    )
    keys = load_settings().parsed_api_keys
    assert [k.tenant_id for k in keys] == [None, UUID("00000000-0000-0000-0000-000000000001")]
    assert "a-long-enough-key" not in repr(keys)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("short", "key #1 is shorter than 16 characters"),
        ("a-long-enough-key-1:not-a-uuid", "key #1 is bound to a tenant id that is not a UUID"),
        (" , ", "no keys given"),
    ],
)
def test_malformed_api_keys_stop_start_up_without_echoing_them(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("API_KEYS", value)
    with pytest.raises(ConfigError, match=f"API_KEYS: {message}") as caught:
        load_settings()
    assert "a-long-enough-key-1" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("gpt-4o-mini=0.15", "is not model=prompt/completion"),
        ("gpt-4o-mini=cheap/0.6", "is not model=prompt/completion"),
        ("=1/2", "needs a model name"),
        ("gpt-4o=-1/2", "prices of 0 or more"),
    ],
)
def test_malformed_model_prices_stop_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("MODEL_PRICES", value)
    with pytest.raises(ConfigError, match=f"MODEL_PRICES: .*{message}"):
        load_settings()


def test_model_prices_are_read_per_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_PRICES", "gpt-4o-mini=0.15/0.60, gpt-4o=2.5/10")
    assert load_settings().parsed_model_prices == {"gpt-4o-mini": (0.15, 0.6), "gpt-4o": (2.5, 10.0)}


def test_every_variable_is_documented_in_the_readme_and_env_example() -> None:
    from agent_core.testing.environment import settings_variables
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for variable in settings_variables():
        assert f"| `{variable}` |" in readme, variable
        assert f"# {variable}=" in example, variable

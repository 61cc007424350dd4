"""Runtime configuration read from the environment (and `.env`).

Nothing is required: with no variables set the app runs on embedded defaults
(SQLite file store, in-process prompt cache and event bus, offline demo model).
A variable set to the empty string counts as unset (deployment tools often write
`OPENAI_API_KEY=`). A variable that is present but wrong stops start-up with a message
naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Self
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    Field,
    NatsDsn,
    PostgresDsn,
    RedisDsn,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent_core.errors import ConfigError, summarize, validation_details

PositiveSeconds = Annotated[float, Field(gt=0, le=600)]
MIN_API_KEY_CHARS = 16


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One accepted bearer token, optionally restricted to one tenant."""

    secret: str = field(repr=False)
    tenant_id: UUID | None = None


def parse_api_keys(text: str) -> list[ApiKey]:
    """`key1,key2:tenant-uuid` into keys; ValueError (never echoing a key) when malformed."""
    keys = []
    for number, entry in enumerate((e.strip() for e in text.split(",")), start=1):
        if not entry:
            continue
        secret, _, tenant = entry.partition(":")
        if len(secret) < MIN_API_KEY_CHARS:
            raise ValueError(f"key #{number} is shorter than {MIN_API_KEY_CHARS} characters")
        try:
            keys.append(ApiKey(secret, UUID(tenant) if tenant else None))
        except ValueError:
            raise ValueError(f"key #{number} is bound to a tenant id that is not a UUID") from None
    if not keys:
        raise ValueError("no keys given")
    return keys


def parse_model_prices(text: str) -> dict[str, tuple[float, float]]:
    """`gpt-4o-mini=0.15/0.60,gpt-4o=2.5/10` (USD per million prompt/completion tokens) into
    a price per model; ValueError naming the entry when malformed."""
    prices: dict[str, tuple[float, float]] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        model, _, pair = entry.partition("=")
        prompt, _, completion = pair.partition("/")
        try:
            price = (float(prompt), float(completion))
        except ValueError:
            raise ValueError(f"{entry!r} is not model=prompt/completion (USD per million tokens)") from None
        if not model.strip() or min(price) < 0:
            raise ValueError(f"{entry!r} needs a model name and prices of 0 or more")
        prices[model.strip()] = price
    return prices


class Settings(BaseSettings):
    """Every knob of the runtime; the field name upper-cased is its environment variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore", frozen=True
    )

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        max_length=253,
        description=(
            "Address `make run` listens on. The default is this machine only; on any other address"
            " the dashboard requires sign-in and the API an API key, even before a user exists."
        ),
    )
    port: int = Field(default=8501, ge=1, le=65535, description="Port of `make run` (dashboard and API).")
    shutdown_grace_seconds: float = Field(
        default=30.0,
        ge=1,
        le=600,
        description="How long `make run` lets requests finish after SIGTERM (turns get two thirds of it).",
    )

    database_url: PostgresDsn | None = Field(
        default=None, description="PostgreSQL connection string; switches the store to Postgres."
    )
    sqlite_path: Path = Field(
        default=Path("data/voice_assistant.sqlite3"),
        description="SQLite file used when no DATABASE_URL or Supabase is configured.",
    )
    store_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=120,
        description=(
            "Longest one database operation may take (PostgreSQL, Supabase), waiting for a"
            " connection included; past it the request answers 503 store_unavailable."
        ),
    )
    supabase_url: AnyHttpUrl | None = Field(default=None, description="Supabase project URL.")
    supabase_service_role_key: SecretStr | None = Field(
        default=None, description="Supabase service-role key (server-side only)."
    )
    supabase_max_rows: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description=(
            "Rows the Supabase store asks for in one request: the project's Max rows (Settings →"
            " API), 1,000 unless raised there. Never more than the project's, or reads come back short."
        ),
    )
    redis_url: RedisDsn | None = Field(
        default=None, description="Redis URL for the shared tenant-prompt cache."
    )
    events_nats_url: NatsDsn | None = Field(
        default=None,
        description=(
            "NATS server with JetStream (nats://host:4222) that carries listener runs between"
            " processes and machines; without it each process runs the events it commits."
        ),
    )
    openai_api_key: SecretStr | None = Field(
        default=None, description="OpenAI (or compatible) API key; without it the demo model runs."
    )
    openai_base_url: AnyHttpUrl | None = Field(
        default=None, description="Base URL of any OpenAI-compatible server."
    )
    openai_model: str = Field(default="gpt-4o-mini", min_length=1, max_length=200)
    openai_timeout_seconds: PositiveSeconds = Field(
        default=30.0,
        description="Longest wait for the model server to connect, or for its next bytes once it has begun.",
    )
    openai_first_token_seconds: PositiveSeconds = Field(
        default=60.0,
        description=(
            "Longest wait for the first bytes of a model answer: a local model reading a long prompt"
            " on a cold cache takes tens of seconds before it writes anything."
        ),
    )
    openai_deadline_seconds: PositiveSeconds = Field(
        default=120.0, description="Longest a whole model answer may take, however it trickles in."
    )
    openai_max_retries: int = Field(default=2, ge=0, le=10)
    voice_stt: Literal["auto", "whisper", "openai", "off"] = Field(
        default="auto",
        description=(
            "What hears callers: `whisper` (offline, the voice extra), `openai` (the transcription"
            " endpoint of OPENAI_BASE_URL), `off`; `auto` is OpenAI's own API when OPENAI_API_KEY is"
            " set without a base URL, else Whisper when installed."
        ),
    )
    voice_tts: Literal["auto", "piper", "espeak", "openai", "off"] = Field(
        default="auto",
        description=(
            "What speaks replies: `piper` (offline, the piper extra), `espeak` (espeak-ng on PATH),"
            " `openai`, `off`; `auto` is OpenAI's own API when OPENAI_API_KEY is set without a base"
            " URL, else Piper when installed, else espeak-ng when on PATH."
        ),
    )
    whisper_model: Path | None = Field(
        default=None, description="A faster-whisper model folder (default: the bundled tiny.en)."
    )
    piper_voice: Path | None = Field(
        default=None,
        description="A Piper voice (.onnx, its .onnx.json beside it; default: the bundled en_US joe).",
    )
    openai_transcription_model: str = Field(default="gpt-4o-mini-transcribe", min_length=1, max_length=200)
    openai_speech_model: str = Field(default="gpt-4o-mini-tts", min_length=1, max_length=200)
    openai_speech_voice: str = Field(
        default="alloy", min_length=1, max_length=50, description="OpenAI voice unless a tenant sets one."
    )
    voice_max_seconds: float = Field(
        default=30.0, ge=1, le=300, description="Longest audio one voice message may last."
    )
    voice_max_bytes: int = Field(
        default=8_388_608,
        ge=65_536,
        le=104_857_600,
        description="Largest audio file one voice message may be.",
    )
    agent_max_steps: int = Field(
        default=4, ge=1, le=10, description="Model calls allowed per turn (tool rounds + reply)."
    )
    agent_max_tool_calls: int = Field(
        default=8,
        ge=1,
        le=50,
        description="Tool calls one model answer may ask for; an answer with more fails and runs none.",
    )
    turn_deadline_seconds: float = Field(
        default=120.0, gt=0, le=3600, description="Longest a whole turn may take, all its steps together."
    )
    lease_seconds: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description=(
            "Lease of a running turn or listener run: its process renews a turn's every quarter of it;"
            " once one runs out (the process died) any process closes the turn as failed or reruns the run."
        ),
    )
    history_limit: int = Field(default=20, ge=1, le=500, description="Earlier messages sent to the model.")
    max_message_chars: int = Field(default=4000, ge=1, le=100_000)
    timezone: str = Field(default="UTC", description="IANA zone used for 'today' and relative dates.")
    prompt_cache_ttl_seconds: int = Field(
        default=300, ge=1, le=86_400, description="How long Redis keeps a cached prompt."
    )
    prompt_cache_local_ttl_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How long a process trusts its in-memory copy without an invalidation.",
    )

    api_keys: SecretStr | None = Field(
        default=None,
        description=(
            "Comma-separated API keys for the HTTP API; `key:tenant-uuid` binds a key to one"
            " tenant. Unset: the API is open (bind it to localhost)."
        ),
    )
    api_max_body_bytes: int = Field(default=65_536, ge=1024, le=10_485_760)
    allowed_hosts: str | None = Field(
        default=None,
        description=(
            "Comma-separated host names the server answers to (e.g. `agent.example.com,localhost`);"
            " others get 400. Unset: any Host header."
        ),
    )
    api_threads: int = Field(
        default=64, ge=4, le=1024, description="Worker threads running turns for the HTTP API."
    )

    model_prices: str = Field(
        default="",
        description=(
            "Prices for the Analytics page's cost estimate, USD per million prompt/completion"
            " tokens per model: `gpt-4o-mini=0.15/0.60,gpt-4o=2.5/10`."
        ),
    )

    @field_validator("model_prices")
    @classmethod
    def _well_formed_prices(cls, value: str) -> str:
        parse_model_prices(value)
        return value

    @property
    def parsed_model_prices(self) -> dict[str, tuple[float, float]]:
        """Price per model: (prompt, completion) USD per million tokens."""
        return parse_model_prices(self.model_prices)

    @field_validator("api_keys")
    @classmethod
    def _well_formed_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_api_keys(value.get_secret_value())
        return value

    oidc_server_metadata_url: AnyHttpUrl | None = Field(
        default=None,
        description=(
            "Single sign-on: the identity provider's discovery document"
            " (`https://…/.well-known/openid-configuration`); set with OIDC_CLIENT_ID and OIDC_CLIENT_SECRET."
        ),
    )
    oidc_client_id: str | None = Field(
        default=None, min_length=1, max_length=500, description="Single sign-on: this app's client id."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="Single sign-on: this app's client secret."
    )
    oidc_redirect_uri: AnyHttpUrl | None = Field(
        default=None,
        description=(
            "Single sign-on: the callback URL registered with the provider"
            " (default `http://HOST:PORT/oauth2callback`; set it to the public URL behind a proxy)."
        ),
    )
    oidc_cookie_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Single sign-on: the key that signs the identity cookie; set it so restarts keep people"
            " signed in (default: a random one per start)."
        ),
    )

    @property
    def sso_configured(self) -> bool:
        """True when single sign-on (OIDC) is set up."""
        return self.oidc_server_metadata_url is not None

    @property
    def host_names(self) -> list[str]:
        """ALLOWED_HOSTS as a list (empty: any host)."""
        return [h.strip().lower() for h in (self.allowed_hosts or "").split(",") if h.strip()]

    @property
    def parsed_api_keys(self) -> list[ApiKey]:
        """The API keys, each optionally bound to a tenant."""
        return parse_api_keys(self.api_keys.get_secret_value()) if self.api_keys else []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Paris)") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.supabase_url is None) != (self.supabase_service_role_key is None):
            raise ValueError("SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set together")
        if self.database_url is not None and self.supabase_url is not None:
            raise ValueError("set either DATABASE_URL or SUPABASE_URL, not both")
        sso = (self.oidc_server_metadata_url, self.oidc_client_id, self.oidc_client_secret)
        if any(v is not None for v in sso) and any(v is None for v in sso):
            raise ValueError(
                "OIDC_SERVER_METADATA_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set together"
            )
        if self.openai_first_token_seconds > self.openai_deadline_seconds:
            raise ValueError(
                "OPENAI_FIRST_TOKEN_SECONDS cannot be longer than OPENAI_DEADLINE_SECONDS"
                " (the whole answer's deadline includes the wait for its start)"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The configured time zone as an object."""
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning validation failures into one readable `ConfigError`.

    The message names each offending environment variable and never echoes its value,
    since the value may be a secret.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        details = [
            {
                "field": d["field"].upper() if d["field"] != "body" else "configuration",
                "message": d["message"],
            }
            for d in validation_details(exc)
        ]
        raise ConfigError("Invalid configuration — " + summarize(details)) from None

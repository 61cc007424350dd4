"""The composition root: the one place that builds clients and wires components from settings.

Pages, the CLI and the HTTP API all get a `Runtime` from `build_runtime`; nothing else
creates database, Redis or model clients.
"""

from __future__ import annotations

import atexit
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import redis

from agent_core.access.authentication import Authenticator
from agent_core.access.models import Principal
from agent_core.agent.leases import TurnLeases
from agent_core.agent.loop import Agent, AgentLimits
from agent_core.clock import Clock, SystemClock
from agent_core.domain import EventName
from agent_core.errors import ConfigError
from agent_core.events.bus import EventBus, RunTransport
from agent_core.events.listeners import default_listeners
from agent_core.llm.base import ChatModel
from agent_core.llm.demo_model import DemoModel
from agent_core.llm.health import ModelStatus
from agent_core.prompt_cache import PromptCache
from agent_core.scenarios.sandbox import AgentParts
from agent_core.settings import Settings, load_settings
from agent_core.store.base import Store
from agent_core.store.sqlite import SqliteStore
from agent_core.tools import default_registry
from agent_core.voice.audio import AudioLimits
from agent_core.voice.channel import Voice
from agent_core.voice.retention import RecordingRetention
from agent_core.voice.speech import SpeechToText, TextToSpeech
from agent_core.workspace import Workspace

if TYPE_CHECKING:
    from openai import OpenAI

    from agent_core.store.postgres import PostgresStore
    from agent_core.store.supabase_store import SupabaseStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """One component's status for the dashboard and /api/health."""

    name: str
    backend: str
    ok: bool
    detail: str


@dataclass
class Runtime:
    """Everything a front end needs, built once per process."""

    settings: Settings
    clock: Clock
    store: Store
    prompts: PromptCache
    bus: EventBus
    model: ChatModel
    agent: Agent
    authenticator: Authenticator
    model_status: ModelStatus
    voice: Voice
    retention: RecordingRetention
    redis_client: redis.Redis | None = None
    openai_client: OpenAI | None = None
    _closed: bool = False

    def acting_as(self, principal: Principal) -> Workspace:
        """The operations on tenant data, checked and audited for `principal`."""
        return Workspace(
            principal,
            store=self.store,
            prompts=self.prompts,
            bus=self.bus,
            agent=self.agent,
            voice=self.voice,
        )

    def health(self) -> list[ComponentHealth]:
        """Check each component now; never raises."""
        checks = []
        try:
            self.store.ping()
            checks.append(ComponentHealth("store", self.store.backend, True, "reachable"))
        except Exception as exc:
            checks.append(ComponentHealth("store", self.store.backend, False, str(exc)))
        if self.redis_client is None:
            checks.append(ComponentHealth("cache", "in-process", True, "no REDIS_URL; per-process cache"))
        else:
            try:
                self.redis_client.ping()
                checks.append(ComponentHealth("cache", "redis", True, "reachable"))
            except redis.RedisError as exc:
                checks.append(
                    ComponentHealth("cache", "redis", False, f"unreachable, using the store: {exc}")
                )
        if isinstance(self.model, DemoModel):
            checks.append(
                ComponentHealth("model", self.model.name, True, "offline demo model (no OPENAI_API_KEY)")
            )
        else:
            ok, detail = self.model_status.check()
            checks.append(ComponentHealth("model", self.model.name, ok, detail))
        listeners = "listeners: " + ", ".join(self.bus.listener_names)
        transport = self.bus.transport
        if transport is None:
            checks.append(ComponentHealth("bus", "in-process", not self._closed, listeners))
        else:
            ok, detail = transport.status()
            checks.append(
                ComponentHealth("bus", transport.name, ok and not self._closed, f"{detail}; {listeners}")
            )
        # Optional: a server without speech models is whole for text, so this never degrades health.
        checks.append(ComponentHealth("voice", "speech", True, self.voice.describe()))
        return checks

    def stop_turns(self, budget: float) -> None:
        """Refuse new turns, give running ones `budget` seconds, then stop them at their next
        step so each is recorded as failed while the store is still open."""
        self.agent.stop_accepting()
        if not self.agent.wait_idle(budget):
            self.agent.cancel_running()
            # A step in progress (a model call) ends by its own deadline.
            self.agent.wait_idle(self.settings.openai_deadline_seconds)

    def close(self, timeout: float = 5.0) -> None:
        """Stop turns, drain the event bus, stop the cache subscriber, release connections."""
        if self._closed:
            return
        self._closed = True
        self.stop_turns(timeout)
        self.agent.leases.close()
        self.retention.close()
        self.bus.close(timeout)
        self.prompts.close()
        self.store.close()
        self.voice.close()
        self.model.close()
        if self.openai_client is not None:
            self.openai_client.close()
        if self.redis_client is not None:
            self.redis_client.close()


def describe_store(settings: Settings) -> str:
    """Which store the settings select and where it is, without secrets (for start-up lines)."""
    if settings.database_url is not None:
        host = settings.database_url.hosts()[0]
        return (
            f"store: postgres {host.get('host')}:{host.get('port') or 5432}{settings.database_url.path or ''}"
        )
    if settings.supabase_url is not None:
        return f"store: supabase {settings.supabase_url}"
    return f"store: sqlite {settings.sqlite_path.resolve()}"


def build_store(settings: Settings) -> Store:
    """The store selected by the settings, its schema checked (closed again when it fails)."""
    # Backends are imported only when chosen: the default start-up stays lean.
    store: PostgresStore | SupabaseStore
    if settings.database_url is not None:
        from agent_core.store.postgres import PostgresStore

        store = PostgresStore(str(settings.database_url), answer_seconds=settings.store_timeout_seconds)
    elif settings.supabase_url is not None and settings.supabase_service_role_key is not None:
        from agent_core.store.supabase_store import SupabaseStore

        store = SupabaseStore(
            str(settings.supabase_url).rstrip("/"),
            settings.supabase_service_role_key.get_secret_value(),
            timeout=settings.store_timeout_seconds,
            max_rows=settings.supabase_max_rows,
        )
    else:
        return SqliteStore(settings.sqlite_path)
    with _closed_unless_built(store.close):
        store.check_schema()
    return store


@contextmanager
def _closed_unless_built(close: Callable[[], object]) -> Iterator[None]:
    """Run `close` when the block fails: a runtime that bad settings stop half-built leaves
    no connection open, so trying again (the dashboard's next rerun, a fixed setting) does not
    pile them up."""
    try:
        yield
    except BaseException:
        close()
        raise


def build_openai_client(settings: Settings) -> OpenAI:
    """The one `openai` client of the process (chat, transcription and speech share it)."""
    import httpx2
    from openai import DefaultHttpx2Client, OpenAI

    key = settings.openai_api_key
    # Keep a connection alive per concurrent turn: with the client's default of 100 kept
    # alive, a busier server closes and reopens connections to the model on every call.
    connections = max(100, settings.api_threads)
    return OpenAI(
        api_key=key.get_secret_value() if key else "",
        base_url=str(settings.openai_base_url) if settings.openai_base_url else None,
        timeout=settings.openai_timeout_seconds,
        max_retries=settings.openai_max_retries,
        http_client=DefaultHttpx2Client(
            timeout=settings.openai_timeout_seconds,
            limits=httpx2.Limits(max_connections=connections * 2, max_keepalive_connections=connections),
        ),
    )


def build_model(settings: Settings, clock: Clock, client: OpenAI | None = None) -> ChatModel:
    """The OpenAI adapter when a key is set, otherwise the offline demo model."""
    if settings.openai_api_key is None:
        return DemoModel(clock)
    from agent_core.llm.openai_model import OpenAIChatModel

    return OpenAIChatModel(
        client or build_openai_client(settings),
        settings.openai_model,
        deadline_seconds=settings.openai_deadline_seconds,
        first_token_seconds=settings.openai_first_token_seconds,
        silence_seconds=settings.openai_timeout_seconds,
    )


def build_voice(settings: Settings, client: OpenAI | None) -> Voice:
    """Hearing and speaking as VOICE_STT and VOICE_TTS choose (see Settings); what cannot be
    built here is left out, with why and the fix in `Voice.missing`."""
    from agent_core.voice import offline
    from agent_core.voice.openai_speech import OpenAISpeaker, OpenAITranscriber

    openai_first = settings.openai_api_key is not None and settings.openai_base_url is None
    # What this machine has: each is looked for once.
    whisper = settings.whisper_model or offline.bundled_whisper()
    piper = (settings.piper_voice or offline.bundled_piper_voice()) if offline.piper_installed() else None
    espeak = offline.find_espeak()
    missing: list[str] = []
    ears: SpeechToText | None = None
    stt = settings.voice_stt
    if stt == "off":
        missing.append("VOICE_STT is off")
    if stt == "auto":
        stt = "openai" if openai_first or (whisper is None and client) else "whisper" if whisper else "off"
        if stt == "off":
            missing.append("install the voice extra to hear callers offline")
    if stt == "whisper":
        if whisper is None:
            raise ConfigError("VOICE_STT=whisper needs the voice extra or WHISPER_MODEL")
        ears = offline.WhisperTranscriber(whisper)
    elif stt == "openai":
        if client is None:
            raise ConfigError("VOICE_STT=openai needs OPENAI_API_KEY")
        ears = OpenAITranscriber(client, settings.openai_transcription_model)
    mouth: TextToSpeech | None = None
    tts = settings.voice_tts
    if tts == "auto":
        tts = "openai" if openai_first else "piper" if piper else "espeak" if espeak else "off"
        if tts == "off":
            missing.append("install the piper extra or espeak-ng to speak replies")
    if tts == "piper":
        if piper is None:
            raise ConfigError("VOICE_TTS=piper needs the piper extra (or PIPER_VOICE and piper-tts)")
        mouth = offline.PiperSpeaker(piper)
    elif tts == "espeak":
        if espeak is None:
            raise ConfigError("VOICE_TTS=espeak needs espeak-ng on PATH (apt-get install espeak-ng)")
        mouth = offline.EspeakSpeaker(espeak)
    elif tts == "openai":
        if client is None:
            raise ConfigError("VOICE_TTS=openai needs OPENAI_API_KEY")
        mouth = OpenAISpeaker(client, settings.openai_speech_model, settings.openai_speech_voice)
    limits = AudioLimits(settings.voice_max_bytes, settings.voice_max_seconds)
    return Voice(ears, mouth, limits, "; ".join(missing))


def agent_limits(settings: Settings) -> AgentLimits:
    """The bounds of a turn the settings give."""
    return AgentLimits(
        settings.agent_max_steps,
        settings.history_limit,
        settings.max_message_chars,
        max_tool_calls=settings.agent_max_tool_calls,
        deadline_seconds=settings.turn_deadline_seconds,
    )


def scenario_parts(settings: Settings | None = None) -> AgentParts:
    """What a scenario sandbox needs, without a store, cache or bus: running a suite file
    (pytest, `vam scenarios run --file`) needs no database."""
    settings = settings or load_settings()
    clock = SystemClock(settings.zone)
    return AgentParts(build_model(settings, clock), default_registry(), clock, agent_limits(settings))


def build_redis(settings: Settings) -> redis.Redis | None:
    """A Redis client for REDIS_URL, with short timeouts so an outage degrades quickly."""
    if settings.redis_url is None:
        return None
    return redis.Redis.from_url(
        str(settings.redis_url),
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        health_check_interval=30,
    )


def build_run_transport(settings: Settings) -> RunTransport | None:
    """NATS JetStream for listener runs when EVENTS_NATS_URL is set."""
    if settings.events_nats_url is None:
        return None
    from agent_core.events.nats_transport import NatsRunTransport

    return NatsRunTransport(str(settings.events_nats_url), ack_wait=settings.lease_seconds)


def build_runtime(
    settings: Settings | None = None,
    *,
    model: ChatModel | None = None,
    clock: Clock | None = None,
    close_at_exit: bool = False,
) -> Runtime:
    """Build and start every component. ConfigError or StoreUnavailableError on bad settings."""
    settings = settings or load_settings()
    clock = clock or SystemClock(settings.zone)
    store = build_store(settings)
    # Until the runtime exists to close them, what is opened is closed here if a later part's
    # settings are bad (a missing key for the voice chosen, say).
    with ExitStack() as undo:
        undo.callback(store.close)
        redis_client = build_redis(settings)
        if redis_client is not None:
            undo.callback(redis_client.close)
        prompts = PromptCache(
            store,
            redis_client=redis_client,
            ttl_seconds=settings.prompt_cache_ttl_seconds,
            local_ttl_seconds=settings.prompt_cache_local_ttl_seconds,
        )
        bus = EventBus(
            store,
            default_listeners(store),
            stale_after=timedelta(seconds=settings.lease_seconds),
            reconcile_every=min(5.0, settings.lease_seconds / 2),
            transport=build_run_transport(settings),
        )
        undo.callback(bus.close, 0)
        leases = TurnLeases(
            store,
            lease_seconds=settings.lease_seconds,
            renew_every=settings.lease_seconds / 4,
            failed_listeners=bus.listeners_for(EventName.TURN_FAILED),
        )
        client = build_openai_client(settings) if settings.openai_api_key is not None else None
        if client is not None:
            undo.callback(client.close)
        agent = Agent(
            store=store,
            model=model or build_model(settings, clock, client),
            tools=default_registry(),
            prompts=prompts,
            events=bus,
            clock=clock,
            limits=agent_limits(settings),
            leases=leases,
        )
        undo.callback(agent.model.close)
        authenticator = Authenticator(store, listen_host=settings.host, env_keys=settings.parsed_api_keys)
        runtime = Runtime(
            settings,
            clock,
            store,
            prompts,
            bus,
            agent.model,
            agent,
            authenticator,
            ModelStatus(agent.model, agent.health),
            build_voice(settings, client),
            RecordingRetention(store),
            redis_client,
            client,
        )
        undo.pop_all()
    with _closed_unless_built(runtime.close):
        prompts.start()
        bus.start()
        leases.start()
        runtime.retention.start()
    if close_at_exit:
        atexit.register(runtime.close)
        _exit_cleanly_on_sigterm()
    return runtime


_shared: Runtime | None = None
_shared_lock = threading.Lock()


def shared_runtime() -> Runtime:
    """The process's one runtime, built from settings on first use.

    The dashboard and the HTTP API served beside it use the same runtime, so they share
    the store connections, the prompt cache and the event bus.
    """
    global _shared  # noqa: PLW0603 - the composition root owns the process-wide runtime
    with _shared_lock:
        if _shared is None:
            _shared = build_runtime(close_at_exit=True)
        return _shared


def close_shared_runtime(timeout: float = 5.0) -> None:
    """Drain and close the shared runtime (server shutdown, tests)."""
    global _shared  # noqa: PLW0603
    with _shared_lock:
        if _shared is not None:
            _shared.close(timeout)
            _shared = None


def _exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit so atexit drains the bus.

    Only where nobody else handles SIGTERM (uvicorn and Streamlit install their own and
    shut down through their lifespans) and only from the main thread, where Python allows it.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))

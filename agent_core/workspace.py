"""Everything a front end does with tenant data, as one acting principal.

Pages, the HTTP API and the CLI reach tenant data only through a `Workspace`: each method
checks the principal's role and tenants before it reads or writes (ForbiddenError, nothing
touched), and each change writes its audit entry in the change's own transaction. The
workspace is the guard (`agent_core.guard`) its facades check through: `workspace.prompts`
and `workspace.scenarios` (`agent_core.prompt_changes`), `workspace.accounts`
(`agent_core.accounts`) and `workspace.corrections` (`agent_core.corrections`).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from uuid import UUID

from agent_core.access.forms import (
    NewTenant,
    parse_form,
)
from agent_core.access.models import (
    Action,
    AuditAction,
    AuditEntry,
    AuditQuery,
    Principal,
    PrincipalKind,
    UserRole,
)
from agent_core.accounts import Accounts
from agent_core.agent.loop import Agent
from agent_core.agent.requests import TurnRequest
from agent_core.agent.steps import TurnStep
from agent_core.clock import utcnow
from agent_core.corrections import Corrections
from agent_core.domain import (
    Channel,
    ChatMessage,
    Contact,
    ConversationSummary,
    EventRecord,
    IdempotencyClaim,
    JsonDict,
    Note,
    RunStatus,
    Tenant,
    ToolCallRecord,
    Tour,
    TurnOrigin,
    TurnRecord,
)
from agent_core.errors import AgentCoreError, NotFoundError
from agent_core.events.bus import EventBus
from agent_core.guard import Guard
from agent_core.prompt_cache import PromptCache
from agent_core.prompt_changes import PromptChanges, Scenarios
from agent_core.scenarios.runner import ScenarioRunner
from agent_core.scenarios.sandbox import AgentParts
from agent_core.store.analytics import Analytics, AnalyticsQuery
from agent_core.store.base import Store
from agent_core.store.conversation_log import ConversationOverview, ConversationQuery
from agent_core.store.records import DEFAULT, Page, RecordQuery
from agent_core.store.refusals import NOT_RETRYABLE, UNKNOWN_TENANT
from agent_core.store.voice_turns import VoiceTurn
from agent_core.tenant_settings import TenantSettings, settings_from
from agent_core.voice.audio import AudioLimits
from agent_core.voice.channel import Heard, Voice
from agent_core.voice.recording import SpokenTurn

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestKeys:
    """One tenant's Idempotency-Keys (`Workspace.request_keys`): each request sent with a key
    is claimed, its answer kept for repeats, or the key released for a retry."""

    _store: Store
    tenant_id: UUID

    def claim(self, key: str, fingerprint: str, lease_seconds: float) -> IdempotencyClaim:
        """See `IdempotencyStore.claim`."""
        return self._store.idempotency.claim(self.tenant_id, key, fingerprint, lease_seconds)

    def renew(self, key: str, lease_seconds: float) -> bool:
        """See `IdempotencyStore.renew`."""
        return self._store.idempotency.renew(self.tenant_id, key, lease_seconds)

    def finish(self, key: str, status: int, response: JsonDict) -> None:
        """See `IdempotencyStore.finish`."""
        self._store.idempotency.finish(self.tenant_id, key, status, response)

    def release(self, key: str) -> None:
        """See `IdempotencyStore.release`."""
        self._store.idempotency.release(self.tenant_id, key)


class Workspace(Guard):
    """The agent runtime's operations, checked and audited for one principal."""

    def __init__(
        self,
        principal: Principal,
        *,
        store: Store,
        prompts: PromptCache,
        bus: EventBus,
        agent: Agent,
        voice: Voice | None = None,
    ) -> None:
        super().__init__(principal, store)
        self._prompts = prompts
        self._bus = bus
        self._agent = agent
        self.voice = voice or Voice(None, None, AudioLimits(0, 0), "no voice in this workspace")
        """Hearing and speaking (whether each is available, and why not)."""

    # The facades are built when first used: a workspace is made for every API request, and a
    # chat turn uses none of them.

    @cached_property
    def scenarios(self) -> Scenarios:
        """The tenant's scenarios and their runs."""
        return Scenarios(self, self._store, ScenarioRunner(AgentParts.of(self._agent)))

    @cached_property
    def prompts(self) -> PromptChanges:
        """The tenant's prompt: drafts, versions and the publish gate."""
        return PromptChanges(self, self._store, self._prompts, self.scenarios)

    @cached_property
    def accounts(self) -> Accounts:
        """Users and API keys."""
        return Accounts(self, self._store)

    @cached_property
    def corrections(self) -> Corrections:
        """Bookings, contacts and notes, corrected by hand."""
        return Corrections(self, self._store, self._bus, self._agent.clock)

    @property
    def turn_deadline_seconds(self) -> float:
        """How long a turn may run before it gives up."""
        return self._agent.limits.deadline_seconds

    # -- checks --------------------------------------------------------------------

    def request_keys(self, action: Action, tenant_id: UUID) -> RequestKeys:
        """The tenant's Idempotency-Keys, for a request that does `action` there: a retried
        request is answered once. ForbiddenError unless the principal may, NotFoundError for
        an unknown tenant (before any key is stored)."""
        self.require(action, tenant_id)
        if self._agent.prompts.system_prompt(tenant_id) is None:
            raise UNKNOWN_TENANT(tenant_id)
        return RequestKeys(self._store, tenant_id)

    # -- tenants -------------------------------------------------------------------

    def tenants(self) -> list[Tenant]:
        """The tenants this principal may see, by name."""
        return [t for t in self._store.list_tenants() if self.principal.sees(t.id)]

    def create_tenant(self, name: str, prompt: str) -> Tenant:
        """Validate and add a tenant (admins)."""
        self.require(Action.ADMINISTER)
        new = parse_form(NewTenant, "tenant", name=name, prompt=prompt)
        audit = self.audit_entry(AuditAction.TENANT_CREATED, "tenant", after={"name": new.name})
        return self._store.create_tenant(new.name, new.prompt, audit=audit)

    def update_tenant_settings(self, tenant_id: UUID, **values: object) -> Tenant:
        """Replace a tenant's settings (admins); every field not given takes its default."""
        self.require(Action.ADMINISTER)
        before = self.tenant(tenant_id)
        chosen = parse_form(TenantSettings, "settings", **values)
        audit = self.audit_entry(
            AuditAction.TENANT_SETTINGS_CHANGED,
            "settings",
            tenant_id=tenant_id,
            before=settings_from(before.settings).model_dump(mode="json"),
            after=chosen.model_dump(mode="json"),
        )
        return self._store.update_tenant_settings(tenant_id, chosen.stored(), audit=audit)

    # -- reads ---------------------------------------------------------------------

    def list_tours(self, tenant_id: UUID, query: RecordQuery = DEFAULT) -> Page[Tour]:
        """Tours of a tenant the principal may read."""
        self.require(Action.READ, tenant_id)
        return self._store.list_tours(tenant_id, query)

    def list_notes(self, tenant_id: UUID, query: RecordQuery = DEFAULT) -> Page[Note]:
        """Notes of a tenant the principal may read."""
        self.require(Action.READ, tenant_id)
        return self._store.list_notes(tenant_id, query)

    def list_contacts(self, tenant_id: UUID, query: RecordQuery = DEFAULT) -> Page[Contact]:
        """Contacts of a tenant the principal may read."""
        self.require(Action.READ, tenant_id)
        return self._store.list_contacts(tenant_id, query)

    def list_conversations(
        self, tenant_id: UUID, limit: int = 50, offset: int = 0
    ) -> list[ConversationSummary]:
        """Recent conversations of a tenant the principal may read."""
        self.require(Action.READ, tenant_id)
        return self._store.list_conversations(tenant_id, limit, offset)

    def conversation(
        self, tenant_id: UUID, conversation_id: UUID
    ) -> tuple[list[ChatMessage], list[ToolCallRecord]]:
        """A conversation's messages and tool calls."""
        self.require(Action.READ, tenant_id)
        return (
            self._store.list_messages(tenant_id, conversation_id),
            self._store.list_tool_calls(tenant_id, conversation_id),
        )

    def list_events(
        self,
        tenant_id: UUID,
        *,
        after_seq: int = 0,
        limit: int = 100,
        newest_first: bool = False,
        names: Sequence[str] = (),
        status: RunStatus | None = None,
        since: datetime | None = None,
    ) -> list[EventRecord]:
        """Events of a tenant the principal may read, with their listener runs."""
        self.require(Action.READ, tenant_id)
        return self._store.events.find(
            tenant_id,
            after_seq=after_seq,
            limit=limit,
            newest_first=newest_first,
            names=names,
            status=status,
            since=since,
        )

    def turn_request(
        self, tenant_id: UUID | str, message: str, conversation_id: UUID | str | None = None
    ) -> TurnRequest:
        """A message to a tenant's agent, checked (InvalidInputError when malformed); writes
        nothing. Run it with `stream`."""
        return self._agent.validate(
            {"tenant_id": tenant_id, "message": message, "conversation_id": conversation_id}
        )

    def hear(self, tenant_id: UUID, audio: bytes) -> Heard:
        """What a caller of the tenant said in `audio` (in the tenant's language), to send as
        a message. InvalidInputError for audio that is empty, too long, silent or unreadable;
        VoiceUnavailableError when nothing here transcribes. Nothing is written."""
        self.require(Action.CHAT, tenant_id)
        return self.voice.hear(audio, settings_from(self.tenant(tenant_id).settings).language)

    def say(self, tenant_id: UUID, reply: str) -> bytes | None:
        """The reply spoken as the tenant set (voice, pace), as WAV; None when nothing here speaks."""
        self.require(Action.CHAT, tenant_id)
        return self.voice.say(reply, settings_from(self.tenant(tenant_id).settings).delivery())

    def keep_spoken_turn(self, tenant_id: UUID, spoken: SpokenTurn) -> bool:
        """Keep a spoken turn's timings with its conversation, and what was said on both sides
        while the tenant keeps recordings (`recording_days` above 0); once per turn, nothing
        when no turn started. The caller was answered already, so a store that cannot keep it
        is logged and False, never an error for the answer."""
        self.require(Action.CHAT, tenant_id)
        try:
            keep_audio = settings_from(self.tenant(tenant_id).settings).recording_days > 0
            record = spoken.record(tenant_id, keep_audio=keep_audio)
            return record is not None and self._store.voice_turns.keep(record)
        except AgentCoreError as exc:
            log.warning("the spoken turn %s was not kept: %s", spoken.turn_id, exc)
            return False

    def spoken_turns(self, tenant_id: UUID, conversation_id: UUID) -> list[VoiceTurn]:
        """A conversation's spoken turns: their timings, and their recordings while kept."""
        self.require(Action.READ, tenant_id)
        return self._store.voice_turns.in_conversation(tenant_id, conversation_id)

    def forget_recordings(self, tenant_id: UUID, conversation_id: UUID) -> int:
        """Forget what was said and answered aloud in a conversation now (a caller asked),
        before the tenant's retention would; the timings stay. Audited; returns how many
        spoken turns lost their audio (0: there was none, and nothing is audited)."""
        self.require(Action.CORRECT, tenant_id)
        audit = self.audit_entry(
            AuditAction.RECORDINGS_FORGOTTEN, f"conversation {conversation_id}", tenant_id=tenant_id
        )
        return self._store.voice_turns.forget_conversation(tenant_id, conversation_id, audit=audit)

    def analytics_today(self, tenant_id: UUID | None) -> date:
        """The last day Analytics can have counted: today where the business is (its timezone
        setting; with no tenant, the default zone TIMEZONE) on the clock that stamps turns."""
        default = self._agent.clock.now().tzinfo or UTC
        zone = default if tenant_id is None else settings_from(self.tenant(tenant_id).settings).zone(default)
        return utcnow().astimezone(zone).date()

    def stream(
        self, request: TurnRequest, channel: Channel | None = None, *, spoken: bool = False
    ) -> Generator[TurnStep, None, None]:
        """The one way in for a turn (see Agent.stream): checked for the principal, started by it
        through `channel` (by default the one its kind implies), `spoken` when its message was
        said aloud (kept with the turn). `collect` waits for the result."""
        self.require(Action.CHAT, request.tenant_id)
        return self._agent.stream(request, self._origin(channel, spoken))

    def analytics(self, tenant_id: UUID | None, first_day: date, last_day: date) -> Analytics:
        """A tenant's activity over the days (both included), or every tenant's (admins): each
        tenant's own days, in its timezone."""
        if tenant_id is None:
            self.require(Action.ADMINISTER)
        else:
            self.require(Action.READ, tenant_id)
        return self._store.analytics(AnalyticsQuery(tenant_id, first_day, last_day))

    def search_conversations(self, tenant_id: UUID, query: ConversationQuery) -> Page[ConversationOverview]:
        """The tenant's conversation log: every conversation, whatever channel it came through."""
        self.require(Action.READ, tenant_id)
        return self._store.search_conversations(tenant_id, query)

    def _origin(self, channel: Channel | None = None, spoken: bool = False) -> TurnOrigin:
        """Who starts a turn, and through which channel: the HTTP API names itself; otherwise
        the principal tells (the `vam` command, or someone in the dashboard)."""
        if channel is None:
            kinds = {PrincipalKind.CLI: Channel.CLI, PrincipalKind.API_KEY: Channel.API}
            channel = kinds.get(self.principal.kind, Channel.DASHBOARD)
        return TurnOrigin(channel, self.principal.label, spoken)

    def turns(self, tenant_id: UUID, conversation_id: UUID) -> list[TurnRecord]:
        """A conversation's turns, oldest first: which failed, and which retried which."""
        self.require(Action.READ, tenant_id)
        return self._store.list_turns(tenant_id, conversation_id)

    def retry_request(self, tenant_id: UUID, conversation_id: UUID) -> TurnRequest:
        """The conversation's last message again, whose turn failed, to `stream` without
        storing the message a second time; ConflictError when the last turn did not fail."""
        self.require(Action.CHAT, tenant_id)
        turns = self._store.list_turns(tenant_id, conversation_id)
        if not turns:
            raise NotFoundError(f"unknown conversation {conversation_id}")
        if turns[-1].status != "failed":
            raise NOT_RETRYABLE()
        return self._agent.validate(
            {
                "tenant_id": tenant_id,
                "message": turns[-1].user_message,
                "conversation_id": conversation_id,
                "retry_of": turns[-1].id,
            }
        )

    def stop_turn(self, tenant_id: UUID, turn_id: UUID) -> bool:
        """Stop a turn of the tenant that this server runs, even while it waits on the model; the
        conversation shows its message as not answered, stopped by this principal, with Retry.
        False when no such turn runs here."""
        self.require(Action.CHAT, tenant_id)
        return self._agent.stop_turn(tenant_id, turn_id, f"stopped by {self.principal.label}")

    # -- changes -----------------------------------------------------------------------

    def replay_event(self, tenant_id: UUID, event_id: UUID) -> list[str]:
        """Run an event's failed listeners again; returns their names."""
        self.require(Action.REPLAY, tenant_id)
        audit = self.audit_entry(AuditAction.EVENT_REPLAYED, f"event {event_id}", tenant_id=tenant_id)
        return self._bus.replay(tenant_id, event_id, audit)

    # -- audit -------------------------------------------------------------------------

    def list_audit(
        self,
        tenant_id: UUID | None = None,
        *,
        actions: Sequence[str] = (),
        actor: str = "",
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[AuditEntry]:
        """Audit entries, newest first: of one tenant, or of every tenant the principal may
        audit (admins: all, including entries of no tenant such as sign-ins and users)."""
        if tenant_id is not None:
            self.require(Action.READ_AUDIT, tenant_id)
            tenants: frozenset[UUID] | None = frozenset({tenant_id})
        elif self.may(Action.ADMINISTER):
            tenants = None
        else:
            self.require(Action.READ_AUDIT)
            tenants = self.principal.tenants or frozenset()
        return self._store.list_audit(AuditQuery(tenants, tuple(actions), actor, since, limit))


def cli_principal(os_user: str) -> Principal:
    """The principal of the `vam` command: whoever can run it on the server already holds
    the database's credentials, so it acts as an admin, named in the audit log."""
    return Principal(PrincipalKind.CLI, f"cli:{os_user}", UserRole.ADMIN)

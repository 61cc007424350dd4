"""Command line: talk to a tenant's agent, list tenants, manage users and API keys, migrate
the database, serve the API.

Whoever runs `vam` on the server already holds the database's credentials, so it acts as an
admin (`cli:<os user>` in the audit log).

Every command says on stderr which store it uses: SQLITE_PATH is relative to the current
folder, so a command run from elsewhere would otherwise write to another file unnoticed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from agent_core.access.models import UserRole
from agent_core.agent.steps import collect
from agent_core.clock import FixedClock
from agent_core.errors import AgentCoreError, InvalidInputError
from agent_core.runtime import build_model, build_runtime, describe_store, scenario_parts
from agent_core.scenarios.files import read_suite, suite_tenant
from agent_core.scenarios.results import SuiteReport
from agent_core.scenarios.runner import ScenarioRunner
from agent_core.settings import Settings, load_settings
from agent_core.store.access_store import email_key
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.migrations import Migration
from agent_core.store.migrations.schema_script import schema_script
from agent_core.testing.corpus import AS_CALLERS_TALK, CORPUS, CORPUS_NOW, HELD_OUT
from agent_core.testing.held_out_callers import CALLERS_100, CALLERS_SECOND_ROUND
from agent_core.testing.understanding import Case, score
from agent_core.tools import default_registry
from agent_core.workspace import Workspace, cli_principal


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `vam`; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="vam", description="voice-assistant-mini command line")
    commands = parser.add_subparsers(dest="command", required=True)
    chat = commands.add_parser("chat", help="send one message and print the reply and tool calls")
    chat.add_argument("message")
    chat.add_argument("--tenant", default=str(DEMO_TENANT_ID), help="tenant id (default: the demo tenant)")
    chat.add_argument("--conversation", default=None, help="continue this conversation id")
    chat.add_argument("--json", action="store_true", help="print the whole turn as JSON")
    commands.add_parser("tenants", help="list tenants")
    migrate = commands.add_parser(
        "migrate", help="upgrade the database to this release's schema (SQLite upgrades by itself at start)"
    )
    migrate.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL to migrate instead of the configured store (e.g. a Supabase project's)",
    )
    commands.add_parser(
        "schema",
        help="print the PostgreSQL script that builds this release's schema on a new database (schema.sql)",
    )
    _user_commands(commands)
    _key_commands(commands)
    _scenario_commands(commands)
    evaluate = commands.add_parser(
        "eval",
        help="score the configured model on the labelled corpus of what callers say, with a report file",
    )
    evaluate.add_argument("--report", default="eval-report.md", help="where to write the report (Markdown)")
    evaluate.add_argument(
        "--cases",
        choices=sorted(EVAL_SETS),
        default="corpus",
        help=(
            "corpus: all 316; held-out: the 40 no rule was written against; as-callers-talk: spoken"
            " style; callers-100: 100 by the eleven kinds callers ask, written before the rules;"
            " second-round: 63 more, written before the rules changed for them"
        ),
    )
    api = commands.add_parser("api", help="serve the HTTP API alone (no dashboard)")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument(
        "--graceful-seconds", type=float, default=30.0, help="how long SIGTERM waits for in-flight turns"
    )
    api.add_argument(
        "--workers",
        type=_worker_count,
        default=1,
        help="processes serving the port (each its own GIL); more than 1 needs PostgreSQL or Supabase",
    )
    args = parser.parse_args(argv)
    if args.command == "api":
        return serve_api(args.host, args.port, args.graceful_seconds, args.workers)
    if args.command == "scenarios" and args.action == "run" and args.file is not None:
        return run_scenario_file(Path(args.file), args.repeat)
    if args.command == "eval":
        return evaluate_model(Path(args.report), EVAL_SETS[args.cases])
    if args.command == "schema":
        sys.stdout.write(schema_script())
        return 0
    try:
        settings = load_settings()
        if args.command == "migrate":
            return migrate_database(settings, args.database_url)
        print(describe_store(settings), file=sys.stderr)
        runtime = build_runtime(settings)
    except AgentCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    workspace = runtime.acting_as(cli_principal(getpass.getuser()))
    try:
        if args.command == "tenants":
            for tenant in workspace.tenants():
                print(f"{tenant.id}  {tenant.name}")
            return 0
        if args.command == "users":
            return manage_users(workspace, args)
        if args.command == "keys":
            return manage_keys(workspace, args)
        if args.command == "scenarios":
            return manage_scenarios(workspace, args)
        return chat_once(workspace, args)
    except AgentCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()


def _user_commands(commands: Any) -> None:
    users = commands.add_parser("users", help="dashboard users: add, list, change, reset a password")
    actions = users.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a user; prints a one-time password unless --ask-password")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=[r.value for r in UserRole])
    add.add_argument("--tenant", action="append", default=[], help="tenant id (repeat for several)")
    add.add_argument("--ask-password", action="store_true", help="type the password instead")
    add.add_argument("--sso", action="store_true", help="single sign-on only: no password")
    actions.add_parser("list", help="list users")
    change = actions.add_parser("set", help="change a user's role, tenants or whether they may sign in")
    change.add_argument("email")
    change.add_argument("--role", choices=[r.value for r in UserRole])
    change.add_argument("--tenant", action="append", default=None, help="tenant id (replaces the list)")
    change.add_argument("--disable", action="store_true")
    change.add_argument("--enable", action="store_true")
    reset = actions.add_parser("reset-password", help="print a new one-time password; signs the user out")
    reset.add_argument("email")


def _key_commands(commands: Any) -> None:
    keys = commands.add_parser("keys", help="API keys: create, list, revoke")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key and print it (shown this once)")
    create.add_argument("name", help="who uses it, e.g. 'phone gateway'")
    create.add_argument("--tenant", default=None, help="tenant id (default: admin-wide)")
    actions.add_parser("list", help="list keys (prefixes only)")
    revoke = actions.add_parser("revoke", help="revoke a key by its prefix (vam_…) or id")
    revoke.add_argument("key")


def _scenario_commands(commands: Any) -> None:
    scenarios = commands.add_parser("scenarios", help="a tenant's prompt scenarios: run, export, import")
    actions = scenarios.add_subparsers(dest="action", required=True)
    run = actions.add_parser(
        "run", help="run a tenant's scenarios (or a file's) in sandboxes; exits 1 when one fails"
    )
    run.add_argument("--tenant", default=str(DEMO_TENANT_ID), help="tenant id (default: the demo tenant)")
    target = run.add_mutually_exclusive_group()
    target.add_argument("--draft", action="store_true", help="test the tenant's unpublished draft")
    target.add_argument("--version", type=int, default=None, help="test this prompt version")
    target.add_argument("--file", default=None, help="run a scenario YAML file on its own (no database)")
    run.add_argument(
        "--repeat", type=int, default=1, help="runs of each scenario (for a non-deterministic model)"
    )
    export = actions.add_parser("export", help="print a tenant's scenarios as YAML")
    export.add_argument("--tenant", default=str(DEMO_TENANT_ID))
    load = actions.add_parser("import", help="add or replace scenarios from a YAML file (all or none)")
    load.add_argument("file")
    load.add_argument("--tenant", default=str(DEMO_TENANT_ID))


def manage_scenarios(workspace: Workspace, args: argparse.Namespace) -> int:
    """`vam scenarios run|export|import` against a stored tenant."""
    [tenant_id] = _uuids([args.tenant])
    if args.action == "export":
        print(workspace.scenarios.export_file(tenant_id), end="")
        return 0
    if args.action == "import":
        added, replaced = workspace.scenarios.import_file(tenant_id, _read(Path(args.file)))
        print(f"{added} added, {replaced} replaced")
        return 0
    target: str | int = "draft" if args.draft else args.version if args.version is not None else "live"
    run = workspace.scenarios.run(tenant_id, target, repetitions=args.repeat)
    print("\n".join(SuiteReport.model_validate(run.report).lines()))
    return 0 if run.passed else 1


def run_scenario_file(path: Path, repetitions: int) -> int:
    """`vam scenarios run --file F`: the file's scenarios against its own prompt, in sandboxes."""
    try:
        suite = read_suite(path)
        tenant = suite_tenant(suite)
        report = ScenarioRunner(scenario_parts()).run(
            tenant, tenant.system_prompt, suite.scenarios, target=str(path), repetitions=repetitions
        )
    except AgentCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0 if report.passed else 1


EVAL_SETS = {
    "corpus": [*CORPUS, *HELD_OUT],
    "held-out": HELD_OUT,
    "as-callers-talk": AS_CALLERS_TALK,
    "callers-100": CALLERS_100,
    "second-round": CALLERS_SECOND_ROUND,
}
"""The sets of labelled exchanges `vam eval` scores."""


def evaluate_model(report: Path, cases: Sequence[Case]) -> int:
    """`vam eval`: the configured model (the demo model without OPENAI_API_KEY) on the labelled
    corpus, on the corpus's own day; prints the scores and writes the report. Exits 1 when the
    model made any wrong write (a miss is a score; a wrong write is a failure)."""
    try:
        settings = load_settings()
        model = build_model(settings, FixedClock(CORPUS_NOW))
        print(f"model: {model.name}; {len(cases)} exchanges", file=sys.stderr)
        scored = score(model, default_registry().specs, cases, CORPUS_NOW.date())
        text = scored.report(model.name)
        report.write_text(text, encoding="utf-8")
    except (AgentCoreError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(text, end="")
    print(f"report: {report.resolve()}", file=sys.stderr)
    if scored.wrong_writes:
        print(f"failed: {scored.wrong_writes} wrong writes", file=sys.stderr)
        return 1
    return 0


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}") from None


def _uuids(values: Sequence[str]) -> list[UUID]:
    try:
        return [UUID(v) for v in values]
    except ValueError:
        raise InvalidInputError("--tenant takes a tenant id (a UUID; see `vam tenants`)") from None


def manage_users(workspace: Workspace, args: argparse.Namespace) -> int:
    """`vam users …`."""
    if args.action == "list":
        for listed in workspace.accounts.users():
            state = " (disabled)" if listed.disabled else ""
            tenants = ", ".join(sorted(map(str, listed.tenants)))
            scope = "all tenants" if listed.role is UserRole.ADMIN else tenants
            print(f"{listed.email}  {listed.role.value}  {scope}{state}")
        return 0
    if args.action == "add":
        password = None
        if args.ask_password:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Again: ") != password:
                raise InvalidInputError("the two passwords differ")
        user, one_time = workspace.accounts.add_user(
            args.email, args.role, _uuids(args.tenant), password=password, sso_only=args.sso
        )
        print(f"added {user.email} ({user.role.value})")
        if one_time is not None:
            print(f"one-time password: {one_time}")
        return 0
    found = next((u for u in workspace.accounts.users() if email_key(u.email) == email_key(args.email)), None)
    if found is None:
        raise InvalidInputError(f"no user {args.email}")
    user = found
    if args.action == "reset-password":
        print(f"one-time password for {user.email}: {workspace.accounts.reset_password(user.id)}")
        return 0
    changed = workspace.accounts.change_user(
        user.id,
        role=args.role or user.role,
        tenants=_uuids(args.tenant) if args.tenant is not None else sorted(user.tenants),
        disabled=args.disable or (user.disabled and not args.enable),
    )
    print(f"{changed.email}: {changed.role.value}" + (" (disabled)" if changed.disabled else ""))
    return 0


def manage_keys(workspace: Workspace, args: argparse.Namespace) -> int:
    """`vam keys …`."""
    if args.action == "create":
        tenant = _uuids([args.tenant])[0] if args.tenant else None
        key, secret = workspace.accounts.create_api_key(args.name, tenant)
        print(f"created {key.name} for {key.tenant_id or 'all tenants'}; the key (shown this once):")
        print(secret)
        return 0
    keys = workspace.accounts.api_keys()
    if args.action == "list":
        for key in keys:
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            state = "active" if key.active else "revoked"
            print(f"{key.prefix}…  {key.name}  {key.tenant_id or 'all tenants'}  {state}  last used {used}")
        return 0
    match = [k for k in keys if args.key in (k.prefix, str(k.id)) or args.key.startswith(k.prefix)]
    if len(match) != 1:
        raise InvalidInputError(f"no single key matches {args.key!r} (see `vam keys list`)")
    revoked = workspace.accounts.revoke_api_key(match[0].id)
    print(f"revoked {revoked.name} ({revoked.prefix}…)")
    return 0


def chat_once(workspace: Workspace, args: argparse.Namespace) -> int:
    """`vam chat`: one turn, printed."""
    result = collect(workspace.stream(workspace.turn_request(args.tenant, args.message, args.conversation)))
    if args.json:
        print(
            json.dumps(
                {
                    "conversationId": str(result.conversation_id),
                    "reply": result.reply,
                    "toolCalls": [
                        {
                            "name": c.name,
                            "arguments": c.arguments,
                            "status": c.status.value,
                            "result": c.result,
                            "error": c.error,
                        }
                        for c in result.tool_calls
                    ],
                    "model": result.model,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        for call in result.tool_calls:
            outcome = json.dumps(call.result, ensure_ascii=False) if call.result else call.error
            print(f"[{call.name} {call.status.value}] {outcome}")
        print(result.reply)
        print(f"(conversation {result.conversation_id}, {result.model})")
    return 0


def migrate_database(settings: Settings, database_url: str | None) -> int:
    """Apply pending migrations to the chosen database and say what was done."""
    applied: list[Migration]
    if database_url is not None:
        settings = load_settings(database_url=database_url, supabase_url=None, supabase_service_role_key=None)
    print(describe_store(settings), file=sys.stderr)
    if settings.database_url is not None:
        from agent_core.store.postgres import postgres_version, upgrade_postgres

        applied = upgrade_postgres(str(settings.database_url))
        version = postgres_version(str(settings.database_url))
    elif settings.supabase_url is not None:
        print(
            "error: vam migrate talks SQL to the database: pass --database-url with the Supabase"
            " project's Postgres connection string (Project settings → Database)",
            file=sys.stderr,
        )
        return 2
    else:
        from agent_core.store.sqlite import SqliteStore

        store = SqliteStore(settings.sqlite_path)
        applied, version = store.applied_migrations, store.schema_version()
        store.close()
    for migration in applied:
        print(f"applied {migration.label}")
    print(f"database at version {version}" + ("" if applied else " (up to date)"))
    return 0


def _worker_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers from 1 to 64")
    return count


def serve_api(host: str, port: int, graceful_seconds: float, workers: int = 1) -> int:
    """Run the headless API until SIGTERM/SIGINT, then exit 0 (see agent_core.http.serving)."""
    from agent_core.http.serving import serve

    if workers > 1:
        try:
            settings = load_settings()
        except AgentCoreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if settings.database_url is None and settings.supabase_url is None:
            print(
                "error: --workers above 1 needs a database every process shares: set DATABASE_URL"
                " (PostgreSQL) or SUPABASE_URL; SQLite serves one process",
                file=sys.stderr,
            )
            return 2
    serve(
        "agent_core.http.app:create_api",
        factory=True,
        host=host,
        port=port,
        graceful_seconds=graceful_seconds,
        workers=workers,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

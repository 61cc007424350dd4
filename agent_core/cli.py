"""Command line: talk to a tenant's agent, list tenants, migrate the database, serve the API.

Every command says on stderr which store it uses: SQLITE_PATH is relative to the current
folder, so a command run from elsewhere would otherwise write to another file unnoticed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from agent_core.errors import AgentCoreError
from agent_core.runtime import build_runtime, describe_store
from agent_core.settings import Settings, load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.store.migrations import Migration


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
    api = commands.add_parser("api", help="serve the HTTP API alone (no dashboard)")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument(
        "--graceful-seconds", type=float, default=30.0, help="how long SIGTERM waits for in-flight turns"
    )
    args = parser.parse_args(argv)
    if args.command == "api":
        return serve_api(args.host, args.port, args.graceful_seconds)
    try:
        settings = load_settings()
        if args.command == "migrate":
            return migrate_database(settings, args.database_url)
        print(describe_store(settings), file=sys.stderr)
        runtime = build_runtime(settings)
    except AgentCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "tenants":
            for tenant in runtime.store.list_tenants():
                print(f"{tenant.id}  {tenant.name}")
            return 0
        result = runtime.agent.run_turn(args.tenant, args.message, args.conversation)
    except AgentCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
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


def serve_api(host: str, port: int, graceful_seconds: float) -> int:
    """Run the headless API until SIGTERM/SIGINT, then exit 0 (see agent_core.http.serving)."""
    from agent_core.http.serving import serve

    serve(
        "agent_core.http.app:create_api",
        factory=True,
        host=host,
        port=port,
        graceful_seconds=graceful_seconds,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

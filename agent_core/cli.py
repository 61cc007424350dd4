"""Command line: talk to a tenant's agent or list tenants, on the same runtime as the dashboard."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence

from agent_core.errors import AgentCoreError
from agent_core.runtime import build_runtime
from agent_core.store.demo_data import DEMO_TENANT_ID


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
        runtime = build_runtime()
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


def serve_api(host: str, port: int, graceful_seconds: float) -> int:
    """Run the headless API until SIGTERM/SIGINT; in-flight turns finish, the bus drains, exit 0."""
    import uvicorn

    # uvicorn finishes in-flight requests and the lifespan on SIGTERM, then re-raises the
    # signal; exiting through this handler makes that clean shutdown exit with status 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    uvicorn.run(
        "agent_core.http.app:create_api",
        factory=True,
        host=host,
        port=port,
        timeout_graceful_shutdown=max(1, int(graceful_seconds)),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

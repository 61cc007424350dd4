"""What testing a prompt costs: a sandbox (an in-memory copy of the tenant), one scenario
attempt, the demo tenant's whole suite, and publishing through the gate — with the offline
demo model, so the numbers are the product's own overhead, not a model's.

Run: `.venv/bin/python -m benchmarks.scenarios`
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from agent_core.runtime import build_runtime
from agent_core.scenarios.runner import ScenarioRunner
from agent_core.scenarios.sandbox import AgentParts, Sandbox
from agent_core.settings import load_settings
from agent_core.store.demo_data import DEMO_TENANT_ID
from agent_core.workspace import cli_principal
from benchmarks.timing import HEADER, measure, sized


def main() -> None:
    """Print the timing table."""
    with tempfile.TemporaryDirectory() as folder:
        runtime = build_runtime(load_settings(sqlite_path=Path(folder) / "bench.sqlite3"))
        try:
            workspace = runtime.acting_as(cli_principal("bench"))
            tenant = workspace.tenant(DEMO_TENANT_ID)
            parts = AgentParts.of(runtime.agent)
            runner = ScenarioRunner(parts)
            suite = workspace.scenarios.suite(DEMO_TENANT_ID)
            scenarios = [suite.parsed[s.id] for s in suite.stored]
            one = next(s for s in scenarios if s.name.startswith("Books a tour"))

            def new_sandbox() -> None:
                Sandbox(tenant, tenant.system_prompt, parts).close()

            def one_attempt() -> None:
                runner.run(tenant, tenant.system_prompt, [one], target="bench")

            def whole_suite() -> None:
                runner.run(tenant, tenant.system_prompt, scenarios, target="bench")

            print(HEADER)
            print(measure("new sandbox (in-memory SQLite, migrated)", new_sandbox, runs=100, warmup=5).row())
            print(measure("one scenario: book from one message", one_attempt, runs=100, warmup=5).row())
            print(measure(f"demo suite: {len(scenarios)} scenarios", whole_suite, runs=30, warmup=3).row())
            started = time.perf_counter()
            count = sized(20, 1)
            for number in range(count):
                workspace.prompts.publish(
                    DEMO_TENANT_ID, f"You are Ava {number}, the assistant of Demo Tours."
                )
            per_publish = (time.perf_counter() - started) / count * 1000
            print(f"\npublish through the gate (suite + run kept + version + audit): {per_publish:,.1f} ms")
        finally:
            runtime.close()


if __name__ == "__main__":
    main()

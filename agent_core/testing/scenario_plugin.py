"""pytest plugin: every `*.scenarios.yaml` file is a test module, each scenario a test.

Installed with the package (entry point `pytest11`), so `pytest path/to/tenant.scenarios.yaml`
runs a tenant's suite — exported with `vam scenarios export` — against the model the settings
configure, in sandboxes, with no database: what CI needs to gate a prompt change.
`--scenario-repeat N` runs each scenario N times; all must pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent_core.domain import Tenant
from agent_core.errors import AgentCoreError
from agent_core.runtime import scenario_parts
from agent_core.scenarios.files import read_suite, suite_tenant
from agent_core.scenarios.results import SuiteReport
from agent_core.scenarios.runner import ScenarioRunner
from agent_core.scenarios.spec import Scenario

SUFFIXES = (".scenarios.yaml", ".scenarios.yml")
_RUNNER = pytest.StashKey[ScenarioRunner]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--scenario-repeat`."""
    parser.addoption(
        "--scenario-repeat",
        type=int,
        default=1,
        help="run each scenario of *.scenarios.yaml files N times; all must pass (default 1)",
    )


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect scenario files."""
    if file_path.name.endswith(SUFFIXES):
        collector: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
        return collector
    return None


class ScenarioFailedError(Exception):
    """A scenario did not pass; carries the report pytest prints."""

    def __init__(self, report: SuiteReport) -> None:
        super().__init__(report.summary)
        self.report = report


class ScenarioFile(pytest.File):
    """One suite file."""

    def collect(self) -> Iterator[ScenarioItem]:
        """One test per scenario; a file that does not load fails collection with the reason."""
        try:
            suite = read_suite(self.path)
        except AgentCoreError as exc:
            raise self.CollectError(str(exc)) from None
        tenant = suite_tenant(suite)
        for scenario in suite.scenarios:
            yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario, tenant=tenant)


class ScenarioItem(pytest.Item):
    """One scenario run through the real agent loop in a sandbox."""

    def __init__(self, *, scenario: Scenario, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.tenant = tenant

    def runtest(self) -> None:
        """Run the scenario; fail with its report when an attempt did not pass."""
        if _RUNNER not in self.config.stash:
            self.config.stash[_RUNNER] = ScenarioRunner(scenario_parts())
        report = self.config.stash[_RUNNER].run(
            self.tenant,
            self.tenant.system_prompt,
            [self.scenario],
            target=str(self.path.name),
            repetitions=self.config.getoption("scenario_repeat"),
        )
        if not report.passed:
            raise ScenarioFailedError(report)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The scenario's report instead of a traceback."""
        if isinstance(excinfo.value, ScenarioFailedError):
            return "\n".join(excinfo.value.report.lines())
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the scenario lives, as pytest shows it."""
        return self.path, None, f"scenario: {self.name}"

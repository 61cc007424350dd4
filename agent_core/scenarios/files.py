"""Running a scenario file on its own: the suite's tenant and prompt stand in for a stored
tenant, so CI can test a tenant's suite with no database (pytest, `vam scenarios run --file`)."""

from __future__ import annotations

from pathlib import Path
from uuid import NAMESPACE_URL, uuid5

from agent_core.access.forms import parse_form
from agent_core.clock import utcnow
from agent_core.domain import Tenant
from agent_core.errors import InvalidInputError
from agent_core.scenarios.spec import ScenarioFile, parse_scenario_file
from agent_core.tenant_settings import TenantSettings

# Stand-in tenants get stable ids from their names, so a file's runs are reproducible.
_FILE_TENANTS = uuid5(NAMESPACE_URL, "voice-assistant-mini:scenario-files")


def read_suite(path: Path) -> ScenarioFile:
    """The suite in `path`; InvalidInputError naming the file when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}") from None
    try:
        suite = parse_scenario_file(text)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{path}: {exc}", exc.details) from None
    if suite.prompt is None:
        raise InvalidInputError(f"{path}: a file run on its own needs the prompt to test (`prompt:`)")
    return suite


def suite_tenant(suite: ScenarioFile) -> Tenant:
    """A stand-in tenant with the suite's name and settings (validated as the dashboard does)."""
    name = suite.tenant.name if suite.tenant else "Scenario file"
    settings = suite.tenant.settings if suite.tenant else {}
    return Tenant(
        uuid5(_FILE_TENANTS, name),
        name,
        suite.prompt or "",
        utcnow(),
        parse_form(TenantSettings, "tenant settings", **settings).stored(),
    )

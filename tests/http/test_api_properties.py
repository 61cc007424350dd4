"""Property-based run over the OpenAPI document (schemathesis strategies driven by
hypothesis): whatever is sent, no 5xx, and every response matches the document."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from agent_core.http.openapi import openapi_document
from agent_core.settings import Settings
from tests.http.conftest import RunningApi

SCHEMA = schemathesis.openapi.from_dict(openapi_document(Settings().max_message_chars))
# Their days must be in order and span at most 366 days: a rule JSON Schema cannot state, so
# a schema-valid range may rightly get a 422 (its message says which rule).
CROSS_FIELD_RULES = {"GET /api/analytics", "GET /api/tenants/{tenantId}/analytics"}
OPERATIONS = {
    f"{op.method.upper()} {op.path}": op
    for op in (result.ok() for result in SCHEMA.get_all_operations())  # type: ignore[union-attr]
}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_server_errors_and_responses_match_the_document(
    serve: Callable[..., RunningApi], label: str
) -> None:
    api = serve()
    operation = OPERATIONS[label]

    @given(data=st.data())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy())
        excluded = [positive_data_acceptance] if label in CROSS_FIELD_RULES else []
        case.call_and_validate(base_url=api.url, excluded_checks=excluded)

    run()

"""The API against its own OpenAPI document, judged by schemathesis as an outside client
would run it: `schemathesis run --checks all` over every operation and every phase (examples,
boundary values, fuzzing, and stateful sequences that follow the answers), including schema-
violating requests that must be refused. The rules JSON Schema cannot state are listed, with
their reasons, in `schemathesis.toml` at the top of the repository."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from agent_core.http.openapi import openapi_document
from tests.http.conftest import RunningApi

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def test_every_check_of_schemathesis_passes_on_every_operation(
    serve: Callable[..., RunningApi], tmp_path: Path
) -> None:
    api = serve()
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--no-color",
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            f"{api.url}/api/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "20",
            # A fixed seed: the same requests on every run, so a failure reproduces.
            "--seed",
            "20261202",
            "--request-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.http.schemathesis_hooks", "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    # Schemathesis leaves out the operation that serves the document it loaded.
    operations = sum(
        len(methods)
        for path, methods in openapi_document(4000)["paths"].items()
        if path != "/api/openapi.json"
    )
    assert f"Tested: {operations}" in run.stdout, run.stdout[-3000:]

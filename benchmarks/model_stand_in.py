"""The local OpenAI-compatible model the load benchmarks talk to, in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent_core.testing.net import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def model_stand_in(delay: float) -> Iterator[str]:
    """A booking model answering each call after `delay` seconds; yields its base URL."""
    port = free_port()
    model = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent_core.testing.openai_server",
            "--port",
            str(port),
            "--delay",
            str(delay),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        model.terminate()
        model.wait(timeout=10)

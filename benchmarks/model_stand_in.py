"""What the load benchmarks run against: the local OpenAI-compatible model and `vam api`
talking to it, each in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from agent_core.testing.environment import unconfigured_environment
from agent_core.testing.net import free_port, wait_for_http

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def model_stand_in(delay: float) -> Iterator[tuple[str, int]]:
    """A booking model answering each call after `delay` seconds; yields its base URL and
    its pid."""
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
        yield f"http://127.0.0.1:{port}/v1", model.pid
    finally:
        model.terminate()
        model.wait(timeout=10)


@contextmanager
def api_server(
    model_url: str, settings: Mapping[str, str], *, threads: int, workers: int = 1
) -> Iterator[tuple[str, int]]:
    """`vam api` on a free port with `workers` processes, its model the stand-in at
    `model_url`, and `settings` (its store); BENCH_API_THREADS overrides `threads`. Yields its
    URL and the parent's pid once it answers /api/health."""
    port = free_port()
    env = unconfigured_environment(
        OPENAI_API_KEY="sk-load",
        OPENAI_BASE_URL=model_url,
        API_THREADS=os.environ.get("BENCH_API_THREADS", str(threads)),
        **settings,
    )
    api = subprocess.Popen(
        [sys.executable, "-m", "agent_core.cli", "api", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        if not wait_for_http(f"{url}/api/health", timeout=60):
            raise RuntimeError("the API did not start")
        yield url, api.pid
    finally:
        api.terminate()
        api.wait(timeout=60)

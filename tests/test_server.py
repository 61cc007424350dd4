"""`python server.py`, what `make run` starts: configuration errors, the address it listens
on, the API's error shape beside the dashboard, and a clean exit on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent_core.testing.environment import unconfigured_environment
from agent_core.testing.net import free_port, wait_for_http
from tests.conftest import ROOT


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(tmp_path: Path, **variables: str) -> subprocess.Popen[bytes]:
    env = unconfigured_environment(SQLITE_PATH=str(tmp_path / "server.sqlite3"), **variables)
    return subprocess.Popen(
        [sys.executable, "server.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server on its defaults, with OPENAI_API_KEY set empty as deployment tools write it."""
    port = free_port()
    process = start(tmp_path_factory.mktemp("server"), PORT=str(port), OPENAI_API_KEY="")
    running = Server(process, port)
    if not wait_for_http(f"{running.url}/api/health"):
        process.kill()
        pytest.fail(f"server did not start: {process.communicate()[1].decode()}")
    yield running
    if process.poll() is None:
        process.kill()
        process.wait()


def request(url: str, method: str = "GET") -> tuple[int, dict[str, str], object]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_a_configuration_error_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    process = start(tmp_path, OPENAI_TIMEOUT_SECONDS="soon")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.decode() == (
        "voice-assistant-mini: Invalid configuration — OPENAI_TIMEOUT_SECONDS:"
        " Input should be a valid number, unable to parse string as a number\n"
    )


def test_an_empty_openai_key_runs_the_demo_model(server: Server) -> None:
    status, _, body = request(f"{server.url}/api/health")
    assert status == 200
    assert isinstance(body, dict)
    assert body["checks"]["model"]["detail"] == "offline demo model (no OPENAI_API_KEY)"


def test_it_listens_on_loopback_only_by_default(server: Server) -> None:
    # 0100007F is 127.0.0.1 as /proc/net/tcp writes it; no wildcard or external address.
    assert listening_addresses(server.port) == {"0100007F"}


def test_an_unknown_api_path_is_a_json_404_not_the_dashboard(server: Server) -> None:
    status, _, body = request(f"{server.url}/api/bookings")
    assert status == 404
    assert body == {"error": {"code": "not_found", "message": "no API route at /api/bookings", "details": []}}


def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(server: Server) -> None:
    status, headers, body = request(f"{server.url}/api/chat")
    assert (status, headers["allow"]) == (405, "POST")
    assert isinstance(body, dict)
    assert body["error"]["code"] == "method_not_allowed"
    status, headers, _ = request(f"{server.url}/api/tenants", method="DELETE")
    assert (status, headers["allow"]) == (405, "GET, HEAD")


def test_sigterm_shuts_down_cleanly_with_exit_status_0(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    _, err = server.process.communicate(timeout=60)
    assert server.process.returncode == 0
    assert "Traceback" not in err.decode()

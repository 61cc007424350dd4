from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.events.nats_server import NatsServer, nats_server


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server with JetStream of this test's own."""
    with nats_server(tmp_path / "jetstream") as server:
        yield server

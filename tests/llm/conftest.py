"""The real-model replays run through the HTTP tests' server fixture."""

from tests.http.conftest import serve

__all__ = ["serve"]

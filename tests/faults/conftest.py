"""The fault tests reuse the HTTP tests' server fixture."""

from tests.http.conftest import serve

__all__ = ["serve"]

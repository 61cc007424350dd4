"""The fault tests reuse the HTTP tests' server fixtures."""

from tests.http.conftest import api, serve

__all__ = ["api", "serve"]

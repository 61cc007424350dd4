"""The fault tests reuse the HTTP tests' server fixtures."""

from tests.http.conftest import api, model, model_api, serve

__all__ = ["api", "model", "model_api", "serve"]

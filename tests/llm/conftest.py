"""The real-model replays run through the HTTP tests' server fixture."""

from tests.http.conftest import model, model_api, serve

__all__ = ["model", "model_api", "serve"]

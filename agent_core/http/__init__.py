"""The HTTP API (the seed's `POST /chat` and `GET /health`, and read endpoints for integrators)."""

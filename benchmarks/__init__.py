"""Reproducible performance measurements: `make bench` runs every one (`python -m benchmarks`),
`make bench-quick` each once at a sliver of its size, as a test does so none stops working.
Their numbers are never asserted."""

ALL = (
    "agent_loop",
    "model_call",
    "access",
    "conversation_log",
    "records_page",
    "prompt_cache_and_bus",
    "scenarios",
    "understanding",
    "voice",
    "voice_call",
    "api_load",
    "api_scale",
)
"""Every benchmark module, in the order `make bench` runs them."""

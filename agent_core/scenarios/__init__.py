"""Scenario tests for tenant prompts: specs, the sandbox they run in, checks, and results."""

"""Tiny timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

QUICK = os.environ.get("BENCH_QUICK") == "1"
"""Each benchmark once through at a sliver of its size (`make bench-quick`, and the test that
every benchmark still runs): its numbers mean nothing."""


def sized(full: int, quick: int) -> int:
    """`full`, or `quick` in quick mode."""
    return quick if QUICK else full


@dataclass(frozen=True)
class Timing:
    """Per-call statistics in microseconds."""

    label: str
    runs: int
    mean_us: float
    p50_us: float
    p95_us: float

    def row(self) -> str:
        """A Markdown table row."""
        return (
            f"| {self.label} | {self.runs} | {self.mean_us:,.1f} | {self.p50_us:,.1f} | {self.p95_us:,.1f} |"
        )


HEADER = "| what | runs | mean µs | p50 µs | p95 µs |\n|---|---:|---:|---:|---:|"


def measure(label: str, action: Callable[[], object], runs: int, warmup: int = 50) -> Timing:
    """Time `action` `runs` times after a warm-up (a few of each in quick mode)."""
    runs, warmup = sized(runs, min(runs, 3)), sized(warmup, min(warmup, 1))
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        action()
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return Timing(
        label,
        runs,
        statistics.fmean(samples),
        samples[len(samples) // 2],
        samples[min(len(samples) - 1, int(len(samples) * 0.95))],
    )

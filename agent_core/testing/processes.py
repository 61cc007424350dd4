"""What Linux's /proc says about processes on this machine, for tests and benchmarks that
start servers as processes of their own."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """One live process."""

    pid: int
    parent: int
    name: str
    """The executable's name, as `ps -o comm` shows it."""
    state: str
    """One letter: R running, S sleeping, Z a zombie, …"""
    command: bytes
    """Its command line, NUL-separated."""
    cpu_seconds: float
    """User and system CPU time so far."""


def processes() -> list[ProcessInfo]:
    """Every process this user may read, as it is now (one that ends meanwhile is left out)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found.append(
            ProcessInfo(
                pid=int(entry.name),
                parent=int(fields[1]),
                name=stat[stat.index("(") + 1 : stat.rindex(")")],
                state=fields[0],
                command=command,
                cpu_seconds=(int(fields[11]) + int(fields[12])) / _TICKS,
            )
        )
    return found


def cpu_seconds(pids: set[int]) -> float:
    """The CPU time the processes of `pids` that are still alive have used so far."""
    return sum(p.cpu_seconds for p in processes() if p.pid in pids)

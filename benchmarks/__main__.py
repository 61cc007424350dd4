"""Run every benchmark in turn, each in a process of its own (`make bench`; with
BENCH_QUICK=1, `make bench-quick`). Stops at the first that fails."""

from __future__ import annotations

import subprocess
import sys

from benchmarks import ALL


def main() -> int:
    for name in ALL:
        print(f"## {name}", flush=True)
        done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], check=False)
        if done.returncode:
            return done.returncode
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

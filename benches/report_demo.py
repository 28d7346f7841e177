"""How long ``nextword demo`` takes: wall clock and CPU time, with the load.

Runs the demo as a user does, ``python -m nextword demo`` in a fresh process,
``--runs`` times, and prints per run the wall time, the CPU time (user + system)
of the process and the load average before and after. CPU time is the figure
a busy machine barely moves (wall time on a shared machine mostly measures the
others); on an idle machine with two cores or more, wall time is close to it.

The demo holds numpy's OpenBLAS to one thread in its neural section
(:mod:`nextword.neural.blas_threads`), whatever ``OPENBLAS_NUM_THREADS`` says.

Usage: ``python benches/report_demo.py [--runs 3]``
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time


def run_once(env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``nextword demo``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "nextword", "demo"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="how many runs (default 3)")
    args = parser.parse_args()
    env = dict(os.environ)
    print(f"nextword demo, {os.cpu_count()} cores")
    print(f"{'run':>3} {'wall s':>7} {'CPU s':>6}  load average before -> after (1 min)")
    for run in range(1, args.runs + 1):
        load = os.getloadavg()[0]
        wall, cpu = run_once(env)
        print(f"{run:>3} {wall:>7.1f} {cpu:>6.1f}  {load:.1f} -> {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

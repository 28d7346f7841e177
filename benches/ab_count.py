"""A/B of ``count_ngrams`` between two builds of nextword, alternating runs.

Each run is a fresh process with ``PYTHONPATH`` set to one build's ``python``
folder (a copy of the package with its ``_core`` module); runs alternate A, B,
A, B, ... so both sides see the same machine load. Prints each run (wall
seconds of the count, CPU seconds and peak resident MB of the process, and with
``--digest`` a sha256 of the vocabulary, keys and counts, which must match), then
medians and the load average before and after.

Usage: ``python benches/ab_count.py OLD_PYTHON_DIR NEW_PYTHON_DIR CORPUS ORDER
[--repeat 3] [--digest]``, e.g. ``... /tmp/old/python python
../shared/corpora/gutenberg 3``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import hashlib, json, resource, sys, time, nextword
corpus, order, digest = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
start = time.perf_counter()
counts = nextword.count_ngrams(corpus, order=order, progress=False)
out = {"seconds": time.perf_counter() - start, "tokens": counts.tokens}
if digest:
    h = hashlib.sha256("\n".join(counts.vocab.words()).encode())
    for n in range(1, order + 1):
        keys, values = counts.to_numpy(n)
        h.update(keys.tobytes())
        h.update(values.tobytes())
    out["digest"] = h.hexdigest()[:16]
usage = resource.getrusage(resource.RUSAGE_SELF)
out["cpu"] = round(usage.ru_utime + usage.ru_stime, 1)
out["peak_mb"] = usage.ru_maxrss // 1024
print(json.dumps(out))
"""


def run(python_dir: str, corpus: str, order: int, digest: bool) -> dict[str, float]:
    """One count in a fresh process using the build in `python_dir`."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(python_dir))
    args = [sys.executable, "-c", CHILD, corpus, str(order), "1" if digest else "0"]
    out = subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("corpus")
    parser.add_argument("order", type=int)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--digest", action="store_true", help="hash the results to compare")
    args = parser.parse_args()
    print("load before:", os.getloadavg())
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for _ in range(args.repeat):
        for side in ("old", "new"):
            r = run(getattr(args, side), args.corpus, args.order, args.digest)
            runs[side].append(r)
            print(side, r, flush=True)
    for side, rs in runs.items():
        wall = statistics.median(r["seconds"] for r in rs)
        cpu = statistics.median(r["cpu"] for r in rs)
        peak = max(r["peak_mb"] for r in rs)
        mtps = rs[0]["tokens"] / wall / 1e6
        print(f"{side}: median {wall:.2f} s ({mtps:.2f} M tok/s), CPU {cpu} s, peak {peak} MB")
    print("load after:", os.getloadavg())


if __name__ == "__main__":
    main()

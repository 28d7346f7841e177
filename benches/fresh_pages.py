"""What a page of fresh memory costs on this machine, against memory touched before.

Maps anonymous memory, writes one byte per 4 KB page (the kernel faults each
page in and zeroes it), then writes every page again, and repeats with a new
mapping: the first round takes pages the process never had, the later rounds
mostly the pages the previous round has just unmapped. On the project's VM,
with ``--huge``, the first round ran at about 0.45 GB/s and the others at about
20 GB/s (docs/scaling.md, "What a fresh page costs"). Usage::

    python benches/fresh_pages.py [--mb 1200] [--rounds 3] [--huge]
"""

from __future__ import annotations

import argparse
import mmap
import time


def touch_round(size: int, huge: bool) -> tuple[float, float]:
    """Seconds to fault in `size` fresh bytes, and to write them all again."""
    m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if huge and hasattr(mmap, "MADV_HUGEPAGE"):
        m.madvise(mmap.MADV_HUGEPAGE)
    view = memoryview(m)
    start = time.perf_counter()
    for at in range(0, size, 4096):
        view[at] = 1
    first = time.perf_counter() - start
    start = time.perf_counter()
    m.seek(0)
    block = b"\2" * (1 << 20)
    for _ in range(size >> 20):
        m.write(block)
    again = time.perf_counter() - start
    view.release()
    m.close()
    return first, again


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=1200, help="megabytes per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--huge", action="store_true", help="ask for transparent huge pages")
    args = parser.parse_args()
    size = args.mb << 20
    for r in range(args.rounds):
        first, again = touch_round(size, args.huge)
        print(
            f"round {r + 1}: first touch {first:.3f} s ({size / first / 1e9:.2f} GB/s), "
            f"written again {again:.3f} s ({size / again / 1e9:.2f} GB/s)"
        )


if __name__ == "__main__":
    main()

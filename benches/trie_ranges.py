"""Sibling-range sizes of an ARPA model, and what the trie's stored rankings cost.

A sibling range is the set of n-grams sharing a context (the successors of one
context). The trie layout (format 8, ``rust/core/src/lm/ranking.rs``) stores
the by-probability ranking of ranges of ``--stored-from`` entries or more:
per range a 16-byte directory row, its permutation at ``bits(len - 1)`` bits
per entry and an f64 running sum every ``--cum-every`` ranks; shorter ranges
are sorted per query. Printed: per order, the share of n-grams in ranges of
each size (powers of two), and the bytes those rankings would take for a few
thresholds. Usage::

    python benches/trie_ranges.py model.arpa [--stored-from 16] [--cum-every 16]

Reads the whole ARPA file into one counter per order (about 100 bytes per
context in memory: fine for the 32 MB Gutenberg slice's 12.65 M n-grams).
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path


def range_sizes(path: Path) -> dict[int, list[int]]:
    """For each order >= 2, the sizes of its sibling ranges."""
    counts: dict[int, collections.Counter[str]] = {}
    order = 0
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("\\"):
                head = line.strip()
                if head.endswith("-grams:"):
                    order = int(head[1:].split("-")[0])
                    counts[order] = collections.Counter()
                continue
            if order < 2 or not line.strip():
                continue
            words = line.split("\t")[1].split(" ")
            counts[order][" ".join(words[:-1])] += 1
    return {o: sorted(c.values()) for o, c in counts.items() if c}


def ranking_bits(sizes: list[int], stored_from: int, cum_every: int) -> int:
    """Bits the stored rankings of ranges of these sizes take."""
    total = 0
    for n in sizes:
        if n >= stored_from:
            total += n * max(n - 1, 0).bit_length() + 64 * -(-n // cum_every) + 128
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("arpa", type=Path)
    ap.add_argument("--stored-from", type=int, default=16)
    ap.add_argument("--cum-every", type=int, default=16)
    args = ap.parse_args()
    sizes = range_sizes(args.arpa)
    ngrams = sum(sum(s) for s in sizes.values())
    print(f"{args.arpa}: {ngrams:,} n-grams of orders 2 and up")
    for o, s in sorted(sizes.items()):
        n = sum(s)
        print(f"order {o}: {n:,} n-grams in {len(s):,} ranges, largest {s[-1]:,}")
        by_bucket: collections.Counter[int] = collections.Counter()
        for size in s:
            by_bucket[1 << (size - 1).bit_length()] += size
        done = 0
        for bucket in sorted(by_bucket):
            done += by_bucket[bucket]
            share = by_bucket[bucket] / n
            print(f"  ranges of <= {bucket:>6,}: {share:6.1%} of n-grams ({done / n:6.1%} so far)")
    for stored_from in sorted({8, 16, 32, 64, args.stored_from}):
        bits = sum(ranking_bits(s, stored_from, args.cum_every) for s in sizes.values())
        print(
            f"stored from {stored_from:>3}, a sum every {args.cum_every}: "
            f"{bits / 8e6:,.2f} MB, {bits / 8 / ngrams:.3f} bytes per n-gram"
        )


if __name__ == "__main__":
    main()

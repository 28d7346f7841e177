"""The ``nextword`` command: ``nextword count``, ``nextword demo``.

Run ``nextword --help`` or ``nextword COMMAND --help`` for the options.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional

from nextword.corpus import Corpus
from nextword.counts import MAX_ORDER, NGramCounts, count_ngrams
from nextword.errors import NextwordError
from nextword.tokenizers import Tokenizer, as_tokenizer


def _tokenizer_from_args(args: argparse.Namespace) -> Tokenizer:
    spec: str = args.tokenizer
    if args.lowercase and spec.startswith("word"):
        spec += ":lower"
    return as_tokenizer(spec)


def print_counts(counts: NGramCounts, top: int, seconds: Optional[float] = None) -> None:
    """Print the summary and the top n-grams of each order."""
    stats = counts.stats
    line = f"read {counts.tokens:,} tokens in {stats['sentences']:,} sentences"
    if seconds is not None:
        line += f" in {seconds:.2f} s ({counts.tokens / max(seconds, 1e-9) / 1e6:.2f} M tokens/s)"
    print(line)
    if stats["bad_lines"]:
        print(f"  {stats['bad_lines']:,} lines with invalid UTF-8 were replaced or skipped")
    print(f"{'order':>5}  {'unique':>14}  {'total':>14}")
    for n in range(1, counts.order + 1):
        print(f"{n:>5}  {counts.num_unique(n):>14,}  {counts.total(n):>14,}")
    if top > 0:
        for n in range(1, counts.order + 1):
            print(f"\ntop {top} {n}-grams:")
            for ngram, c in counts.most_common(top, n):
                print(f"  {c:>12,}  {' '.join(ngram)}")


def cmd_count(args: argparse.Namespace) -> int:
    corpus = Corpus(
        paths=list(args.paths),
        errors=args.errors,
        skip_blank=not args.keep_blank,
        text_field=args.text_field,
        format=args.format,
    )
    start = time.perf_counter()
    counts = count_ngrams(
        corpus,
        order=args.order,
        tokenizer=_tokenizer_from_args(args),
        pad=not args.no_pad,
        threads=args.threads,
        progress=False if args.quiet else None,
    )
    seconds = time.perf_counter() - start
    print_counts(counts, args.top, seconds)
    if args.output:
        counts.save(args.output)
        print(f"\nsaved to {args.output}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from nextword.demo import run_demo

    run_demo()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nextword",
        description="Language modelling from corpus to next word.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    count = sub.add_parser("count", help="count n-grams of a corpus")
    count.add_argument("paths", nargs="+", help="files, directories or globs (.gz/.zst/.jsonl)")
    count.add_argument("--order", "-n", type=int, default=3, help=f"highest order (1..{MAX_ORDER})")
    count.add_argument(
        "--tokenizer", "-t", default="whitespace", help="whitespace (default), word or char"
    )
    count.add_argument("--lowercase", action="store_true", help="lowercase (word tokenizer)")
    count.add_argument("--top", "-k", type=int, default=10, help="show the top K n-grams per order")
    count.add_argument("--output", "-o", type=Path, help="save the counts to this file")
    count.add_argument("--errors", choices=["strict", "replace", "skip"], default="strict")
    count.add_argument("--format", choices=["auto", "text", "jsonl"], default="auto")
    count.add_argument("--text-field", default="text", help="JSONL field holding the text")
    count.add_argument("--keep-blank", action="store_true", help="count blank lines as sentences")
    count.add_argument("--no-pad", action="store_true", help="no <s> and </s> around sentences")
    count.add_argument("--threads", type=int, default=0, help="worker threads (0 = all cores)")
    count.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    count.set_defaults(func=cmd_count)

    demo = sub.add_parser("demo", help="the whole pipeline on text that ships with Python")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the ``nextword`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (NextwordError, OSError, ValueError) as e:
        print(f"nextword: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

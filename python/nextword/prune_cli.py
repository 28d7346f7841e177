"""Pruning on the command line.

``nextword train --prune 0 1 1`` (count pruning, as ``lmplz --prune``) and
``--prune-entropy 1e-8`` (Stolcke, as SRILM's ``ngram -prune``) add to
``train``; ``nextword prune model.arpa -o small.arpa --entropy 1e-8`` prunes a
model file that already exists.
"""

from __future__ import annotations

import argparse
import time
from typing import Any


def add_prune_options(train: argparse.ArgumentParser) -> None:
    """The pruning options of ``nextword train``."""
    train.add_argument(
        "--prune",
        nargs="+",
        type=int,
        metavar="T",
        help="count pruning as lmplz --prune: thresholds per order starting with the "
        "unigrams' 0 (e.g. 0 1 1); n-grams seen at most T times are removed",
    )
    train.add_argument(
        "--prune-entropy",
        type=float,
        metavar="THETA",
        help="entropy pruning as SRILM's -prune: remove n-grams whose removal raises "
        "perplexity by less than this fraction (e.g. 1e-8)",
    )


def prune_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``NGramLM.fit`` the options above ask for."""
    return {
        "prune": getattr(args, "prune", None),
        "prune_entropy": getattr(args, "prune_entropy", None),
    }


def cmd_prune(args: argparse.Namespace) -> int:
    from nextword.lm import NGramLM

    lm = NGramLM.load(args.model)
    before = lm.sizes()
    start = time.perf_counter()
    pruned = lm.prune_entropy(args.entropy)
    seconds = time.perf_counter() - start
    print(f"pruned {args.model} by relative entropy {args.entropy:g} in {seconds:.2f} s")
    for n, (a, b) in enumerate(zip(before, pruned.sizes()), start=1):
        print(f"  {n}-grams: {a:>12,} -> {b:>12,}")
    pruned.save(args.output, progress=False if args.quiet else None)
    print(f"saved to {args.output}")
    return 0


def add_prune_command(sub: Any) -> None:
    """Register ``nextword prune``."""
    p = sub.add_parser("prune", help="prune a model file by relative entropy (SRILM's -prune)")
    p.add_argument("model", help="model.nwlm or model.arpa[.gz]")
    p.add_argument(
        "--entropy",
        type=float,
        required=True,
        metavar="THETA",
        help="remove n-grams whose removal raises relative entropy by less than THETA",
    )
    p.add_argument("--output", "-o", required=True, help="model.nwlm or model.arpa[.gz]")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_prune)

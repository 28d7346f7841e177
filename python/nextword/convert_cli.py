"""``nextword convert``: rewrite an n-gram model in another format or layout
(ARPA, the hash layout, the trie layout, quantized), and the ``--layout`` /
``--quantize`` options that ``nextword train`` shares with it."""

from __future__ import annotations

import argparse
import os
import time


def add_layout_options(parser: argparse.ArgumentParser) -> None:
    """``--layout hash|trie`` and ``--quantize BITS`` for a binary model output."""
    parser.add_argument(
        "--layout",
        choices=["hash", "trie"],
        default=None,
        help="binary layout: hash (default, fastest) or trie (smallest)",
    )
    parser.add_argument(
        "--quantize",
        type=int,
        default=None,
        metavar="BITS",
        help="trie layout: quantize probabilities and backoffs to BITS (1-16) bits",
    )


def layout_arguments(args: argparse.Namespace) -> dict[str, object]:
    """The ``save`` keywords the options ask for (``--quantize`` alone means a trie)."""
    layout = args.layout
    if layout is None and args.quantize is not None:
        layout = "trie"
    return {"layout": layout, "quantize": args.quantize}


def cmd_convert(args: argparse.Namespace) -> int:
    from nextword.lm import NGramLM

    start = time.perf_counter()
    progress = False if args.quiet else None
    lm = NGramLM.load(args.model, progress=progress)
    lm.save(args.output, progress=progress, **layout_arguments(args))  # type: ignore[arg-type]
    size = os.path.getsize(args.output)
    print(f"wrote {args.output} ({size:,} bytes) in {time.perf_counter() - start:.2f} s")
    return 0


def add_convert_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``convert`` to the command's subparsers."""
    convert = sub.add_parser(
        "convert", help="rewrite an n-gram model: ARPA, binary hash or trie layout, quantized"
    )
    convert.add_argument("model", help="model.arpa(.gz) or model.nwlm")
    convert.add_argument("output", help="model.nwlm (binary) or model.arpa(.gz)")
    add_layout_options(convert)
    convert.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    convert.set_defaults(func=cmd_convert)

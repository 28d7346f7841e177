"""The ``nextword filter``, ``dedup`` and ``stats`` commands: clean training
text by perplexity (as CCNet), remove repeats, and measure a corpus.

    nextword filter model.nwlm web.jsonl -o clean.jsonl              # head/middle/tail
    nextword filter model.nwlm web.txt -o clean.txt --threshold 800  # keep ppl <= 800
    nextword dedup web.jsonl -o dedup.jsonl --unit lines --spans 50
    nextword stats web.txt --model model.nwlm --png ppl.png
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Callable, Literal, Optional

from nextword.corpus import Corpus


def _corpus(args: argparse.Namespace) -> Corpus:
    return Corpus(
        paths=list(args.paths),
        errors=args.errors,
        format=args.format,
        text_field=args.text_field,
        skip_blank=args.skip_blank,
    )


def _names(text: Optional[str]) -> Optional[tuple[str, ...]]:
    return None if text is None else tuple(t for t in text.split(",") if t)


def _numbers(text: Optional[str]) -> Optional[tuple[float, ...]]:
    return None if text is None else tuple(float(t) for t in text.split(",") if t)


def cmd_filter(args: argparse.Namespace) -> int:
    from nextword.filter import filter_corpus

    summary = filter_corpus(
        args.model,
        _corpus(args),
        args.output,
        threshold=args.threshold,
        percentiles=_numbers(args.percentiles),
        cutoffs=_numbers(args.cutoffs),
        buckets=_names(args.buckets),
        keep=_names(args.keep),
        sample=args.sample,
        unit=args.unit,
        min_words=args.min_words,
        short=args.short,
        field=args.field,
        bucket_field=args.bucket_field,
        jsonl=args.jsonl,
        tokenizer=args.tokenizer,
        threads=args.threads,
        progress=False if args.quiet else None,
    )
    print(summary.format())
    return 0


def cmd_dedup(args: argparse.Namespace) -> int:
    from nextword.filter import dedup_exact, dedup_spans

    corpus = _corpus(args)
    progress = False if args.quiet else None
    if args.exact == "none" and not args.spans:
        raise ValueError("nothing to do: give --exact documents|lines or --spans N")
    output = Path(args.output)
    if args.exact != "none":
        # With spans to remove after it, the exact step writes a temporary file.
        target = output
        if args.spans:
            fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent or ".")
            os.close(fd)
            target = Path(tmp)
        try:
            s = dedup_exact(
                corpus,
                target,
                unit=args.exact,
                mark=args.mark,
                threads=args.threads,
                progress=progress,
            )
            print(s.format())
            if args.spans:
                corpus = Corpus(
                    paths=[str(target)],
                    errors=args.errors,
                    format=_format_of(args),
                    text_field=args.text_field,
                )
                sp = dedup_spans(
                    corpus,
                    output,
                    min_tokens=args.spans,
                    mark=args.mark,
                    threads=args.threads,
                    progress=progress,
                )
                print(sp.format())
        finally:
            if target != output:
                target.unlink(missing_ok=True)
    else:
        sp = dedup_spans(
            corpus,
            output,
            min_tokens=args.spans,
            mark=args.mark,
            threads=args.threads,
            progress=progress,
        )
        print(sp.format())
    return 0


def _format_of(args: argparse.Namespace) -> Literal["text", "jsonl"]:
    """The format of the inputs, for the temporary file between two steps."""
    if args.format != "auto":
        return "jsonl" if args.format == "jsonl" else "text"
    jsonl = [".jsonl" in p or ".ndjson" in p for p in args.paths]
    return "jsonl" if all(jsonl) else "text"


def cmd_stats(args: argparse.Namespace) -> int:
    from nextword.stats import corpus_stats, save_histogram_png

    s = corpus_stats(
        _corpus(args),
        model=args.model,
        tokenizer=args.tokenizer,
        top=args.top,
        max_n=args.max_n,
        threads=args.threads,
        progress=False if args.quiet else None,
    )
    print(s.format())
    if args.png:
        if s.perplexities is None:
            raise ValueError("--png plots the perplexity histogram: give --model")
        try:
            save_histogram_png(s.perplexities, args.png)
        except ImportError:
            print("matplotlib is not installed: no PNG written (the text histogram is above)")
        else:
            print(f"perplexity histogram -> {args.png}")
    return 0


def add_filter_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    corpus_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``filter``, ``dedup`` and ``stats`` to the command's subparsers."""
    f = sub.add_parser("filter", help="keep or bucket documents by perplexity (CCNet)")
    f.add_argument("model", help="an n-gram model (.nwlm or ARPA)")
    f.add_argument("paths", nargs="+", help="files, directories or globs (.gz/.zst/.jsonl)")
    f.add_argument("--output", "-o", required=True, help="the file to write")
    how = f.add_mutually_exclusive_group()
    how.add_argument("--threshold", type=float, help="keep documents of perplexity <= T")
    how.add_argument("--percentiles", help="cutoffs at these percentiles of a sample (30,60)")
    how.add_argument("--cutoffs", help="given perplexity cutoffs, comma-separated")
    f.add_argument("--buckets", help="bucket names, comma-separated (head,middle,tail)")
    f.add_argument("--keep", help="buckets to write, comma-separated (default: all)")
    f.add_argument("--sample", type=int, default=10_000, help="documents to take percentiles on")
    f.add_argument("--unit", choices=["line", "record", "file"], help="what a document is")
    f.add_argument("--min-words", type=int, default=1, help="shorter documents are 'short'")
    f.add_argument(
        "--short",
        choices=["drop", "mark"],
        default="drop",
        help="documents under the minimum length: drop them, or mark them (JSONL)",
    )
    f.add_argument("--field", default="perplexity", help="JSONL field for the perplexity")
    f.add_argument("--bucket-field", default="bucket", help="JSONL field for the bucket")
    f.add_argument("--jsonl", action="store_true", help="write text lines as JSONL records")
    f.add_argument("--tokenizer", "-t", help="the model's tokenizer (default: as recorded)")
    corpus_options(f)
    f.set_defaults(func=cmd_filter)

    d = sub.add_parser("dedup", help="remove exact duplicates and repeated spans")
    d.add_argument("paths", nargs="+", help="files, directories or globs (.gz/.zst/.jsonl)")
    d.add_argument("--output", "-o", required=True, help="the file to write")
    d.add_argument(
        "--exact",
        choices=["documents", "lines", "none"],
        default="documents",
        help="compare whole documents (default), each line of a document, or skip",
    )
    d.add_argument(
        "--spans",
        type=int,
        nargs="?",
        const=50,
        default=0,
        help="also remove repeats of at least N tokens (default N: 50, as Lee et al.)",
    )
    d.add_argument("--mark", action="store_true", help="mark in JSONL fields, remove nothing")
    corpus_options(d)
    d.set_defaults(func=cmd_dedup)

    s = sub.add_parser("stats", help="documents, tokens, types, lengths, repeats, perplexity")
    s.add_argument("paths", nargs="+", help="files, directories or globs (.gz/.zst/.jsonl)")
    s.add_argument("--model", "-m", help="an n-gram model: the perplexity histogram")
    s.add_argument("--tokenizer", "-t", help="the model's tokenizer (default: as recorded)")
    s.add_argument("--top", "-k", type=int, default=10, help="most frequent n-grams shown")
    s.add_argument("--max-n", type=int, default=3, help="n-grams of n = 1..N")
    s.add_argument("--png", help="also plot the perplexity histogram (needs matplotlib)")
    corpus_options(s)
    s.set_defaults(func=cmd_stats)

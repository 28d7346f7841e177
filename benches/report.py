"""Print the README's performance table: nextword's Rust core against the
pure-Python reference, tokens/s and peak memory, medians of repeated runs.

Every measurement runs in a fresh subprocess, so peak memory (ru_maxrss) is that
case's alone. Usage::

    python benches/report.py            # everything (about 10 minutes on 2 cores)
    python benches/report.py --quick    # skip the 319 MB Gutenberg set
    python benches/report.py --pairs 3 --whole count gutenberg 3
        # one case, the reference and nextword alternating in 3 pairs; with
        # --whole the reference counts the whole Gutenberg set, the same data
        # as nextword (about 3 minutes and 7 GB a run), not its first 400,000
        # lines
    python benches/report.py --pairs 5 --same-prefix count gutenberg 3
        # nextword counts the reference's 400,000-line prefix too (written
        # to a temporary file first; only the count is timed)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))
CORPORA = {
    "tinyshakespeare": SHARED / "corpora/en/tinyshakespeare.txt",
    "ptb.train": SHARED / "corpora/en/ptb.train.txt",
    "gutenberg": SHARED / "corpora/gutenberg",
}
# The reference runs on a prefix of the Gutenberg set (it would take many minutes).
REFERENCE_PREFIX_LINES = 400_000


def _read_lines(corpus: str, whole: bool = False) -> list[str]:
    from nextword import reference

    path = CORPORA[corpus]
    if path.is_dir():
        import gzip

        lines: list[str] = []
        for f in sorted(path.iterdir()):
            with gzip.open(f, "rt", encoding="utf-8", newline="") as fh:
                lines.extend(reference.split_lines(fh.read()))
            if not whole and len(lines) >= REFERENCE_PREFIX_LINES:
                return lines[:REFERENCE_PREFIX_LINES]
        return lines
    return reference.split_lines(path.read_text(encoding="utf-8"))


def run_case(
    impl: str, task: str, corpus: str, order: int, whole: bool = False, prefix: bool = False
) -> dict[str, float]:
    """Measure one case in this process; returns seconds and tokens (`whole`:
    the reference reads all of a directory corpus, not its prefix; `prefix`:
    nextword counts the reference's prefix, not the whole corpus)."""
    import nextword
    from nextword import reference

    if impl == "rust" and task == "count":
        path = CORPORA[corpus]
        if prefix:
            import tempfile

            tmp = tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False)
            with tmp:
                tmp.write("\n".join(_read_lines(corpus)) + "\n")
            path = Path(tmp.name)
        try:
            start = time.perf_counter()
            counts = nextword.count_ngrams(path, order=order, progress=False)
            seconds = time.perf_counter() - start
        finally:
            if prefix:
                path.unlink()
        return {"seconds": seconds, "tokens": counts.tokens}
    lines = _read_lines(corpus, whole)
    tokens = sum(len(reference.whitespace_tokenize(s)) for s in reference.sentences(lines))
    if task == "count":
        start = time.perf_counter()
        reference.count_ngrams(lines, order=order)
        return {"seconds": time.perf_counter() - start, "tokens": tokens}
    vocab = nextword.Vocab.from_corpus(lines, tokenizer=task, progress=False)
    encode = encode_rust if impl == "rust" else encode_reference
    start = time.perf_counter()
    tokens = encode(vocab, task, lines)
    return {"seconds": time.perf_counter() - start, "tokens": tokens}


def encode_rust(vocab: Any, task: str, lines: list[str]) -> int:
    """Tokenize a corpus to ids in Rust (in parallel, staying in Rust); returns the token count."""
    ids, _ = vocab.encode_corpus(lines, progress=False)
    return len(ids)


def encode_reference(vocab: Any, task: str, lines: list[str]) -> int:
    """The reference: tokenize each line, look each token up in a dict; the token count."""
    from nextword import reference

    tok_fn = {
        "whitespace": reference.whitespace_tokenize,
        "word": reference.word_tokenize,
        "char": reference.char_tokenize,
    }[task]
    index = {w: i for i, w in enumerate(vocab.words())}
    out = [[index.get(t, 0) for t in tok_fn(s)] for s in reference.sentences(lines)]
    return sum(map(len, out))


def run_fresh(
    impl: str, task: str, corpus: str, order: int, whole: bool = False, prefix: bool = False
) -> dict:
    """One case in a fresh subprocess: seconds, tokens and its peak RSS."""
    cmd = [sys.executable, __file__, "--case", impl, task, corpus, str(order)]
    if whole:
        cmd.append("--whole")
    if prefix:
        cmd.append("--same-prefix")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def pairs(task: str, corpus: str, order: int, n: int, whole: bool, prefix: bool = False) -> None:
    """The reference and nextword alternating, `n` pairs: each pair's figures
    and ratio, then the medians (ratio of tokens/s, as in the table)."""
    ratios, ours, theirs = [], [], []
    for i in range(n):
        ref = run_fresh("reference", task, corpus, order, whole)
        rust = run_fresh("rust", task, corpus, order, prefix=prefix)
        ratio = (rust["tokens"] / rust["seconds"]) / (ref["tokens"] / ref["seconds"])
        ratios.append(ratio)
        ours.append(rust["seconds"])
        theirs.append(ref["seconds"])
        print(
            f"pair {i + 1}: reference {ref['seconds']:.2f} s on {ref['tokens']:,} tokens "
            f"({ref['rss_mb']:,.0f} MB), nextword {rust['seconds']:.2f} s on "
            f"{rust['tokens']:,} tokens ({rust['rss_mb']:,.0f} MB): {ratio:.1f}x",
            flush=True,
        )
    print(
        f"medians: reference {statistics.median(theirs):.2f} s, nextword "
        f"{statistics.median(ours):.2f} s, ratio {statistics.median(ratios):.1f}x"
    )


def measure(impl: str, task: str, corpus: str, order: int, repeat: int) -> dict[str, float]:
    """Median seconds and max peak RSS over `repeat` fresh subprocesses."""
    runs = [run_fresh(impl, task, corpus, order) for _ in range(repeat)]
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "tokens": runs[0]["tokens"],
        "rss_mb": max(r["rss_mb"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", nargs=4, metavar=("IMPL", "TASK", "CORPUS", "ORDER"))
    parser.add_argument("--quick", action="store_true", help="skip the Gutenberg set")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pairs", type=int, metavar="N", help="one case (TASK CORPUS ORDER), N alternating pairs"
    )
    parser.add_argument(
        "--whole", action="store_true", help="the reference counts the whole Gutenberg set"
    )
    parser.add_argument(
        "--same-prefix",
        action="store_true",
        help="nextword counts the reference's prefix of the Gutenberg set too",
    )
    parser.add_argument("one", nargs="*", metavar="TASK CORPUS ORDER")
    args = parser.parse_args()
    if args.whole and args.same_prefix:
        parser.error("--whole and --same-prefix exclude each other")
    if args.case:
        impl, task, corpus, order = args.case
        result = run_case(impl, task, corpus, int(order), args.whole, args.same_prefix)
        result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    if args.pairs:
        if len(args.one) != 3:
            parser.error("--pairs takes TASK CORPUS ORDER, e.g. count gutenberg 3")
        task, corpus, order = args.one
        pairs(task, corpus, int(order), args.pairs, args.whole, args.same_prefix)
        return

    cases = [
        ("tokenize to ids (whitespace)", "whitespace", "tinyshakespeare", 0),
        ("tokenize to ids (word, UAX #29)", "word", "tinyshakespeare", 0),
        ("tokenize to ids (char)", "char", "tinyshakespeare", 0),
        ("count orders 1..3", "count", "tinyshakespeare", 3),
        ("count orders 1..5", "count", "tinyshakespeare", 5),
        ("count orders 1..3", "count", "ptb.train", 3),
        ("count orders 1..5", "count", "ptb.train", 5),
    ]
    if not args.quick:
        cases += [
            ("count orders 1..3", "count", "gutenberg", 3),
            ("count orders 1..5", "count", "gutenberg", 5),
        ]
    cpu = platform.processor() or platform.machine()
    print(
        f"machine: {os.cpu_count()} cores ({cpu}), {platform.system()}, "
        f"Python {platform.python_version()}"
    )
    print(
        f"medians of {args.repeat} runs (Gutenberg: 1 run; "
        f"its reference: first {REFERENCE_PREFIX_LINES:,} lines)\n"
    )
    print(
        "| task | corpus | tokens | nextword tokens/s | reference tokens/s | ratio "
        "| nextword peak MB | reference peak MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, task, corpus, order in cases:
        repeat = 1 if corpus == "gutenberg" else args.repeat
        rust = measure("rust", task, corpus, order, repeat)
        ref = measure("reference", task, corpus, order, repeat)
        rust_tps = rust["tokens"] / rust["seconds"]
        ref_tps = ref["tokens"] / ref["seconds"]
        print(
            f"| {label} | {corpus} | {rust['tokens']:,} | {rust_tps / 1e6:.2f} M "
            f"| {ref_tps / 1e6:.2f} M | {rust_tps / ref_tps:.0f}x "
            f"| {rust['rss_mb']:,.0f} | {ref['rss_mb']:,.0f} |",
            flush=True,
        )
    if not args.quick:
        print(f"\nGutenberg orders 1..5 wall time: see the row above ({rust['seconds']:.1f} s).")


if __name__ == "__main__":
    main()

"""Filtering and deduplication speed, side by side with a CCNet-style loop.

1. Perplexity filtering of JSONL documents (paragraphs of Gutenberg text):
   ``nextword.filter_corpus`` against the loop CCNet-style pipelines run over
   the ``kenlm`` module (``json.loads`` each record, ``kenlm.Model.score`` each
   line of its text, perplexity per token, ``json.dumps`` it back), with the
   same model (an ARPA file written by nextword, loaded by both) and the same
   documents; alternated, medians quoted, perplexities checked equal.
2. Memory: peak RSS of filtering N and 4N documents, each in a fresh process.
3. Exact deduplication of the Gutenberg set (``/work/data/gut.txt``) in a
   fresh process on 2 threads.

    python benches/report_filter.py [--docs 100000] [--runs 3] [--gut /work/data/gut.txt]

Machine load (``uptime``) is printed beside every figure.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(os.environ.get("NEXTWORD_SHARED", Path(__file__).resolve().parents[2] / "shared"))
GUT = SHARED / "corpora" / "gutenberg"


def load() -> str:
    return os.getloadavg().__repr__()


def paragraphs(files: list[Path], limit: int) -> list[str]:
    """Blank-line-separated paragraphs of the files, at most ``limit``."""
    out: list[str] = []
    for f in files:
        block: list[str] = []
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                line = line.rstrip("\n")
                if line.strip():
                    block.append(line.strip())
                elif block:
                    out.append("\n".join(block))
                    block = []
                    if len(out) >= limit:
                        return out
    return out


def kenlm_loop(model_path: str, src: Path, dst: Path, cpu: list[float] | None = None) -> float:
    """CCNet's way: score each document in Python with kenlm.Model.score.

    Returns the wall seconds; appends the CPU seconds of the loop to ``cpu``."""
    import kenlm

    model = kenlm.Model(model_path)
    start, start_cpu = time.perf_counter(), time.process_time()
    with src.open(encoding="utf-8") as fin, dst.open("w", encoding="utf-8") as fout:
        for line in fin:
            record = json.loads(line)
            logprob, tokens = 0.0, 0
            for sentence in record["text"].split("\n"):
                logprob += model.score(sentence)
                tokens += len(sentence.split()) + 1
            record["perplexity"] = 10.0 ** (-logprob / tokens)
            fout.write(json.dumps(record) + "\n")
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


def nextword_run(
    model_path: str, src: Path, dst: Path, threads: int, cpu: list[float] | None = None
) -> float:
    """nextword.filter_corpus on ``threads`` threads: wall seconds; appends
    the CPU seconds (all threads) to ``cpu``."""
    import nextword

    lm = nextword.NGramLM.load(model_path)
    start, start_cpu = time.perf_counter(), time.process_time()
    nextword.filter_corpus(lm, src, dst, threshold=1e300, progress=False, threads=threads)
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


def child(args: argparse.Namespace) -> None:
    """One filtering run in this process; prints seconds and peak RSS (MB)."""
    import resource

    seconds = nextword_run(args.model, Path(args.src), Path(args.dst), args.threads)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak}))


def fresh(script_args: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, *script_args], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def dedup_gut(args: argparse.Namespace, tmp: Path) -> None:
    """Exact dedup of the Gutenberg set in a fresh process on 2 threads."""
    print(f"  load before dedup {load()}")
    r = fresh(
        [
            "--dedup-child",
            "--src",
            args.gut,
            "--dst",
            str(tmp / "gut.dedup.txt"),
            "--threads",
            "2",
        ]
    )
    print(
        f"exact dedup of {args.gut} ({Path(args.gut).stat().st_size / 1e6:.0f} MB), "
        f"2 threads, fresh process: {r['seconds']:.2f} s wall, {r['cpu']:.2f} s CPU; "
        f"{r['documents']:,} lines, "
        f"{r['duplicates']:,} repeated ({r['duplicate_words']:,} of {r['words']:,} words); "
        f"load {load()}"
    )
    (tmp / "gut.dedup.txt").unlink(missing_ok=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--gut", default="/work/data/gut.txt")
    p.add_argument("--child", action="store_true")
    p.add_argument("--model")
    p.add_argument("--src")
    p.add_argument("--dst")
    p.add_argument("--dedup-child", action="store_true")
    p.add_argument("--no-dedup", action="store_true", help="skip the Gutenberg dedup")
    p.add_argument("--only-dedup", action="store_true", help="only the Gutenberg dedup")
    args = p.parse_args()
    if args.child:
        child(args)
        return
    if args.dedup_child:
        import resource

        import nextword

        start = time.perf_counter()
        s = nextword.dedup_exact(args.src, args.dst, threads=args.threads, progress=False)
        ru = resource.getrusage(resource.RUSAGE_SELF)
        print(
            json.dumps(
                {
                    "seconds": time.perf_counter() - start,
                    "cpu": ru.ru_utime + ru.ru_stime,
                    "documents": s.documents,
                    "duplicates": s.duplicate_documents,
                    "words": s.words,
                    "duplicate_words": s.duplicate_words,
                }
            )
        )
        return

    import nextword

    if args.only_dedup:
        tmp = Path(tempfile.mkdtemp(prefix="filterbench"))
        dedup_gut(args, tmp)
        tmp.rmdir()
        return
    files = sorted(GUT.glob("*.txt.gz"))
    tmp = Path(tempfile.mkdtemp(prefix="filterbench"))
    # The model: KN 5-gram of 20,000 paragraphs the documents do not come from.
    train = paragraphs(files[-1:], 20_000)
    lm = nextword.NGramLM.fit(train, order=5)
    model = str(tmp / "m.arpa")
    lm.save(model)
    docs = paragraphs(files[:-1], 4 * args.docs)
    src = tmp / "docs.jsonl"
    src.write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(docs[: args.docs]))
    )
    big = tmp / "docs4.jsonl"
    big.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(docs)))
    words = sum(len(t.split()) for t in docs[: args.docs])
    mb = src.stat().st_size / 1e6
    print(
        f"model: KN 5-gram of {len(train):,} paragraphs of {files[-1].name} "
        f"({Path(model).stat().st_size / 1e6:.0f} MB ARPA); "
        f"documents: {args.docs:,} paragraphs, {words:,} words, {mb:.1f} MB of JSONL"
    )

    ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
    for _ in range(args.runs):
        print(f"  load before run {load()}")
        ours.append(nextword_run(model, src, tmp / "ours.jsonl", args.threads, ours_cpu))
        theirs.append(kenlm_loop(model, src, tmp / "theirs.jsonl", theirs_cpu))
    a = [json.loads(x)["perplexity"] for x in (tmp / "ours.jsonl").read_text().splitlines()]
    b = [json.loads(x)["perplexity"] for x in (tmp / "theirs.jsonl").read_text().splitlines()]
    # kenlm's Python module splits a sentence with str.split (a no-break space
    # too); lmplz and nextword split at space, tab, NUL, CR, LF only.
    diffs = [abs(x - y) / y for x, y in zip(a, b)]
    apart = sum(d > 1e-4 for d in diffs)
    worst = max(d for d in diffs if d <= 1e-4)
    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(
        f"filter {args.docs:,} docs: nextword ({args.threads} threads) {mo:.2f} s "
        f"({args.docs / mo:,.0f} docs/s, {words / mo / 1e6:.2f} M words/s); "
        f"kenlm loop {mt:.2f} s ({args.docs / mt:,.0f} docs/s); {mt / mo:.1f}x; "
        f"runs {[round(x, 2) for x in ours]} vs {[round(x, 2) for x in theirs]}; "
        f"CPU seconds (median) {statistics.median(ours_cpu):.2f} vs "
        f"{statistics.median(theirs_cpu):.2f}; "
        f"perplexities equal within {worst:.1e} but for {apart} documents (no-break "
        f"spaces, which kenlm's module splits at); load {load()}"
    )

    for path, n in ((src, args.docs), (big, len(docs))):
        r = fresh(
            [
                "--child",
                "--model",
                model,
                "--src",
                str(path),
                "--dst",
                str(tmp / "o.jsonl"),
                "--threads",
                str(args.threads),
            ]
        )
        print(
            f"memory: {n:,} documents ({path.stat().st_size / 1e6:.0f} MB): "
            f"peak RSS {r['peak_mb']:.0f} MB, {r['seconds']:.2f} s; load {load()}"
        )

    if Path(args.gut).exists() and not args.no_dedup:
        dedup_gut(args, tmp)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()

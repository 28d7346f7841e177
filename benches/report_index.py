"""Corpus-index benchmarks, side by side in one run (medians of repeats):

- building the suffix-array index: nextword (reading, tokenizing and sorting,
  from the text files) against tokengrams' ``InMemoryIndex`` and
  ``MemmapIndex`` (sorting only, from a file of the very same token ids that
  nextword indexed, separators included);
- the index's size in bytes per token, ours and theirs;
- opening the index (memory-mapped);
- count queries for random 5-grams drawn from the corpus: one batch call,
  one thread (``count_many``), and one call per query for both;
- the ∞-gram next-token prediction after 1,000 random 10-token contexts
  (one thread, one batch call), as time per query;
- with ``--memory 1G,500M``: the build within each memory budget (the index
  cut into shards), each in a fresh process beside an unbudgeted one: wall
  time, the process's peak resident memory, shards, and the batch counts and
  ∞-gram predictions checked equal to the one-shard index's.

tokengrams is optional (``pip install tokengrams``); without it its rows say so.
Usage: ``python benches/report_index.py [--quick] [--runs 3] [--index PATH]``:
``--quick`` indexes PTB's training set instead of the Gutenberg set;
``--index`` opens an index built before instead of building one (the query
rows only). Query rates are given by wall time and by the process's CPU time
(on a shared machine the second says what one core does). The Gutenberg
vocabulary (1.1 M whitespace types) is cut to the 65,535 most frequent
(``--max-vocab``) so that tokens fit 16 bits, as tokengrams needs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
from nextword import CorpusIndex

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median seconds of ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def timed_cpu(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of ``runs`` calls, and the last result."""
    wall, cpu, result = [], [], None
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), result


def random_ngrams(stream: np.ndarray, n: int, count: int, seed: int) -> np.ndarray:
    """``count`` n-grams starting at random positions, none holding the separator."""
    sep = np.iinfo(stream.dtype).max
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    while sum(len(o) for o in out) < count:
        starts = rng.integers(0, len(stream) - n, size=count)
        grams = stream[starts[:, None] + np.arange(n)]
        out.append(grams[(grams != sep).all(axis=1)])
    return np.concatenate(out)[:count].astype(np.uint32)


def tokengrams_module() -> Optional[Any]:
    try:
        import tokengrams
    except ImportError:
        return None
    return tokengrams


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="PTB train instead of Gutenberg")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200_000)
    parser.add_argument("--max-vocab", type=int, default=65_535)
    parser.add_argument("--no-memmap", action="store_true", help="skip tokengrams' MemmapIndex")
    parser.add_argument("--no-peer", action="store_true", help="skip tokengrams altogether")
    parser.add_argument("--index", type=Path, help="open this index instead of building one")
    parser.add_argument(
        "--memory", help="also build within these budgets (comma-separated, e.g. 1G,500M)"
    )
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f} (of {os.cpu_count()} cores)")
    corpus = SHARED / "corpora" / ("en/ptb.train.txt" if args.quick else "gutenberg")
    tmp = Path(tempfile.mkdtemp(prefix="nextword-index-"))
    path = tmp / "corpus.idx"
    rows: list[tuple[str, str, str]] = []
    print("| task | nextword | peer |")
    print("|---|---|---|")

    def row(task: str, ours: str, peer: str = "") -> None:
        """Print a row as soon as it is measured (a long run shows its progress)."""
        rows.append((task, ours, peer))
        print(f"| {task} | {ours} | {peer} |", flush=True)

    def build() -> CorpusIndex:
        return CorpusIndex.build(corpus, path=path, max_vocab=args.max_vocab, progress=False)

    if args.index is not None:
        path = args.index
        index = CorpusIndex.open(path)
        args.no_peer = True
    else:
        build_s, index = timed(build, args.runs)
        row("build (read, tokenize, sort, write)", f"{build_s:.2f} s")
    info = index.info()
    n = info["tokens"]
    ours_per_token = info["file_bytes"] / n
    print(
        f"corpus {corpus.name}: {n:,} tokens, {info['documents']:,} documents, "
        f"{info['vocab_size']:,} types; token width {info['token_width']}, "
        f"pointer width {info['pointer_width']}",
        flush=True,
    )
    stream = index.token_stream()
    tg = None if args.no_peer else tokengrams_module()
    theirs_size = "not installed"
    tg_index = None
    if tg is None:
        row("peer build, in memory, same ids", "", "tokengrams not installed or skipped")
    elif stream.dtype != np.uint16:
        row("peer build, in memory, same ids", "", "ids need 32 bits: not compared")
    else:
        tokens_path = tmp / "tokens.bin"
        stream.tofile(tokens_path)
        mem_s, tg_index = timed(
            lambda: tg.InMemoryIndex.from_token_file(str(tokens_path)), args.runs
        )
        row(
            "peer build, in memory, same ids",
            "",
            f"InMemoryIndex {mem_s:.2f} s ({mem_s / build_s:.1f}x ours)",
        )
        table = tmp / "table.idx"
        tg_index.save_index(str(table))
        size = (tokens_path.stat().st_size + table.stat().st_size) / len(stream)
        theirs_size = f"{size:.2f} (tokens + table)"
        if not args.no_memmap:
            mm_s, _ = timed(lambda: tg.MemmapIndex.build(str(tokens_path), str(table)), args.runs)
            row(
                "peer build, memory-mapped, same ids",
                "",
                f"MemmapIndex {mm_s:.2f} s ({mm_s / build_s:.1f}x ours)",
            )
    row("bytes per token (file)", f"{ours_per_token:.2f}", theirs_size)

    open_s, _ = timed(lambda: CorpusIndex.open(path), max(args.runs, 5))
    row("open the index", f"{open_s * 1e3:.1f} ms")

    grams = random_ngrams(stream, 5, args.queries, seed=0)
    batch_s, batch_cpu, counts = timed_cpu(lambda: index.count_many(grams, threads=1), args.runs)
    assert (counts >= 1).all()
    row(
        "count random 5-grams, batch, 1 thread",
        f"{len(grams) / batch_s / 1e3:.0f} k q/s "
        f"({len(grams) / batch_cpu / 1e3:.0f} k q/s of CPU time)",
    )
    few = [g.tolist() for g in grams[:20_000]]
    core = index._core
    one_s, _ = timed(lambda: [core.count(g) for g in few], args.runs)
    theirs = "not installed"
    if tg_index is not None:
        tg_s, tg_counts = timed(lambda: [tg_index.count(g) for g in few], args.runs)
        assert tg_counts == counts[: len(few)].tolist(), "tokengrams counts differ"
        theirs = f"{len(few) / tg_s / 1e3:.0f} k q/s (InMemoryIndex.count, same counts)"
    row("count random 5-grams, one call each", f"{len(few) / one_s / 1e3:.0f} k q/s", theirs)

    # Contexts that end a sentence are left out: nothing follows </s> in a document.
    drawn = random_ngrams(stream, 10, 4000, seed=1)
    contexts = [c.tolist() for c in drawn[drawn[:, -1] != 2][:1000]]
    words = [[index.vocab.word(i) for i in c] for c in contexts]
    inf_s, predictions = timed(lambda: index.infini_gram_many(words, threads=1), args.runs)
    mean_n = statistics.mean(p[2] for p in predictions)
    row(
        "∞-gram prediction, 1,000 10-token contexts",
        f"{inf_s / len(contexts) * 1e3:.3f} ms/query (mean n {mean_n:.1f})",
        f"infini-gram paper: 90-180 ms on 1.4 T tokens "
        f"(log2 N {np.log2(1.4e12):.0f} vs {np.log2(n):.0f})",
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {peak:,.0f} MB")
    if args.memory:
        budgets(args, corpus, tmp, grams, counts, words, predictions)


BUILD = """
import json, sys, time
from nextword import CorpusIndex
def peak():
    # VmHWM, not ru_maxrss: after fork and exec, ru_maxrss starts at the
    # parent's resident size (the forked copy's), here the bench's index.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
corpus, path, max_vocab, memory = sys.argv[1:5]
start = time.perf_counter()
index = CorpusIndex.build(corpus, path=path, max_vocab=int(max_vocab),
                          memory=None if memory == "none" else memory, progress=False)
info = index.info()
print(json.dumps({"seconds": time.perf_counter() - start, "shards": info["shards"],
                  "bytes": info["file_bytes"],
                  "peak": peak()}))
"""


def budgets(
    args: argparse.Namespace,
    corpus: Path,
    tmp: Path,
    grams: np.ndarray,
    counts: np.ndarray,
    words: list[list[str]],
    predictions: list[Any],
) -> None:
    """Build within each budget in a fresh process (one without a budget
    first, for its peak), and check the sharded index answers as one."""
    import json
    import subprocess
    import sys

    print("\n| budget | build wall | peak resident | shards | file | answers |")
    print("|---|---:|---:|---:|---:|---|")
    for memory in ["none", *args.memory.split(",")]:
        path = tmp / f"budget-{memory}.idx"
        run = [sys.executable, "-c", BUILD, str(corpus), str(path), str(args.max_vocab), memory]
        out = json.loads(subprocess.run(run, check=True, capture_output=True, text=True).stdout)
        index = CorpusIndex.open(path)
        same_counts = bool((index.count_many(grams, threads=1) == counts).all())
        same_next = index.infini_gram_many(words, threads=1) == predictions
        answers = "same counts and ∞-gram" if same_counts and same_next else "DIFFERENT"
        start = time.perf_counter()
        index.count_many(grams, threads=1)
        batch_s = time.perf_counter() - start
        print(
            f"| {memory} | {out['seconds']:.1f} s | {out['peak'] / 1e9:.2f} GB | {out['shards']} "
            f"| {out['bytes'] / 1e6:,.0f} MB | {answers}; batch counts "
            f"{len(grams) / batch_s / 1e3:.0f} k q/s |",
            flush=True,
        )
        del index
        path.unlink()


if __name__ == "__main__":
    main()

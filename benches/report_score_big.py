"""Scoring speed on a large model, side by side with the kenlm module (issue 14).

    python benches/report_score_big.py --text held.txt \\
        --nextword g.nwlm g.trie.nwlm --kenlm g.kenlm.probing g.kenlm.trie [--rounds 3]

`report_trie.py` measures the PTB 5-gram, which fits in the caches; this one
takes model files already built (by the commands below) so that the
Gutenberg 5-gram, 108.65 M n-grams, can be measured without rebuilding it:

    nextword train gut.txt --order 5 --tokenizer whitespace -o g.nwlm
    nextword convert g.nwlm g.trie.nwlm --layout trie
    nextword convert g.nwlm g.arpa
    build_binary -s trie g.arpa g.kenlm.trie; build_binary -s probing g.arpa g.kenlm.probing

Every model is loaded once and scored once untimed (page cache, huge-page
copies), then the scorers take turns, `--rounds` times: nextword's
`perplexity` on one thread, the kenlm module's `Model.score` per sentence (as
`report_trie.py` does); with `--two`, also nextword on two threads and the
kenlm module in two processes (forked after loading, so they share the
model's pages) each scoring half the sentences. Tokens count `</s>` as both
tools do. Printed: the median tokens per second of wall time and per
CPU-second the scorer used (the fair rate on a shared machine; for two
processes, the CPU of both), and the machine load.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import nextword

# The kenlm models and sentences, set before the pool forks (children inherit them).
_SHARED: dict[str, Any] = {}


def _kenlm_half(args: tuple[str, int]) -> float:
    """Score one half of the sentences with a kenlm model; the CPU seconds taken."""
    label, half = args
    km, sentences = _SHARED[label], _SHARED["sentences"]
    mid = len(sentences) // 2
    part = sentences[:mid] if half == 0 else sentences[mid:]
    c = time.process_time()
    sum(km.score(s) for s in part)
    return time.process_time() - c


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--text", type=Path, required=True, help="held-out text, one sentence a line")
    ap.add_argument("--nextword", type=Path, nargs="*", default=[], help="nextword model files")
    ap.add_argument("--kenlm", type=Path, nargs="*", default=[], help="KenLM binary or ARPA files")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--two", action="store_true", help="also two threads / two processes")
    args = ap.parse_args()
    sentences = args.text.read_text(encoding="utf-8").splitlines()
    tokens = sum(len(s.split()) + 1 for s in sentences)
    # Each scorer returns the CPU seconds it used (its children's included).
    scorers: dict[str, Callable[[], float]] = {}

    def cpu_of(run: Callable[[], Any]) -> Callable[[], float]:
        def timed() -> float:
            c = time.process_time()
            run()
            return time.process_time() - c

        return timed

    for path in args.nextword:
        lm = nextword.NGramLM.load(path)
        label = f"nextword {lm.layout} ({path.name}, {path.stat().st_size / 1e6:,.1f} MB)"
        for threads in (1, 2) if args.two else (1,):
            scorers[f"{label}, {threads} thread(s)"] = cpu_of(
                lambda lm=lm, t=threads: lm.perplexity(args.text, threads=t, progress=False)
            )
    pool = None
    if args.kenlm:
        import kenlm

        _SHARED["sentences"] = sentences
        labels = []
        for path in args.kenlm:
            km = kenlm.Model(str(path))
            label = f"kenlm module ({path.name}, {path.stat().st_size / 1e6:,.1f} MB)"
            _SHARED[label] = km
            labels.append(label)
            scorers[f"{label}, 1 process"] = cpu_of(
                lambda km=km: sum(km.score(s) for s in sentences)
            )
        if args.two:
            pool = mp.get_context("fork").Pool(2)
            for label in labels:
                scorers[f"{label}, 2 processes"] = lambda label=label: sum(
                    pool.map(_kenlm_half, [(label, 0), (label, 1)])
                )
    print(f"## Scoring {args.text} ({len(sentences):,} sentences, {tokens:,} tokens)\n")
    print(f"before: {uptime()} ({os.cpu_count()} cores)")
    for score in scorers.values():
        score()
    wall: dict[str, list[float]] = {k: [] for k in scorers}
    cpu: dict[str, list[float]] = {k: [] for k in scorers}
    for _ in range(args.rounds):
        for label, score in scorers.items():
            t = time.perf_counter()
            used = score()
            wall[label].append(time.perf_counter() - t)
            cpu[label].append(used)
    print(f"after:  {uptime()}\n")
    print(f"median of {args.rounds} interleaved rounds\n")
    print("| scorer | wall tokens/s | tokens per CPU-second |")
    print("|---|---:|---:|")
    for label in scorers:
        w, c = statistics.median(wall[label]), statistics.median(cpu[label])
        print(f"| {label} | {tokens / w / 1e6:.3f} M | {tokens / c / 1e6:.3f} M |")
    if pool is not None:
        pool.close()


if __name__ == "__main__":
    main()

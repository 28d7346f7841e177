"""Word2vec side by side with gensim on a slice of the Gutenberg set (issue 10).

Both train skip-gram (or CBOW with ``--cbow``) with the same settings on the
same file: the first ``--words`` lowercased whitespace tokens of
``corpora/gutenberg`` (files in name order, one line per source line). Each
training runs in its own process, so its peak memory is its own. The report
gives, per trainer and run:

- wall seconds of ``fit`` (vocabulary pass plus training, for both) and words/s
  (corpus words times epochs over those seconds);
- peak RSS of the process during training, and that peak minus the RSS just
  before training (after imports), beside the size of the two ``words x dim``
  float32 matrices that word2vec needs;
- analogy accuracy on ``questions-words.txt`` (restrict_vocab 30000, 3CosAdd,
  case-insensitive, as gensim's ``evaluate_word_analogies``) and Spearman's rho
  on wordsim353 and simlex999, all measured by nextword's evaluator for both
  models (the tests check that it agrees with gensim's).

``--repeat N`` alternates the trainers N times and prints medians.
``--also-nextword DIR`` adds a row for another build of nextword (a directory
holding a ``nextword`` package, e.g. ``pip install --target DIR wheel``): a
before/after comparison in one run.

Issue 10's benchmark (16 minutes on a 2-core machine at load average 3-6):
``python benches/report_word2vec.py --words 20000000 --epochs 3 --threads 2``.
gensim missing: only nextword is reported (``pip install gensim``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))
EVAL = SHARED / "corpora/eval"


def write_slice(out: Path, words: int) -> int:
    """Write the first ``words`` lowercased tokens of the Gutenberg set; return the count."""
    written = 0
    with out.open("w", encoding="utf-8") as f:
        for path in sorted((SHARED / "corpora/gutenberg").glob("*.txt.gz")):
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as src:
                for line in src:
                    tokens = line.lower().split()
                    if not tokens:
                        continue
                    tokens = tokens[: words - written]
                    f.write(" ".join(tokens) + "\n")
                    written += len(tokens)
                    if written >= words:
                        return written
    return written


def rss_mb() -> float:
    """Current resident set size of this process, in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def train_one(trainer: str, corpus: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Train with ``trainer`` in this process; return timings, memory and scores."""
    import nextword
    import numpy as np

    settings = dict(window=5, negative=5, min_count=5, epochs=args.epochs)
    if trainer == "gensim":
        import gensim
        from gensim.models import Word2Vec as GensimWord2Vec
        from gensim.models.word2vec import LineSentence

        before = rss_mb()
        start = time.perf_counter()
        g = GensimWord2Vec(
            LineSentence(str(corpus)),
            vector_size=args.dim,
            hs=0,
            sg=0 if args.cbow else 1,
            workers=args.threads,
            seed=1,
            **settings,
        )
        seconds = time.perf_counter() - start
        peak = peak_rss_mb()
        wv = nextword.WordVectors(list(g.wv.index_to_key), np.asarray(g.wv.vectors))
        version = f"gensim {gensim.__version__}"
    else:
        before = rss_mb()
        start = time.perf_counter()
        model = nextword.Word2Vec(dim=args.dim, sg=not args.cbow, threads=args.threads, **settings)
        wv = model.fit(corpus, progress=False)
        seconds = time.perf_counter() - start
        peak = peak_rss_mb()
        version = "nextword"
    analogies = wv.evaluate_analogies(EVAL / "questions-words.txt", restrict_vocab=30000)
    return {
        "version": version,
        "seconds": seconds,
        "peak_mb": peak,
        "train_mb": peak - before,
        "matrices_mb": 2 * len(wv) * args.dim * 4 / 1e6,
        "words": len(wv),
        "analogy": analogies.accuracy,
        "ws353": wv.evaluate_similarity(EVAL / "wordsim353.tsv").spearman,
        "simlex": wv.evaluate_similarity(EVAL / "simlex999.txt").spearman,
    }


def run_child(
    trainer: str, corpus: Path, args: argparse.Namespace, path: str | None
) -> dict[str, Any]:
    """Run :func:`train_one` in a fresh process (``path`` first on its PYTHONPATH)."""
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, env.get("PYTHONPATH")]))
    cmd = [sys.executable, __file__, "--child", trainer, "--corpus", str(corpus)]
    cmd += ["--epochs", str(args.epochs), "--threads", str(args.threads)]
    cmd += ["--dim", str(args.dim)] + (["--cbow"] if args.cbow else [])
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    result = dict(json.loads(out.strip().splitlines()[-1]))
    if path:
        result["version"] += f" ({path})"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=20_000_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--cbow", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-gensim", action="store_true")
    parser.add_argument("--also-nextword", metavar="DIR", help="another nextword build to compare")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(train_one(args.child, args.corpus, args)))
        return

    trainers: list[tuple[str, str | None]] = [("nextword", None)]
    if args.also_nextword:
        trainers.append(("nextword", args.also_nextword))
    if not args.no_gensim:
        try:
            import gensim  # noqa: F401
        except ImportError:
            print("gensim: not installed")
        else:
            trainers.append(("gensim", None))

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "slice.txt"
        words = write_slice(corpus, args.words)
        mode = "CBOW" if args.cbow else "skip-gram"
        print(
            f"corpus: {words:,} lowercased words of Gutenberg; {mode}, dim {args.dim}, "
            f"window 5, negative 5, min_count 5, {args.epochs} epochs, {args.threads} threads"
        )
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        results: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(trainers))}
        for _ in range(args.repeat):
            for i, (trainer, path) in enumerate(trainers):
                results[i].append(run_child(trainer, corpus, args, path))
        print(f"load average after: {os.getloadavg()[0]:.1f}")

    header = (
        f"{'':22} {'seconds':>8} {'k words/s':>10} {'peak MB':>8} {'+train MB':>9} "
        f"{'2 mats MB':>9} {'vocab':>7} {'analogy':>8} {'ws353':>6} {'simlex':>6}"
    )
    print(header)
    for runs in results.values():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "version"}
        rates = ", ".join(f"{words * args.epochs / r['seconds'] / 1e3:.0f}" for r in runs)
        print(
            f"{runs[0]['version']:22} {med['seconds']:8.1f} "
            f"{words * args.epochs / med['seconds'] / 1e3:10.0f} {med['peak_mb']:8.0f} "
            f"{med['train_mb']:9.0f} {med['matrices_mb']:9.0f} {med['words']:7.0f} "
            f"{med['analogy']:8.1%} {med['ws353']:6.3f} {med['simlex']:6.3f}"
            + (f"   runs (k words/s): {rates}" if len(runs) > 1 else "")
        )


if __name__ == "__main__":
    main()

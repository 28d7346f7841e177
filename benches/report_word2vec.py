"""Word2vec side by side with gensim on a slice of the Gutenberg set.

Both train skip-gram (or CBOW with ``--cbow``) with the same settings on the
same file (the first ``--words`` lowercased whitespace tokens of
``corpora/gutenberg``, one line per source line), and the report gives wall
time, words/s (corpus words times epochs over seconds), analogy accuracy on
``questions-words.txt`` (restrict_vocab 30000, 3CosAdd) and Spearman's rho on
wordsim353, both measured by nextword's evaluator for both models.

Usage: ``python benches/report_word2vec.py [--words 2000000] [--epochs 3] [--threads 2]``.
gensim missing: only nextword is reported (``pip install gensim``).
"""

from __future__ import annotations

import argparse
import gzip
import os
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


def evaluate(wv: Any) -> dict[str, float]:
    analogies = wv.evaluate_analogies(EVAL / "questions-words.txt", restrict_vocab=30000)
    sim = wv.evaluate_similarity(EVAL / "wordsim353.tsv")
    return {"analogy": analogies.accuracy, "seen": analogies.seen_rate, "ws353": sim.spearman}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=2_000_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--cbow", action="store_true")
    args = parser.parse_args()

    import nextword

    settings = dict(dim=args.dim, window=5, negative=5, min_count=5, epochs=args.epochs)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "slice.txt"
        words = write_slice(corpus, args.words)
        print(f"corpus: {words:,} words of Gutenberg, {args.epochs} epochs, {args.threads} threads")
        rows = []

        start = time.perf_counter()
        model = nextword.Word2Vec(sg=not args.cbow, threads=args.threads, **settings)
        wv = model.fit(corpus, progress=False)
        seconds = time.perf_counter() - start
        rows.append(("nextword", seconds, evaluate(wv)))

        try:
            from gensim.models import Word2Vec as GensimWord2Vec
            from gensim.models.word2vec import LineSentence
        except ImportError:
            print("gensim: not installed")
        else:
            start = time.perf_counter()
            g = GensimWord2Vec(
                LineSentence(str(corpus)),
                vector_size=args.dim,
                window=5,
                negative=5,
                hs=0,
                min_count=5,
                epochs=args.epochs,
                sg=0 if args.cbow else 1,
                workers=args.threads,
                seed=1,
            )
            seconds = time.perf_counter() - start
            theirs = nextword.WordVectors(list(g.wv.index_to_key), g.wv.vectors)
            rows.append(("gensim " + __import__("gensim").__version__, seconds, evaluate(theirs)))

    print(f"{'':16} {'seconds':>8} {'k words/s':>10} {'analogy':>8} {'seen':>6} {'ws353':>6}")
    for name, seconds, scores in rows:
        rate = words * args.epochs / seconds / 1e3
        print(
            f"{name:16} {seconds:8.1f} {rate:10.0f} {scores['analogy']:8.1%} "
            f"{scores['seen']:6.1%} {scores['ws353']:6.3f}"
        )


if __name__ == "__main__":
    main()

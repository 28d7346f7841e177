"""The ∞-gram model interpolated with the Kneser-Ney 5-gram: the perplexity
change on held-out text (issue 13's mixture figure).

Both models are trained on PTB's training set (the ∞-gram is a
:class:`~nextword.CorpusIndex` of it); :class:`~nextword.Interpolated` fits
the mixture weights by EM on the first ``--fit`` sentences of PTB's
validation set and the perplexities are measured on the first ``--test``
sentences of its test set (every one of them with ``</s>``, KenLM's
convention). The ∞-gram alone gives probability 0 to a word that never
follows the longest matching suffix, so its own perplexity is infinite; the
row says how often that happens.

Usage: ``python benches/report_mixture.py [--fit 1000] [--test 1000]``.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from nextword import CorpusIndex, Interpolated, NGramLM
from nextword.model import token_logprobs

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))


def head(path: Path, n: int) -> list[str]:
    """The first ``n`` lines of a file."""
    with path.open(encoding="utf-8") as f:
        return [line for _, line in zip(range(n), f)]


def zero_share(model: CorpusIndex, sentences: list[str]) -> tuple[float, int]:
    """The fraction of tokens (``</s>`` included) the ∞-gram gives probability 0, and the count."""
    ids, offsets = model.vocab.encode_corpus(sentences, eos=True, progress=False)
    zeros = total = 0
    for start, end in zip(offsets[:-1], offsets[1:]):
        logps = token_logprobs(model, ids[int(start) : int(end)].tolist())
        zeros += sum(1 for lp in logps if math.isinf(lp))
        total += len(logps)
    return zeros / total, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", type=int, default=1000, help="validation sentences for EM")
    parser.add_argument("--test", type=int, default=1000, help="test sentences")
    parser.add_argument("--order", type=int, default=5)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f} (of {os.cpu_count()} cores)")
    ptb = SHARED / "corpora" / "en"
    train = ptb / "ptb.train.txt"
    fit, test = head(ptb / "ptb.valid.txt", args.fit), head(ptb / "ptb.test.txt", args.test)
    lm = NGramLM.fit(train, order=args.order, progress=False)
    path = Path(tempfile.mkdtemp(prefix="nextword-mix-")) / "ptb.idx"
    index = CorpusIndex.build(train, path=path, progress=False)
    start = time.perf_counter()
    mix = Interpolated([lm, index]).fit(fit)
    fit_s = time.perf_counter() - start
    kn = lm.perplexity(test)
    start = time.perf_counter()
    mixed = mix.perplexity(test)
    score_s = time.perf_counter() - start
    share, tokens = zero_share(index, test)
    weights = ", ".join(f"{w:.3f}" for w in mix.weights)
    print(f"\nPTB test, first {len(test)} sentences ({tokens:,} tokens with </s>)")
    print("| model | perplexity | change |")
    print("|---|---:|---:|")
    print(f"| Kneser-Ney {args.order}-gram | {kn.perplexity:.2f} | |")
    print(f"| ∞-gram alone | inf ({share:.1%} of tokens get p = 0) | |")
    change = mixed.perplexity / kn.perplexity - 1
    print(
        f"| interpolated, weights [{weights}] (EM on {len(fit)} validation sentences) "
        f"| {mixed.perplexity:.2f} | {change:+.1%} |"
    )
    print(f"\nEM fit {fit_s:.1f} s, mixture scoring {score_s:.1f} s; index {path}")
    assert np.isfinite(mixed.perplexity)


if __name__ == "__main__":
    main()

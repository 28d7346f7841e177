"""The ∞-gram model interpolated with the Kneser-Ney 5-gram and with a neural
model: the perplexity change on held-out text (issue 13's mixture figures).

Both models are trained on PTB's training set (the ∞-gram is a
:class:`~nextword.CorpusIndex` of it); :class:`~nextword.Interpolated` fits
the mixture weights by EM on the first ``--fit`` sentences of PTB's
validation set and the perplexities are measured on the first ``--test``
sentences of its test set (every one of them with ``</s>``, KenLM's
convention). The ∞-gram alone gives probability 0 to a word that never
follows the longest matching suffix, so its own perplexity is infinite; the
row says how often that happens.

With ``--neural CHECKPOINT`` (a word-level model of PTB's training set, as
``benches/ptb_lstm_vs_kn.py --checkpoint`` writes) the table adds the neural
model alone, the ∞-gram with it, Kneser-Ney with it, and all three; every
model is scored per sentence from ``<s>``, the context the n-gram models have.

Usage: ``python benches/report_mixture.py [--fit 1000] [--test 1000]
[--neural ptb_lstm.npz]``.
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
from nextword.model import perplexity, token_logprobs

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
    parser.add_argument("--neural", metavar="CHECKPOINT", help="a neural model of PTB train")
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
    if args.neural:
        neural_rows(args.neural, lm, index, fit, test, kn.perplexity)


def neural_rows(
    checkpoint: str, lm: NGramLM, index: CorpusIndex, fit: list[str], test: list[str], kn: float
) -> None:
    """The neural model alone and in mixtures with the ∞-gram and Kneser-Ney."""
    from nextword.neural import NeuralLanguageModel

    neural = NeuralLanguageModel.load(checkpoint)
    size = sum(v.size for v in neural.parameters().values())
    print(f"\nneural model {checkpoint}: {type(neural).__name__}, {size:,} parameters")
    print("| model | perplexity | change against the first row |")
    print("|---|---:|---:|")
    base = perplexity(neural, test).perplexity
    print(f"| {type(neural).__name__} alone | {base:.2f} | |")
    mixtures = {
        "∞-gram + neural": [index, neural],
        "Kneser-Ney + neural": [lm, neural],
        "Kneser-Ney + ∞-gram + neural": [lm, index, neural],
    }
    for name, models in mixtures.items():
        start = time.perf_counter()
        mix = Interpolated(models).fit(fit)
        value = mix.perplexity(test).perplexity
        weights = ", ".join(f"{w:.3f}" for w in mix.weights)
        print(
            f"| {name}, weights [{weights}] | {value:.2f} | {value / base - 1:+.1%} "
            f"(Kneser-Ney alone {kn:.2f}: {value / kn - 1:+.1%}) |"
        )
        print(f"  ({time.perf_counter() - start:.0f} s to fit and score)", flush=True)


if __name__ == "__main__":
    main()

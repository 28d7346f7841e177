"""Reference n-gram language models: from counts to p(w | h).

A language model of order N gives the probability of the next word ``w`` from
the N - 1 words before it, its *history* ``h``. Counting gives the maximum
likelihood estimate ``c(h w) / c(h .)``, where ``c(h .)`` counts ``h`` followed
by any word. It gives 0 to every word never seen after ``h``, so each estimator
here says how to keep some probability for them:

* ``mle``: none kept (relative frequencies);
* ``add_k``: add ``k`` to every count (Laplace for ``k = 1``);
* ``witten_bell``: interpolate with the shorter history, weighted by how many
  different words followed ``h``;
* ``stupid_backoff``: not a probability; fall back to the shorter history with a
  fixed penalty ``alpha`` (Brants et al. 2007);
* ``kneser_ney`` (in ``lm_kneser_ney``): interpolated modified Kneser-Ney, as
  KenLM's ``lmplz`` computes it.

Every model is stored the same way, in *backoff form* (see ``ngram_model``,
which also holds the queries ``prob``, ``next_distribution`` and
``sentence_probs``, re-exported here). The counts are those of
``nextword.reference.count_ngrams`` with ``pad=True``.

Example:
    >>> from nextword.reference import count_ngrams
    >>> counts = count_ngrams(["the cat sat", "the cat ran", "a dog sat"], order=2)
    >>> model = mle(counts)
    >>> prob(model, "cat", ["the"]), prob(model, "sat", ["cat"])
    (1.0, 0.5)
    >>> round(prob(model, "the"), 3)  # after <s>: 2 sentences of 3 start with "the"
    0.667
"""

from __future__ import annotations

from collections import Counter
from typing import Optional

from .count import BOS
from .lm_kneser_ney import kneser_ney
from .ngram_model import (
    UNK,
    Counts,
    NGram,
    NGramModel,
    history_totals,
    next_distribution,
    prepare,
    prob,
    sentence_probs,
    vocabulary,
)

__all__ = [
    "UNK",
    "Counts",
    "NGram",
    "NGramModel",
    "add_k",
    "estimate",
    "history_totals",
    "mle",
    "next_distribution",
    "prepare",
    "prob",
    "sentence_probs",
    "stupid_backoff",
    "vocabulary",
    "witten_bell",
]


def _predictable(table: list[Counter[NGram]]) -> int:
    """|V|: the number of words a model can predict (every unigram type but ``<s>``)."""
    return sum(1 for ngram in table[0] if ngram != (BOS,))


def mle(counts: Counts, order: Optional[int] = None) -> NGramModel:
    """Maximum likelihood: p(w | h) = c(h w) / c(h .).

    A word never seen after a seen history gets 0; a history never seen falls
    back to its longest seen suffix.

    Example:
        >>> from nextword.reference import count_ngrams
        >>> prob(mle(count_ngrams(["a b", "a c"], order=2)), "b", ["a"])
        0.5
    """
    table = prepare(counts, order)
    probs: dict[NGram, float] = {}
    weights: dict[NGram, float] = {}
    for level in table:
        totals = history_totals(level)
        for ngram, c in level.items():
            if ngram != (BOS,):
                total = totals[ngram[:-1]][0]
                probs[ngram] = c / total if total > 0 else 0.0
        weights.update((h, 0.0) for h in totals if h)
    uniform = 1 / max(_predictable(table), 1)
    return NGramModel("mle", len(table), vocabulary(table), probs, weights, uniform)


def add_k(counts: Counts, k: float = 1.0, order: Optional[int] = None) -> NGramModel:
    """Add-k: p(w | h) = (c(h w) + k) / (c(h .) + k |V|), over the longest history only.

    ``weights[h]`` holds k / (c(h .) + k |V|), the probability of a word never
    seen after ``h``; a history never seen gives every word 1 / |V|.

    Example:
        >>> from nextword.reference import count_ngrams
        >>> model = add_k(count_ngrams(["a b"], order=2), k=1)  # |V| = 4: <unk> a b </s>
        >>> prob(model, "b", ["a"]), prob(model, "a", ["a"]), prob(model, "a", ["zzz"])
        (0.4, 0.2, 0.25)
    """
    if not k > 0:
        raise ValueError(f"add-k needs k > 0, not {k}")
    table = prepare(counts, order)
    size = _predictable(table)
    probs: dict[NGram, float] = {}
    weights: dict[NGram, float] = {}
    for level in table:
        totals = history_totals(level)
        for ngram, c in level.items():
            if ngram != (BOS,):
                probs[ngram] = (c + k) / (totals[ngram[:-1]][0] + k * size)
        weights.update((h, k / (total + k * size)) for h, (total, _) in totals.items())
    return NGramModel("add-k", len(table), vocabulary(table), probs, weights, 1 / size)


def witten_bell(counts: Counts, order: Optional[int] = None) -> NGramModel:
    """Interpolated Witten-Bell: p(w | h) = (c(h w) + T(h) p(w | h')) / (c(h .) + T(h)).

    ``T(h)`` is the number of distinct words seen after ``h``: the more kinds of
    word follow ``h``, the more likely a new one is. Unigrams interpolate with
    the uniform distribution 1 / |V|.

    Example:
        >>> from nextword.reference import count_ngrams
        >>> model = witten_bell(count_ngrams(["a b"], order=1))  # <unk> a b </s>
        >>> prob(model, "a"), prob(model, "zzz")  # (1 + 3/4) / 6, (0 + 3/4) / 6
        (0.2916666666666667, 0.125)
    """
    table = prepare(counts, order)
    uniform = 1 / max(_predictable(table), 1)
    probs: dict[NGram, float] = {}
    weights: dict[NGram, float] = {}
    for n, level in enumerate(table, start=1):
        totals = history_totals(level)
        for ngram, c in level.items():
            if ngram == (BOS,):
                continue
            total, distinct = totals[ngram[:-1]]
            # Every n-gram's suffix was counted too, one order below.
            lower = uniform if n == 1 else probs[ngram[1:]]
            if total + distinct == 0:
                probs[ngram] = lower
            else:
                probs[ngram] = (c + distinct * lower) / (total + distinct)
        for h, (total, distinct) in totals.items():
            if h:
                weights[h] = distinct / (total + distinct) if total + distinct else 1.0
    return NGramModel("witten-bell", len(table), vocabulary(table), probs, weights, uniform)


def stupid_backoff(counts: Counts, alpha: float = 0.4, order: Optional[int] = None) -> NGramModel:
    """Stupid backoff: S(w | h) = c(h w) / c(h .) if h w was seen, else alpha S(w | h').

    Down to S(w) = c(w) / N. These are scores, not probabilities: they do not
    sum to 1. Every step back costs ``alpha``, whether ``h`` was seen or not.

    Example:
        >>> from nextword.reference import count_ngrams
        >>> model = stupid_backoff(count_ngrams(["a b"], order=2), alpha=0.4)
        >>> prob(model, "b", ["a"]), round(prob(model, "a", ["a"]), 4)  # 0.4 * 1/3
        (1.0, 0.1333)
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"stupid backoff needs 0 < alpha <= 1, not {alpha}")
    model = mle(counts, order)
    model.smoothing = "stupid-backoff"
    model.weights = {h: alpha for h in model.weights}
    model.unseen_weight = alpha
    return model


def estimate(
    counts: Counts,
    smoothing: str,
    order: Optional[int] = None,
    k: float = 1.0,
    alpha: float = 0.4,
) -> NGramModel:
    """Fit a model by the estimator's name (Kneser-Ney with its default options).

    Example:
        >>> from nextword.reference import count_ngrams
        >>> estimate(count_ngrams(["a b"], order=2), "mle").smoothing
        'mle'
    """
    if smoothing == "mle":
        return mle(counts, order)
    if smoothing == "add-k":
        return add_k(counts, k, order)
    if smoothing == "witten-bell":
        return witten_bell(counts, order)
    if smoothing == "stupid-backoff":
        return stupid_backoff(counts, alpha, order)
    if smoothing == "kneser-ney":
        return kneser_ney(counts, order)
    raise ValueError(f"unknown smoothing {smoothing!r}")

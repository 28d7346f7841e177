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

Every model is stored the same way, in *backoff form* (the form of an ARPA file):

* ``probs[h + (w,)]`` = p(w | h) for every n-gram ``h w`` that was counted;
* ``weights[h]`` = the weight of the shorter history ``h'`` (``h`` without its
  first word) in p(. | h), for every history ``h`` seen followed by some word.

Then p(w | h) is ``probs[h + (w,)]`` when ``h w`` was counted, and otherwise
``weights[h] * p(w | h')``. A history never seen followed by a word has weight 1
(``alpha`` for stupid backoff). Add-k is the exception: it uses only the longest
history (see ``prob``).

The counts are those of ``nextword.reference.count_ngrams`` with ``pad=True``:
every sentence between ``<s>`` and ``</s>``. ``<s>`` is never predicted.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from .count import BOS, EOS

NGram = tuple[str, ...]
Counts = Sequence[Counter[NGram]]
UNK = "<unk>"  # stands for every word the model never saw


@dataclass
class NGramModel:
    """An n-gram model in backoff form (see the module documentation).

    ``vocab`` lists every type in id order: ``<unk>``, ``<s>``, ``</s>``, then the
    words in order of first appearance. ``uniform`` is 1 / |V| for the |V|
    predictable words (every type but ``<s>``, ``<unk>`` included).
    """

    smoothing: str
    order: int
    vocab: list[str]
    probs: dict[NGram, float]
    weights: dict[NGram, float]
    uniform: float
    unseen_weight: float = 1.0
    discounts: list[tuple[float, float, float]] = field(default_factory=list)


def vocabulary(counts: Counts) -> list[str]:
    """Every type in nextword's id order: specials first, then first appearance.

    The unigram ``Counter`` of ``count_ngrams`` remembers the order in which words
    were first counted, which is their order of first appearance.

    Example:
        >>> from nextword.reference import count_ngrams
        >>> vocabulary(count_ngrams(["b a b"], order=1))
        ['<unk>', '<s>', '</s>', 'b', 'a']
    """
    specials = [UNK, BOS, EOS]
    return specials + [ngram[0] for ngram in counts[0] if ngram[0] not in specials]


def prepare(counts: Counts, order: Optional[int]) -> list[Counter[NGram]]:
    """Copies of the counts of orders 1..``order``, with ``<unk>`` counted 0 if absent.

    Adding ``<unk>`` gives every unknown word an entry to be scored with.
    """
    order = len(counts) if order is None else order
    if not 1 <= order <= len(counts):
        raise ValueError(f"order {order} not in 1..{len(counts)} (the orders counted)")
    table = [Counter(level) for level in counts[:order]]
    table[0].setdefault((UNK,), 0)
    return table


def history_totals(level: Counter[NGram]) -> dict[NGram, tuple[int, int]]:
    """For each history ``h`` of one order: ``(c(h .), number of distinct words after h)``.

    ``<s>`` is not a word that can follow (it is never predicted), and words
    counted 0 (an added ``<unk>``) were not seen.

    Example:
        >>> history_totals(Counter({("a", "b"): 2, ("a", "c"): 1, ("b", "c"): 1}))
        {('a',): (3, 2), ('b',): (1, 1)}
    """
    totals: dict[NGram, tuple[int, int]] = {}
    for ngram, c in level.items():
        if ngram == (BOS,):
            continue
        history = ngram[:-1]
        total, distinct = totals.get(history, (0, 0))
        totals[history] = (total + c, distinct + (1 if c > 0 else 0))
    return totals


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


def prob(model: NGramModel, word: str, context: Sequence[str] = (), bos: bool = True) -> float:
    """p(word | context): the probability that ``word`` comes next.

    ``context`` is the start of a sentence (tokens), preceded by ``<s>`` when
    ``bos``. A word the model never saw is scored as ``<unk>``, in the context
    too. Only the last N - 1 words matter. Then, from the longest history down,
    the first n-gram ``h w`` the model holds gives ``probs[h w]``, times the
    weights of the longer histories it passed (see the module documentation).

    Add-k looks at the longest history only: ``h w`` counted gives
    ``probs[h w]``, ``h`` seen gives ``weights[h]``, else 1 / |V|.

    Example:
        >>> from nextword.reference import count_ngrams
        >>> model = witten_bell(count_ngrams(["a b"], order=2))
        >>> prob(model, "b", ["a"]) == (1 + prob(model, "b", bos=False)) / 2
        True
    """
    if word == BOS:
        return 0.0  # <s> is never predicted
    w = word if (word,) in model.probs else UNK
    history = [BOS, *context] if bos else list(context)
    history = [t if t == BOS or (t,) in model.probs else UNK for t in history]
    keep = min(len(history), model.order - 1)
    h = tuple(history[len(history) - keep :])
    if model.smoothing == "add-k":
        if h + (w,) in model.probs:
            return model.probs[h + (w,)]
        return model.weights.get(h, model.uniform)
    weight = 1.0
    # (w,) is always held (w is a known word or <unk>), so the loop ends.
    while h + (w,) not in model.probs:
        weight *= model.weights.get(h, model.unseen_weight)
        h = h[1:]
    return weight * model.probs[h + (w,)]


def next_distribution(
    model: NGramModel, context: Sequence[str] = (), bos: bool = True
) -> dict[str, float]:
    """p(w | context) for every word ``w`` of the vocabulary (``<s>`` gets 0).

    Example:
        >>> from nextword.reference import count_ngrams
        >>> dist = next_distribution(mle(count_ngrams(["a b", "a c"], order=2)), ["a"])
        >>> dist["b"], dist["c"], round(sum(dist.values()), 9)
        (0.5, 0.5, 1.0)
    """
    return {w: prob(model, w, context, bos) for w in model.vocab}


def sentence_probs(
    model: NGramModel, tokens: Sequence[str], bos: bool = True, eos: bool = True
) -> list[float]:
    """p of each token of a sentence given the tokens before it (and ``</s>`` at the end).

    Example:
        >>> from nextword.reference import count_ngrams
        >>> sentence_probs(mle(count_ngrams(["a b", "a c"], order=2)), ["a", "b"])
        [1.0, 0.5, 1.0]
    """
    words = [*tokens, EOS] if eos else list(tokens)
    return [prob(model, w, words[:i], bos) for i, w in enumerate(words)]


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
    from .lm_kneser_ney import kneser_ney  # lm_kneser_ney builds on this module

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

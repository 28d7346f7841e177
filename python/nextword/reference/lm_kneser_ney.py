"""Reference interpolated modified Kneser-Ney, computed as KenLM's ``lmplz`` does.

Kneser-Ney rests on two ideas.

1. *Absolute discounting.* Take a fixed amount D away from every count and give
   what was taken to the shorter history. "Modified" Kneser-Ney (Chen and
   Goodman 1998) uses three discounts: D1 for n-grams seen once, D2 for those
   seen twice, D3 for those seen 3 times or more.
2. *Continuation counts.* A lower order is only used when the higher one lacks
   evidence, so it should say how likely ``w`` is to follow a *new* history,
   not how frequent ``w`` is. "Francisco" is frequent but follows almost only
   "San". So below the highest order, an n-gram counts the distinct words seen
   before it, not its occurrences. (An n-gram starting with ``<s>`` has nothing
   before it and keeps its count.)

The estimation is KenLM's ``lmplz`` pipeline, one function per stage, wired
together in ``kneser_ney``:

1. ``adjusted_counts``: the counts of idea 2, and their ``count_of_counts``
   n1..n4 per order;
2. ``discounts_from``: D1, D2, D3+ per order from n1..n4: Y = n1 / (n1 + 2 n2)
   and D_j = j - (j + 1) Y n_{j+1} / n_j (or given, and checked by
   ``check_discounts``: 0 <= D_j <= j);
3. ``initial_probabilities``: for each history h, with ``a`` the adjusted counts,
   u(w | h) = (a(h w) - D(a(h w))) / sum_w a(h w) and
   gamma(h) = (D1 N1(h) + D2 N2(h) + D3 N3+(h)) / sum_w a(h w), where N_j(h) is
   the number of words after h with adjusted count j (3 or more for N3+);
4. ``interpolate``: p(w) = u(w) + gamma() / (|V| - 1), |V| counting every type
   with ``<unk>``, ``<s>`` and ``</s>`` (the -1 leaves out ``<s>``, never
   predicted); p(w | h) = u(w | h) + gamma(h) p(w | h'), and gamma(h) is the
   backoff weight of h.

Example:
    >>> import warnings
    >>> from nextword.reference import count_ngrams
    >>> from nextword.reference.ngram_model import prob
    >>> with warnings.catch_warnings():  # too little data to estimate discounts
    ...     warnings.simplefilter("ignore")
    ...     model = kneser_ney(count_ngrams(["a b", "b a", "a a b"], order=2))
    >>> model.discounts
    [(0.5, 1.0, 1.5), (0.5, 1.0, 1.5)]
    >>> round(prob(model, "b", ["a"]), 4)
    0.3839
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from typing import Optional, Union

from .count import BOS
from .ngram_model import UNK, Counts, NGram, NGramModel, history_totals, prepare, vocabulary

Discounts = tuple[float, float, float]
FALLBACK: Discounts = (0.5, 1.0, 1.5)  # what lmplz --discount_fallback uses


# -- stage 1: adjusted counts ----------------------------------------------------------


def adjusted_counts(table: Sequence[Counter[NGram]]) -> list[Counter[NGram]]:
    """The counts Kneser-Ney estimates from, for each order.

    The highest order keeps its counts. Below it, an n-gram starting with
    ``<s>`` keeps its count, and any other gets the number of distinct words
    seen directly before it: the number of (n+1)-grams it ends.

    Example:
        >>> from nextword.reference import count_ngrams
        >>> unigrams, bigrams = adjusted_counts(count_ngrams(["a b", "c b", "b b"], order=2))
        >>> unigrams[("b",)], unigrams[("<s>",)]  # b after a, c, <s> and b; <s> 3 times
        (4, 3)
    """
    adjusted = [Counter(level) for level in table]
    for n in range(len(table) - 1):
        for ngram in table[n]:
            if ngram[0] != BOS:
                adjusted[n][ngram] = 0
        for longer in table[n + 1]:
            if longer[1] != BOS:
                adjusted[n][longer[1:]] += 1
    return adjusted


def count_of_counts(
    adjusted: Counter[NGram], raw: Counter[NGram], ids: dict[str, int], highest: bool
) -> tuple[int, int, int, int]:
    """n1, n2, n3, n4: how many n-grams of one order have adjusted count 1, 2, 3, 4.

    ``<s>`` as a unigram is left out (it is never predicted). One quirk is kept
    so that the discounts equal lmplz's to the last digit: below the highest
    order, the last n-gram in *suffix order* (sorted by the ids of its last word,
    then the word before, ...) counts with its raw count, because lmplz's final
    flush of each order reads the raw count.

    Example:
        >>> adjusted = Counter({("a",): 1, ("b",): 2, ("c",): 2})
        >>> raw = Counter({("a",): 5, ("b",): 2, ("c",): 3})
        >>> count_of_counts(adjusted, raw, {"a": 3, "b": 4, "c": 5}, highest=False)
        (1, 1, 1, 0)
    """
    last: Optional[NGram] = None
    if not highest:
        last = max(adjusted, key=lambda g: [ids[w] for w in reversed(g)])
    n = [0, 0, 0, 0]
    for ngram, a in adjusted.items():
        if ngram == (BOS,):
            continue
        c = raw[ngram] if ngram == last else a
        if 1 <= c <= 4:
            n[c - 1] += 1
    return n[0], n[1], n[2], n[3]


# -- stage 2: discounts ----------------------------------------------------------------


def discount_problem(j: int, d: Union[float, Fraction]) -> Optional[str]:
    """Why ``d`` cannot be the discount D_j (j = 3 for D3+), or None if it can.

    lmplz requires 0 <= D_j <= j: a larger discount takes more than the count
    (a distribution would sum to more than 1), a negative one gives mass back.

    Example:
        >>> discount_problem(1, 1.5), discount_problem(3, 3.0)
        ('discount D1 = 1.5 is outside [0, 1]', None)
    """
    if not math.isfinite(d):
        return f"discount D{j} = {float(d)} is not a finite number"
    if not 0 <= d <= j:
        return f"discount D{j} = {float(d):.6g} is outside [0, {j}]"
    return None


def discounts_from(n: tuple[int, int, int, int]) -> Discounts:
    """D1, D2, D3+ from count-of-counts: Y = n1 / (n1 + 2 n2), D_j = j - (j+1) Y n_{j+1} / n_j.

    Raises ValueError, saying why, when n1, n2 or n3 is 0 or a discount falls
    outside [0, j] (lmplz stops there; its ``--discount_fallback`` goes on).

    Example:
        >>> [round(d, 4) for d in discounts_from((100, 40, 20, 10))]
        [0.5556, 1.1667, 1.8889]
        >>> discounts_from((5, 0, 1, 0))
        Traceback (most recent call last):
        ...
        ValueError: count-of-counts n1=5, n2=0, n3=1: a zero leaves the discounts undefined
    """
    if n[0] == 0 or n[1] == 0 or n[2] == 0:
        raise ValueError(
            f"count-of-counts n1={n[0]}, n2={n[1]}, n3={n[2]}: "
            "a zero leaves the discounts undefined"
        )
    # Exact fractions: small corpora often give a discount of exactly 0 or j,
    # which rounding could push outside [0, j].
    y = Fraction(n[0], n[0] + 2 * n[1])
    d = [j - (j + 1) * y * Fraction(n[j], n[j - 1]) for j in (1, 2, 3)]
    for j, dj in enumerate(d, start=1):
        problem = discount_problem(j, dj)
        if problem is not None:
            raise ValueError(problem)
    return float(d[0]), float(d[1]), float(d[2])


def check_discounts(given: Sequence[Discounts], order: int) -> None:
    """Refuse discounts that are not one valid (D1, D2, D3+) per order.

    Example:
        >>> check_discounts([(0.5, 1.0, 1.5), (1.5, 1.5, 1.5)], order=2)
        Traceback (most recent call last):
        ...
        ValueError: order 2: discount D1 = 1.5 is outside [0, 1]
    """
    if len(given) != order:
        raise ValueError(
            f"discounts: {len(given)} (D1, D2, D3+) triples given for a model of order "
            f"{order}; give one per order"
        )
    for n, triple in enumerate(given, start=1):
        for j, d in enumerate(triple, start=1):
            problem = discount_problem(j, d)
            if problem is not None:
                raise ValueError(f"order {n}: {problem}")


def estimated_discounts(
    adjusted: Sequence[Counter[NGram]], table: Sequence[Counter[NGram]], vocab: list[str]
) -> list[Discounts]:
    """D1, D2, D3+ of every order from its count-of-counts.

    Where they cannot be estimated, 0.5, 1, 1.5 are used with a ``UserWarning``
    naming the order (as ``lmplz --discount_fallback``).
    """
    ids = {w: i for i, w in enumerate(vocab)}
    chosen: list[Discounts] = []
    for n, level in enumerate(adjusted, start=1):
        coc = count_of_counts(level, table[n - 1], ids, highest=n == len(table))
        try:
            chosen.append(discounts_from(coc))
        except ValueError as why:
            message = f"order {n}: {why}; using the fallback discounts 0.5, 1, 1.5"
            warnings.warn(message, UserWarning, stacklevel=3)
            chosen.append(FALLBACK)
    return chosen


# -- stage 3: initial probabilities ------------------------------------------------------


def initial_probabilities(
    level: Counter[NGram], discounts: Discounts
) -> tuple[dict[NGram, float], dict[NGram, float]]:
    """u(w | h) of every n-gram of one order, and gamma(h) of every history.

    u takes the discount D(a) away from each adjusted count ``a``; gamma(h) is
    what the discounts took from h, as a share of sum_w a(h w): the mass stage 4
    gives to the shorter history. A history whose adjusted counts sum to 0 gives
    u = 0 and gamma = 1 (everything to the shorter history). ``<s>`` as a
    unigram is no event: it gets neither.

    Example:
        >>> level = Counter({("a", "b"): 1, ("a", "c"): 3, ("b", "c"): 2})
        >>> u, gamma = initial_probabilities(level, (0.5, 1.0, 1.5))
        >>> u[("a", "b")], u[("a", "c")], gamma[("a",)]  # (1 - .5) / 4, (3 - 1.5) / 4, 2 / 4
        (0.125, 0.375, 0.5)
    """
    d1, d2, d3 = discounts
    discount = {0: 0.0, 1: d1, 2: d2}
    events = [(ngram, a) for ngram, a in level.items() if ngram != (BOS,)]
    mass: dict[NGram, float] = {}
    for ngram, a in events:
        mass[ngram[:-1]] = mass.get(ngram[:-1], 0.0) + discount.get(a, d3)
    totals = history_totals(level)
    gamma = {h: mass[h] / total if total > 0 else 1.0 for h, (total, _) in totals.items()}
    u: dict[NGram, float] = {}
    for ngram, a in events:
        total = totals[ngram[:-1]][0]
        u[ngram] = (a - discount.get(a, d3)) / total if total > 0 else 0.0
    return u, gamma


# -- stage 4: interpolation --------------------------------------------------------------


def interpolate(
    u: dict[NGram, float],
    gamma: dict[NGram, float],
    lower: dict[NGram, float],
    predictable: int,
    interpolate_unigrams: bool = True,
) -> dict[NGram, float]:
    """p(w | h) = u(w | h) + gamma(h) p(w | h') for every n-gram of one order.

    ``lower`` holds p of the order below (every n-gram's suffix is counted
    there); for unigrams it is empty and p(w | h') is uniform over the
    ``predictable`` words. With ``interpolate_unigrams=False`` (lmplz's
    ``--interpolate_unigrams 0``), p(w) = u(w) and ``<unk>`` takes gamma() whole.

    Example:
        >>> u = {("a",): 0.5, ("b",): 0.25, (UNK,): 0.0}
        >>> interpolate(u, {(): 0.25}, {}, predictable=5)[("a",)]  # 0.5 + 0.25 / 5
        0.55
    """
    probs: dict[NGram, float] = {}
    for ngram, un in u.items():
        g = gamma[ngram[:-1]]
        if len(ngram) > 1:
            probs[ngram] = un + g * lower[ngram[1:]]
        elif interpolate_unigrams:
            probs[ngram] = un + g / predictable
        else:
            probs[ngram] = un + (g if ngram == (UNK,) else 0.0)
    return probs


# -- the pipeline ------------------------------------------------------------------------


def kneser_ney(
    counts: Counts,
    order: Optional[int] = None,
    interpolate_unigrams: bool = True,
    discounts: Optional[Sequence[Discounts]] = None,
) -> NGramModel:
    """Interpolated modified Kneser-Ney from counts padded with ``<s>`` and ``</s>``.

    ``discounts`` gives (D1, D2, D3+) for every order instead of estimating
    them; each must satisfy 0 <= D_j <= j (else ``ValueError``). Where they
    cannot be estimated, 0.5, 1, 1.5 are used with a ``UserWarning`` naming the
    order. ``interpolate_unigrams=False`` is lmplz's ``--interpolate_unigrams 0``:
    p(w) = u(w), and ``<unk>`` gets gamma().

    Example:
        >>> from nextword.reference import count_ngrams
        >>> from nextword.reference.ngram_model import prob
        >>> counts = count_ngrams(["a b c", "a c b", "b a"], order=1)
        >>> model = kneser_ney(counts, discounts=[(0.5, 1.0, 1.5)])
        >>> round(prob(model, "a"), 4)  # (3 - 1.5) / 11 + gamma() / 5, gamma() = 5.5 / 11
        0.2364
    """
    table = prepare(counts, order)
    if sum(table[0].values()) > 0 and table[0][(BOS,)] == 0:
        raise ValueError("Kneser-Ney needs counts padded with <s> and </s> (pad=True)")
    if discounts is not None:
        check_discounts(discounts, len(table))
    vocab = vocabulary(table)

    adjusted = adjusted_counts(table)  # stage 1
    if discounts is None:  # stage 2
        chosen = estimated_discounts(adjusted, table, vocab)
    else:
        chosen = [(float(d1), float(d2), float(d3)) for d1, d2, d3 in discounts]
    probs: dict[NGram, float] = {}
    weights: dict[NGram, float] = {}
    lower: dict[NGram, float] = {}
    for level, d in zip(adjusted, chosen):
        u, gamma = initial_probabilities(level, d)  # stage 3
        lower = interpolate(u, gamma, lower, len(vocab) - 1, interpolate_unigrams)  # stage 4
        probs.update(lower)
        weights.update((h, g) for h, g in gamma.items() if h)
    uniform = 1 / (len(vocab) - 1)
    return NGramModel("kneser-ney", len(table), vocab, probs, weights, uniform, 1.0, chosen)

"""The backoff form every reference n-gram model is stored in, and its queries.

A language model of order N gives the probability of the next word ``w`` from
the N - 1 words before it, its *history* ``h``. Every estimator of ``lm`` and
``lm_kneser_ney`` stores its model the same way, in *backoff form* (the form of
an ARPA file):

* ``probs[h + (w,)]`` = p(w | h) for every n-gram ``h w`` that was counted;
* ``weights[h]`` = the weight of the shorter history ``h'`` (``h`` without its
  first word) in p(. | h), for every history ``h`` seen followed by some word.

Then p(w | h) is ``probs[h + (w,)]`` when ``h w`` was counted, and otherwise
``weights[h] * p(w | h')``. A history never seen followed by a word has weight 1
(``alpha`` for stupid backoff). Add-k is the exception: it uses only the longest
history (see ``prob``).

The counts are those of ``nextword.reference.count_ngrams`` with ``pad=True``:
every sentence between ``<s>`` and ``</s>``. ``<s>`` is never predicted. This
module also holds what every estimator starts from (``prepare``,
``vocabulary``, ``history_totals``), so that the estimator modules need only
this one, not each other.

Example:
    >>> model = NGramModel("mle", 2, [UNK, "<s>", "</s>", "a"], {}, {}, uniform=1 / 3)
    >>> model.probs.update({("a",): 0.5, ("</s>",): 0.5, ("<s>", "a"): 1.0})
    >>> model.weights[("<s>",)] = 0.0
    >>> prob(model, "a"), prob(model, "</s>", ["a"])  # h = (a,) unseen: weight 1
    (1.0, 0.5)
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
        >>> from nextword.reference.lm import mle, witten_bell
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
        >>> from nextword.reference.lm import mle
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
        >>> from nextword.reference.lm import mle
        >>> sentence_probs(mle(count_ngrams(["a b", "a c"], order=2)), ["a", "b"])
        [1.0, 0.5, 1.0]
    """
    words = [*tokens, EOS] if eos else list(tokens)
    return [prob(model, w, words[:i], bos) for i, w in enumerate(words)]

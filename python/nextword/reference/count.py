"""Reference n-gram counting: how often does each sequence of n tokens occur?

An n-gram is a tuple of n consecutive tokens of one sentence. A language model
of order N needs the counts of all k-grams for k = 1 .. N: it predicts the next
token from the N - 1 tokens before it.

Every sentence is padded with ``"<s>"`` in front and ``"</s>"`` behind, so that
the model also learns how sentences start and end: ``("<s>", "the")`` counts
sentences that begin with "the", ``("mat", "</s>")`` those that end with "mat".

Example:
    >>> unigrams, bigrams = count_ngrams(["the cat sat\\nthe dog sat"], order=2)
    >>> unigrams[("the",)], unigrams[("<s>",)], bigrams[("the", "cat")]
    (2, 2, 1)
    >>> bigrams.most_common(1)
    [(('<s>', 'the'), 2)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from .corpus import sentences
from .tokenize import whitespace_tokenize

BOS = "<s>"  # beginning of sentence
EOS = "</s>"  # end of sentence


def count_ngrams(
    texts: Iterable[str],
    order: int,
    tokenize: Callable[[str], list[str]] = whitespace_tokenize,
    pad: bool = True,
    skip_blank: bool = False,
) -> list[Counter[tuple[str, ...]]]:
    """Count every k-gram, k = 1 .. ``order``, in the sentences of ``texts``.

    Each text is cut into lines, one line being one sentence (see
    ``corpus.sentences``; blank lines are skipped when ``skip_blank``). Each
    sentence is tokenized with ``tokenize`` and, when ``pad`` is true, wrapped in
    ``"<s>"`` ... ``"</s>"``. Then every window of k consecutive tokens is counted.

    Returns a list of ``order`` counters: element ``k - 1`` maps each k-gram (a
    tuple of k tokens) to its count. ``"<s>"`` is counted as a unigram once per
    sentence, like any other token. A blank line that is kept counts as the
    sentence ``["<s>", "</s>"]`` when padded, and as nothing otherwise.

    Example:
        >>> counts = count_ngrams(["a b a"], order=3, pad=False)
        >>> counts[0]
        Counter({('a',): 2, ('b',): 1})
        >>> counts[1][("a", "b")], counts[2][("a", "b", "a")]
        (1, 1)
    """
    if order < 1:
        raise ValueError(f"order must be at least 1, not {order}")

    # counts[k - 1] holds the k-grams.
    counts: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order)]

    for sentence in sentences(texts, skip_blank=skip_blank):
        tokens = tokenize(sentence)
        if pad:
            tokens = [BOS, *tokens, EOS]

        # Slide a window of width k over the tokens: the window starting at
        # position i covers tokens[i], ..., tokens[i + k - 1]. A sentence of
        # length L has L - k + 1 such windows (none when L < k).
        for k in range(1, order + 1):
            for i in range(len(tokens) - k + 1):
                ngram = tuple(tokens[i : i + k])
                counts[k - 1][ngram] += 1

    return counts


def count_of_counts(counter: Counter[tuple[str, ...]]) -> dict[int, int]:
    """Tell, for each count c, how many n-grams occur exactly c times.

    These "counts of counts" (n1 = number of n-grams seen once, n2 = seen
    twice, ...) drive smoothing methods such as Good-Turing and Kneser-Ney.
    The result is ordered by increasing c.

    Example:
        >>> unigrams = count_ngrams(["a b a c"], order=1, pad=False)[0]
        >>> count_of_counts(unigrams)
        {1: 2, 2: 1}
    """
    how_many: dict[int, int] = {}
    for count in counter.values():
        if count > 0:  # a Counter may hold zero or negative entries after arithmetic
            how_many[count] = how_many.get(count, 0) + 1
    return dict(sorted(how_many.items()))

"""A suffix-array index, written to be read: the reference of ``nextword.CorpusIndex``.

The corpus is one list of token ids, each document followed by a separator
(``SEP``, larger than every id), so that no phrase can match across two
documents. Its *suffix array* lists the start of every suffix in sorted
order; the suffixes that begin with a phrase are then one contiguous run of
it, found by two binary searches, and the run's length is the phrase's count.

Here the array is built the obvious way, by sorting the suffixes themselves
(quadratic memory in the worst case: fine for tests, hopeless for corpora; the
core sorts in linear time with SA-IS).

Example:
    >>> index = SuffixArrayIndex([[5, 6, 5, 6, 7], [6, 7]])
    >>> index.count([5, 6]), index.count([6, 7]), index.count([7, 6])
    (2, 2, 0)
    >>> index.next_counts([6])
    {5: 1, 7: 2}
    >>> index.longest_matches([5, 6, 7, 9])
    [3, 2, 1, 0]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

SEP = 2**32 - 1
BOS_ID = 1


class SuffixArrayIndex:
    """Documents of ids, their stream with separators, and its suffix array."""

    def __init__(self, documents: Sequence[Sequence[int]]) -> None:
        self.stream: list[int] = []
        self.starts: list[int] = []
        for doc in documents:
            if not doc:
                continue
            self.starts.append(len(self.stream))
            self.stream.extend(doc)
            self.stream.append(SEP)
        n = len(self.stream)
        # Python compares lists element by element, a shorter prefix first:
        # exactly the order of suffixes.
        self.suffixes = sorted(range(n), key=lambda i: self.stream[i:])

    def _prefix(self, row: int, length: int) -> list[int]:
        start = self.suffixes[row]
        return self.stream[start : start + length]

    def rows(self, phrase: Sequence[int]) -> range:
        """The rows of the suffix array whose suffixes begin with ``phrase``."""
        phrase = list(phrase)
        m = len(phrase)
        lo, hi = 0, len(self.suffixes)
        while lo < hi:  # first row whose prefix is >= phrase
            mid = (lo + hi) // 2
            if self._prefix(mid, m) < phrase:
                lo = mid + 1
            else:
                hi = mid
        first = lo
        hi = len(self.suffixes)
        while lo < hi:  # first row whose prefix is > phrase
            mid = (lo + hi) // 2
            if self._prefix(mid, m) <= phrase:
                lo = mid + 1
            else:
                hi = mid
        return range(first, lo)

    @property
    def tokens(self) -> int:
        """Tokens in the corpus, separators left out."""
        return len(self.stream) - len(self.starts)

    def count(self, phrase: Sequence[int]) -> int:
        """Occurrences of ``phrase``; the empty phrase counts every token."""
        if not phrase:
            return self.tokens
        return len(self.rows(phrase))

    def next_counts(self, phrase: Sequence[int]) -> dict[int, int]:
        """What follows ``phrase`` and how often (the separator left out)."""
        after: Counter[int] = Counter()
        for row in self.rows(phrase):
            token = self.stream[self.suffixes[row] + len(phrase)]
            if token != SEP:
                after[token] += 1
        return dict(sorted(after.items()))

    def positions(self, phrase: Sequence[int]) -> list[int]:
        """Every position where ``phrase`` starts, in stream order."""
        return sorted(self.suffixes[row] for row in self.rows(phrase))

    def longest_matches(self, ids: Sequence[int]) -> list[int]:
        """For each position of ``ids``, the longest span starting there that occurs."""
        out = []
        for i in range(len(ids)):
            length = 0
            while i + length < len(ids) and self.count(ids[i : i + length + 1]) > 0:
                length += 1
            out.append(length)
        return out

    def infini_gram(
        self, context: Sequence[int], skip_bos: bool = True
    ) -> tuple[dict[int, int], int]:
        """The ∞-gram prediction: the successor counts of the longest suffix of
        ``context`` that is followed by a token somewhere (``<s>`` never counts
        as one when ``skip_bos``), and that suffix's length plus one (the
        effective n). The empty suffix gives every token's count."""
        for length in range(len(context), -1, -1):
            suffix = list(context[len(context) - length :])
            if length == 0:
                after = dict(sorted(Counter(t for t in self.stream if t != SEP).items()))
            else:
                after = self.next_counts(suffix)
            if skip_bos:
                after.pop(BOS_ID, None)
            if after:
                return after, length + 1
        return {}, 1

"""Counting n-grams: :func:`count_ngrams` and :class:`NGramCounts`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from nextword import _core
from nextword.corpus import CorpusLike, as_corpus
from nextword.tokenizers import Tokenizer, TokenizerLike, as_tokenizer
from nextword.vocab import Vocab

NGram = tuple[str, ...]
MAX_ORDER: int = _core.MAX_ORDER


class NGramCounts:
    """Counted n-grams of every order 1..N.

    Index with a word or a tuple of words; unseen n-grams count 0.

    >>> c = count_ngrams(["to be or not to be"], order=2)
    >>> c["to", "be"], c["be"], c["<s>", "to"], c["xyz"]
    (2, 2, 1, 0)
    >>> c.most_common(2, order=1)
    [(('to',), 2), (('be',), 2)]
    """

    def __init__(self, core: _core.NGramCounts) -> None:
        self._core = core
        self._vocab: Optional[Vocab] = None

    @property
    def order(self) -> int:
        """The highest order counted."""
        return self._core.order

    @property
    def padded(self) -> bool:
        """Whether each sentence was padded with ``<s>`` and ``</s>``."""
        return self._core.padded

    @property
    def tokens(self) -> int:
        """Tokens read, before padding."""
        return self._core.tokens

    @property
    def sentences(self) -> int:
        """Sentences read."""
        return int(self.stats["sentences"])

    @property
    def stats(self) -> dict[str, int]:
        """What reading saw: lines, sentences, blank_lines, bad_lines, bytes."""
        return self._core.stats

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer the counts were made with."""
        return Tokenizer.from_spec(self._core.tokenizer)

    @property
    def vocab(self) -> Vocab:
        """The vocabulary: specials, then words in order of first appearance
        (built once, then cached)."""
        if self._vocab is None:
            self._vocab = Vocab._wrap(self._core.vocab)
        return self._vocab

    def __getitem__(self, ngram: Union[str, NGram]) -> int:
        return self._core[ngram]

    def __contains__(self, ngram: object) -> bool:
        return isinstance(ngram, (str, tuple)) and self._core[ngram] > 0

    def __len__(self) -> int:
        """Distinct n-grams over all orders."""
        return len(self._core)

    def __iter__(self) -> Iterator[NGram]:
        """Every n-gram, order 1 first, each order sorted by ids."""
        for ngram, _ in self.items():
            yield ngram

    def items(self, order: Optional[int] = None) -> Iterator[tuple[NGram, int]]:
        """``(ngram, count)`` pairs of one order, or of all orders (ascending)."""
        orders = range(1, self.order + 1) if order is None else [order]
        for n in orders:
            start, step = 0, 65536
            while True:
                batch = self._core.items_slice(n, start, step)
                yield from batch
                if len(batch) < step:
                    break
                start += step

    def total(self, order: int) -> int:
        """Sum of counts of one order (tokens plus padding for order 1)."""
        return self._core.total(order)

    def num_unique(self, order: int) -> int:
        """Distinct n-grams of one order."""
        return self._core.num_unique(order)

    def most_common(self, k: int = 10, order: int = 1) -> list[tuple[NGram, int]]:
        """The ``k`` most frequent n-grams of ``order``; ties by id (first appearance)."""
        if k < 0:
            raise ValueError(f"k must be >= 0, not {k}")
        return self._core.most_common(k, order)

    def count_of_counts(self, order: int) -> dict[int, int]:
        """``{c: how many n-grams of this order occur exactly c times}``."""
        return dict(self._core.count_of_counts(order))

    def to_numpy(self, order: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint64]]:
        """``(ids, counts)``: an ``[m, order]`` uint32 id matrix and its counts."""
        return self._core.to_numpy(order)

    def merge(self, other: NGramCounts) -> NGramCounts:
        """Counts of both tables, as if counted over both corpora (``self`` first)."""
        return NGramCounts(self._core.merge(other._core))

    def __add__(self, other: NGramCounts) -> NGramCounts:
        if not isinstance(other, NGramCounts):
            return NotImplemented
        return self.merge(other)

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Write to ``path`` (atomically; magic number, version and checksum)."""
        self._core.save(os.fspath(path))

    @classmethod
    def load(cls, path: Union[str, os.PathLike[str]]) -> NGramCounts:
        """Read a file written by :meth:`save`.

        A truncated, altered or foreign file raises :class:`~nextword.ModelFormatError`.
        """
        return cls(_core.NGramCounts.load(os.fspath(path)))

    def __repr__(self) -> str:
        sizes = ", ".join(str(self.num_unique(n)) for n in range(1, self.order + 1))
        return f"NGramCounts(order={self.order}, tokens={self.tokens}, unique=[{sizes}])"


def count_ngrams(
    corpus: CorpusLike,
    order: int = 3,
    tokenizer: TokenizerLike = None,
    pad: bool = True,
    threads: int = 0,
    progress: Optional[bool] = None,
    **corpus_options: Any,
) -> NGramCounts:
    """Count every n-gram of orders 1..``order`` in a corpus, in parallel.

    ``corpus`` is a path, directory or glob, several ``Path`` objects, a
    :class:`~nextword.Corpus`, or an iterable of texts. Each line is a sentence,
    padded with one ``<s>`` before and one ``</s>`` after (``pad=False`` turns it
    off). ``tokenizer``: a :class:`~nextword.Tokenizer` or ``"whitespace"``
    (default), ``"word"``, ``"char"``. ``threads=0`` uses every core. A progress
    bar is drawn on stderr when it is a terminal (``progress`` forces it on or
    off); Ctrl-C stops the count with KeyboardInterrupt. ``corpus_options`` are
    :class:`~nextword.Corpus` fields (``errors``, ``skip_blank``, ``format``,
    ``text_field``).

    >>> count_ngrams(["a b a b"], order=2)["a", "b"]
    2
    """
    if not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be an int in 1..{MAX_ORDER}, not {order!r}")
    if threads < 0:
        raise ValueError(f"threads must be >= 0 (0 = every core), not {threads}")
    c = as_corpus(corpus, **corpus_options)
    tok = as_tokenizer(tokenizer)
    core = _core.count_ngrams(
        c.core_args(),
        order=order,
        tokenizer=tok.spec,
        pad=pad,
        threads=threads,
        progress=progress,
    )
    return NGramCounts(core)


__all__ = ["MAX_ORDER", "NGram", "NGramCounts", "count_ngrams"]

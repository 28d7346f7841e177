"""The vocabulary: tokens <-> ``uint32`` ids, ``<unk>`` = 0, ``<s>`` = 1, ``</s>`` = 2."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from nextword import _core
from nextword.corpus import CorpusLike, as_corpus
from nextword.tokenizers import Tokenizer, TokenizerLike, as_tokenizer

IdArray = npt.NDArray[np.uint32]


class Vocab:
    """A vocabulary with the tokenizer that splits text into its tokens.

    Built from a corpus, words are ordered by descending count, ties broken by
    first appearance (deterministic whatever the thread count).

    >>> v = Vocab.from_corpus(["the cat", "the dog"])
    >>> v.words()[:5]
    ['<unk>', '<s>', '</s>', 'the', 'cat']
    >>> v.encode("the bird", bos=True).tolist()
    [1, 3, 0]
    >>> v.decode([3, 4])
    'the cat'
    """

    UNK = "<unk>"
    BOS = "<s>"
    EOS = "</s>"

    def __init__(self, words: Iterable[str] = (), tokenizer: TokenizerLike = None) -> None:
        self.tokenizer: Tokenizer = as_tokenizer(tokenizer)
        self._core = _core.Vocab(list(words), self.tokenizer.spec)
        self.stats: dict[str, int] = {}

    @classmethod
    def _wrap(cls, core: _core.Vocab, stats: Optional[dict[str, int]] = None) -> Vocab:
        v = cls.__new__(cls)
        v._core = core
        v.tokenizer = Tokenizer.from_spec(core.tokenizer)
        v.stats = stats or {}
        return v

    @classmethod
    def from_corpus(
        cls,
        corpus: CorpusLike,
        tokenizer: TokenizerLike = None,
        min_count: int = 1,
        max_size: Optional[int] = None,
        threads: int = 0,
        progress: Optional[bool] = None,
        **corpus_options: Any,
    ) -> Vocab:
        """Count tokens of a corpus in parallel and keep the frequent ones.

        ``min_count``: drop rarer words. ``max_size``: at most this many entries,
        specials included. ``corpus_options`` (``errors``, ``skip_blank``,
        ``format``, ``text_field``) are those of :class:`~nextword.Corpus`.
        """
        c = as_corpus(corpus, **corpus_options)
        tok = as_tokenizer(tokenizer)
        core, stats = _core.Vocab.build(
            c.core_args(),
            tokenizer=tok.spec,
            min_count=min_count,
            max_size=max_size,
            threads=threads,
            progress=progress,
        )
        return cls._wrap(core, stats)

    def __len__(self) -> int:
        return len(self._core)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._core

    def __getitem__(self, word: str) -> int:
        """The id of ``word`` (KeyError when unknown)."""
        i = self._core.get(word)
        if i is None:
            raise KeyError(word)
        return i

    def __repr__(self) -> str:
        return f"Vocab({len(self)} words, tokenizer={self.tokenizer.spec!r})"

    def id(self, word: str) -> int:
        """The id of ``word``, or 0 (``<unk>``)."""
        return self._core.id(word)

    def word(self, i: int) -> str:
        """The word of id ``i`` (IndexError when out of range)."""
        return self._core.word(i)

    def words(self) -> list[str]:
        """All words in id order."""
        return self._core.words()

    def counts(self) -> npt.NDArray[np.uint64]:
        """Corpus counts in id order.

        A vocabulary from :meth:`Vocab.from_corpus` counts the corpus's own tokens:
        ``<unk>``, ``<s>`` and ``</s>`` have 0. The vocabulary of an
        :class:`NGramCounts` (``counts.vocab``) holds the unigram counts, kept
        through ``merge``/``+`` and ``save``/``load``: there ``<s>`` and
        ``</s>`` count the sentences when padded.

        >>> import nextword
        >>> c = nextword.count_ngrams(["the cat", "the dog"], order=2)
        >>> [int(n) for n in c.vocab.counts()[:4]]
        [0, 2, 2, 2]
        """
        return self._core.counts()

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> IdArray:
        """Token ids of ``text`` as a ``uint32`` array; unknown words map to 0."""
        return self._core.encode(text, bos, eos)

    def decode(self, ids: Union[Sequence[int], IdArray]) -> str:
        """Join the tokens of ``ids`` (with spaces; characters without)."""
        return self._core.decode(np.ascontiguousarray(ids, dtype=np.uint32))

    def encode_corpus(
        self,
        corpus: CorpusLike,
        bos: bool = False,
        eos: bool = False,
        threads: int = 0,
        progress: Optional[bool] = None,
        **corpus_options: Any,
    ) -> tuple[IdArray, npt.NDArray[np.uint64]]:
        """Encode every sentence of a corpus in parallel.

        Returns ``(ids, offsets)``: sentence ``i`` is ``ids[offsets[i]:offsets[i+1]]``,
        in corpus order.
        """
        c = as_corpus(corpus, **corpus_options)
        ids, offsets, _ = self._core.encode_corpus(
            c.core_args(), bos=bos, eos=eos, threads=threads, progress=progress
        )
        return ids, offsets

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Write to ``path`` (atomically; versioned, checksummed format)."""
        self._core.save(os.fspath(path))

    @classmethod
    def load(cls, path: Union[str, os.PathLike[str]]) -> Vocab:
        """Read a file written by :meth:`save`; a corrupt file raises ModelFormatError."""
        return cls._wrap(_core.Vocab.load(os.fspath(path)))


__all__ = ["Vocab"]

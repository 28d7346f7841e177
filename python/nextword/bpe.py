"""Byte-level BPE: train merges on a corpus, encode text to ``uint32`` ids and
decode them back, read and write HF ``tokenizer.json`` and tiktoken rank files.

A :class:`BPETokenizer` is a tokenizer like the others: pass it to
:func:`~nextword.count_ngrams`, :class:`~nextword.Vocab`, the n-gram and
neural models; saved counts and models embed it. In those, its tokens are
GPT-2's byte-level strings (``"Ġthe"``) and their ids are the BPE ids plus 3
(``<unk>``, ``<s>``, ``</s>`` come first); decoding joins them back into the
original bytes.

>>> tok = BPETokenizer.train(["the cat sat on the mat"] * 5, vocab_size=270)
>>> ids = tok.encode("the cat")
>>> tok.decode(ids)
'the cat'
>>> tok.tokenize("the cat")
['the', 'Ġcat']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from nextword import _core
from nextword.corpus import CorpusLike, as_corpus
from nextword.tokenizers import Tokenizer
from nextword.vocab import Vocab

IdArray = npt.NDArray[np.uint32]
PathLike = Union[str, "os.PathLike[str]"]

#: Pre-tokenizer presets: GPT-2's regex, and those of tiktoken's cl100k and o200k.
PATTERNS = ("gpt2", "cl100k", "o200k")


class BPETokenizer(Tokenizer):
    """A byte-level BPE tokenizer (made by :meth:`train`, :meth:`load` or
    :meth:`load_tiktoken`).

    Ids: the 256 bytes first (in byte order), then one per merge, then the
    special tokens. ``decode(encode(s)) == s`` for every string.
    """

    KIND = "bpe"

    def __init__(self, bpe: _core.BpeTokenizer) -> None:
        self._bpe = bpe
        self._core = bpe.tokenizer

    @classmethod
    def train(
        cls,
        corpus: CorpusLike,
        vocab_size: int = 8000,
        min_frequency: int = 2,
        special_tokens: Sequence[str] = (),
        pattern: str = "gpt2",
        threads: int = 0,
        progress: Optional[bool] = None,
        **corpus_options: Any,
    ) -> BPETokenizer:
        """Learn merges from a corpus (one sentence per line).

        ``vocab_size`` counts the 256 bytes, the merges and the special tokens;
        a pair seen fewer than ``min_frequency`` times is never merged.
        ``pattern`` is ``gpt2``, ``cl100k``, ``o200k`` or a regex. Ties between
        equally frequent pairs go to the smaller (left id, right id), so the
        merges are the same whatever the thread count. ``corpus_options`` are
        those of :class:`~nextword.Corpus` (``errors=`` for invalid UTF-8, ...).
        """
        if vocab_size < 0 or min_frequency < 0:
            raise ValueError("vocab_size and min_frequency must be >= 0")
        c = as_corpus(corpus, **corpus_options)
        bpe, _ = _core.BpeTokenizer.train(
            c.core_args(),
            vocab_size,
            min_frequency,
            list(special_tokens),
            pattern,
            threads=threads,
            progress=progress,
        )
        return cls(bpe)

    @classmethod
    def from_spec(cls, spec: str) -> BPETokenizer:
        """The tokenizer of a ``bpe@1:HEX`` spec string (:attr:`spec`)."""
        return cls(_core.BpeTokenizer.from_spec(spec))

    @classmethod
    def load(cls, path: PathLike) -> BPETokenizer:
        """Read an HF ``tokenizer.json`` of a byte-level BPE (ours, or GPT-2's
        layout). A field this tokenizer cannot honour raises ``ModelFormatError``
        naming it."""
        return cls(_core.BpeTokenizer.load(os.fspath(path)))

    def save(self, path: PathLike) -> None:
        """Write an HF ``tokenizer.json`` (``tokenizers.Tokenizer.from_file`` reads it)."""
        self._bpe.save(os.fspath(path))

    @classmethod
    def load_tiktoken(
        cls,
        path: PathLike,
        pattern: str = "gpt2",
        special_tokens: Optional[Mapping[str, int]] = None,
    ) -> BPETokenizer:
        """Read a tiktoken rank file (``BASE64-TOKEN RANK`` lines). The file
        holds neither the pre-tokenizer ``pattern`` nor the special tokens."""
        specials = sorted((special_tokens or {}).items(), key=lambda kv: kv[1])
        return cls(_core.BpeTokenizer.load_tiktoken(os.fspath(path), pattern, specials))

    def save_tiktoken(self, path: PathLike) -> None:
        """Write the ordinary tokens as a tiktoken rank file (specials are not in it)."""
        self._bpe.save_tiktoken(os.fspath(path))

    @property
    def vocab_size(self) -> int:
        """The number of ids."""
        return self._bpe.vocab_size

    @property
    def pattern(self) -> str:
        """The pre-tokenizer regex."""
        return self._bpe.pattern

    @property
    def merges(self) -> list[tuple[int, int]]:
        """The merges as (left id, right id), in priority order."""
        return self._bpe.merges

    @property
    def special_tokens(self) -> dict[str, int]:
        """The special tokens and their ids."""
        return dict(self._bpe.special_tokens)

    def vocab(self) -> Vocab:
        """A :class:`~nextword.Vocab` of every token (``<unk>``, ``<s>``, ``</s>``,
        then BPE id ``i`` at ``i + 3``): no text is out of its vocabulary, and
        its ids are those counting gives. Neural models take it.

        >>> tok = BPETokenizer.train(["ab ab"], vocab_size=257, min_frequency=1)
        >>> v = tok.vocab()
        >>> len(v), v.decode(v.encode("zz ab"))
        (260, 'zz ab')
        """
        return Vocab((self._core.fixed_vocab or [])[3:], tokenizer=self)

    def token_bytes(self, id: int) -> bytes:
        """The bytes of token ``id`` (``IndexError`` when out of range)."""
        if id < 0:
            raise IndexError(f"token id {id} out of range")
        return self._bpe.token_bytes(id)

    def encode(self, text: str) -> IdArray:
        """The ids of ``text`` (special tokens in it are matched whole)."""
        return self._bpe.encode(text)

    def encode_batch(self, texts: Iterable[str]) -> list[IdArray]:
        """The ids of each text, encoded in parallel (GIL released)."""
        return self._bpe.encode_batch(list(texts))

    def decode_bytes(self, ids: Union[Sequence[int], IdArray]) -> bytes:
        """The bytes of ``ids`` (``IndexError`` for an id out of range)."""
        return self._bpe.decode_bytes(_id_array(ids))

    def decode(self, ids: Union[Sequence[int], IdArray]) -> str:
        """The text of ``ids``; bytes that are not UTF-8 (a character cut in
        two) become U+FFFD. ``IndexError`` for an id out of range."""
        return self._bpe.decode(_id_array(ids))

    def __repr__(self) -> str:
        return f"BPETokenizer({self.vocab_size} tokens, {len(self.merges)} merges)"


def _id_array(ids: Union[Sequence[int], IdArray]) -> IdArray:
    arr = np.asarray(ids)
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint32)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"ids must be integers, not {arr.dtype}")
    if arr.min() < 0 or arr.max() > np.iinfo(np.uint32).max:
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise IndexError(f"token id {bad} out of range")
    return np.ascontiguousarray(arr, dtype=np.uint32)


__all__ = ["BPETokenizer", "PATTERNS"]

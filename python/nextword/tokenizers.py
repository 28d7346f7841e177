"""Tokenizers: KenLM's whitespace split, Unicode whitespace, Unicode words, characters,
and a word list learned from a corpus.

Each is a small object naming the compiled tokenizer; the same object is passed
to :func:`~nextword.count_ngrams`, :class:`~nextword.Vocab` and models. Saved
counts, vocabularies and models record it (a learned tokenizer with its list).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Optional, Union

from nextword import _core
from nextword.corpus import CorpusLike, as_corpus

Normalization = Optional[Literal["NFC", "NFKC"]]


class Tokenizer:
    """Base class: a tokenizer is known by its spec string (see subclasses)."""

    def __init__(self, spec: str) -> None:
        self._core = _core.Tokenizer(spec)

    @property
    def spec(self) -> str:
        """The spec string (``whitespace``, ``unicode-whitespace``, ``word:lower:nfkc``,
        ``char:keep-ws``, ...)."""
        return self._core.spec

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text``.

        >>> WhitespaceTokenizer().tokenize("to be  or")
        ['to', 'be', 'or']
        """
        return self._core.tokenize(text)

    def tokenize_batch(self, texts: list[str]) -> list[list[str]]:
        """The tokens of each text (one call into Rust, GIL released)."""
        return self._core.tokenize_batch(texts)

    def __call__(self, text: str) -> list[str]:
        return self.tokenize(text)

    def __repr__(self) -> str:
        return f"Tokenizer({self.spec!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tokenizer) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(self.spec)

    @property
    def kind(self) -> str:
        """The kind name: ``whitespace``, ``unicode-whitespace``, ``word``, ``char``, ``vocab``."""
        return self._core.kind

    @staticmethod
    def from_spec(spec: str) -> Tokenizer:
        """The tokenizer of a spec string, as the matching subclass."""
        if "@" in spec.split(":", 1)[0]:
            core = _core.Tokenizer(spec)
            if core.kind == VocabTokenizer.KIND:
                return VocabTokenizer._wrap(core)
            if core.kind == "bpe":
                from nextword.bpe import BPETokenizer

                return BPETokenizer.from_spec(spec)
        name, *flags = spec.split(":")
        if name in ("whitespace", "ws") and not flags:
            return WhitespaceTokenizer()
        if name == "unicode-whitespace" and not flags:
            return UnicodeWhitespaceTokenizer()
        if name == "word":
            bad = set(flags) - {"lower", "nfc", "nfkc"}
            if not bad:
                norm: Normalization = (
                    "NFKC" if "nfkc" in flags else "NFC" if "nfc" in flags else None
                )
                return WordTokenizer(lowercase="lower" in flags, normalize=norm)
        if name in ("char", "character") and set(flags) <= {"keep-ws"}:
            return CharTokenizer(keep_whitespace="keep-ws" in flags)
        return Tokenizer(spec)  # raises ValueError with the reason


class WhitespaceTokenizer(Tokenizer):
    """Split exactly where KenLM's ``lmplz`` does (spec ``whitespace``).

    Words are separated by runs of five characters: NUL, tab (``\\t``), line
    feed, carriage return (``\\r``) and space; by nothing else. A no-break space
    (U+00A0), an ideographic space (U+3000), a thin space (U+2009), a vertical
    tab or a form feed is part of a word, as it is for ``lmplz``, so counts
    match ``lmplz``'s. For a split at every Unicode whitespace character use
    :class:`UnicodeWhitespaceTokenizer` (spec ``unicode-whitespace``).

    Saved counts, vocabularies and models that name ``whitespace`` are read
    with this split, including files written before it was made exactly
    ``lmplz``'s (when ``whitespace`` split on Unicode whitespace too).

    >>> WhitespaceTokenizer().tokenize("a\\tb  c\\u00a0d")
    ['a', 'b', 'c\\xa0d']
    """

    def __init__(self) -> None:
        super().__init__("whitespace")


class UnicodeWhitespaceTokenizer(Tokenizer):
    """Split on runs of Unicode whitespace (White_Space; spec ``unicode-whitespace``).

    Every character of the Unicode White_Space property separates words: tab,
    line feed, vertical tab, form feed, carriage return, space, U+0085, no-break
    space, the spaces U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, ideographic
    space, ... (NUL does not).

    >>> UnicodeWhitespaceTokenizer().tokenize("a\\tb  c\\u00a0d")
    ['a', 'b', 'c', 'd']
    """

    def __init__(self) -> None:
        super().__init__("unicode-whitespace")


class WordTokenizer(Tokenizer):
    """Unicode words (UAX #29) with punctuation apart and CJK split per character.

    Optional NFC/NFKC normalisation (before segmenting) and lowercasing (after).

    >>> WordTokenizer(lowercase=True).tokenize("Don't panic, 西游记!")
    ["don't", 'panic', ',', '西', '游', '记', '!']
    """

    def __init__(self, lowercase: bool = False, normalize: Normalization = None) -> None:
        spec = "word"
        if lowercase:
            spec += ":lower"
        if normalize is not None:
            if normalize not in ("NFC", "NFKC"):
                raise ValueError(f"normalize must be None, 'NFC' or 'NFKC', not {normalize!r}")
            spec += ":" + normalize.lower()
        super().__init__(spec)
        self.lowercase = lowercase
        self.normalize = normalize


class CharTokenizer(Tokenizer):
    """One token per Unicode character; whitespace dropped unless ``keep_whitespace``.

    ``\\r`` and ``\\n`` are dropped always: they belong to line ends.

    >>> CharTokenizer().tokenize("西 游")
    ['西', '游']
    """

    def __init__(self, keep_whitespace: bool = False) -> None:
        super().__init__("char:keep-ws" if keep_whitespace else "char")
        self.keep_whitespace = keep_whitespace


class VocabTokenizer(Tokenizer):
    """KenLM's whitespace split onto a fixed word list; other words become ``<unk>``.

    Ids are fixed by the list: ``<unk>`` = 0, ``<s>`` = 1, ``</s>`` = 2, then
    the words. Counting with it feeds these ids straight to the counts (no
    string interning), and the counts' vocabulary is the list. Counts,
    vocabularies and models saved with it carry the list; an ARPA model keeps it
    in a ``NAME.arpa.tokenizer`` file beside the model.

    >>> tok = VocabTokenizer.learn(["the cat sat", "the dog sat", "a bird"], min_count=2)
    >>> tok.words
    ['<unk>', '<s>', '</s>', 'the', 'sat']
    >>> tok.tokenize("the cat sat")
    ['the', '<unk>', 'sat']
    >>> tok.encode_ids("the cat sat")
    [3, 0, 4]
    """

    KIND = "vocab"

    def __init__(self, words: Sequence[str]) -> None:
        self._core = _core.Tokenizer.vocab(list(words))

    @classmethod
    def _wrap(cls, core: _core.Tokenizer) -> VocabTokenizer:
        tok = cls.__new__(cls)
        tok._core = core
        return tok

    @classmethod
    def learn(
        cls,
        corpus: CorpusLike,
        min_count: int = 1,
        max_size: Optional[int] = None,
        threads: int = 0,
        progress: Optional[bool] = None,
        **corpus_options: Any,
    ) -> VocabTokenizer:
        """Learn the list from a corpus: words seen at least ``min_count`` times, at
        most ``max_size`` entries with the specials, by descending count (ties by
        first appearance). ``corpus_options`` are those of :class:`~nextword.Corpus`.
        """
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, not {min_count}")
        c = as_corpus(corpus, **corpus_options)
        core, _ = _core.Tokenizer.learn_vocab(
            c.core_args(), min_count, max_size, threads=threads, progress=progress
        )
        return cls._wrap(core)

    @property
    def words(self) -> list[str]:
        """The word list in id order, specials first."""
        return self._core.fixed_vocab or []

    def encode_ids(self, text: str) -> list[int]:
        """The fixed ids of the tokens of ``text``."""
        return self._core.encode_ids(text) or []

    def __repr__(self) -> str:
        return f"VocabTokenizer({len(self.words)} words)"


TokenizerLike = Union[Tokenizer, str, None]


def as_tokenizer(tokenizer: TokenizerLike) -> Tokenizer:
    """A :class:`Tokenizer` from an object, a name/spec string, or None (whitespace)."""
    if tokenizer is None:
        return WhitespaceTokenizer()
    if isinstance(tokenizer, Tokenizer):
        return tokenizer
    if isinstance(tokenizer, str):
        return Tokenizer.from_spec(tokenizer)
    raise TypeError(f"tokenizer must be a Tokenizer or a name, not {type(tokenizer).__name__}")


__all__ = [
    "CharTokenizer",
    "Tokenizer",
    "TokenizerLike",
    "UnicodeWhitespaceTokenizer",
    "VocabTokenizer",
    "WhitespaceTokenizer",
    "WordTokenizer",
    "as_tokenizer",
]

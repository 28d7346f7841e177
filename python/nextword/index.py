"""A suffix-array index of a corpus: :class:`CorpusIndex`.

Counts of phrases of any length and what follows them, where a phrase occurs
(with its context), how much of a text is found in the corpus, and the
∞-gram language model (Liu et al. 2024): the next token predicted from the
longest suffix of the context that occurs in the corpus.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.idx")
>>> index = CorpusIndex.build(["to be or not to be", "to be is to do"], path=path)
>>> index.count("to be")
3
>>> index.next_counts("to", k=2)
[('be', 3), ('do', 1)]
>>> index.effective_n("not to")
3
>>> round(index.prob("be", "not to"), 3)
1.0
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from nextword import _core
from nextword.corpus import CorpusLike, as_corpus
from nextword.model import DistributionModel, Probabilities, Text
from nextword.tokenizers import TokenizerLike, as_tokenizer
from nextword.vocab import Vocab

PathLike = Union[str, "os.PathLike[str]"]


_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def parse_bytes(size: Union[int, str]) -> int:
    """A size in bytes from an int or a string with an optional decimal unit.

    >>> parse_bytes("1.5G"), parse_bytes("500M"), parse_bytes(4096)
    (1500000000, 500000000, 4096)
    """
    if isinstance(size, int) and not isinstance(size, bool):
        value = size
    elif isinstance(size, str):
        text = size.strip().upper().removesuffix("B")
        unit = text[-1:] if text[-1:] in _UNITS else ""
        try:
            value = int(float(text[: len(text) - len(unit)]) * _UNITS[unit])
        except ValueError:
            raise ValueError(f"not a size: {size!r} (bytes, or e.g. '500M', '4G')") from None
    else:
        raise TypeError(f"a size is an int or a str, not {type(size).__name__}")
    if value <= 0:
        raise ValueError(f"a size must be positive, not {size!r}")
    return value


@dataclass(frozen=True)
class Hit:
    """One occurrence of a phrase: its place and a keyword-in-context snippet."""

    position: int
    """Token position in the index's stream."""
    document: int
    """Document number, 0-based, in corpus order."""
    offset: int
    """Token offset of the match within its document."""
    left: str
    match: str
    right: str

    def __str__(self) -> str:
        return f"{self.left} [{self.match}] {self.right}".strip()


@dataclass(frozen=True)
class Novelty:
    """How much of a text is found in the corpus.

    ``found[n]`` is the fraction of the text's n-grams that occur in the corpus
    (``ngrams[n]`` of them in the text); ``median_longest`` the median, over
    the text's positions, of the longest span starting there that occurs;
    ``longest`` those spans, one array per text.
    """

    found: dict[int, float]
    ngrams: dict[int, int]
    median_longest: float
    longest: list[npt.NDArray[np.uint32]]

    def novel(self, n: int) -> float:
        """The fraction of the text's n-grams that never occur in the corpus."""
        return 1.0 - self.found[n]


class CorpusIndex(DistributionModel):
    """A memory-mapped suffix-array index of a tokenized corpus, and the
    ∞-gram model over it (a :class:`~nextword.model.LanguageModel`).

    Build with :meth:`build` (written to a file) and reopen with :meth:`open`
    (milliseconds: the file is mapped, not read). Phrases are strings (split
    by the index's tokenizer) or sequences of tokens; a word the corpus never
    holds makes a phrase count 0.
    """

    order: Optional[int] = None

    def __init__(self, core: _core.CorpusIndex) -> None:
        self._core = core
        self._vocab: Optional[Vocab] = None
        info = core.info()
        self.path: str = info["path"]
        self.padded: bool = info["padded"]

    # -- building and opening ----------------------------------------------------------
    @classmethod
    def build(
        cls,
        corpus: CorpusLike,
        path: PathLike = "corpus.idx",
        tokenizer: TokenizerLike = None,
        documents: str = "lines",
        pad: bool = True,
        token_width: Optional[int] = None,
        max_vocab: Optional[int] = None,
        threads: int = 0,
        progress: Optional[bool] = None,
        memory: Union[int, str, None] = None,
        shard_tokens: Optional[int] = None,
        **corpus_options: Any,
    ) -> CorpusIndex:
        """Index a corpus into ``path`` and open it.

        ``documents``: ``"lines"`` (every sentence, or JSONL record, is a
        document: no match crosses a sentence, as n-gram counts never do) or
        ``"files"``. ``pad`` wraps sentences in ``<s>`` ... ``</s>``.
        ``token_width``: 2 or 4 bytes a token (default: 2 when the vocabulary
        fits). ``max_vocab`` keeps the most frequent words, the rest become
        ``<unk>``. ``memory``: a budget for the process's peak resident memory,
        in bytes or as ``"4G"``/``"500M"``: the corpus is cut into shards of
        whole documents, each sorted within what the budget leaves (about 12
        bytes a token with 16-bit tokens), as infini-gram indexes corpora
        larger than memory; ``shard_tokens`` sets the shard size instead.
        Queries answer over all shards exactly as over one (counts add, the
        ∞-gram takes the longest suffix any shard holds); only ``find`` with
        a ``limit`` below the count picks its hits shard by shard. A document
        larger than a shard is refused, naming its input. Ctrl-C stops the
        build at once and leaves no file (a suffix sort under way is left to
        finish in the background). The vocabulary pass keeps every distinct
        word in memory, outside the budget.
        ``corpus_options`` are those of :class:`~nextword.Corpus`.
        """
        c = as_corpus(corpus, **corpus_options)
        tok = as_tokenizer(tokenizer)
        options = {
            "documents": documents,
            "pad": pad,
            "token_width": token_width,
            "max_vocab": max_vocab,
            "threads": threads,
            "memory": None if memory is None else parse_bytes(memory),
            "shard_tokens": shard_tokens,
        }
        core = _core.CorpusIndex.build(c.core_args(), tok.spec, os.fspath(path), options, progress)
        return cls(core)

    @classmethod
    def open(cls, path: PathLike, verify: bool = False) -> CorpusIndex:
        """Map an index file, in milliseconds: the header, the section
        bounds and the vocabulary's layout are checked (a corrupt or
        truncated file raises :class:`~nextword.ModelFormatError`), the
        arrays are mapped, not read. ``verify`` also runs :meth:`verify`."""
        return cls(_core.CorpusIndex.open(os.fspath(path), verify))

    # -- what it holds -------------------------------------------------------------------
    @property
    def vocab(self) -> Vocab:
        """The vocabulary; ``vocab.counts()`` holds the unigram counts.
        Decoded from the file on first use (opening does not read the words)."""
        if self._vocab is None:
            self._vocab = Vocab._wrap(self._core.vocab)
        return self._vocab

    def verify(self) -> None:
        """Check the whole file (reads it): the checksum of its body, the
        document boundaries and the vocabulary; a mismatch raises
        :class:`~nextword.ModelFormatError`."""
        self._core.verify()

    def info(self) -> dict[str, Any]:
        """Sizes and layout: tokens, documents, token and pointer widths, file bytes."""
        return dict(self._core.info())

    @property
    def tokens(self) -> int:
        """Tokens in the corpus (``<s>`` and ``</s>`` included when padded)."""
        return int(self._core.info()["tokens"])

    def token_stream(self) -> npt.NDArray[np.unsignedinteger[Any]]:
        """A copy of the indexed ids (``uint16`` or ``uint32``), every document
        followed by the separator, the dtype's maximum."""
        return self._core.token_stream()

    def __repr__(self) -> str:
        i = self._core.info()
        return f"CorpusIndex({i['path']!r}, {i['tokens']} tokens, {i['documents']} documents)"

    def _ids(self, phrase: Text) -> list[int]:
        if isinstance(phrase, str):
            return self._core.encode(phrase)
        return self._core.ids_of(list(phrase))

    # -- counts and search ---------------------------------------------------------------
    def count(self, phrase: Text) -> int:
        """How often ``phrase`` occurs; the empty phrase counts every token."""
        return self._core.count(self._ids(phrase))

    def count_many(
        self, phrases: Union[Sequence[str], npt.NDArray[np.uint32]], threads: int = 0
    ) -> npt.NDArray[np.uint64]:
        """Counts of many phrases at once, in parallel (GIL released): a list
        of strings, or a 2-D ``uint32`` array of ids, one phrase a row (read
        in place when C-contiguous). The phrases are searched in sorted
        order, so a batch is faster than one call a phrase."""
        if isinstance(phrases, np.ndarray):
            if phrases.ndim != 2:
                raise ValueError(f"an id array of phrases is 2-D, not {phrases.ndim}-D")
            return self._core.count_ids(np.ascontiguousarray(phrases, dtype=np.uint32), threads)
        texts = list(phrases)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"phrase {i} is {type(t).__name__}, not str")
        return self._core.count_batch(texts, threads)

    def next_counts(self, context: Text, k: Optional[int] = 10) -> list[tuple[str, int]]:
        """The tokens that follow ``context`` in the corpus with their counts,
        most frequent first (ties by id), at most ``k`` (None: all)."""
        if k is not None and k < 0:
            raise ValueError(f"k must be >= 0 or None, not {k}")
        word = self.vocab.word
        return [(word(i), c) for i, c in self._core.next_counts(self._ids(context), k)]

    def find(self, phrase: Text, limit: int = 10, window: int = 5) -> list[Hit]:
        """Up to ``limit`` occurrences of ``phrase``, by position, each with
        ``window`` tokens of context on each side (within its document)."""
        if limit < 0 or window < 0:
            raise ValueError(f"limit and window must be >= 0, not {limit} and {window}")
        return [Hit(*h) for h in self._core.find(self._ids(phrase), limit, window)]

    def longest_matches(self, text: Text) -> npt.NDArray[np.uint32]:
        """For every token of ``text``, the length of the longest span
        starting there that occurs in the corpus (0 for an unknown word)."""
        return self._core.longest_matches(self._ids(text))

    def novelty(
        self, texts: Union[str, Sequence[str]], max_n: int = 10, threads: int = 0
    ) -> Novelty:
        """How much of ``texts`` (a string or a list; each line a separate
        sequence, no n-gram spanning two) is found in the corpus, for n-grams
        of n = 1..``max_n``."""
        if max_n < 1:
            raise ValueError(f"max_n must be >= 1, not {max_n}")
        items = [texts] if isinstance(texts, str) else list(texts)
        lines = [line for t in items for line in t.split("\n") if line.strip()]
        longest, found, median = self._core.novelty(lines, max_n, threads)
        return Novelty(
            {n: f / t if t else float("nan") for n, (f, t) in enumerate(found, 1)},
            {n: t for n, (_, t) in enumerate(found, 1)},
            median,
            longest,
        )

    # -- the ∞-gram model ----------------------------------------------------------------
    def _sentence(self, context: Text) -> list[int]:
        """The ids of a context that starts a sentence (``<s>`` first when padded)."""
        return ([1] if self.padded else []) + self._ids(context)

    def next_distribution(self, context: Text = ()) -> Probabilities:
        """The ∞-gram p(w | context) for every id, the context starting a
        sentence: from the longest suffix of ``<s> context`` that occurs in the
        corpus followed by a token (see :meth:`effective_n`)."""
        return self._core.infini_gram(self._sentence(context))[0]

    def effective_n(self, context: Text = ()) -> int:
        """The ∞-gram's n after ``context``: the length of the suffix it used, plus one."""
        return int(self._core.infini_gram(self._sentence(context))[1])

    def prob(self, word: str, context: Text = ()) -> float:
        """The ∞-gram p(word | context)."""
        return float(self.next_distribution(context)[self.vocab.id(word)])

    def infini_gram_many(
        self, contexts: Sequence[Text], threads: int = 0
    ) -> list[tuple[dict[str, int], int, int]]:
        """∞-gram predictions after many contexts (each starting a sentence),
        in parallel: for each, the successor counts by word, their total and
        the effective n."""
        core = self._core.infini_gram_batch([self._sentence(c) for c in contexts], threads)
        word = self.vocab.word
        return [
            ({word(int(i)): int(c) for i, c in zip(ids, counts)}, total, n)
            for ids, counts, total, n in core
        ]


__all__ = ["CorpusIndex", "Hit", "Novelty"]

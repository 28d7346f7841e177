"""Word embeddings: :class:`Word2Vec` trains them, :class:`WordVectors` holds them.

Training runs in the Rust core (skip-gram or CBOW with negative sampling,
frequent-word subsampling, a dynamic window and a linearly decaying learning
rate, as in Mikolov et al. 2013 and the original C tool), on all cores
Hogwild-style (no global lock; each row update briefly holds that row's own
lock), the GIL released, with a progress bar and Ctrl-C. Queries are numpy:
cosine similarity against every word is one matrix product.

>>> corpus = ["the cat sat on the mat", "the dog sat on the rug"] * 50
>>> wv = Word2Vec(dim=16, window=2, min_count=1, epochs=2, threads=1).fit(corpus)
>>> len(wv), wv.vectors.shape, wv.vectors.dtype
(7, (7, 16), dtype('float32'))
>>> [w for w, _ in wv.most_similar("cat", k=2)][0] in wv
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal, Optional, Union

import numpy as np
import numpy.typing as npt

from nextword import _core
from nextword.corpus import CorpusLike, PathLike, as_corpus
from nextword.embedding_eval import (
    AnalogyResult,
    SimilarityResult,
    analogy_scores,
    evaluate_analogies,
    evaluate_similarity,
)
from nextword.tokenizers import TokenizerLike, as_tokenizer

VectorsFormat = Literal["nextword", "word2vec-text", "word2vec-binary"]
Query = Union[str, "npt.NDArray[np.floating[Any]]"]
_MAGIC = b"NWVECTS\0"


def vectors_format(path: PathLike, format: Optional[VectorsFormat] = None) -> VectorsFormat:
    """The format of a vectors file: ``format`` when given; else nextword's own
    when the file starts with its magic number or is named ``*.nwvec``, word2vec
    binary for ``*.bin``, word2vec text otherwise.

    >>> vectors_format("vectors.bin"), vectors_format("vectors.txt")
    ('word2vec-binary', 'word2vec-text')
    """
    if format is not None:
        if format not in ("nextword", "word2vec-text", "word2vec-binary"):
            raise ValueError(f"unknown vectors format {format!r}")
        return format
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            if f.read(len(_MAGIC)) == _MAGIC:
                return "nextword"
    except OSError:
        pass
    return _format_by_name(name)


def _format_by_name(name: str) -> VectorsFormat:
    if name.endswith(".nwvec"):
        return "nextword"
    return "word2vec-binary" if name.endswith(".bin") else "word2vec-text"


class WordVectors:
    """Words and their vectors, like gensim's ``KeyedVectors``.

    ``vectors`` is a ``(words, dim)`` float32 array whose row ``i`` belongs to
    ``words[i]``; ``vocab`` maps each word to its row; ``counts`` holds the
    training counts (0 for vectors read from word2vec files). A word that is
    not in the vocabulary raises :class:`KeyError` naming it.

    >>> wv = WordVectors(["a", "b", "c"], np.eye(3, dtype=np.float32))
    >>> wv.similarity("a", "b"), wv["c"].tolist()
    (0.0, [0.0, 0.0, 1.0])
    """

    def __init__(
        self,
        words: Sequence[str],
        vectors: npt.ArrayLike,
        counts: Optional[npt.ArrayLike] = None,
    ) -> None:
        self.words: list[str] = list(words)
        self.vectors: npt.NDArray[np.float32] = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise ValueError(
                f"vectors must be a ({len(self.words)}, dim) array, not {self.vectors.shape}"
            )
        self.counts: npt.NDArray[np.uint64] = (
            np.zeros(len(self.words), dtype=np.uint64)
            if counts is None
            else np.asarray(counts, dtype=np.uint64)
        )
        self.vocab: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        if len(self.vocab) != len(self.words):
            raise ValueError("a word appears twice")
        self._unit: Optional[npt.NDArray[np.float32]] = None

    @property
    def dim(self) -> int:
        """The vector size."""
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.vocab

    def __repr__(self) -> str:
        return f"WordVectors({len(self)} words, dim {self.dim})"

    def index(self, word: str) -> int:
        """The row of ``word``; :class:`KeyError` naming it when it is unknown."""
        try:
            return self.vocab[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary") from None

    def __getitem__(self, word: str) -> npt.NDArray[np.float32]:
        return np.array(self.vectors[self.index(word)], dtype=np.float32)

    @property
    def unit_vectors(self) -> npt.NDArray[np.float32]:
        """The vectors scaled to length 1 (zero vectors stay zero), computed once."""
        if self._unit is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._unit = (self.vectors / np.where(norms > 0, norms, 1)).astype(np.float32)
        return self._unit

    def _unit_of(self, query: Query) -> npt.NDArray[np.float32]:
        if isinstance(query, str):
            return np.asarray(self.unit_vectors[self.index(query)], dtype=np.float32)
        v = np.asarray(query, dtype=np.float32).reshape(-1)
        if v.shape != (self.dim,):
            raise ValueError(f"a query vector has {self.dim} values, not {v.shape[0]}")
        norm = float(np.linalg.norm(v))
        return np.asarray(v / norm if norm > 0 else v, dtype=np.float32)

    def _top(
        self, scores: npt.NDArray[np.floating[Any]], k: int, exclude: set[int]
    ) -> list[tuple[str, float]]:
        """The ``k`` best rows by score, ties by row, skipping ``exclude``."""
        scores = np.asarray(scores, dtype=np.float64)
        if exclude:
            scores = scores.copy()
            scores[list(exclude)] = -np.inf
        k = max(0, min(k, len(scores) - len(exclude)))
        if k == 0:
            return []
        part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        # Exact ties at the cut could straddle it; take every row scoring at least the k-th.
        cut = scores[part].min()
        rows = np.flatnonzero(scores >= cut)
        rows = rows[np.lexsort((rows, -scores[rows]))][:k]
        return [(self.words[i], float(scores[i])) for i in rows]

    def most_similar(
        self, query: Query, k: int = 10, exclude: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """The ``k`` words of highest cosine similarity to a word or a vector
        (the word itself and ``exclude`` left out), best first, ties by row.

        >>> wv = WordVectors(["a", "b", "c"], [[1, 0], [1, 1], [0, 1]])
        >>> [w for w, _ in wv.most_similar("a", k=2)]
        ['b', 'c']
        """
        skip = {self.index(w) for w in exclude}
        if isinstance(query, str):
            skip.add(self.index(query))
        return self._top(self.unit_vectors @ self._unit_of(query), k, skip)

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        return float(self.unit_vectors[self.index(a)] @ self.unit_vectors[self.index(b)])

    def analogy(
        self,
        a: str,
        b: str,
        c: str,
        k: int = 1,
        method: Literal["3cosadd", "3cosmul"] = "3cosadd",
    ) -> list[tuple[str, float]]:
        """``a`` is to ``b`` as ``c`` is to what? The ``k`` best answers (the
        three words left out): 3CosAdd ranks by ``cos(x, b) - cos(x, a) +
        cos(x, c)``; 3CosMul (Levy and Goldberg 2014) by ``cos'(x, b) cos'(x, c)
        / (cos'(x, a) + 0.001)`` with ``cos' = (cos + 1) / 2``.

        >>> wv = WordVectors(["man", "king", "woman", "queen"],
        ...                  [[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1]])
        >>> wv.analogy("man", "king", "woman")[0][0]
        'queen'
        """
        rows = [self.index(w) for w in (a, b, c)]
        scores = analogy_scores(self.unit_vectors, self.unit_vectors[rows][None, :, :], method)
        return self._top(scores[0], k, set(rows))

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word farthest (by cosine) from the mean of the unit vectors of ``words``.

        >>> WordVectors(["a", "b", "c"], [[1, 0], [1, 0.1], [0, 1]]).doesnt_match(["a", "b", "c"])
        'c'
        """
        if not words:
            raise ValueError("doesnt_match needs at least one word")
        unit = self.unit_vectors[[self.index(w) for w in words]]
        mean = unit.mean(axis=0)
        return words[int(np.argmin(unit @ mean))]

    def evaluate_analogies(
        self,
        path: PathLike,
        restrict_vocab: Optional[int] = 30000,
        case_insensitive: bool = True,
        method: Literal["3cosadd", "3cosmul"] = "3cosadd",
    ) -> AnalogyResult:
        """Accuracy on a word2vec analogy file (``questions-words.txt``), per
        section and in all, as word2vec's compute-accuracy; see
        :func:`nextword.embedding_eval.evaluate_analogies`."""
        return evaluate_analogies(self, path, restrict_vocab, case_insensitive, method)

    def evaluate_similarity(
        self,
        path: PathLike,
        restrict_vocab: Optional[int] = None,
        case_insensitive: bool = True,
    ) -> SimilarityResult:
        """Spearman's rho (and Pearson's r) against human scores of word pairs
        (wordsim353, simlex999), and the rate of pairs left out as unknown; see
        :func:`nextword.embedding_eval.evaluate_similarity`."""
        return evaluate_similarity(self, path, restrict_vocab, case_insensitive)

    def save(self, path: PathLike, format: Optional[VectorsFormat] = None) -> None:
        """Write to ``path`` (atomically). The format is named or follows the
        name: ``*.bin`` word2vec binary, ``*.nwvec`` nextword's checksummed
        format (keeps the counts), anything else word2vec text."""
        fmt = format or _format_by_name(os.fspath(path))
        _core.save_word_vectors(
            os.fspath(path), fmt, self.words, self.counts.tolist(), self.vectors
        )

    @classmethod
    def load(cls, path: PathLike, format: Optional[VectorsFormat] = None) -> WordVectors:
        """Read vectors written by nextword, word2vec or gensim (see
        :func:`vectors_format`). A corrupt or truncated file raises
        :class:`~nextword.ModelFormatError` naming the line or byte; non-finite
        values are refused."""
        words, counts, vectors = _core.load_word_vectors(
            os.fspath(path), vectors_format(path, format)
        )
        return cls(words, vectors, counts)


class Word2Vec:
    """Word2vec training settings (gensim's defaults); :meth:`fit` trains.

        ``sg=True`` trains skip-gram, ``False`` CBOW; both with ``negative`` noise
        words per example drawn from counts raised to 0.75. ``sample`` thins
        frequent words (0 = off). ``threads=None`` uses every core; with
        ``threads=1`` a seed gives the same vectors bit for bit (with more
        threads the order of the threads' updates varies from run to run, as in
    word2vec.c and gensim).
    """

    def __init__(
        self,
        dim: int = 100,
        window: int = 5,
        negative: int = 5,
        min_count: int = 5,
        sg: bool = True,
        epochs: int = 5,
        alpha: float = 0.025,
        min_alpha: float = 0.0001,
        sample: float = 1e-3,
        threads: Optional[int] = None,
        seed: int = 1,
    ) -> None:
        for name, value in (("dim", dim), ("window", window), ("negative", negative)):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        if epochs < 1 or min_count < 1 or seed < 0:
            raise ValueError("epochs and min_count must be at least 1, seed at least 0")
        self.dim, self.window, self.negative = dim, window, negative
        self.min_count, self.sg, self.epochs = min_count, sg, epochs
        self.alpha, self.min_alpha, self.sample = alpha, min_alpha, sample
        self.threads, self.seed = threads, seed
        self.wv: Optional[WordVectors] = None

    def _core_params(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "window": self.window,
            "negative": self.negative,
            "min_count": self.min_count,
            "sg": self.sg,
            "epochs": self.epochs,
            "alpha": float(self.alpha),
            "min_alpha": float(self.min_alpha),
            "sample": float(self.sample),
            "threads": self.threads or 0,
            "seed": self.seed,
        }

    def fit(
        self,
        corpus: CorpusLike,
        tokenizer: TokenizerLike = None,
        progress: Optional[bool] = None,
        **corpus_options: Any,
    ) -> WordVectors:
        """Train on a corpus (paths or texts, as :func:`~nextword.as_corpus`;
        one line is one sentence) and return the vectors (also kept as ``wv``).
        An empty corpus, or one where no word reaches ``min_count``, raises
        :class:`~nextword.EmptyCorpusError`."""
        c = as_corpus(corpus, **corpus_options)
        words, counts, vectors = _core.train_word2vec(
            c.core_args(), as_tokenizer(tokenizer).spec, self._core_params(), progress
        )
        self.wv = WordVectors(words, vectors, counts)
        return self.wv


__all__ = ["VectorsFormat", "Word2Vec", "WordVectors", "vectors_format"]

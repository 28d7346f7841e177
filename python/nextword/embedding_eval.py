"""Evaluating word vectors: analogy accuracy and word-similarity correlation.

:func:`evaluate_analogies` reads word2vec's ``questions-words.txt`` format
(``: section`` lines, then ``a b c d`` questions, "a is to b as c is to d")
and reports the accuracy of each section as word2vec's ``compute-accuracy``:
only the ``restrict_vocab`` most frequent words are searched, and a question
with a word outside them is skipped (and counted). :func:`evaluate_similarity`
reads tab-separated ``word1 word2 score`` lines (``#`` starts a comment; the
wordsim353 and simlex999 files) and gives Spearman's rho between the human
scores and the cosine similarities, and the rate of pairs left out because a
word is unknown.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Optional

import numpy as np
import numpy.typing as npt

from nextword.corpus import PathLike

if TYPE_CHECKING:
    from nextword.embeddings import WordVectors

# Questions scored per matrix product: bounds memory at batch x vocabulary floats.
_BATCH = 512


@dataclass(frozen=True)
class AnalogySection:
    """One section of an analogy file: questions answered right, of those asked."""

    name: str
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        """``correct / total`` (NaN when no question was asked)."""
        return self.correct / self.total if self.total else math.nan


@dataclass(frozen=True)
class AnalogyResult:
    """Per-section and overall analogy accuracy; ``skipped`` questions had a word
    outside the searched vocabulary and are in no total."""

    sections: list[AnalogySection] = field(default_factory=list)
    skipped: int = 0

    @property
    def correct(self) -> int:
        """Questions answered right, over all sections."""
        return sum(s.correct for s in self.sections)

    @property
    def total(self) -> int:
        """Questions asked (not skipped), over all sections."""
        return sum(s.total for s in self.sections)

    @property
    def accuracy(self) -> float:
        """Overall accuracy over the questions asked."""
        return self.correct / self.total if self.total else math.nan

    @property
    def seen_rate(self) -> float:
        """Share of the file's questions that were asked (compute-accuracy's
        "questions seen / total")."""
        every = self.total + self.skipped
        return self.total / every if every else math.nan


@dataclass(frozen=True)
class SimilarityResult:
    """Correlations with human judgements over the pairs both of whose words are known."""

    spearman: float
    pearson: float
    pairs: int
    oov_pairs: int

    @property
    def oov_rate(self) -> float:
        """Share of the file's pairs left out because a word is unknown."""
        every = self.pairs + self.oov_pairs
        return self.oov_pairs / every if every else math.nan


def _lookup(
    wv: WordVectors, restrict_vocab: Optional[int], case_insensitive: bool
) -> dict[str, int]:
    """Word (uppercased when case-insensitive, as gensim) to row, over the first
    ``restrict_vocab`` rows; the first row of each form wins."""
    words = wv.words if restrict_vocab is None else wv.words[:restrict_vocab]
    table: dict[str, int] = {}
    for row, word in enumerate(words):
        table.setdefault(word.upper() if case_insensitive else word, row)
    return table


def _lines(path: PathLike) -> list[tuple[int, str]]:
    with open(os.fspath(path), encoding="utf-8") as f:
        return [(n, line.strip()) for n, line in enumerate(f, 1) if line.strip()]


def analogy_scores(
    unit: npt.NDArray[np.float32],
    abc: npt.NDArray[np.float32],
    method: str,
) -> npt.NDArray[np.float32]:
    """Scores of every row of ``unit`` as the answer of each question, for
    ``abc`` of shape ``(questions, 3, dim)`` holding the unit vectors of a, b, c."""
    if method == "3cosadd":
        return np.asarray((abc[:, 1] - abc[:, 0] + abc[:, 2]) @ unit.T, dtype=np.float32)
    if method == "3cosmul":
        cos = [(abc[:, j] @ unit.T + 1) / 2 for j in range(3)]
        return np.asarray(cos[1] * cos[2] / (cos[0] + 1e-3), dtype=np.float32)
    raise ValueError(f"method must be '3cosadd' or '3cosmul', not {method!r}")


def evaluate_analogies(
    wv: WordVectors,
    path: PathLike,
    restrict_vocab: Optional[int] = 30000,
    case_insensitive: bool = True,
    method: Literal["3cosadd", "3cosmul"] = "3cosadd",
) -> AnalogyResult:
    """Answer every question of an analogy file with the best word among the
    first ``restrict_vocab`` (a, b and c left out); see the module docs.

    >>> from nextword.embeddings import WordVectors
    >>> import tempfile
    >>> wv = WordVectors(["man", "king", "woman", "queen"],
    ...                  [[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1]])
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write(": royalty\\nman king woman queen\\nman king woman prince\\n")
    >>> r = evaluate_analogies(wv, f.name)
    >>> r.sections[0].correct, r.sections[0].total, r.skipped
    (1, 1, 1)
    """
    table = _lookup(wv, restrict_vocab, case_insensitive)
    candidates = np.array(sorted(set(table.values())), dtype=np.int64)
    unit = wv.unit_vectors
    cand_unit = unit[candidates]
    position = {int(row): i for i, row in enumerate(candidates)}

    sections: list[tuple[str, list[list[int]]]] = []
    skipped = 0
    for n, line in _lines(path):
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
            continue
        fields = line.split()
        if len(fields) != 4:
            raise ValueError(f"{os.fspath(path)}, line {n}: expected 4 words, found {len(fields)}")
        if not sections:
            sections.append(("", []))
        keys = [f.upper() if case_insensitive else f for f in fields]
        rows = [table.get(k) for k in keys]
        if any(r is None for r in rows):
            skipped += 1
            continue
        sections[-1][1].append([int(r) for r in rows if r is not None])

    results = []
    for name, questions in sections:
        correct = 0
        for start in range(0, len(questions), _BATCH):
            batch = np.array(questions[start : start + _BATCH], dtype=np.int64)
            scores = analogy_scores(cand_unit, unit[batch[:, :3]], method)
            for j in range(3):
                cols = [position[int(r)] for r in batch[:, j]]
                scores[np.arange(len(batch)), cols] = -np.inf
            best = candidates[np.argmax(scores, axis=1)]
            correct += int(np.sum(best == batch[:, 3]))
        results.append(AnalogySection(name, correct, len(questions)))
    return AnalogyResult(results, skipped)


def _ranks(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Ranks 1..n, ties given the mean of the ranks they span."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    sorted_x = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sorted_x[j + 1] == sorted_x[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _pearson(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    if len(x) < 2:
        return math.nan
    dx, dy = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return float(dx @ dy) / denominator if denominator > 0 else math.nan


def spearman(x: Any, y: Any) -> float:
    """Spearman's rank correlation (ties get mean ranks).

    >>> spearman([1, 2, 3, 4], [10, 20, 30, 25])
    0.8
    """
    return _pearson(_ranks(np.asarray(x, dtype=np.float64)), _ranks(np.asarray(y, np.float64)))


def evaluate_similarity(
    wv: WordVectors,
    path: PathLike,
    restrict_vocab: Optional[int] = None,
    case_insensitive: bool = True,
) -> SimilarityResult:
    """Correlate cosine similarities with the human scores of a word-pair file;
    see the module docs.

    >>> from nextword.embeddings import WordVectors
    >>> import tempfile
    >>> wv = WordVectors(["a", "b", "c"], [[1, 0], [1, 0.5], [0, 1]])
    >>> with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
    ...     _ = f.write("# w1\\tw2\\tscore\\na\\tb\\t8\\na\\tc\\t1\\nb\\tc\\t5\\na\\tzz\\t3\\n")
    >>> r = evaluate_similarity(wv, f.name)
    >>> r.spearman, r.pairs, r.oov_pairs
    (1.0, 3, 1)
    """
    table = _lookup(wv, restrict_vocab, case_insensitive)
    unit = wv.unit_vectors
    human: list[float] = []
    model: list[float] = []
    oov = 0
    for n, line in _lines(path):
        if line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        try:
            a, b, score = fields[0].strip(), fields[1].strip(), float(fields[2])
        except (IndexError, ValueError):
            raise ValueError(
                f"{os.fspath(path)}, line {n}: expected 'word1<TAB>word2<TAB>score'"
            ) from None
        if case_insensitive:
            a, b = a.upper(), b.upper()
        if a not in table or b not in table:
            oov += 1
            continue
        human.append(score)
        model.append(float(unit[table[a]] @ unit[table[b]]))
    h, m = np.array(human, dtype=np.float64), np.array(model, dtype=np.float64)
    return SimilarityResult(spearman(h, m), _pearson(h, m), len(human), oov)


__all__ = [
    "AnalogyResult",
    "AnalogySection",
    "analogy_scores",
    "SimilarityResult",
    "evaluate_analogies",
    "evaluate_similarity",
    "spearman",
]

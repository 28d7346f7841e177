"""What a corpus holds: size, vocabulary, lengths, repetition and (under a
model) perplexity, the figures a data-cleaning run is judged by.

>>> s = corpus_stats(["the cat sat", "the cat sat", "a dog"])
>>> s.documents, s.tokens, s.types, s.duplicate_share
(3, 8, 5, 0.375)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np

from nextword import _core
from nextword.corpus import CorpusLike, as_corpus
from nextword.counts import count_ngrams
from nextword.filter import _model, dedup_exact
from nextword.lm import NGramLM
from nextword.tokenizers import TokenizerLike

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class CorpusStats:
    """Figures of a corpus (tokens by KenLM's whitespace split).

    ``top_ngrams[n]`` holds the most frequent n-grams with their counts and
    ``top_share[n]`` the share of all n-gram occurrences they take (Gopher's
    repetition signal: boilerplate makes it high); ``duplicate_share`` is the
    share of tokens in documents that repeat an earlier one (exact match after
    normalisation); ``lengths`` the tokens of every document and
    ``perplexities`` each document's perplexity under the model, if any.
    """

    documents: int
    lines: int
    tokens: int
    types: int
    duplicate_documents: int
    duplicate_share: float
    top_ngrams: dict[int, list[tuple[tuple[str, ...], int]]]
    top_share: dict[int, float]
    lengths: Any
    perplexities: Optional[Any]

    @property
    def type_token_ratio(self) -> float:
        """Types over tokens."""
        return self.types / max(self.tokens, 1)

    def length_percentiles(self) -> dict[int, float]:
        """Document lengths at the 10th, 50th, 90th and 99th percentiles."""
        if len(self.lengths) == 0:
            return {}
        return {p: float(np.percentile(self.lengths, p)) for p in (10, 50, 90, 99)}

    def format(self, width: int = 40) -> str:
        """The figures as the CLI prints them, with text histograms."""
        out = [
            f"documents {self.documents:,}  lines {self.lines:,}  tokens {self.tokens:,}  "
            f"types {self.types:,}  type/token {self.type_token_ratio:.4f}",
            f"duplicate documents {self.duplicate_documents:,} "
            f"({self.duplicate_share:.1%} of tokens)",
            "document length (tokens): "
            + ", ".join(f"p{p} {v:g}" for p, v in self.length_percentiles().items()),
        ]
        out += text_histogram(self.lengths, width, log=True, label="length")
        for n, top in self.top_ngrams.items():
            shown = "; ".join(f"{' '.join(g)!r} {c:,}" for g, c in top[:5])
            out.append(f"top {len(top)} {n}-grams: {self.top_share[n]:.2%} of {n}-grams ({shown})")
        if self.perplexities is not None and len(self.perplexities):
            ppl = np.asarray(self.perplexities)
            med = float(np.median(ppl))
            out.append(
                f"perplexity: median {med:.1f}, p10 {np.percentile(ppl, 10):.1f}, "
                f"p90 {np.percentile(ppl, 90):.1f}"
            )
            out += text_histogram(ppl, width, log=True, label="perplexity")
        return "\n".join(out)


def text_histogram(
    values: Any, width: int = 40, bins: int = 12, log: bool = True, label: str = "value"
) -> list[str]:
    """A histogram as lines of text: one bar per bin (log-spaced bins by default).

    >>> len(text_histogram([1, 2, 3, 100], bins=4))
    5
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if log:
        v = v[v > 0]
    if v.size == 0:
        return []
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        hi = lo + 1
    edges = np.geomspace(lo, hi, bins + 1) if log else np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(v, bins=edges)
    top = max(int(counts.max()), 1)
    lines = [f"{label:>12}  documents"]
    for c, a, b in zip(counts, edges[:-1], edges[1:]):
        bar = "#" * math.ceil(width * int(c) / top) if c else ""
        lines.append(f"{a:>8.4g}-{b:<8.4g} {int(c):>9,} {bar}")
    return lines


def save_histogram_png(values: Any, path: PathLike, label: str = "perplexity") -> None:
    """Plot a log-x histogram of ``values`` to a PNG file (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    if v.size:
        edges = np.geomspace(v.min(), max(v.max(), v.min() * 1.01), 50)
        ax.hist(v, bins=list(edges))
    ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("documents")
    fig.tight_layout()
    fig.savefig(os.fspath(path))
    plt.close(fig)


def corpus_stats(
    corpus: CorpusLike,
    *,
    model: Union[NGramLM, PathLike, None] = None,
    tokenizer: TokenizerLike = None,
    top: int = 10,
    max_n: int = 3,
    threads: int = 0,
    progress: Optional[bool] = None,
    **reading: Any,
) -> CorpusStats:
    """Documents, lines, tokens, types, document lengths, the share of the
    ``top`` most frequent n-grams for n = 1..``max_n``, the share of tokens in
    exactly repeated documents, and (with ``model``) every document's
    perplexity. Reads the corpus two or three times, each in parallel."""
    c = as_corpus(corpus, **reading)
    dedup = dedup_exact(c, None, lengths=True, threads=threads, progress=progress)
    counts = count_ngrams(c, order=max_n, pad=False, threads=threads, progress=progress)
    top_ngrams: dict[int, list[tuple[tuple[str, ...], int]]] = {}
    top_share: dict[int, float] = {}
    for n in range(1, max_n + 1):
        common = [(tuple(g), int(k)) for g, k in counts.most_common(top, order=n)]
        total = max(counts.total(n), 1)
        top_ngrams[n] = common
        top_share[n] = sum(k for _, k in common) / total
    perplexities = None
    if model is not None:
        lm = _model(model, tokenizer)
        perplexities, _, _ = _core.document_perplexities(
            lm._core, c.core_args(), None, 0, None, threads, progress
        )
    return CorpusStats(
        documents=dedup.documents,
        lines=dedup.lines,
        tokens=dedup.words,
        types=counts.num_unique(1),
        duplicate_documents=dedup.duplicate_documents,
        duplicate_share=dedup.duplicate_words / max(dedup.words, 1),
        top_ngrams=top_ngrams,
        top_share=top_share,
        lengths=dedup.lengths,
        perplexities=perplexities,
    )


__all__ = ["CorpusStats", "corpus_stats", "save_histogram_png", "text_histogram"]

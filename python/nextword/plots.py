"""Figures of what the models see and do, as PNG or SVG files (matplotlib, an
optional extra: ``pip install 'nextword[plots]'``).

Each function draws one figure, writes it to ``path`` (the format from the
name's ending, ``.png`` or ``.svg``; atomically, through a temporary name) and
returns the path:

- :func:`zipf`: rank against frequency of the words, log-log, with the fitted slope;
- :func:`count_of_counts`: how many n-grams occur once, twice, ... per order;
- :func:`perplexity_by_order`: held-out perplexity against the n-gram order;
- :func:`loss_curves`: a neural model's training and validation loss;
- :func:`word_vectors`: word vectors projected on two principal components, labelled;
- :func:`next_word`: the next-word distribution after a context, as bars.

Figures are drawn on :class:`matplotlib.figure.Figure` objects, never through
``pyplot``, so they need no display and hold no global state.

>>> import nextword, tempfile, os
>>> counts = nextword.count_ngrams(["to be or not to be"] * 3, order=2)
>>> out = zipf(counts, os.path.join(tempfile.mkdtemp(), "zipf.svg"))
>>> out.read_text()[:5]
'<?xml'
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from nextword.counts import NGramCounts
    from nextword.embeddings import WordVectors
    from nextword.neural.training import TrainingHistory

PathLike = Union[str, "os.PathLike[str]"]
FORMATS = ("png", "svg")
SPECIALS = ("<s>", "</s>", "<unk>")


def _figure(width: float = 6.4, height: float = 4.2) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as e:  # the optional extra is missing
        raise ImportError("nextword.plots needs matplotlib: pip install 'nextword[plots]'") from e
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig: Figure, path: PathLike) -> Path:
    """Write ``fig`` to ``path`` through a temporary name in the same directory."""
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"{out}: a figure is written as .png or .svg, not {out.suffix or '(none)'}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format=fmt)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def zipf_slope(frequencies: Sequence[int]) -> float:
    """The least-squares slope of log frequency against log rank (Zipf's law
    says about -1); ``frequencies`` in descending order.

    >>> round(zipf_slope([1000 / r for r in range(1, 100)]), 6)
    -1.0
    """
    f = np.asarray(frequencies, dtype=np.float64)
    if len(f) < 2:
        raise ValueError("a slope needs at least two ranks")
    ranks = np.arange(1, len(f) + 1, dtype=np.float64)
    slope, _ = np.polyfit(np.log10(ranks), np.log10(f), 1)
    return float(slope)


def zipf(counts: NGramCounts, path: PathLike, title: str = "Zipf's law") -> Path:
    """Rank against frequency of the words of ``counts`` (order 1), log-log,
    with the least-squares line and its slope. ``<s>``, ``</s>`` are left out."""
    freqs = [c for (w,), c in counts.most_common(counts.num_unique(1), 1) if w not in SPECIALS]
    slope = zipf_slope(freqs)
    ranks = np.arange(1, len(freqs) + 1)
    fig = _figure()
    ax = fig.add_subplot()
    ax.loglog(ranks, freqs, ".", markersize=3, label=f"{len(freqs):,} words")
    intercept = float(np.mean(np.log10(freqs)) - slope * np.mean(np.log10(ranks)))
    ax.loglog(ranks, 10 ** (intercept + slope * np.log10(ranks)), "-", label=f"slope {slope:.2f}")
    ax.set_xlabel("rank")
    ax.set_ylabel("frequency")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def count_of_counts(
    counts: NGramCounts, path: PathLike, max_count: int = 10, title: str = "Count of counts"
) -> Path:
    """For each order, how many distinct n-grams occur exactly 1, 2, ...,
    ``max_count`` times (log scale): the figures Kneser-Ney's discounts come from."""
    xs = np.arange(1, max_count + 1)
    table = {n: counts.count_of_counts(n) for n in range(1, counts.order + 1)}
    bars = {n: [coc.get(int(c), 0) for c in xs] for n, coc in table.items()}
    if not any(any(ys) for ys in bars.values()):
        raise ValueError(f"no n-gram occurs between 1 and {max_count} times: nothing to draw")
    fig = _figure()
    ax = fig.add_subplot()
    width = 0.8 / counts.order
    for n, ys in bars.items():
        ax.bar(xs + (n - 1 - (counts.order - 1) / 2) * width, ys, width, label=f"order {n}")
    ax.set_yscale("log")
    ax.set_xticks(xs)
    ax.set_xlabel("times an n-gram occurs")
    ax.set_ylabel("distinct n-grams")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def perplexity_by_order(
    perplexities: Mapping[int, float], path: PathLike, title: str = "Held-out perplexity"
) -> Path:
    """Held-out perplexity against the n-gram order (``{order: perplexity}``)."""
    if not perplexities:
        raise ValueError("no perplexities to plot")
    orders = sorted(perplexities)
    values = [perplexities[n] for n in orders]
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"perplexities must be positive and finite: {values}")
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(orders, values, "o-")
    for n, v in zip(orders, values):
        ax.annotate(f"{v:.1f}", (n, v), textcoords="offset points", xytext=(0, 6), ha="center")
    ax.set_xticks(orders)
    ax.set_xlabel("n-gram order")
    ax.set_ylabel("perplexity (lower is better)")
    ax.set_title(title)
    return _save(fig, path)


def loss_curves(
    history: Union[TrainingHistory, Mapping[str, Any]],
    path: PathLike,
    title: str = "Training",
) -> Path:
    """A neural model's loss (nats per token) at every training step and at
    each validation; ``history`` is what :func:`nextword.train` returns (or a
    checkpoint's ``training`` record, with ``losses`` and ``valid_losses``)."""
    if isinstance(history, Mapping):
        losses = list(history["losses"])
        valid = [(int(s), float(v)) for s, v in history.get("valid_losses", [])]
    else:
        losses, valid = list(history.losses), list(history.valid_losses)
    if not losses:
        raise ValueError("the history holds no training step")
    fig = _figure()
    ax = fig.add_subplot()
    steps = np.arange(1, len(losses) + 1)
    ax.plot(steps, losses, lw=0.8, alpha=0.5, label="training (each step)")
    window = max(1, len(losses) // 25)
    if window > 1:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1 :], smooth, lw=1.5, label=f"training (mean of {window})")
    if valid:
        ax.plot(*zip(*valid), "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per token)")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def pca_2d(vectors: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Rows of ``vectors`` projected on their first two principal components.

    >>> pca_2d([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.5, 0.0]]).shape
    (3, 2)
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need at least two vectors in a 2-D array, not shape {x.shape}")
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    components = vt[:2]
    if components.shape[0] < 2:  # one-dimensional vectors: the second axis is zero
        components = np.vstack([components, np.zeros_like(components)])
    return np.asarray(x @ components.T, dtype=np.float64)


def word_vectors(
    vectors: WordVectors,
    path: PathLike,
    words: Optional[Iterable[str]] = None,
    title: str = "Word vectors (PCA)",
) -> Path:
    """Word vectors projected on their two principal components, each point
    labelled with its word; ``words`` picks them (default: the 40 first, the
    most frequent in a trained model). An unknown word raises KeyError."""
    chosen = list(words) if words is not None else vectors.words[:40]
    points = pca_2d(np.stack([vectors[w] for w in chosen]))
    fig = _figure(7.0, 5.5)
    ax = fig.add_subplot()
    ax.scatter(points[:, 0], points[:, 1], s=10)
    for (x, y), w in zip(points, chosen):
        ax.annotate(w, (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("first principal component")
    ax.set_ylabel("second principal component")
    ax.set_title(title)
    return _save(fig, path)


def next_word(
    model: Any, context: str, path: PathLike, k: int = 10, title: Optional[str] = None
) -> Path:
    """The ``k`` most probable next words after ``context`` under ``model``
    (any model with ``predict``), as horizontal bars with their probabilities."""
    best = model.predict(context, k=k)
    if not best:
        raise ValueError(f"the model predicts nothing after {context!r}")
    words = [w for w, _ in best][::-1]
    probs = [p for _, p in best][::-1]
    fig = _figure(6.4, 0.45 * len(best) + 1.2)
    ax = fig.add_subplot()
    bars = ax.barh(range(len(best)), probs)
    ax.bar_label(bars, labels=[f"{p:.1%}" for p in probs], padding=3, fontsize=8)
    ax.set_yticks(range(len(best)), labels=words)
    ax.set_xlim(0, min(1.0, max(probs) * 1.25))
    ax.set_xlabel("probability")
    ax.set_title(title or f"after {context!r}")
    return _save(fig, path)


__all__ = [
    "count_of_counts",
    "loss_curves",
    "next_word",
    "pca_2d",
    "perplexity_by_order",
    "word_vectors",
    "zipf",
    "zipf_slope",
]

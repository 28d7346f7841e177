"""Word2vec as the Rust core trains it, written to be read (and slow).

Skip-gram and CBOW with negative sampling (Mikolov et al. 2013): each word of
a sentence is predicted from the words around it. For every (input, target)
pair the model scores the target (label 1) and ``negative`` noise words
(label 0) with the dot product of the input's vector (``syn0``) and each
output vector (``syn1neg``), and moves both by ``(label - sigmoid(score)) *
alpha``.

The core does every vector operation in 32-bit floats, in a fixed order; so
does this file, with :func:`f32` rounding each result (a sum or product of two
f32 computed in Python's float64 and rounded once to f32 is exactly the f32
operation). That is what lets the tests compare the two bit for bit.

Example:
    >>> words, counts, vectors = train([["a", "b", "a", "c"]] * 3, dim=4, window=1,
    ...                                min_count=1, epochs=1, seed=1)
    >>> words, counts
    (['a', 'b', 'c'], [6, 3, 3])
"""

from __future__ import annotations

import math
import struct
from bisect import bisect_right
from collections.abc import Sequence

from .sample import SplitMix64

MAX_EXP = 6.0
"""Scores beyond +-6 give the sigmoid's limit, 0 or 1 (``MAX_EXP`` in word2vec.c)."""
SIGMOID_TABLE_SIZE = 1000
"""Steps of the sigmoid table over [-MAX_EXP, MAX_EXP] (``EXP_TABLE_SIZE`` in word2vec.c)."""
LANES = 8
"""The dot product sums into eight partial sums (by index modulo 8)."""
NOISE_POWER = 0.75
"""Noise words are drawn in proportion to ``count ** 0.75``."""
MAX_SENTENCE = 10_000
"""Longer sentences are trained as several."""
SPECIALS = ("<unk>", "<s>", "</s>")
"""Words the n-gram vocabulary reserves; word2vec leaves them out."""

Matrix = list[list[float]]


def f32(x: float) -> float:
    """``x`` rounded to the nearest 32-bit float.

    >>> f32(0.1) == 0.10000000149011612
    True
    """
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


# --- vocabulary, noise, subsampling, initial vectors ----------------------------------


def build_vocab(sentences: Sequence[Sequence[str]], min_count: int) -> tuple[list[str], list[int]]:
    """Words seen at least ``min_count`` times, by descending count, ties by
    first appearance; and their counts.

    >>> build_vocab([["b", "a", "a"], ["b", "c"]], 2)
    (['b', 'a'], [2, 2])
    """
    count: dict[str, int] = {}
    first: dict[str, int] = {}
    position = 0
    for sentence in sentences:
        for word in sentence:
            count[word] = count.get(word, 0) + 1
            first.setdefault(word, position)
            position += 1
    kept = [w for w in count if count[w] >= min_count and w not in SPECIALS]
    kept.sort(key=lambda w: (-count[w], first[w]))
    return kept, [count[w] for w in kept]


def noise_cumulative(counts: Sequence[int]) -> list[float]:
    """Running sums of ``count ** 0.75``: the noise distribution as a table.

    >>> noise_cumulative([16, 1])
    [8.0, 9.0]
    """
    sums, total = [], 0.0
    for c in counts:
        total += float(c) ** NOISE_POWER
        sums.append(total)
    return sums


def draw_noise(cumulative: Sequence[float], rng: SplitMix64) -> int:
    """A noise word: the first whose running sum exceeds ``uniform * total``."""
    r = rng.uniform() * cumulative[-1]
    return min(bisect_right(cumulative, r), len(cumulative) - 1)


def keep_probabilities(counts: Sequence[int], sample: float) -> list[float]:
    """Subsampling: with ``t = sample * total``, a word seen ``c`` times is kept
    with probability ``(sqrt(c / t) + 1) * t / c``, at most 1 (the C tool's rule).

    >>> keep_probabilities([1000, 1], 0.001)[1]
    1.0
    """
    threshold = sample * float(sum(counts))
    out = []
    for c in counts:
        if sample <= 0 or c == 0:
            out.append(1.0)
        else:
            out.append(min(1.0, (math.sqrt(c / threshold) + 1.0) * threshold / c))
    return out


def initial_vectors(words: int, dim: int, seed: int) -> Matrix:
    """Rows of ``(uniform - 0.5) / dim``, drawn in order from SplitMix64(seed)."""
    rng = SplitMix64(seed)
    return [[f32((rng.uniform() - 0.5) / dim) for _ in range(dim)] for _ in range(words)]


# --- one update -----------------------------------------------------------------------


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    """The f32 dot product: eight partial sums by index modulo 8, then their sum in order."""
    acc = [0.0] * LANES
    for i in range(len(a)):
        acc[i % LANES] = f32(acc[i % LANES] + f32(a[i] * b[i]))
    total = 0.0
    for v in acc:
        total = f32(total + v)
    return total


def sigmoid_table() -> list[float]:
    """``sigmoid(x)`` at ``x = (i / SIZE * 2 - 1) * MAX_EXP`` for ``i`` in ``0..SIZE``
    (inclusive): in float64, stored as f32."""
    table = []
    for i in range(SIGMOID_TABLE_SIZE + 1):
        e = math.exp((i / SIGMOID_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP)
        table.append(f32(e / (e + 1.0)))
    return table


SIGMOID = sigmoid_table()


def table_sigmoid(score: float) -> float:
    """The sigmoid of a score in [-MAX_EXP, MAX_EXP] read from the table, at
    entry ``trunc((score + MAX_EXP) * (SIZE / MAX_EXP / 2))`` computed in f32."""
    scale = f32(f32(SIGMOID_TABLE_SIZE / MAX_EXP) / 2.0)
    return SIGMOID[min(int(f32(f32(score + MAX_EXP) * scale)), SIGMOID_TABLE_SIZE)]


def gradient(score: float, label: float, alpha: float) -> float:
    """``(label - sigmoid(score)) * alpha``; the sigmoid from the table, its
    limits 0 and 1 beyond +-MAX_EXP (as the C tool)."""
    if score > MAX_EXP:
        predicted = 1.0
    elif score < -MAX_EXP:
        predicted = 0.0
    else:
        predicted = table_sigmoid(score)
    return f32(f32(label - predicted) * alpha)


def negative_sampling(
    hidden: Sequence[float],
    syn1neg: Matrix,
    target: int,
    negatives: Sequence[int],
    alpha: float,
    neu1e: list[float],
) -> None:
    """Score ``hidden`` against the target (label 1) and each negative other
    than the target (label 0); update those output rows and add the gradient
    with respect to ``hidden`` into ``neu1e``."""
    outputs = [(target, 1.0)] + [(n, 0.0) for n in negatives if n != target]
    for word, label in outputs:
        row = syn1neg[word]
        g = gradient(dot(hidden, row), label, alpha)
        for i in range(len(row)):
            neu1e[i] = f32(neu1e[i] + f32(g * row[i]))
        for i in range(len(row)):
            row[i] = f32(row[i] + f32(g * hidden[i]))


def skip_gram_step(
    syn0: Matrix,
    syn1neg: Matrix,
    input: int,
    target: int,
    negatives: Sequence[int],
    alpha: float,
) -> None:
    """One skip-gram pair: the vector of context word ``input`` predicts the centre word."""
    row = syn0[input]
    neu1e = [0.0] * len(row)
    negative_sampling(row, syn1neg, target, negatives, alpha, neu1e)
    for i in range(len(row)):
        row[i] = f32(row[i] + neu1e[i])


def cbow_step(
    syn0: Matrix,
    syn1neg: Matrix,
    context: Sequence[int],
    target: int,
    negatives: Sequence[int],
    alpha: float,
) -> None:
    """One CBOW update: the mean of the context vectors predicts the centre
    word; the whole gradient goes to every context vector."""
    if not context:
        return
    dim = len(syn0[0])
    hidden = [0.0] * dim
    for c in context:
        for i in range(dim):
            hidden[i] = f32(hidden[i] + syn0[c][i])
    n = float(len(context))
    hidden = [f32(h / n) for h in hidden]
    neu1e = [0.0] * dim
    negative_sampling(hidden, syn1neg, target, negatives, alpha, neu1e)
    for c in context:
        for i in range(dim):
            syn0[c][i] = f32(syn0[c][i] + neu1e[i])


# --- the training loop (one thread) ---------------------------------------------------


def learning_rate(alpha: float, min_alpha: float, done: int, total: int) -> float:
    """Linear decay from ``alpha`` to ``min_alpha`` over ``total`` words read."""
    progress = min(done / max(total, 1), 1.0)
    return f32(max(alpha - (alpha - min_alpha) * progress, min_alpha))


def chunk_rng(seed: int, epoch: int, seq: tuple[int, int]) -> SplitMix64:
    """The generator of one chunk (input, chunk index) of one epoch."""
    r = SplitMix64.for_sequence(seed, epoch)
    r = SplitMix64.for_sequence(r.next_u64(), seq[0])
    return SplitMix64.for_sequence(r.next_u64(), seq[1])


def train(
    sentences: Sequence[Sequence[str]],
    dim: int = 100,
    window: int = 5,
    negative: int = 5,
    min_count: int = 5,
    sg: bool = True,
    epochs: int = 5,
    alpha: float = 0.025,
    min_alpha: float = 0.0001,
    sample: float = 1e-3,
    seed: int = 1,
) -> tuple[list[str], list[int], Matrix]:
    """Train as the core does with one thread on a corpus that fits in one
    chunk: per epoch, per sentence, drop unknown words, subsample, and train
    each position against ``window - b`` words on each side (``b`` drawn per
    position), drawing ``negative`` noise words per update."""
    words, counts = build_vocab(sentences, min_count)
    index = {w: i for i, w in enumerate(words)}
    cumulative = noise_cumulative(counts)
    keep = keep_probabilities(counts, sample)
    syn0 = initial_vectors(len(words), dim, seed)
    syn1neg = [[0.0] * dim for _ in words]
    total = sum(counts) * epochs
    done = 0

    def train_sentence(ids: list[int], rng: SplitMix64, alpha_now: float) -> None:
        for pos, centre in enumerate(ids):
            reduced = window - rng.next_u64() % window
            lo, hi = max(0, pos - reduced), min(len(ids) - 1, pos + reduced)
            around = [ids[c] for c in range(lo, hi + 1) if c != pos]
            if sg:
                for word in around:
                    negs = [draw_noise(cumulative, rng) for _ in range(negative)]
                    skip_gram_step(syn0, syn1neg, word, centre, negs, alpha_now)
            elif around:
                negs = [draw_noise(cumulative, rng) for _ in range(negative)]
                cbow_step(syn0, syn1neg, around, centre, negs, alpha_now)

    def run(ids: list[int], read: int, rng: SplitMix64) -> None:
        nonlocal done
        alpha_now = learning_rate(alpha, min_alpha, done, total)
        done += read
        if ids:
            train_sentence(ids, rng, alpha_now)

    for epoch in range(epochs):
        rng = chunk_rng(seed, epoch, (0, 0))
        for sentence in sentences:
            if not sentence:
                continue
            ids: list[int] = []
            read = 0
            for word in sentence:
                if word not in index:
                    continue
                read += 1
                p = keep[index[word]]
                if p >= 1.0 or rng.uniform() < p:
                    ids.append(index[word])
                if len(ids) == MAX_SENTENCE:
                    run(ids, read, rng)
                    ids, read = [], 0
            run(ids, read, rng)
    return words, counts, syn0


__all__ = [
    "build_vocab",
    "cbow_step",
    "dot",
    "draw_noise",
    "f32",
    "gradient",
    "sigmoid_table",
    "table_sigmoid",
    "initial_vectors",
    "keep_probabilities",
    "learning_rate",
    "negative_sampling",
    "noise_cumulative",
    "skip_gram_step",
    "train",
]

"""The shared sampler: greedy, temperature, top-k, top-p, min-p, repetition penalty.

One sampler (in Rust) serves every model: n-gram models call it through
:meth:`~nextword.NGramLM.generate`, and any probability vector or logits (a
neural model's output) through :func:`sample`. Its random generator is
SplitMix64, so a seed gives the same draws on every platform and thread count.

>>> sample([0.1, 0.7, 0.2], temperature=0)   # greedy
1
>>> sample([0.1, 0.7, 0.2], seed=42) == sample([0.1, 0.7, 0.2], seed=42)
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np
import numpy.typing as npt

from nextword import _core

ArrayLike = Union[Sequence[float], npt.NDArray[np.floating]]
MASK64 = 0xFFFF_FFFF_FFFF_FFFF


def random_seed() -> int:
    """A fresh 64-bit seed from the operating system."""
    return int.from_bytes(os.urandom(8), "little")


@dataclass(frozen=True)
class SamplingParams:
    """How to choose the next token (see the module docs for the order applied).

    The values are checked when the object is made (by the core, the one place
    that knows the ranges): a bad one raises ValueError naming it.

    >>> SamplingParams(top_p=1.5)
    Traceback (most recent call last):
    ...
    ValueError: top_p must be in (0, 1], not 1.5
    """

    temperature: float = 1.0
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    min_p: Optional[float] = None
    repetition_penalty: Optional[float] = None

    def __post_init__(self) -> None:
        _core.check_sampling(self)


@dataclass
class Generator:
    """A seeded SplitMix64 stream: ``state`` advances with every draw."""

    state: int = field(default_factory=random_seed)


def sample(
    probs: ArrayLike,
    *,
    logits: bool = False,
    temperature: float = 1.0,
    top_k: Optional[int] = None,
    top_p: Optional[float] = None,
    min_p: Optional[float] = None,
    repetition_penalty: Optional[float] = None,
    history: Sequence[int] = (),
    seed: Optional[int] = None,
    generator: Optional[Generator] = None,
    params: Optional[SamplingParams] = None,
) -> int:
    """Draw an index from a probability vector (or logits with ``logits=True``).

    ``generator`` carries the random state between calls; ``seed`` starts a
    fresh one. ``history`` lists ids already generated, for the repetition
    penalty. Negative or non-finite probabilities (NaN or +inf logits) raise
    ValueError naming the index. ``params`` may replace the five sampling keywords.
    """
    sp = resolve_params(params, temperature, top_k, top_p, min_p, repetition_penalty)
    gen = generator if generator is not None else Generator(random_seed() if seed is None else seed)
    scores = np.ascontiguousarray(probs, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError("sample takes a 1-d vector; use sample_batch for a matrix")
    history_ids = [int(h) for h in history]
    i, gen.state = _core.sample_vector(scores, logits, gen.state & MASK64, sp, history_ids)
    return i


def sample_batch(
    probs: npt.NDArray[np.floating],
    *,
    logits: bool = False,
    seed: int = 0,
    temperature: float = 1.0,
    top_k: Optional[int] = None,
    top_p: Optional[float] = None,
    min_p: Optional[float] = None,
    repetition_penalty: Optional[float] = None,
    params: Optional[SamplingParams] = None,
) -> npt.NDArray[np.int64]:
    """Draw one index per row of a ``[batch, vocab]`` matrix, rows in parallel.

    Row ``i`` draws from its own SplitMix64 stream derived from ``seed`` and
    ``i`` (``reference.sample.SplitMix64.for_sequence``), so results do not
    depend on the number of threads. Errors name the row.
    """
    sp = resolve_params(params, temperature, top_k, top_p, min_p, repetition_penalty)
    scores = np.ascontiguousarray(probs, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError("sample_batch takes a 2-d [batch, vocab] matrix")
    out = _core.sample_matrix(scores, logits, seed & MASK64, sp)
    return np.asarray(out, dtype=np.int64)


def resolve_params(
    params: Optional[SamplingParams] = None,
    temperature: float = 1.0,
    top_k: Optional[int] = None,
    top_p: Optional[float] = None,
    min_p: Optional[float] = None,
    repetition_penalty: Optional[float] = None,
) -> SamplingParams:
    """``params``, or the keyword arguments given instead (not both)."""
    given = SamplingParams(temperature, top_k, top_p, min_p, repetition_penalty)
    if params is None:
        return given
    if given != SamplingParams():
        raise TypeError("pass params=SamplingParams(...) or the sampling keywords, not both")
    return params


__all__ = [
    "Generator",
    "SamplingParams",
    "random_seed",
    "resolve_params",
    "sample",
    "sample_batch",
]

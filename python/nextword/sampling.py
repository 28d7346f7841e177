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


def random_seed() -> int:
    """A fresh 64-bit seed from the operating system."""
    return int.from_bytes(os.urandom(8), "little")


@dataclass(frozen=True)
class SamplingParams:
    """How to choose the next token (see the module docs for the order applied)."""

    temperature: float = 1.0
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    min_p: Optional[float] = None
    repetition_penalty: Optional[float] = None

    def as_kwargs(self) -> dict[str, Optional[float]]:
        """The keyword arguments of the compiled sampler."""
        return {
            "temperature": self.temperature,
            "top_k": self.top_k,
            "top_p": self.top_p,
            "min_p": self.min_p,
            "repetition_penalty": self.repetition_penalty,
        }


@dataclass
class Generator:
    """A seeded SplitMix64 stream: ``state`` advances with every draw."""

    state: int = field(default_factory=random_seed)


def check(
    temperature: float = 1.0,
    top_k: Optional[int] = None,
    top_p: Optional[float] = None,
    min_p: Optional[float] = None,
    repetition_penalty: Optional[float] = None,
    max_tokens: int = 0,
) -> None:
    """Raise ValueError for a parameter out of its range."""
    if max_tokens < 0:
        raise ValueError(f"max_tokens must be >= 0, not {max_tokens}")
    _core.check_sampling(temperature, top_k, top_p, min_p, repetition_penalty)


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
) -> int:
    """Draw an index from a probability vector (or logits with ``logits=True``).

    ``generator`` carries the random state between calls; ``seed`` starts a
    fresh one. ``history`` lists ids already generated, for the repetition penalty.
    """
    gen = generator if generator is not None else Generator(random_seed() if seed is None else seed)
    check(temperature, top_k, top_p, min_p, repetition_penalty)
    scores = np.ascontiguousarray(probs, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError("sample takes a 1-d vector; use sample_batch for a matrix")
    i, gen.state = _core.sample_vector(
        scores,
        logits,
        gen.state & 0xFFFF_FFFF_FFFF_FFFF,
        temperature,
        top_k,
        top_p,
        min_p,
        repetition_penalty,
        [int(h) for h in history],
    )
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
) -> npt.NDArray[np.int64]:
    """Draw one index per row of a ``[batch, vocab]`` matrix, rows in parallel.

    Row ``i`` draws from its own SplitMix64 stream derived from ``seed`` and
    ``i`` (``reference.sample.SplitMix64.for_sequence``), so results do not
    depend on the number of threads.
    """
    check(temperature, top_k, top_p, min_p, repetition_penalty)
    scores = np.ascontiguousarray(probs, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError("sample_batch takes a 2-d [batch, vocab] matrix")
    out = _core.sample_matrix(
        scores,
        logits,
        seed & 0xFFFF_FFFF_FFFF_FFFF,
        temperature,
        top_k,
        top_p,
        min_p,
        repetition_penalty,
    )
    result = np.asarray(out, dtype=np.int64)
    if (result < 0).any():
        bad = int(np.flatnonzero(result < 0)[0])
        raise ValueError(f"nothing to sample in row {bad}: every probability is 0")
    return result


__all__ = ["Generator", "SamplingParams", "check", "random_seed", "sample", "sample_batch"]

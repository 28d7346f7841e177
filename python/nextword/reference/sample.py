"""Reference sampler: how a language model chooses its next token.

A language model gives, for every token of its vocabulary, a score for "this
token comes next": a probability, or a *logit* (a log-probability up to an
additive constant). Generating text means choosing one token from those scores,
again and again. This module is a plain, slow, readable copy of nextword's
Rust sampler (``rust/core/src/sample.rs``): same arithmetic, same order of
operations, same tie rules, so the same seed gives the same token.

The choice goes through five steps, in this order (as in HF transformers):

1. **Repetition penalty** (on logits): tokens already in the history are made
   less likely. A positive logit is divided by the penalty, a negative one
   multiplied, so a penalty above 1 always pushes a seen token down.
2. **Temperature** ``T``: probabilities become ``softmax(logit / T)``. ``T < 1``
   sharpens the distribution (the favourite gets more of the mass), ``T > 1``
   flattens it, ``T = 1`` leaves it alone, and ``T = 0`` means *greedy*: always
   the single most probable token (ties: the lowest id).
3. **Truncation**: sort the candidates by descending probability (ties: lower
   id first), then cut the long tail of unlikely tokens:

   - **top-k** keeps the ``k`` most probable tokens;
   - **top-p** (nucleus) keeps the smallest head of the list whose mass reaches
     ``p`` of the mass still there;
   - **min-p** keeps the tokens whose probability is at least ``min_p`` times
     that of the most probable one.

4. **Draw**: pick a number ``u`` uniformly in [0, 1), and walk the kept
   candidates in order, adding up their probabilities, until the running sum
   passes ``u * total``. Dividing by the total is the renormalisation: the
   kept tokens share all the probability, in proportion to what they had.

The random numbers come from SplitMix64, a generator defined by a few lines of
64-bit integer arithmetic, so a seed gives the same draws on every machine.

Example:
    >>> rng = SplitMix64(42)
    >>> probs = [0.1, 0.6, 0.3]
    >>> sample(probs, False, SamplingParams(temperature=0.0), [], rng)  # greedy
    1
    >>> sample(probs, False, SamplingParams(top_k=1), [], rng)  # only the favourite is left
    1
    >>> truncated_distribution(probs, False, SamplingParams(top_k=2), [])
    {1: 0.6666666666666667, 2: 0.3333333333333333}
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Optional

MASK64 = (1 << 64) - 1
"""Python integers never overflow; masking with this keeps the low 64 bits,
which is what wrapping u64 arithmetic in Rust does."""

GOLDEN = 0x9E3779B97F4A7C15
"""The SplitMix64 increment: 2**64 divided by the golden ratio, made odd."""

Candidate = tuple[int, float]
"""A token id and its probability (or weight)."""


# --- the random generator -------------------------------------------------------------


class SplitMix64:
    """SplitMix64 (Steele, Lea and Flood 2014): a whole generator in one u64.

    Each call adds ``GOLDEN`` to the state and scrambles the result with two
    xor-shift-multiply rounds. Only integer arithmetic is involved, so the
    stream of numbers is the same on every platform.

    Example:
        >>> rng = SplitMix64(0)
        >>> hex(rng.next_u64()), hex(rng.next_u64())
        ('0xe220a8397b1dcdaf', '0x6e789e6aa1b965f4')
        >>> 0.0 <= SplitMix64(7).uniform() < 1.0
        True
    """

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64

    @classmethod
    def for_sequence(cls, seed: int, index: int) -> SplitMix64:
        """The generator of sequence ``index`` of a batch seeded with ``seed``.

        Each sequence of a batch gets its own stream, so the results do not
        depend on which thread ran which sequence. Its state is the first output
        of a generator seeded with ``seed + index * GOLDEN``: that sum itself is
        sequence 0's state after ``index`` draws, so using it directly would make
        neighbouring sequences replay each other one draw apart.

        Example:
            >>> SplitMix64.for_sequence(0, 0).state == SplitMix64(0).next_u64()
            True
        """
        return cls(cls((seed + index * GOLDEN) & MASK64).next_u64())

    def next_u64(self) -> int:
        """The next 64 random bits, as an int in [0, 2**64).

        Example:
            >>> SplitMix64(0).next_u64() == 0xE220A8397B1DCDAF
            True
        """
        self.state = (self.state + GOLDEN) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self) -> float:
        """A uniform float in [0, 1): the top 53 bits (a double's precision) times 2**-53.

        Example:
            >>> SplitMix64(0).uniform() == (0xE220A8397B1DCDAF >> 11) * 2.0**-53
            True
        """
        return (self.next_u64() >> 11) * 2.0**-53


# --- parameters -----------------------------------------------------------------------


@dataclass(frozen=True)
class SamplingParams:
    """How to choose the next token (``None`` switches a step off).

    Example:
        >>> SamplingParams(top_k=0).validate()
        Traceback (most recent call last):
        ...
        ValueError: top_k must be >= 1
    """

    temperature: float = 1.0
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    min_p: Optional[float] = None
    repetition_penalty: Optional[float] = None

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first parameter out of range."""
        t = self.temperature
        if not (t >= 0.0 and math.isfinite(t)):
            raise ValueError(f"temperature must be >= 0, not {t}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError("top_k must be >= 1")
        if self.top_p is not None and not (0.0 < self.top_p <= 1.0):
            raise ValueError(f"top_p must be in (0, 1], not {self.top_p}")
        if self.min_p is not None and not (0.0 <= self.min_p <= 1.0):
            raise ValueError(f"min_p must be in [0, 1], not {self.min_p}")
        r = self.repetition_penalty
        if r is not None and not (r > 0.0 and math.isfinite(r)):
            raise ValueError(f"repetition_penalty must be > 0, not {r}")


# --- small exact helpers ---------------------------------------------------------------


def running_sum(values: Iterable[float]) -> float:
    """Add floats left to right, one rounding per addition, as Rust's ``Iterator::sum``.

    Python's built-in ``sum`` compensates rounding errors since 3.12, which
    would make the last bit differ from the Rust sampler's.

    Example:
        >>> running_sum([0.1, 0.2, 0.3])
        0.6000000000000001
    """
    total = 0.0
    for v in values:
        total += v
    return total


def total_order_key(x: float) -> int:
    """An int that sorts floats as Rust's ``f64::total_cmp`` does.

    It agrees with ``<`` except that -0.0 sorts below +0.0 and NaNs sort at the
    ends. Only the greedy argmax needs it: on logits such as ``[-0.0, 0.0]`` the
    Rust sampler picks the +0.0.

    Example:
        >>> total_order_key(-0.0) < total_order_key(0.0) < total_order_key(1e-300)
        True
    """
    bits = int.from_bytes(struct.pack("<d", x), "little", signed=True)
    # Negative floats: flip the other 63 bits so that larger magnitudes sort lower.
    return bits ^ ((bits >> 63) & 0x7FFF_FFFF_FFFF_FFFF)


# --- step 1 and 2: from scores to probabilities ----------------------------------------


def to_logits(scores: Sequence[float], logits: bool) -> list[float]:
    """Scores as logits: probabilities go through ``log`` (0 becomes -inf).

    Example:
        >>> to_logits([1.0, 0.0], logits=False)
        [0.0, -inf]
    """
    if logits:
        return [float(s) for s in scores]
    return [math.log(p) if p > 0.0 else -math.inf for p in scores]


def apply_repetition_penalty(
    logits: Sequence[float], penalty: float, history: Iterable[int]
) -> list[float]:
    """Push down every token already in ``history`` (ids beyond the vocabulary are ignored).

    A logit ``l > 0`` becomes ``l / penalty``, any other ``l * penalty``: with
    a penalty above 1 both move the token's logit down, so the model is
    discouraged from repeating itself. Infinite logits are left as they are.

    Example:
        >>> apply_repetition_penalty([2.0, -1.0, 3.0], 2.0, history=[0, 1])
        [1.0, -2.0, 3.0]
    """
    seen = set(history)
    out = list(logits)
    for i, logit in enumerate(out):
        if i in seen and math.isfinite(logit):
            out[i] = logit / penalty if logit > 0.0 else logit * penalty
    return out


def greedy(logits: Sequence[float]) -> list[Candidate]:
    """Temperature 0: the single best token, with probability 1 (ties: the lowest id).

    Tokens of logit -inf (probability 0) are never taken: with none left,
    there is nothing to sample, as at any other temperature.

    Example:
        >>> greedy([0.5, 2.0, 2.0])
        [(1, 1.0)]
    """
    best: Optional[int] = None
    for i, logit in enumerate(logits):
        if math.isnan(logit) or logit == -math.inf:
            continue  # a token ruled out is never the argmax
        if best is None or total_order_key(logit) > total_order_key(logits[best]):
            best = i
    return [] if best is None else [(best, 1.0)]


def softmax(logits: Sequence[float], temperature: float) -> list[Candidate]:
    """``exp(logit / T)``, normalised to sum to 1; tokens of probability 0 are dropped.

    The largest logit is subtracted first: the result is the same, but ``exp``
    can no longer overflow. Dividing by the temperature scales the gaps
    between logits: small ``T`` widens them (sharper), large ``T`` narrows them.

    Example:
        >>> softmax([math.log(1.0), math.log(3.0)], temperature=1.0)
        [(0, 0.25), (1, 0.75)]
        >>> [round(p, 3) for _, p in softmax([math.log(1.0), math.log(3.0)], temperature=0.5)]
        [0.1, 0.9]
    """
    finite = [x for x in logits if not math.isnan(x)]
    top = max(finite, default=-math.inf)
    if top == -math.inf:
        return []
    weights = [(i, math.exp((x - top) / temperature)) for i, x in enumerate(logits)]
    weights = [(i, w) for i, w in weights if w > 0.0]  # also drops NaN
    total = running_sum(w for _, w in weights)
    return [(i, w / total) for i, w in weights]


def prepare(
    scores: Sequence[float],
    logits: bool,
    params: SamplingParams,
    history: Sequence[int] = (),
) -> list[Candidate]:
    """Steps 1 and 2: penalty and temperature; ``(id, probability)`` pairs in id order.

    ``scores`` are logits when ``logits`` is true (natural log, any offset),
    else probabilities (non-negative, need not sum to 1).

    Example:
        >>> prepare([0.2, 0.0, 0.6], False, SamplingParams())
        [(0, 0.25), (2, 0.7499999999999999)]
    """
    values = to_logits(scores, logits)
    if params.repetition_penalty is not None:
        values = apply_repetition_penalty(values, params.repetition_penalty, history)
    if params.temperature == 0.0:
        return greedy(values)
    return softmax(values, params.temperature)


# --- step 3: truncation ----------------------------------------------------------------


def by_probability(cands: Iterable[Candidate]) -> list[Candidate]:
    """Candidates of positive, finite probability, most probable first (ties: lower id).

    Example:
        >>> by_probability([(0, 0.2), (1, 0.5), (2, 0.0), (3, 0.2)])
        [(1, 0.5), (0, 0.2), (3, 0.2)]
    """
    kept = [(i, p) for i, p in cands if p > 0.0 and math.isfinite(p)]
    return sorted(kept, key=lambda c: (-c[1], c[0]))


def top_k_filter(cands: list[Candidate], k: int) -> list[Candidate]:
    """Keep the ``k`` most probable candidates (``cands`` sorted, best first).

    Example:
        >>> top_k_filter([(1, 0.5), (0, 0.3), (2, 0.2)], 2)
        [(1, 0.5), (0, 0.3)]
    """
    return cands[:k]


def top_p_filter(cands: list[Candidate], p: float) -> list[Candidate]:
    """Nucleus: keep the shortest head of ``cands`` whose mass reaches ``p`` of their total.

    The cut adapts to the model's confidence: a peaked distribution keeps one
    or two tokens, a flat one keeps many. The total is that of the candidates
    passed in, so after top-k the fraction is of what top-k left.

    Example:
        >>> top_p_filter([(1, 0.4), (2, 0.3), (3, 0.2), (0, 0.1)], 0.7)
        [(1, 0.4), (2, 0.3)]
    """
    total = running_sum(q for _, q in cands)
    acc = 0.0
    for i, (_, q) in enumerate(cands):
        acc += q
        if acc >= p * total:
            return cands[: i + 1]
    return cands


def min_p_filter(cands: list[Candidate], min_p: float) -> list[Candidate]:
    """Keep candidates at least ``min_p`` times as probable as the best one.

    Example:
        >>> min_p_filter([(1, 0.4), (2, 0.3), (3, 0.2), (0, 0.1)], 0.5)
        [(1, 0.4), (2, 0.3), (3, 0.2)]
    """
    if not cands:
        return cands
    top = cands[0][1]
    return [c for c in cands if c[1] >= min_p * top]


def truncate(cands: Iterable[Candidate], params: SamplingParams) -> list[Candidate]:
    """Step 3: sort, then top-k, top-p and min-p, in that order. Not renormalised.

    Example:
        >>> truncate([(0, 0.1), (1, 0.4), (2, 0.3), (3, 0.2)], SamplingParams(top_k=3, top_p=0.7))
        [(1, 0.4), (2, 0.3)]
    """
    kept = by_probability(cands)
    if params.top_k is not None:
        kept = top_k_filter(kept, params.top_k)
    if params.top_p is not None:
        kept = top_p_filter(kept, params.top_p)
    if params.min_p is not None:
        kept = min_p_filter(kept, params.min_p)
    return kept


# --- step 4: the draw ------------------------------------------------------------------


def draw(cands: Sequence[Candidate], rng: SplitMix64) -> Optional[int]:
    """Step 4: choose among ``cands`` in proportion to their weights, in their order.

    Lay the weights end to end on a line of length ``total`` and throw a dart
    at ``u * total``: the candidate whose segment it lands in wins. Returns
    ``None`` (and draws no number) when there is nothing to choose from.

    Example:
        >>> rng = SplitMix64(0)
        >>> rng.uniform()  # the dart, as a fraction of the line
        0.8833108082136426
        >>> draw([(7, 0.5), (9, 0.5)], SplitMix64(0))  # 0.88 falls in the second half
        9
    """
    total = running_sum(w for _, w in cands)
    if not cands or total <= 0.0 or not math.isfinite(total):
        return None
    target = rng.uniform() * total
    acc = 0.0
    for token, weight in cands:
        acc += weight
        if target < acc:
            return token
    return cands[-1][0]  # rounding left the dart past the end: the last one


# --- all together ----------------------------------------------------------------------


def sample(
    scores: Sequence[float],
    logits: bool,
    params: SamplingParams,
    history: Sequence[int],
    rng: SplitMix64,
) -> Optional[int]:
    """Choose the next token: penalty, temperature, truncation, draw (``None``: nothing left).

    Example:
        >>> rng = SplitMix64(3)
        >>> [sample([0.0, 0.5, 0.5], False, SamplingParams(), [], rng) for _ in range(6)]
        [1, 2, 2, 1, 1, 2]
    """
    params.validate()
    return draw(truncate(prepare(scores, logits, params, history), params), rng)


def truncated_distribution(
    scores: Sequence[float],
    logits: bool,
    params: SamplingParams,
    history: Sequence[int] = (),
) -> dict[int, float]:
    """The exact distribution :func:`sample` draws from: what truncation keeps, renormalised.

    Example:
        >>> truncated_distribution([0.5, 0.3, 0.2], False, SamplingParams(min_p=0.5))
        {0: 0.625, 1: 0.37499999999999994}
    """
    params.validate()
    kept = truncate(prepare(scores, logits, params, history), params)
    total = running_sum(p for _, p in kept)
    return {i: p / total for i, p in kept}


__all__ = [
    "GOLDEN",
    "MASK64",
    "Candidate",
    "SamplingParams",
    "SplitMix64",
    "apply_repetition_penalty",
    "by_probability",
    "draw",
    "greedy",
    "min_p_filter",
    "prepare",
    "running_sum",
    "sample",
    "softmax",
    "to_logits",
    "top_k_filter",
    "top_p_filter",
    "total_order_key",
    "truncate",
    "truncated_distribution",
]

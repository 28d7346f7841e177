"""The documented rules at their edges: ties and exact cutoffs.

- ``predict`` ranks by probability, ties by lower id (``model.py``). Other
  tests accept any order among ties, so reversing the tie-break survived them.
- Top-p keeps the shortest head whose mass *reaches* p (``>=``); min-p keeps a
  token whose probability is *at least* ``min_p`` times the best one's. Tests
  that put p far from any candidate's cumulative mass cannot tell ``>=`` from
  ``>``; these put it exactly on one, in the dense sampler (``sample.rs``), its
  reference (``reference/sample.py``) and streamed n-gram generation
  (``lm/generate.rs``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nextword import NGramLM, sample, sample_batch
from nextword.reference import sample as ref

# --- predict: ties by lower id ---------------------------------------------------------------


def fit(lines: list[str], order: int, smoothing: str) -> NGramLM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # discount fallbacks on tiny corpora
        return NGramLM.fit(lines, order=order, smoothing=smoothing, progress=False)


def test_predict_breaks_ties_by_lower_id_not_by_spelling() -> None:
    # After "a": zz, bb, mm, yy once each; ids in first-appearance order, so
    # zz < bb < mm < yy by id, and the alphabet would say otherwise.
    lm = fit(["a zz", "a bb", "a mm", "a yy", "a bb"], 2, "mle")
    assert [w for w, _ in lm.predict("a", k=4)] == ["bb", "zz", "mm", "yy"]
    assert lm.predict("a", k=2) == [("bb", pytest.approx(0.4)), ("zz", pytest.approx(0.2))]
    assert [w for w, _ in lm.predict("a", k=2)] == ["bb", "zz"]


WORDS = ("q", "x", "b", "m", "a")
CORPUS = st.lists(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join),
    min_size=1,
    max_size=10,
)


@pytest.mark.parametrize(
    "smoothing", ["mle", "add-k", "witten-bell", "kneser-ney", "stupid-backoff"]
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=CORPUS, order=st.integers(1, 3), context=st.lists(st.sampled_from(WORDS), max_size=3))
def test_predict_ranks_ties_by_lower_id(
    smoothing: str, lines: list[str], order: int, context: list[str]
) -> None:
    """Every ranking, in full, is by descending probability and, among equal
    probabilities, by ascending id; a shorter one is its prefix. Small
    vocabularies make ties common (MLE and add-k counts, unigram backoff)."""
    lm = fit(lines, order, smoothing)
    full = lm.predict(context, k=len(lm.vocab))
    ranked = [(lm.vocab[w], p) for w, p in full]
    for (i, p), (j, q) in zip(ranked, ranked[1:]):
        assert p > q or (p == q and i < j), (context, full)
    for k in range(len(full) + 1):
        assert lm.predict(context, k=k) == full[:k]


def test_the_property_above_meets_ties() -> None:
    """The corpora above do produce ties (else the test would pin nothing)."""
    lm = fit(["q x", "q b", "q m", "x a"], 2, "mle")
    probs = [p for _, p in lm.predict("q", k=10)]
    assert len(probs) == 3 and len(set(probs)) == 1


# --- the dense sampler and its reference -------------------------------------------------------


def solve(target: float, times: float) -> float:
    """An x with ``x * times == target`` exactly (floating point), near target / times."""
    x = target / times
    for _ in range(64):
        if x * times == target:
            return x
        x = math.nextafter(x, math.inf if x * times < target else -math.inf)
    raise AssertionError(f"no x with x * {times} == {target}")


def just_above(target: float, times: float) -> float:
    """The least x with ``x * times > target`` (floating point)."""
    x = solve(target, times)
    while x * times <= target:
        x = math.nextafter(x, math.inf)
    return x


# Powers of two: every sum below is exact, so a cutoff can sit exactly on a mass.
DYADIC = [0.5, 0.25, 0.125, 0.125]


def drawn(probs: Sequence[float], n: int = 2000, **params: Any) -> set[int]:
    rows = sample_batch(np.tile(np.asarray(probs), (n, 1)), seed=7, **params)
    return {int(i) for i in rows}


@pytest.mark.parametrize(
    ("params", "kept"),
    [
        ({"top_p": 0.5}, {0}),  # 0.5 reaches p = 0.5: nothing more is needed
        ({"top_p": 0.75}, {0, 1}),
        ({"top_p": 0.875}, {0, 1, 2}),  # ties (ids 2 and 3): the lower id first
        ({"top_p": math.nextafter(0.75, 1.0)}, {0, 1, 2}),
        ({"min_p": 0.5}, {0, 1}),  # 0.25 is exactly half the best: kept
        ({"min_p": 0.25}, {0, 1, 2, 3}),
        ({"min_p": math.nextafter(0.5, 1.0)}, {0}),
        ({"top_k": 3, "top_p": solve(0.5, 0.875)}, {0}),  # p of the top 3's mass
    ],
)
def test_dense_cutoffs_at_exact_boundaries(params: dict[str, float], kept: set[int]) -> None:
    assert drawn(DYADIC, **params) == kept
    expected = ref.truncated_distribution(DYADIC, False, ref.SamplingParams(**params))
    assert set(expected) == kept
    assert all(sample(DYADIC, seed=s, **params) in kept for s in range(200))


def test_top_p_on_the_first_token_mass_always_draws_it() -> None:
    """The issue's case: with p equal to the first token's mass, only it is drawn."""
    assert {sample([0.5, 0.3, 0.2], top_p=0.5, seed=s) for s in range(500)} == {0}
    assert ref.top_p_filter([(0, 0.5), (1, 0.3), (2, 0.2)], 0.5) == [(0, 0.5)]
    assert ref.min_p_filter([(0, 0.5), (1, 0.25), (2, 0.125)], 0.5) == [(0, 0.5), (1, 0.25)]


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_greedy_never_takes_a_token_of_probability_zero(temperature: float) -> None:
    """Greedy used to return token 0 when every probability was 0 (the argmax
    of equal -inf logits); now, as at any temperature, there is nothing to sample."""
    with pytest.raises(ValueError, match="nothing to sample"):
        sample([0.0, 0.0, 0.0], temperature=temperature, seed=1)
    with pytest.raises(ValueError, match="nothing to sample"):
        sample([-math.inf, -math.inf], logits=True, temperature=temperature, seed=1)
    params = ref.SamplingParams(temperature=temperature)
    assert ref.prepare([0.0, 0.0, 0.0], False, params) == []
    assert sample([0.0, 0.0, 1e-300], temperature=temperature, seed=1) == 2


# --- streamed n-gram generation --------------------------------------------------------------


@pytest.fixture(scope="module")
def model() -> NGramLM:
    """An MLE bigram model: after "a", b 1/2, c 1/4, d 1/8, e 1/8 (d and e tie)."""
    lines = ["a b"] * 4 + ["a c"] * 2 + ["a d", "a e"]
    return fit(lines, 2, "mle")


def first_tokens(model: NGramLM, n: int = 4000, **params: Any) -> set[str]:
    rows = model.generate_batch([["a"]] * n, max_tokens=1, seed=3, **params)
    return {r[0] for r in rows}


def stored(model: NGramLM) -> list[float]:
    """The log10 probabilities the model holds (f32) of b, c, d, e after "a"."""
    lps = [model.logprob(w, ["a"]) for w in "bcde"]
    assert all(float(np.float32(lp)) == lp for lp in lps)
    return lps


# The streaming code turns a stored log10 probability into a probability in two
# ways: the nucleus by rejection with exp(lp * ln 10), the truncated candidate
# list with 10 ** lp. Each boundary below uses the same arithmetic as its path.
def by_exp(lp: float) -> float:
    return math.exp(lp * math.log(10))


def by_pow(lp: float) -> float:
    return float(10.0**lp)


def mass(to_prob: Callable[[float], float], lps: list[float], size: int) -> float:
    acc = 0.0
    for lp in lps[:size]:
        acc += to_prob(lp)
    return acc


def test_streamed_top_p_at_exact_mass(model: NGramLM) -> None:
    """Top-p alone (the nucleus by rejection): p equal to the mass of b and c
    keeps exactly b and c; one ulp more also needs d (the lower id of the tie)."""
    lps = stored(model)
    p = mass(by_exp, lps, 2)
    assert first_tokens(model, top_p=p) == {"b", "c"}
    assert first_tokens(model, top_p=math.nextafter(p, 1.0)) == {"b", "c", "d"}
    assert first_tokens(model, top_p=mass(by_exp, lps, 1)) == {"b"}


def test_streamed_top_p_with_min_p_at_exact_mass(model: NGramLM) -> None:
    """Top-p with min-p (the truncated candidate list, against mass 1)."""
    lps = stored(model)
    p = mass(by_pow, lps, 2)
    assert first_tokens(model, top_p=p, min_p=0.0) == {"b", "c"}
    assert first_tokens(model, top_p=math.nextafter(p, 1.0), min_p=0.0) == {"b", "c", "d"}


def test_streamed_min_p_at_exact_ratio(model: NGramLM) -> None:
    """min_p * p(b) == p(c) exactly: c is kept; one ulp more and it is not."""
    q = [by_pow(lp) for lp in stored(model)]
    m = solve(q[1], q[0])
    assert first_tokens(model, min_p=m) == {"b", "c"}
    assert first_tokens(model, min_p=just_above(q[1], q[0])) == {"b"}
    # Down to d and e, which tie: both kept (no exact product exists here).
    m = q[2] / q[0]
    while m * q[0] > q[2]:
        m = math.nextafter(m, 0.0)
    assert first_tokens(model, min_p=m) == {"b", "c", "d", "e"}


def test_streamed_top_k_then_top_p_at_exact_mass(model: NGramLM) -> None:
    """With top-k, top-p applies to the mass of the k kept (renormalised)."""
    q = [by_pow(lp) for lp in stored(model)]
    total = q[0] + q[1] + q[2]
    p = solve(q[0] + q[1], total)
    assert first_tokens(model, top_k=3, top_p=p) == {"b", "c"}
    assert first_tokens(model, top_k=3, top_p=just_above(q[0] + q[1], total)) == {"b", "c", "d"}

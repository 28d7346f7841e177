"""Kneser-Ney discounts given by the user: lmplz's bounds 0 <= D_j <= j are enforced.

A discount above j takes more than the count (distributions then sum to more
than 1); a negative one or NaN gives NaN probabilities. Both the core (through
``NGramLM.fit``, from counts or from a corpus) and the reference refuse them
with a ``ValueError`` naming the order and the discount.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import nextword
import numpy as np
import pytest
from nextword import NGramLM, reference
from nextword.reference import lm_kneser_ney as ref_kn
from nextword.reference.ngram_model import prob

CORPUS = ["a b", "a b", "c d", "d a b c", "b c a", "a c d b"]
GOOD = (0.5, 1.0, 1.5)

Triples = Sequence[tuple[float, float, float]]

# (discounts for a trigram model, the message expected)
BAD: list[tuple[Triples, str]] = [
    ([GOOD, (1.5, 1.5, 1.5), GOOD], "order 2: discount D1 = 1.5 is outside [0, 1]"),
    ([(0.5, -0.25, 1.5), GOOD, GOOD], "order 1: discount D2 = -0.25 is outside [0, 2]"),
    ([GOOD, GOOD, (0.5, 1.0, 3.5)], "order 3: discount D3 = 3.5 is outside [0, 3]"),
    ([GOOD, GOOD, (-0.0001, 1.0, 1.5)], "order 3: discount D1 = -0.0001 is outside [0, 1]"),
    ([GOOD, (math.nan, 1.0, 1.5), GOOD], "order 2: discount D1 = nan is not a finite number"),
    ([GOOD, GOOD, (0.5, 1.0, math.inf)], "order 3: discount D3 = inf is not a finite number"),
]


def fit_counts(discounts: Triples, order: int = 3) -> NGramLM:
    counts = nextword.count_ngrams(CORPUS, order=3)
    return NGramLM.fit(counts, order=order, discounts=discounts)


def fit_corpus(discounts: Triples, order: int = 3) -> NGramLM:
    return NGramLM.fit(CORPUS, order=order, discounts=discounts)


FITS = pytest.mark.parametrize("fit", [fit_counts, fit_corpus], ids=["counts", "corpus"])


def message_pattern(message: str) -> str:
    """The message as a case-blind regex (Rust writes NaN, Python nan)."""
    return "(?i)^" + message.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]") + "$"


@FITS
@pytest.mark.parametrize(("discounts", "message"), BAD)
def test_core_refuses_out_of_range_discounts(fit, discounts: Triples, message: str) -> None:
    with pytest.raises(ValueError, match=message_pattern(message)):
        fit(discounts)


@pytest.mark.parametrize(("discounts", "message"), BAD)
def test_reference_refuses_out_of_range_discounts(discounts: Triples, message: str) -> None:
    counts = reference.count_ngrams(CORPUS, order=3)
    with pytest.raises(ValueError, match=message_pattern(message)):
        ref_kn.kneser_ney(counts, discounts=discounts)


@FITS
@pytest.mark.parametrize("given", [1, 2, 4])
def test_one_triple_per_order(fit, given: int) -> None:
    want = rf"^discounts: {given} \(D1, D2, D3\+\) triples given for a model of order 3"
    with pytest.raises(ValueError, match=want):
        fit([GOOD] * given)
    with pytest.raises(ValueError, match=want):
        ref_kn.kneser_ney(reference.count_ngrams(CORPUS, order=3), discounts=[GOOD] * given)


def test_fewer_orders_than_counted_take_their_own_number() -> None:
    lm = fit_counts([GOOD, GOOD], order=2)
    assert lm.order == 2 and lm.discounts == [GOOD, GOOD]
    with pytest.raises(ValueError, match="order 2; give one per order"):
        fit_counts([GOOD] * 3, order=2)


@FITS
@pytest.mark.parametrize(
    "triple", [(0.0, 0.0, 0.0), (1.0, 2.0, 3.0), (0.0, 2.0, 0.0)], ids=["zeros", "maxima", "mixed"]
)
def test_bounds_are_allowed_and_distributions_sum_to_one(
    fit, triple: tuple[float, float, float]
) -> None:
    given = [triple] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # given discounts: nothing estimated, no fallback
        lm = fit(given)
    assert lm.discounts == given
    model = ref_kn.kneser_ney(reference.count_ngrams(CORPUS, order=3), discounts=given)
    for context in ([], ["a"], ["d", "a"], ["b", "zzz"]):
        dist = lm.next_distribution(context)
        assert math.fsum(dist) == pytest.approx(1.0, abs=1e-5)
        want = [prob(model, w, context) for w in model.vocab]
        np.testing.assert_allclose(dist, want, rtol=1e-5, atol=0)
    # Zero discounts keep no mass for unseen words (infinite perplexity), but never NaN.
    assert not math.isnan(lm.perplexity(["a b c d", "d d d"]).perplexity)


def test_estimated_discounts_still_fall_back_with_a_warning() -> None:
    with pytest.warns(UserWarning) as records:
        lm = NGramLM.fit(["a b", "a b", "c d"], order=2)
    messages = [str(r.message) for r in records]
    assert any(m.startswith("order 2:") and "fallback discounts 0.5, 1, 1.5" in m for m in messages)
    assert lm.discounts[1] == GOOD

"""The sampler's input checks (issue 7 item 6) and SamplingParams as one object:
bad probabilities or logits are a ValueError naming the index, checked in the core."""

from __future__ import annotations

import math

import nextword
import numpy as np
import pytest
from nextword import SamplingParams


@pytest.mark.parametrize(
    "probs, index",
    [([0.5, -0.5], 1), ([math.nan, 0.5], 0), ([0.2, 0.3, math.inf], 2), ([-0.0, -1e-300], 1)],
)
def test_bad_probabilities_name_their_index(probs: list[float], index: int) -> None:
    with pytest.raises(ValueError, match=f"index {index}"):
        nextword.sample(probs, seed=1)


@pytest.mark.parametrize("logits, index", [([0.0, math.nan], 1), ([math.inf, 0.0], 0)])
def test_bad_logits_name_their_index(logits: list[float], index: int) -> None:
    with pytest.raises(ValueError, match=f"index {index}"):
        nextword.sample(logits, logits=True, seed=1)


def test_minus_infinity_logits_rule_tokens_out() -> None:
    for seed in range(20):
        assert nextword.sample([-math.inf, 0.0, -math.inf], logits=True, seed=seed) == 1
    # As probabilities, zeros are fine; only nothing at all to draw is an error.
    assert nextword.sample([0.0, 1.0], seed=3) == 1
    with pytest.raises(ValueError, match="nothing to sample"):
        nextword.sample([0.0, 0.0], seed=3)


def test_sample_batch_names_the_row() -> None:
    probs = np.array([[0.5, 0.5], [0.5, -0.5]])
    with pytest.raises(ValueError, match="row 1.*index 1"):
        nextword.sample_batch(probs, seed=1)
    with pytest.raises(ValueError, match="nothing to sample in row 0"):
        nextword.sample_batch(np.zeros((2, 3)), seed=1)
    logits = np.array([[0.0, math.nan]])
    with pytest.raises(ValueError, match="row 0"):
        nextword.sample_batch(logits, logits=True, seed=1)
    assert nextword.sample_batch(np.zeros((0, 3)), seed=1).tolist() == []


def test_params_are_checked_when_made() -> None:
    with pytest.raises(ValueError, match="top_k"):
        SamplingParams(top_k=0)
    with pytest.raises(ValueError, match="top_k"):
        SamplingParams(top_k=-3)
    with pytest.raises(ValueError, match="temperature"):
        SamplingParams(temperature=math.nan)
    params = SamplingParams(temperature=0.5, top_p=0.9)
    assert params == SamplingParams(temperature=0.5, top_p=0.9)
    seeded = [nextword.sample([0.1, 0.2, 0.7], seed=s, params=params) for s in range(30)]
    assert seeded == [
        nextword.sample([0.1, 0.2, 0.7], seed=s, temperature=0.5, top_p=0.9) for s in range(30)
    ]

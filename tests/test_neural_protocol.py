"""Neural models are protocol models: the one generation loop and sampler,
every sampling parameter, and perplexity as the hand computation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from nextword import SamplingParams, Vocab
from nextword.model import DistributionModel, LanguageModel
from nextword.neural import NeuralLanguageModel
from test_neural_models import VOCAB, tiny_models

MODELS = tiny_models()
IDS = [type(m).__name__ for m in MODELS]


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_a_neural_model_is_a_language_model(model: NeuralLanguageModel) -> None:
    assert isinstance(model, LanguageModel)
    assert isinstance(model, DistributionModel)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_seeded_generation_is_reproducible_and_streams_the_same_tokens(
    model: NeuralLanguageModel,
) -> None:
    options: dict[str, Any] = dict(
        max_tokens=15, seed=3, stop=None, min_p=0.05, repetition_penalty=1.3
    )
    ids = model.generate_ids("a b", **options).tolist()
    assert len(ids) == 15
    assert ids == model.generate_ids("a b", **options).tolist()
    steps = list(model.stream("a b", explain=2, **options))
    assert [VOCAB.id(s.token) for s in steps] == ids
    assert model.generate("a b", **options) == VOCAB.decode(ids)
    params = SamplingParams(temperature=0.7, top_k=3, top_p=0.9, min_p=0.05)
    by_object = model.generate("a", max_tokens=10, seed=5, params=params)
    assert by_object == model.generate(
        "a", max_tokens=10, seed=5, temperature=0.7, top_k=3, top_p=0.9, min_p=0.05
    )


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_min_p_keeps_only_tokens_near_the_best(model: NeuralLanguageModel) -> None:
    for step in model.stream(max_tokens=20, seed=1, stop=None, min_p=0.5, explain=1):
        assert step.prob >= 0.5 * step.candidates[0][1]


def test_repetition_penalty_changes_what_is_drawn() -> None:
    model = MODELS[2]
    plain = model.generate_ids("a", max_tokens=40, seed=9, stop=None, temperature=0)
    penalised = model.generate_ids(
        "a", max_tokens=40, seed=9, stop=None, temperature=0, repetition_penalty=5.0
    )
    assert plain.tolist() != penalised.tolist()


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_perplexity_is_exp_of_the_mean_nll_from_next_distribution(
    model: NeuralLanguageModel,
) -> None:
    corpus = [["a", "b", "zebra"], ["d"], ["c", "c", "a", "b", "d", "a", "c"]]  # > a block
    nll = []
    for sentence in corpus:
        for i, word in enumerate([*sentence, "</s>"]):
            p = model.next_distribution(sentence[:i])[VOCAB.id(word)]
            nll.append(-math.log(p))
    result = model.perplexity([" ".join(s) for s in corpus])
    assert result.tokens == len(nll) and result.oovs == 1 and result.sentences == 3
    assert result.perplexity == pytest.approx(math.exp(np.mean(nll)), rel=1e-5)
    assert result.cross_entropy == pytest.approx(np.mean(nll), rel=1e-5)


def test_the_protocol_reads_an_unknown_word_as_unk() -> None:
    model = MODELS[1]
    assert model.score("a zebra") == pytest.approx(model.score("a <unk>"))
    assert isinstance(model.vocab, Vocab)

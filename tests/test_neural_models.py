"""Neural models: one-token-at-a-time inference equals the full forward pass,
whole-model gradients match finite differences, and the shared scoring API."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nextword import Vocab
from nextword.neural import (
    LSTMLanguageModel,
    MLPLanguageModel,
    NeuralLanguageModel,
    RNNLanguageModel,
    TransformerLanguageModel,
)

VOCAB = Vocab(["a", "b", "c", "d"])


def tiny_models() -> list[NeuralLanguageModel]:
    return [
        MLPLanguageModel(VOCAB, order=3, embed_dim=4, hidden_dim=6, seed=1),
        RNNLanguageModel(VOCAB, embed_dim=5, hidden_dim=6, layers=2, seed=1),
        LSTMLanguageModel(VOCAB, embed_dim=6, hidden_dim=6, layers=2, tie_weights=True, seed=1),
        LSTMLanguageModel(VOCAB, embed_dim=4, hidden_dim=6, seed=1),
        TransformerLanguageModel(VOCAB, dim=8, heads=2, layers=2, block_size=5, seed=1),
    ]


MODELS = tiny_models()
IDS = [f"{type(m).__name__}-{i}" for i, m in enumerate(MODELS)]


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_incremental_state_equals_full_forward(model: NeuralLanguageModel) -> None:
    context = [3, 4, 5, 6, 3, 0, 4, 5]  # longer than the Transformer's block
    state, probs = model.initial_state([])
    for i, token in enumerate(context):
        state, probs = model.advance(state, token)
        full = model.initial_state(context[: i + 1])[1]
        np.testing.assert_allclose(probs, full, rtol=1e-5, atol=1e-7)
    words = [VOCAB.word(i) for i in context]
    np.testing.assert_allclose(probs, model.next_distribution(words), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_distribution_and_scores(model: NeuralLanguageModel) -> None:
    p = model.next_distribution("a b")
    assert p.shape == (len(VOCAB),) and p.dtype == np.float64
    assert p.sum() == pytest.approx(1.0) and p[VOCAB.id("<s>")] == 0.0
    assert model.logprob("c", "a b") == pytest.approx(math.log10(p[VOCAB.id("c")]))
    assert model.logprob("zebra", "a b") == model.logprob("<unk>", "a b")  # OOV is <unk>
    scores = model.full_scores("a b zebra")
    assert [s.token for s in scores] == ["a", "b", "zebra", "</s>"]
    assert scores[2].oov and not scores[0].oov
    assert math.fsum(s.logprob for s in scores) == pytest.approx(model.score("a b zebra"))
    by_steps = [
        model.logprob(w, ["a", "b", "zebra"][:i]) for i, w in enumerate(["a", "b", "zebra", "</s>"])
    ]
    np.testing.assert_allclose([s.logprob for s in scores], by_steps, rtol=1e-5)
    best = model.predict("a", k=3)
    assert len(best) == 3 and best[0][1] >= best[1][1] >= best[2][1]


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_perplexity_matches_scores(model: NeuralLanguageModel) -> None:
    corpus = ["a b c", "d zebra a"]
    result = model.perplexity(corpus)
    total = sum(model.score(s) for s in corpus)
    assert result.tokens == 8 and result.sentences == 2 and result.oovs == 1
    assert result.logprob == pytest.approx(total)
    assert result.perplexity == pytest.approx(10 ** (-total / 8))


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_generation_is_seeded(model: NeuralLanguageModel) -> None:
    one = model.generate("a", max_tokens=12, seed=7, stop=())
    assert one == model.generate("a", max_tokens=12, seed=7, stop=())
    steps = list(model.stream("a", max_tokens=5, seed=7, stop=(), explain=3))
    assert len(steps) == 5 and all(len(s.candidates) == 3 for s in steps)
    assert [s.token for s in steps] == one.split()[:5]
    assert (
        model.generate(max_tokens=3, temperature=0, stop=()).split()[0] == model.predict(k=1)[0][0]
    )


def numeric_check(model: NeuralLanguageModel, picks: int = 6) -> None:
    """Whole-model gradient against central differences on a few entries per array."""
    model.astype(np.float64)
    rng = np.random.default_rng(0)
    x = rng.integers(0, len(VOCAB), size=(2, 4))
    y = rng.integers(2, len(VOCAB), size=(2, 4))
    y[0, 0] = 1  # an <s> target is not counted
    state = (
        model.start_state(2)
        if model.stateful_training
        else model.window_state(np.arange(8) % len(VOCAB), np.array([3, 1]))
    )
    model.loss(x, y, state)
    grads = {k: v.copy() for k, v in model.gradients().items()}
    for name, p in model.parameters().items():
        for _ in range(picks):
            i = tuple(int(rng.integers(0, n)) for n in p.shape)
            old = p[i]
            p[i] = old + 1e-6
            up = model.loss(x, y, state, gradients=False)[0]
            p[i] = old - 1e-6
            down = model.loss(x, y, state, gradients=False)[0]
            p[i] = old
            assert (up - down) / 2e-6 == pytest.approx(grads[name][i], abs=1e-7, rel=1e-5), name


@pytest.mark.parametrize("index", range(len(MODELS)), ids=IDS)
def test_model_gradients(index: int) -> None:
    numeric_check(tiny_models()[index])


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match="tie_weights"):
        LSTMLanguageModel(VOCAB, embed_dim=4, hidden_dim=6, tie_weights=True)
    with pytest.raises(ValueError, match="order"):
        MLPLanguageModel(VOCAB, order=1)
    with pytest.raises(ValueError, match="multiple"):
        TransformerLanguageModel(VOCAB, dim=6, heads=4)

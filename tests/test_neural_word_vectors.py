"""Neural embeddings started from word2vec vectors (``from_word_vectors``)."""

from __future__ import annotations

import numpy as np
import pytest
from nextword import Vocab, Word2Vec, WordVectors
from nextword.errors import TrainingError
from nextword.neural import (
    LSTMLanguageModel,
    MLPLanguageModel,
    NeuralLanguageModel,
    TrainingConfig,
    TransformerLanguageModel,
)

VOCAB = Vocab(["cat", "dog", "mat"])


def make(kind: str, dim: int = 4) -> NeuralLanguageModel:
    if kind == "mlp":
        return MLPLanguageModel(VOCAB, order=3, embed_dim=dim, hidden_dim=8)
    if kind == "lstm":
        return LSTMLanguageModel(VOCAB, embed_dim=dim, hidden_dim=dim, tie_weights=True)
    return TransformerLanguageModel(VOCAB, dim=dim, heads=2, layers=1, block_size=4)


@pytest.mark.parametrize("kind", ["mlp", "lstm", "transformer"])
def test_rows_of_known_words_are_copied(kind: str) -> None:
    rng = np.random.default_rng(0)
    vectors = WordVectors(["dog", "zebra", "</s>", "cat"], rng.standard_normal((4, 4)))
    model, fresh = make(kind), make(kind)
    assert model.from_word_vectors(vectors) == 3  # dog, </s>, cat; not zebra
    name = "wte.weight" if kind == "transformer" else "embed.weight"
    table, before = model.parameters()[name], fresh.parameters()[name]
    for word in ("dog", "cat", "</s>"):
        np.testing.assert_array_equal(table[VOCAB.id(word)], vectors[word])
    for word in ("<unk>", "<s>", "mat"):  # the others keep their initialisation
        np.testing.assert_array_equal(table[VOCAB.id(word)], before[VOCAB.id(word)])
    # The model's predictions now come from those embeddings.
    assert not np.allclose(model.next_distribution(["dog"]), fresh.next_distribution(["dog"]))


def test_dimensions_must_match() -> None:
    with pytest.raises(TrainingError, match="dimension 3 cannot start embeddings of dimension 4"):
        make("lstm").from_word_vectors(WordVectors(["cat"], np.ones((1, 3))))


def test_fit_from_trained_word2vec() -> None:
    corpus = ["the cat sat on the mat", "the dog sat on the log"] * 20
    wv = Word2Vec(dim=8, min_count=1, epochs=2, threads=1).fit(corpus, progress=False)
    model = LSTMLanguageModel.fit(
        corpus,
        word_vectors=wv,
        embed_dim=8,
        hidden_dim=8,
        training=TrainingConfig(steps=1, learning_rate=1e-9),
        progress=False,
    )
    # One step at a negligible learning rate: the embedding rows are still word2vec's.
    np.testing.assert_allclose(
        model.parameters()["embed.weight"][model.vocab.id("cat")], wv["cat"], atol=1e-6
    )

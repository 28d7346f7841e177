"""Recurrent language models: Elman RNN and stacked LSTM (Zaremba et al. 2014).

Tokens are embedded, passed through ``layers`` recurrent layers with dropout on
the embeddings, between layers and before the output (never on the recurrent
connections), then projected to the vocabulary. With ``tie_weights`` the output
projection is the embedding matrix transposed (Press & Wolf 2017; Inan et al.
2017), which needs ``embed_dim == hidden_dim``. Training carries the state
from one batch to the next without back-propagating into it (truncated BPTT);
a sentence scored or generated on its own starts from the state after ``</s>``
(see :meth:`RecurrentLanguageModel.sentence_state`).

>>> from nextword import Vocab
>>> lm = LSTMLanguageModel(Vocab(["a", "b"]), embed_dim=8, hidden_dim=8, tie_weights=True)
>>> lm.predict([], k=1)[0][0] in lm.vocab.words()
True
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from nextword.neural.dropout import dropout, dropout_backward
from nextword.neural.embedding import Embedding
from nextword.neural.language_model import EOS, NeuralLanguageModel
from nextword.neural.linear import Linear
from nextword.neural.lstm_cell import LSTMCell
from nextword.neural.module import Array, IntArray, matmul, outer_sum
from nextword.neural.rnn_cell import RNNCell
from nextword.vocab import Vocab

Cell = Union[RNNCell, LSTMCell]


class RecurrentLanguageModel(NeuralLanguageModel):
    """The shared body of :class:`RNNLanguageModel` and :class:`LSTMLanguageModel`;
    the state is one cell state per layer."""

    stateful_training = True
    cell_type: type[Cell] = LSTMCell

    def __init__(
        self,
        vocab: Vocab,
        embed_dim: int = 64,
        hidden_dim: int = 128,
        layers: int = 1,
        dropout: float = 0.0,
        tie_weights: bool = False,
        seed: int = 0,
    ) -> None:
        if tie_weights and embed_dim != hidden_dim:
            raise ValueError("tie_weights needs embed_dim == hidden_dim")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {dropout}")
        config: dict[str, Any] = dict(embed_dim=embed_dim, hidden_dim=hidden_dim, layers=layers)
        config.update(dropout=dropout, tie_weights=tie_weights, seed=seed)
        super().__init__(vocab, config)
        rng = np.random.default_rng(seed)
        self.dropout, self.tie_weights = dropout, tie_weights
        self.embed = self.add_child("embed", Embedding(len(vocab), embed_dim, rng))
        self.cells: list[Cell] = [
            self.add_child(
                f"layer{i}", self.cell_type(embed_dim if i == 0 else hidden_dim, hidden_dim, rng)
            )
            for i in range(layers)
        ]
        if tie_weights:
            self.add_param("out_bias", np.zeros(len(vocab), np.float32))
        else:
            self.out = self.add_child("out", Linear(hidden_dim, len(vocab), rng))

    def start_state(self, batch: int) -> list[Any]:
        return [cell.zero_state(batch) for cell in self.cells]

    def sentence_state(self, batch: int) -> list[Any]:
        """The state after reading ``</s>`` from the zero state: a sentence scored
        or generated on its own starts there, as every sentence but the first
        does in the stream training reads (the state carried past the sentence
        before). It is the same for every sentence and holds nothing of any
        other, so the context is still just ``<s>``, as an n-gram model's is;
        starting from the zero state instead, which training meets once per
        stream, costs the PTB LSTM 22% in per-sentence perplexity."""
        ends = np.full((batch, 1), EOS, dtype=np.int64)
        state: list[Any] = self.forward(ends, self.start_state(batch))[1]
        return state

    def forward(
        self, ids: IntArray, state: Any, rng: Optional[np.random.Generator] = None
    ) -> tuple[Array, Any, Any]:
        x, mask = dropout(self.embed.forward(ids), self.dropout, rng)
        masks, caches, new_state = [mask], [], []
        for cell, s in zip(self.cells, state):
            out, last, cache = cell.forward(x, s)
            x, mask = dropout(out, self.dropout, rng)
            masks.append(mask)
            caches.append(cache)
            new_state.append(last)
        return self.out_logits(x), new_state, (ids, x, masks, caches)

    def out_logits(self, x: Array) -> Array:
        """The output projection: logits ``[..., V]`` of the last layer's (dropped-out) output."""
        if self.tie_weights:
            logits: Array = matmul(x, self.embed.weight.T)
            logits += self.params["out_bias"]
            return logits
        return self.out.forward(x)

    def backward(self, dlogits: Array, cache: Any) -> None:
        ids, x, masks, caches = cache
        if self.tie_weights:
            self.grads["out_bias"] += dlogits.sum(axis=(0, 1))
            self.embed.grads["weight"] += outer_sum(dlogits, x)
            dx = matmul(dlogits, self.embed.weight)
        else:
            dx = self.out.backward(dlogits, x)
        for cell, mask, c in zip(reversed(self.cells), reversed(masks[1:]), reversed(caches)):
            # Truncated BPTT: no gradient flows into the state carried from the last batch.
            no_gradient: Any = cell.zero_state(ids.shape[0])
            dx, _ = cell.backward(dropout_backward(dx, mask), no_gradient, c)
        self.embed.backward(dropout_backward(dx, masks[0]), ids)


class RNNLanguageModel(RecurrentLanguageModel):
    """Elman (1990) recurrent language model: tanh cells (see the module docs)."""

    cell_type = RNNCell


class LSTMLanguageModel(RecurrentLanguageModel):
    """Stacked LSTM language model of Zaremba et al. (2014) (see the module docs)."""

    cell_type = LSTMCell


__all__ = ["LSTMLanguageModel", "RNNLanguageModel", "RecurrentLanguageModel"]

"""The feed-forward neural language model of Bengio et al. (2003).

The previous ``order - 1`` tokens are embedded, concatenated, passed through a
tanh hidden layer and a softmax over the vocabulary. Before the sentence start
the context is padded with ``<s>``. (The paper's optional direct connections
from the embeddings to the output are left out.)

>>> from nextword import Vocab
>>> lm = MLPLanguageModel(Vocab(["a", "b"]), order=3, embed_dim=4, hidden_dim=8)
>>> lm.next_distribution(["a"]).shape
(5,)
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from nextword.neural.activations import tanh, tanh_backward
from nextword.neural.embedding import Embedding
from nextword.neural.language_model import BOS, NeuralLanguageModel
from nextword.neural.linear import Linear
from nextword.neural.module import Array, IntArray
from nextword.vocab import Vocab


class MLPLanguageModel(NeuralLanguageModel):
    """Embeddings of a fixed context, one tanh layer, softmax (see the module docs).

    The state (for generation) is the last ``order - 1`` ids.
    """

    def __init__(
        self,
        vocab: Vocab,
        order: int = 4,
        embed_dim: int = 32,
        hidden_dim: int = 128,
        seed: int = 0,
    ) -> None:
        if order < 2:
            raise ValueError(f"order must be >= 2, not {order}")
        super().__init__(
            vocab, dict(order=order, embed_dim=embed_dim, hidden_dim=hidden_dim, seed=seed)
        )
        rng = np.random.default_rng(seed)
        self.context = order - 1
        self.order = order
        self.embed = self.add_child("embed", Embedding(len(vocab), embed_dim, rng))
        self.hidden = self.add_child("hidden", Linear(self.context * embed_dim, hidden_dim, rng))
        self.out = self.add_child("out", Linear(hidden_dim, len(vocab), rng))

    def start_state(self, batch: int) -> IntArray:
        return np.full((batch, self.context), BOS, dtype=np.int64)

    def window_state(self, stream: IntArray, starts: IntArray) -> IntArray:
        # The ids just before each window, so training sees the contexts inference sees.
        idx = starts[:, None] - self.context + np.arange(self.context)[None, :]
        return np.where(idx >= 0, stream[np.maximum(idx, 0)], BOS).astype(np.int64)

    def forward(
        self, ids: IntArray, state: Any, rng: Optional[np.random.Generator] = None
    ) -> tuple[Array, Any, Any]:
        full = np.concatenate([state, ids], axis=1)
        # Position t predicts from full[t + 1 : t + 1 + context]: its own id and the ones before.
        windows = np.lib.stride_tricks.sliding_window_view(full, self.context, axis=1)[:, 1:]
        b, t = ids.shape
        x = self.embed.forward(windows).reshape(b, t, -1)
        h = tanh(self.hidden.forward(x))
        logits = self.out.forward(h)
        return logits, full[:, -self.context :], (windows, x, h)

    def backward(self, dlogits: Array, cache: Any) -> None:
        windows, x, h = cache
        dh = tanh_backward(self.out.backward(dlogits, h), h)
        dx = self.hidden.backward(dh, x)
        self.embed.backward(dx.reshape(*windows.shape, -1), windows)


__all__ = ["MLPLanguageModel"]

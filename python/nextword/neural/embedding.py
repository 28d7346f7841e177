"""Embedding: a lookup table from token ids to vectors.

>>> import numpy as np
>>> e = Embedding(10, 4, np.random.default_rng(0))
>>> e.forward(np.array([[1, 2, 3]])).shape
(1, 3, 4)
"""

from __future__ import annotations

import numpy as np

from nextword.neural.module import Array, IntArray, Module, normal


class Embedding(Module):
    """``weight[ids]``; the gradient of a row is the sum over its occurrences."""

    def __init__(self, count: int, dim: int, rng: np.random.Generator, std: float = 0.1) -> None:
        super().__init__()
        self.weight = self.add_param("weight", normal(rng, (count, dim), std))

    def on_params_replaced(self) -> None:
        self.weight = self.params["weight"]

    def forward(self, ids: IntArray) -> Array:
        """Vectors of shape ``ids.shape + (dim,)``."""
        return self.weight[ids]

    def copy_rows(self, rows: IntArray, values: Array) -> None:
        """Set ``weight[rows] = values`` (``values`` is ``[len(rows), dim]``)."""
        self.weight[rows] = values

    def backward(self, dout: Array, ids: IntArray) -> None:
        """Add the gradient of ``forward(ids)`` given ``dout`` (ids have no gradient)."""
        # np.add.at sums repeated ids, where fancy-index assignment would keep one.
        np.add.at(self.grads["weight"], ids.reshape(-1), dout.reshape(-1, dout.shape[-1]))


__all__ = ["Embedding"]

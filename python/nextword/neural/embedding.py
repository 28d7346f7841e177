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
        flat = ids.reshape(-1)
        if not len(flat):
            return
        # Sum the rows of each id, then add each sum once: np.add.at does the same
        # one row at a time, several times slower (2 ms against 0.5 for 768 x 128).
        order = np.argsort(flat, kind="stable")
        ordered = flat[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        sums = np.add.reduceat(dout.reshape(-1, dout.shape[-1])[order], starts, axis=0)
        self.grads["weight"][ordered[starts]] += sums


__all__ = ["Embedding"]

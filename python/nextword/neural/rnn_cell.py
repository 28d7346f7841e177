"""The Elman RNN cell, run over a sequence: ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``.

``forward`` takes a batch of sequences ``[B, T, in]`` and the state before them
(``[B, H]``) and returns every hidden state ``[B, T, H]`` and the last one, so a
caller can carry it to the next batch (truncated back-propagation through
time) or step one token at a time (``T = 1``) while generating.

>>> import numpy as np
>>> cell = RNNCell(3, 5, np.random.default_rng(0))
>>> out, h, _ = cell.forward(np.zeros((2, 4, 3), np.float32), cell.zero_state(2))
>>> out.shape, h.shape
((2, 4, 5), (2, 5))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nextword.neural.activations import tanh_backward
from nextword.neural.module import Array, Module, matmul, outer_sum, uniform


class RNNCell(Module):
    """An Elman recurrent layer with a tanh non-linearity (see the module docs)."""

    def __init__(self, input_dim: int, hidden_dim: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        scale = hidden_dim**-0.5
        self.add_param("w_x", uniform(rng, (input_dim, hidden_dim), scale))
        self.add_param("w_h", uniform(rng, (hidden_dim, hidden_dim), scale))
        self.add_param("bias", np.zeros(hidden_dim, np.float32))

    def zero_state(self, batch: int) -> Array:
        """The state before any input: zeros of shape ``[batch, H]``."""
        return np.zeros((batch, self.hidden_dim), self.params["w_h"].dtype)

    def forward(self, x: Array, h: Array) -> tuple[Array, Array, Any]:
        """Hidden states for every step, the last state, and a cache for :meth:`backward`."""
        p = self.params
        # One matrix product for the input side of every step, outside the time loop.
        pre_x = matmul(x, p["w_x"]) + p["bias"]
        out = np.empty(pre_x.shape, pre_x.dtype)
        h0 = h
        for t in range(x.shape[1]):
            h = np.tanh(pre_x[:, t] + h @ p["w_h"])
            out[:, t] = h
        return out, h, (x, h0, out)

    def backward(self, dout: Array, dh_last: Array, cache: Any) -> tuple[Array, Array]:
        """Gradients for the inputs and the initial state, given those of every
        output and of the last state; parameter gradients are added."""
        x, h0, out = cache
        w_h = self.params["w_h"]
        dpre = np.empty_like(out)
        dh = dh_last
        for t in reversed(range(x.shape[1])):
            dpre[:, t] = tanh_backward(dout[:, t] + dh, out[:, t])
            dh = dpre[:, t] @ w_h.T
        prev = np.concatenate([h0[:, None], out[:, :-1]], axis=1)
        self.grads["w_h"] += outer_sum(prev, dpre)
        self.grads["w_x"] += outer_sum(x, dpre)
        self.grads["bias"] += dpre.sum(axis=(0, 1))
        return matmul(dpre, self.params["w_x"].T), dh


__all__ = ["RNNCell"]

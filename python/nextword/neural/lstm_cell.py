"""The LSTM cell (Hochreiter & Schmidhuber 1997, with a forget gate), run over a sequence.

Gates ``i, f, g, o`` come from one product ``x_t W_x + h_{t-1} W_h + b``;
``c_t = f * c_{t-1} + i * g`` and ``h_t = o * tanh(c_t)``. The forget-gate bias
starts at 1 so that early training remembers (Jozefowicz et al. 2015). The
state is the pair ``(h, c)``, each ``[B, H]``.

>>> import numpy as np
>>> cell = LSTMCell(3, 5, np.random.default_rng(0))
>>> out, (h, c), _ = cell.forward(np.zeros((2, 4, 3), np.float32), cell.zero_state(2))
>>> out.shape, c.shape
((2, 4, 5), (2, 5))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nextword.neural.activations import sigmoid
from nextword.neural.module import Array, Module, matmul, outer_sum, uniform

LSTMState = tuple[Array, Array]


class LSTMCell(Module):
    """A long short-term memory layer (see the module docs)."""

    def __init__(self, input_dim: int, hidden_dim: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        scale = hidden_dim**-0.5
        self.add_param("w_x", uniform(rng, (input_dim, 4 * hidden_dim), scale))
        self.add_param("w_h", uniform(rng, (hidden_dim, 4 * hidden_dim), scale))
        bias = np.zeros(4 * hidden_dim, np.float32)
        bias[hidden_dim : 2 * hidden_dim] = 1.0
        self.add_param("bias", bias)

    def zero_state(self, batch: int) -> LSTMState:
        """``(h, c)`` before any input: zeros."""
        z = np.zeros((batch, self.hidden_dim), self.params["w_h"].dtype)
        return z, z.copy()

    def forward(self, x: Array, state: LSTMState) -> tuple[Array, LSTMState, Any]:
        """Hidden states for every step, the last ``(h, c)``, and a cache for :meth:`backward`."""
        p, hd = self.params, self.hidden_dim
        h, c = state
        pre_x = matmul(x, p["w_x"]) + p["bias"]
        b, steps = x.shape[0], x.shape[1]
        gates = np.empty((b, steps, 4 * hd), pre_x.dtype)  # activated i, f, g, o
        cells = np.empty((b, steps, hd), pre_x.dtype)
        out = np.empty((b, steps, hd), pre_x.dtype)
        for t in range(steps):
            z = pre_x[:, t] + h @ p["w_h"]
            a = sigmoid(z)
            a[:, 2 * hd : 3 * hd] = np.tanh(z[:, 2 * hd : 3 * hd])
            i, f, g, o = a[:, :hd], a[:, hd : 2 * hd], a[:, 2 * hd : 3 * hd], a[:, 3 * hd :]
            c = f * c + i * g
            h = o * np.tanh(c)
            gates[:, t] = a
            cells[:, t], out[:, t] = c, h
        return out, (h, c), (x, state, gates, cells, out)

    def backward(self, dout: Array, dstate_last: LSTMState, cache: Any) -> tuple[Array, LSTMState]:
        """Gradients for the inputs and the initial ``(h, c)``, given those of every
        output and of the last state; parameter gradients are added."""
        x, (h0, c0), gates, cells, out = cache
        hd, w_h = self.hidden_dim, self.params["w_h"]
        dz = np.empty_like(gates)
        dh, dc = dstate_last
        for t in reversed(range(x.shape[1])):
            i, f = gates[:, t, :hd], gates[:, t, hd : 2 * hd]
            g, o = gates[:, t, 2 * hd : 3 * hd], gates[:, t, 3 * hd :]
            c_prev = cells[:, t - 1] if t > 0 else c0
            tanh_c = np.tanh(cells[:, t])
            dh = dout[:, t] + dh
            dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
            dz[:, t, :hd] = dc * g * i * (1.0 - i)
            dz[:, t, hd : 2 * hd] = dc * c_prev * f * (1.0 - f)
            dz[:, t, 2 * hd : 3 * hd] = dc * i * (1.0 - g * g)
            dz[:, t, 3 * hd :] = dh * tanh_c * o * (1.0 - o)
            dc = dc * f
            dh = dz[:, t] @ w_h.T
        prev = np.concatenate([h0[:, None], out[:, :-1]], axis=1)
        self.grads["w_h"] += outer_sum(prev, dz)
        self.grads["w_x"] += outer_sum(x, dz)
        self.grads["bias"] += dz.sum(axis=(0, 1))
        return matmul(dz, self.params["w_x"].T), (dh, dc)


__all__ = ["LSTMCell", "LSTMState"]

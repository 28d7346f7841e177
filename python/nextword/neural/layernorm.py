"""Layer normalisation over the last axis (Ba et al. 2016).

>>> import numpy as np
>>> ln = LayerNorm(4)
>>> y, _ = ln.forward(np.arange(8.0).reshape(2, 4))
>>> np.allclose(y.mean(axis=-1), 0)
True
"""

from __future__ import annotations

import numpy as np

from nextword.neural.module import Array, Module


class LayerNorm(Module):
    """``gain * (x - mean) / sqrt(var + eps) + bias`` per vector."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.add_param("gain", np.ones(dim, np.float32))
        self.add_param("bias", np.zeros(dim, np.float32))

    def forward(self, x: Array) -> tuple[Array, tuple[Array, Array]]:
        """The normalised ``x`` and the cache ``(x_hat, 1/std)`` for :meth:`backward`."""
        centred = x - x.mean(axis=-1, keepdims=True)
        squares = centred * centred
        inv_std = 1.0 / np.sqrt(squares.mean(axis=-1, keepdims=True) + self.eps)
        x_hat = centred
        x_hat *= inv_std  # in place: centred is not needed apart from x_hat
        out = np.multiply(x_hat, self.params["gain"], out=squares)
        out += self.params["bias"]
        return out, (x_hat, inv_std)

    def backward(self, dout: Array, cache: tuple[Array, Array]) -> Array:
        """Add gain/bias gradients; return the gradient with respect to ``x``."""
        x_hat, inv_std = cache
        width = dout.shape[-1]
        rows = dout.reshape(-1, width)
        dx_hat = rows * self.params["gain"]
        scratch = rows * x_hat.reshape(-1, width)
        self.grads["gain"] += scratch.sum(axis=0)
        self.grads["bias"] += rows.sum(axis=0)
        dx_hat = dx_hat.reshape(dout.shape)
        scratch = scratch.reshape(dout.shape)
        # d/dx of (x - mean) * inv_std, with the mean and variance depending on x:
        # inv_std (dx_hat - mean(dx_hat) - x_hat mean(dx_hat x_hat)), in place.
        mean_dx_hat = dx_hat.mean(axis=-1, keepdims=True)
        np.multiply(dx_hat, x_hat, out=scratch)
        mean_dx_hat_x_hat = scratch.mean(axis=-1, keepdims=True)
        np.multiply(x_hat, mean_dx_hat_x_hat, out=scratch)
        dx_hat -= mean_dx_hat
        dx_hat -= scratch
        dx_hat *= inv_std
        return dx_hat


__all__ = ["LayerNorm"]

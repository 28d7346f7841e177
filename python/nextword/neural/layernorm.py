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
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        inv_std = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + self.eps)
        x_hat = centred * inv_std
        return x_hat * self.params["gain"] + self.params["bias"], (x_hat, inv_std)

    def backward(self, dout: Array, cache: tuple[Array, Array]) -> Array:
        """Add gain/bias gradients; return the gradient with respect to ``x``."""
        x_hat, inv_std = cache
        lead = tuple(range(dout.ndim - 1))
        self.grads["gain"] += (dout * x_hat).sum(axis=lead)
        self.grads["bias"] += dout.sum(axis=lead)
        dx_hat = dout * self.params["gain"]
        # d/dx of (x - mean) * inv_std, with the mean and variance depending on x.
        mean_dx_hat = dx_hat.mean(axis=-1, keepdims=True)
        mean_dx_hat_x_hat = (dx_hat * x_hat).mean(axis=-1, keepdims=True)
        dx: Array = inv_std * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)
        return dx


__all__ = ["LayerNorm"]

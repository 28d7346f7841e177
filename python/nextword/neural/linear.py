"""Linear (affine) layer over the last axis: ``y = x @ weight + bias``.

>>> import numpy as np
>>> layer = Linear(3, 2, np.random.default_rng(0))
>>> layer.forward(np.ones((4, 5, 3), dtype=np.float32)).shape
(4, 5, 2)
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from nextword.neural.module import Array, Module, matmul, normal, outer_sum


class Linear(Module):
    """``x @ weight (+ bias)`` for any leading shape of ``x``; weight is ``[in, out]``."""

    def __init__(
        self,
        fan_in: int,
        fan_out: int,
        rng: np.random.Generator,
        bias: bool = True,
        std: Optional[float] = None,
    ) -> None:
        super().__init__()
        scale = fan_in**-0.5 if std is None else std
        self.weight = self.add_param("weight", normal(rng, (fan_in, fan_out), scale))
        self.bias = self.add_param("bias", np.zeros(fan_out, np.float32)) if bias else None

    def on_params_replaced(self) -> None:
        self.weight = self.params["weight"]
        self.bias = self.params.get("bias")

    def forward(self, x: Array) -> Array:
        """The affine map of ``x`` (keep ``x`` for :meth:`backward`)."""
        y = matmul(x, self.weight)
        if self.bias is not None:
            y += self.bias  # in place: the product is a fresh array
        return y

    def backward(self, dout: Array, x: Array) -> Array:
        """Add weight/bias gradients; return the gradient with respect to ``x``."""
        self.grads["weight"] += outer_sum(x, dout)
        if self.bias is not None:
            self.grads["bias"] += dout.reshape(-1, dout.shape[-1]).sum(axis=0)
        return matmul(dout, self.weight.T)


__all__ = ["Linear"]

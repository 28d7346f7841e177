"""Activations with their derivatives: tanh and GELU (tanh approximation).

Each ``*_backward`` takes what its forward kept (the output for tanh, the
input for GELU) and the gradient of the output.

>>> import numpy as np
>>> float(gelu(np.array(0.0)))
0.0
"""

from __future__ import annotations

import math

import numpy as np

from nextword.neural.module import Array

_GELU_C = math.sqrt(2.0 / math.pi)


def tanh(x: Array) -> Array:
    """Hyperbolic tangent; keep the output for :func:`tanh_backward`."""
    return np.tanh(x)


def tanh_backward(dout: Array, y: Array) -> Array:
    """Gradient through tanh from its output ``y``: ``dout * (1 - y**2)``."""
    return dout * (1.0 - y * y)


def gelu(x: Array) -> Array:
    """GELU as GPT-2 computes it: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    return 0.5 * x * (1.0 + np.tanh(_GELU_C * (x + 0.044715 * x**3)))


def gelu_backward(dout: Array, x: Array) -> Array:
    """Gradient through :func:`gelu` at its input ``x``."""
    t = np.tanh(_GELU_C * (x + 0.044715 * x**3))
    du = _GELU_C * (1.0 + 3 * 0.044715 * x * x)
    return dout * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)


def sigmoid(x: Array) -> Array:
    """Logistic function, computed without overflow for large ``|x|``."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


__all__ = ["gelu", "gelu_backward", "sigmoid", "tanh", "tanh_backward"]

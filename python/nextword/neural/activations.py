"""Activations with their derivatives: tanh and GELU (tanh approximation).

Each ``*_backward`` takes what its forward kept (the output for tanh, the
input and the logistic factor of :func:`gelu_forward` for GELU) and the
gradient of the output.

>>> import numpy as np
>>> float(gelu(np.array(0.0)))
0.0
"""

from __future__ import annotations

import math
from typing import Optional

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
    return gelu_forward(x)[0]


def gelu_forward(x: Array) -> tuple[Array, Array]:
    """:func:`gelu` of ``x`` and what :func:`gelu_backward` reuses: ``s = 0.5 (1 + tanh(u))``.

    ``0.5 (1 + tanh(u))`` is the logistic ``1 / (1 + exp(-2u))``, so GELU is ``x s``:
    one ``exp`` and a few in-place passes, where ``x**3`` (a float ``pow`` per value)
    and ``tanh`` cost several times more in numpy.
    """
    s = np.multiply(x, x, out=np.empty_like(x))  # -2u = x (-2c - 2c 0.044715 x^2)
    s *= -2.0 * _GELU_C * 0.044715
    s -= 2.0 * _GELU_C
    s *= x
    with np.errstate(over="ignore"):  # exp(-2u) = inf for u << 0: s = 0, as tanh = -1
        np.exp(s, out=s)
    s += 1.0
    np.reciprocal(s, out=s)
    return x * s, s


def gelu_backward(dout: Array, x: Array, s: Optional[Array] = None) -> Array:
    """Gradient through :func:`gelu` at its input ``x`` (``s`` from :func:`gelu_forward`,
    recomputed when not given): ``dout (s + 2 x s (1 - s) u')`` with
    ``u' = sqrt(2/pi) (1 + 3 0.044715 x^2)``, since ``1 - tanh(u)^2 = 4 s (1 - s)``."""
    if s is None:
        s = gelu_forward(x)[1]
    grad = np.multiply(x, x, out=np.empty_like(x))  # 2 x u'
    grad *= 2.0 * _GELU_C * 3 * 0.044715
    grad += 2.0 * _GELU_C
    grad *= x
    grad *= s
    grad *= 1.0 - s
    grad += s
    grad *= dout
    return grad


def sigmoid(x: Array) -> Array:
    """Logistic function, computed without overflow for large ``|x|``."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


__all__ = ["gelu", "gelu_backward", "gelu_forward", "sigmoid", "tanh", "tanh_backward"]

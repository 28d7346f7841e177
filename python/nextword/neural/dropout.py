"""Inverted dropout: zero a fraction ``rate`` of values and scale the rest by
``1 / (1 - rate)`` while training, so nothing changes at inference.

>>> import numpy as np
>>> y, mask = dropout(np.ones(4), 0.0, None)
>>> y.tolist()
[1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from nextword.neural.module import Array


def dropout(
    x: Array, rate: float, rng: Optional[np.random.Generator]
) -> tuple[Array, Optional[Array]]:
    """``x`` with dropout applied (none when ``rng`` is None or ``rate`` is 0) and the
    scaled mask for :func:`dropout_backward` (None when nothing was dropped)."""
    if rng is None or rate <= 0.0:
        return x, None
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout rate must be in [0, 1), not {rate}")
    mask = (rng.random(x.shape) >= rate).astype(x.dtype) / x.dtype.type(1.0 - rate)
    return x * mask, mask


def dropout_backward(dout: Array, mask: Optional[Array]) -> Array:
    """Gradient through :func:`dropout` given its mask."""
    return dout if mask is None else dout * mask


__all__ = ["dropout", "dropout_backward"]

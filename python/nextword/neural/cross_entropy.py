"""Softmax and softmax cross-entropy, fused and numerically stable.

Logits are shifted by their maximum before ``exp`` so nothing overflows; the
gradient of the mean loss with respect to the logits is ``softmax - one_hot``
(over the counted positions), computed without forming the softmax twice.

>>> import numpy as np
>>> loss, grad = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
>>> round(loss, 6) == round(float(np.log(4)), 6)
True
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from nextword.neural.module import Array, IntArray


def log_softmax(logits: Array) -> Array:
    """``log softmax`` over the last axis (entries of -inf stay -inf)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    result: Array = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return result


def softmax(logits: Array) -> Array:
    """Softmax over the last axis."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    result: Array = e / e.sum(axis=-1, keepdims=True)
    return result


def softmax_cross_entropy(
    logits: Array, targets: IntArray, weights: Optional[Array] = None, *, inplace: bool = False
) -> tuple[float, Array]:
    """Mean negative log-likelihood of ``targets`` and its gradient for ``logits``.

    ``logits`` is ``[..., V]``, ``targets`` has the leading shape. ``weights``
    (same shape as ``targets``, e.g. 0/1) says which positions count; the mean
    is over their total weight. With ``inplace`` the gradient is written into
    ``logits`` (no ``[N, V]`` temporaries: over a 10 k vocabulary the passes
    over memory are the cost), otherwise ``logits`` is left alone.
    """
    grad = logits if inplace else logits.copy()
    flat = grad.reshape(-1, grad.shape[-1])
    t = targets.reshape(-1)
    rows = np.arange(len(t))
    w = np.ones(t.shape, flat.dtype) if weights is None else weights.reshape(-1).astype(flat.dtype)
    total = w.sum()
    if total <= 0:
        raise ValueError("no position to compute a loss on")
    flat -= flat.max(axis=-1, keepdims=True)
    picked = flat[rows, t].astype(np.float64)  # shifted logit of each target
    np.exp(flat, out=flat)
    sums = flat.sum(axis=-1, dtype=np.float64)
    logp = picked - np.log(sums)
    # Positions of weight 0 may hold -inf (a banned target): keep them out of the sum.
    loss = float(-np.sum(np.where(w > 0, logp, 0.0) * w) / total)
    scale = (w / total).astype(np.float64)
    flat *= (scale / sums).astype(flat.dtype)[:, None]
    flat[rows, t] -= scale.astype(flat.dtype)
    return loss, grad


__all__ = ["log_softmax", "softmax", "softmax_cross_entropy"]

"""Multi-head causal self-attention (Vaswani et al. 2017), with a key/value cache.

``x [B, T, C]`` is projected to queries, keys and values (one ``C -> 3C``
product), split into ``heads`` of ``C / heads`` dims; position ``t`` attends to
positions ``<= t`` only. Given a :class:`KVCache` of ``P`` earlier positions,
``forward`` appends the new keys and values and the ``T`` new queries attend
to all ``P + T``: a generator then pays for one position per token instead of
recomputing the context. ``backward`` is for training (no cache).

>>> import numpy as np
>>> attn = CausalSelfAttention(8, 2, np.random.default_rng(0))
>>> y, _ = attn.forward(np.ones((1, 3, 8), np.float32))
>>> y.shape
(1, 3, 8)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from nextword.neural.linear import Linear
from nextword.neural.module import Array, Module


@dataclass
class KVCache:
    """Keys and values of the positions seen so far, each ``[B, heads, P, head_dim]``."""

    keys: Array
    values: Array

    @property
    def length(self) -> int:
        """How many positions the cache holds."""
        return int(self.keys.shape[2])


class CausalSelfAttention(Module):
    """Masked multi-head self-attention with an output projection."""

    def __init__(
        self, dim: int, heads: int, rng: np.random.Generator, out_std: Optional[float] = None
    ) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not a multiple of heads {heads}")
        self.dim, self.heads = dim, heads
        self.qkv = self.add_child("qkv", Linear(dim, 3 * dim, rng))
        self.proj = self.add_child("proj", Linear(dim, dim, rng, std=out_std))

    def _split(self, a: Array) -> Array:
        b, t, _ = a.shape
        heads: Array = a.reshape(b, t, self.heads, self.dim // self.heads).transpose(0, 2, 1, 3)
        return heads

    def forward(
        self, x: Array, cache: Optional[KVCache] = None
    ) -> tuple[Array, tuple[Any, KVCache]]:
        """The attended ``x`` and ``(backward cache, key/value cache including x)``."""
        b, t, c = x.shape
        qkv = self.qkv.forward(x)
        q, k, v = (self._split(a) for a in np.split(qkv, 3, axis=-1))
        if cache is not None:
            k = np.concatenate([cache.keys, k], axis=2)
            v = np.concatenate([cache.values, v], axis=2)
        past = k.shape[2] - t
        scores = q @ k.transpose(0, 1, 3, 2)
        scores /= np.sqrt(c // self.heads).astype(x.dtype)
        scores += _causal_mask(t, past, x.dtype)  # 0 where visible, -inf elsewhere
        # Softmax over the keys, in place (the scores are a fresh array).
        scores -= scores.max(axis=-1, keepdims=True)
        att = np.exp(scores, out=scores)
        att /= att.sum(axis=-1, keepdims=True)
        y = np.empty((b, t, c), x.dtype)
        np.matmul(att, v, out=self._split(y))  # written straight into [B, T, C]
        out = self.proj.forward(y)
        return out, ((x, q, k, v, att, y), KVCache(k, v))

    def backward(self, dout: Array, cache: Any) -> Array:
        """Add parameter gradients; return the gradient with respect to ``x``."""
        x, q, k, v, att, y = cache
        b, t, c = x.shape
        dy = self._split(self.proj.backward(dout, y))
        datt = dy @ v.transpose(0, 1, 3, 2)
        # Softmax backward, in place: att (datt - sum(datt att)); masked entries
        # have att = 0 and get no gradient.
        scratch = datt * att
        datt -= scratch.sum(axis=-1, keepdims=True)
        datt *= att
        dscores = datt
        dscores /= np.sqrt(c // self.heads).astype(x.dtype)
        # dq, dk, dv written straight into the [B, T, 3C] gradient of qkv.
        dqkv = np.empty((b, t, 3 * c), x.dtype)
        dq, dk, dv = (self._split(a) for a in np.split(dqkv, 3, axis=-1))
        np.matmul(dscores, k, out=dq)
        np.matmul(dscores.transpose(0, 1, 3, 2), q, out=dk)
        np.matmul(att.transpose(0, 1, 3, 2), dy, out=dv)
        return self.qkv.backward(dqkv, x)


_MASKS: dict[tuple[int, int, str], Array] = {}


def _causal_mask(t: int, past: int, dtype: np.dtype[Any]) -> Array:
    """``[t, past + t]``: 0 where query ``i`` (at absolute position ``past + i``) sees
    key ``j`` (``j <= past + i``), -inf elsewhere; cached (read-only) per shape."""
    key = (t, past, np.dtype(dtype).str)
    mask = _MASKS.get(key)
    if mask is None:
        visible = np.arange(past + t)[None, :] <= past + np.arange(t)[:, None]
        mask = np.where(visible, 0.0, -np.inf).astype(dtype)
        mask.flags.writeable = False
        if len(_MASKS) < 256:  # generation grows past by one per token: keep it bounded
            _MASKS[key] = mask
    return mask


__all__ = ["CausalSelfAttention", "KVCache"]

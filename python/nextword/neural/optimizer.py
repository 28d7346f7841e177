"""AdamW (Loshchilov & Hutter 2019) with linear warm-up and cosine decay, and
gradient clipping by global norm.

Weight decay is decoupled from the gradient and, as in GPT-2 training, applied
to matrices only (not to biases or LayerNorm gains).

>>> import numpy as np
>>> w = {"w": np.ones((2, 2), np.float32)}
>>> opt = AdamW(w, learning_rate=0.1, weight_decay=0.0)
>>> opt.step({"w": np.ones((2, 2), np.float32)}, 0.1)
>>> round(float(w["w"][0, 0]), 6)
0.9
"""

from __future__ import annotations

import math

import numpy as np

from nextword.neural.module import Array


def learning_rate_at(step: int, peak: float, warmup: int, total: int, floor_ratio: float) -> float:
    """The learning rate of (0-based) ``step``: linear warm-up to ``peak`` over
    ``warmup`` steps, then cosine decay to ``peak * floor_ratio`` at ``total``.

    >>> learning_rate_at(0, 1.0, 10, 100, 0.1), learning_rate_at(100, 1.0, 10, 100, 0.1)
    (0.1, 0.1)
    """
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (floor_ratio + (1.0 - floor_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def clip_gradients(grads: dict[str, Array], max_norm: float) -> float:
    """Scale ``grads`` in place so that their global L2 norm is at most
    ``max_norm`` (no clipping when it is <= 0); returns the norm before clipping."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if max_norm > 0 and norm > max_norm:
        for g in grads.values():
            g *= max_norm / (norm + 1e-6)
    return norm


class AdamW:
    """Adam with decoupled weight decay over named parameters (updated in place)."""

    def __init__(
        self,
        params: dict[str, Array],
        learning_rate: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        self.params = params
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.learning_rate, self.weight_decay = learning_rate, weight_decay
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads: dict[str, Array], learning_rate: float) -> None:
        """One update with ``learning_rate`` (the schedule's value for this step)."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        correction1, correction2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        step1, step2 = learning_rate / correction1, 1.0 / math.sqrt(correction2)
        for name, p in self.params.items():
            g = grads[name]
            m, v = self.m[name], self.v[name]
            # In place with one scratch array: a 10 k x 200 embedding is 2 M floats
            # per pass, and temporaries would double the passes.
            scratch = np.multiply(g, 1.0 - b1)
            m *= b1
            m += scratch
            np.multiply(g, g, out=scratch)
            scratch *= 1.0 - b2
            v *= b2
            v += scratch
            np.sqrt(v, out=scratch)
            scratch *= step2
            scratch += self.eps
            np.divide(m, scratch, out=scratch)
            if p.ndim >= 2 and self.weight_decay:
                p *= 1.0 - learning_rate * self.weight_decay
            scratch *= step1
            p -= scratch


__all__ = ["AdamW", "clip_gradients", "learning_rate_at"]

"""The base of every layer and model: named parameters with their gradients.

A :class:`Module` owns arrays (``params``) and, for each, a gradient array of the
same shape (``grads``) that ``backward`` adds into. Sub-modules are registered by
name, so a model's parameters have dotted names (``blocks.0.attn.qkv.weight``):
the names the optimizer and the checkpoint use.

>>> import numpy as np
>>> m = Module()
>>> w = m.add_param("weight", np.zeros((2, 3)))
>>> sorted(m.parameters())
['weight']
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]  # float32 for training, float64 for gradient checks
IntArray = npt.NDArray[np.integer]
M = TypeVar("M", bound="Module")


class Module:
    """Parameters, their gradients and sub-modules (see the module docs)."""

    def __init__(self) -> None:
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.children: dict[str, Module] = {}

    def add_param(self, name: str, value: Array) -> Array:
        """Register ``value`` as parameter ``name`` with a zero gradient; returns it."""
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)
        return value

    def add_child(self, name: str, child: M) -> M:
        """Register a sub-module; its parameters are named ``name.<param>``."""
        self.children[name] = child
        return child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, depth first, with their name prefixes."""
        yield prefix, self
        for name, child in self.children.items():
            yield from child.named_modules(f"{prefix}{name}.")

    def parameters(self) -> dict[str, Array]:
        """Every parameter by dotted name (the arrays themselves, not copies)."""
        return {p + k: v for p, m in self.named_modules() for k, v in m.params.items()}

    def gradients(self) -> dict[str, Array]:
        """Every gradient by dotted name, as :meth:`parameters`."""
        return {p + k: v for p, m in self.named_modules() for k, v in m.grads.items()}

    def zero_grad(self) -> None:
        """Set every gradient to zero (``backward`` accumulates)."""
        for _, m in self.named_modules():
            for g in m.grads.values():
                g.fill(0.0)

    def astype(self, dtype: npt.DTypeLike) -> None:
        """Convert every parameter and gradient in place (float64 for gradient checks)."""
        for _, m in self.named_modules():
            for k in m.params:
                m.params[k] = m.params[k].astype(dtype)
                m.grads[k] = m.grads[k].astype(dtype)
            m.on_params_replaced()

    def load_parameters(self, values: dict[str, Array]) -> None:
        """Copy ``values`` (names as :meth:`parameters`) into the parameters.

        Raises KeyError for a missing name and ValueError for a shape mismatch.
        """
        for p, m in self.named_modules():
            for k, old in m.params.items():
                new = values[p + k]
                if new.shape != old.shape:
                    raise ValueError(f"{p + k}: shape {new.shape}, expected {old.shape}")
                old[...] = new

    def on_params_replaced(self) -> None:
        """Hook for modules that keep views of their parameters (none by default)."""

    @property
    def dtype(self) -> np.dtype[np.floating]:
        """The dtype of the parameters (float32 unless converted)."""
        for v in self.parameters().values():
            return v.dtype
        return np.dtype(np.float32)


def matmul(x: Array, w: Array) -> Array:
    """``x @ w`` over the last axis of ``x`` (any leading shape) as one 2-D BLAS
    product: numpy runs a 3-D ``@`` as a loop of small products, several times slower."""
    y: Array = x.reshape(-1, x.shape[-1]) @ w
    return y.reshape(*x.shape[:-1], w.shape[-1])


def outer_sum(a: Array, b: Array) -> Array:
    """``sum over leading axes of a[..., i] * b[..., j]`` (a weight gradient) as one
    2-D BLAS product; ``np.einsum`` without ``optimize`` runs it as a slow C loop."""
    result: Array = a.reshape(-1, a.shape[-1]).T @ b.reshape(-1, b.shape[-1])
    return result


def uniform(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> Array:
    """Float32 values drawn uniformly from ``[-scale, scale)``."""
    return rng.uniform(-scale, scale, size=shape).astype(np.float32)


def normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> Array:
    """Float32 values drawn from a normal distribution of deviation ``std``."""
    return (rng.standard_normal(size=shape) * std).astype(np.float32)


__all__ = ["Array", "IntArray", "Module", "matmul", "normal", "outer_sum", "uniform"]

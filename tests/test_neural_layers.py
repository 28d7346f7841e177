"""Every layer's analytic backward against central finite differences (float64)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
from nextword.neural.activations import gelu, gelu_backward, tanh, tanh_backward
from nextword.neural.attention import CausalSelfAttention, KVCache
from nextword.neural.cross_entropy import softmax_cross_entropy
from nextword.neural.dropout import dropout, dropout_backward
from nextword.neural.embedding import Embedding
from nextword.neural.layernorm import LayerNorm
from nextword.neural.linear import Linear
from nextword.neural.lstm_cell import LSTMCell
from nextword.neural.module import M, Module
from nextword.neural.rnn_cell import RNNCell

EPS = 1e-6


def numeric_grad(f: Callable[[], float], a: np.ndarray) -> np.ndarray:
    """d f / d a by central differences, perturbing ``a`` in place."""
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + EPS
        up = f()
        a[i] = old - EPS
        down = f()
        a[i] = old
        g[i] = (up - down) / (2 * EPS)
    return g


def check(f: Callable[[], float], a: np.ndarray, analytic: np.ndarray, name: str) -> None:
    num = numeric_grad(f, a)
    err = np.abs(num - analytic).max() / max(1.0, np.abs(num).max())
    assert err < 1e-6, f"{name}: relative error {err}"


def check_module(
    module: Module,
    x: np.ndarray,
    forward: Callable[[np.ndarray], np.ndarray],
    backward: Callable[[np.ndarray], np.ndarray],
) -> None:
    """Loss = sum(forward(x) * r); check d/dx and d/dparams."""
    rng = np.random.default_rng(1)
    r = rng.standard_normal(forward(x).shape)
    module.zero_grad()
    dx = backward(r)
    loss = lambda: float((forward(x) * r).sum())  # noqa: E731
    check(loss, x, dx, "input")
    for name, p in module.parameters().items():
        check(loss, p, module.gradients()[name], name)


def f64(module: M) -> M:
    module.astype(np.float64)
    return module


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_linear(rng: np.random.Generator) -> None:
    layer = f64(Linear(3, 4, rng))
    layer.params["bias"][:] = rng.standard_normal(4)
    x = rng.standard_normal((2, 5, 3))
    check_module(layer, x, layer.forward, lambda d: layer.backward(d, x))


def test_embedding(rng: np.random.Generator) -> None:
    emb = f64(Embedding(6, 3, rng))
    ids = np.array([[1, 2, 1], [5, 0, 1]])
    r = rng.standard_normal((2, 3, 3))
    emb.backward(r, ids)
    check(lambda: float((emb.forward(ids) * r).sum()), emb.weight, emb.grads["weight"], "w")


@pytest.mark.parametrize("name", ["tanh", "gelu"])
def test_activations(rng: np.random.Generator, name: str) -> None:
    x = rng.standard_normal((3, 4)) * 2
    r = rng.standard_normal((3, 4))
    if name == "tanh":
        dx = tanh_backward(r, tanh(x))
        check(lambda: float((tanh(x) * r).sum()), x, dx, name)
    else:
        dx = gelu_backward(r, x)
        check(lambda: float((gelu(x) * r).sum()), x, dx, name)


def test_gelu_matches_erf_definition() -> None:
    from math import erf, sqrt

    for v in (-3.0, -0.5, 0.0, 0.7, 2.5):
        exact = 0.5 * v * (1 + erf(v / sqrt(2)))
        assert abs(float(gelu(np.array(v))) - exact) < 1e-3


def test_layernorm(rng: np.random.Generator) -> None:
    ln = f64(LayerNorm(5))
    ln.params["gain"][:] = rng.standard_normal(5)
    ln.params["bias"][:] = rng.standard_normal(5)
    x = rng.standard_normal((2, 3, 5))
    check_module(ln, x, lambda a: ln.forward(a)[0], lambda d: ln.backward(d, ln.forward(x)[1]))


def test_dropout_backward_uses_the_mask(rng: np.random.Generator) -> None:
    x = rng.standard_normal((50, 40))
    y, mask = dropout(x, 0.25, np.random.default_rng(3))
    assert mask is not None
    assert 0.2 < (y == 0).mean() < 0.3
    np.testing.assert_allclose(y[y != 0] / x[y != 0], 1 / 0.75)
    r = rng.standard_normal(x.shape)
    check(lambda: float((x * mask * r).sum()), x, dropout_backward(r, mask), "dropout")
    assert dropout(x, 0.5, None)[0] is x  # inference: identity


def test_softmax_cross_entropy(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((2, 3, 7)) * 3
    targets = rng.integers(0, 7, size=(2, 3))
    weights = np.array([[1, 0, 1], [1, 1, 0]], float)
    loss, grad = softmax_cross_entropy(logits, targets, weights)
    check(lambda: softmax_cross_entropy(logits, targets, weights)[0], logits, grad, "ce")
    # Stable for huge logits and equal to the textbook definition.
    big = np.array([[1000.0, 0.0, -1000.0]])
    assert softmax_cross_entropy(big, np.array([0]))[0] == pytest.approx(0.0)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    chosen = np.take_along_axis(p, targets[..., None], -1)[..., 0]
    assert loss == pytest.approx(-(np.log(chosen) * weights).sum() / weights.sum())
    # In place: the same loss and gradient, written into the logits themselves.
    scratch = logits.copy()
    loss2, grad2 = softmax_cross_entropy(scratch, targets, weights, inplace=True)
    assert grad2 is scratch and loss2 == pytest.approx(loss)
    np.testing.assert_allclose(grad2, grad, rtol=1e-12, atol=1e-15)
    untouched = logits.copy()
    softmax_cross_entropy(untouched, targets, weights)
    np.testing.assert_array_equal(untouched, logits)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_recurrent_cells(rng: np.random.Generator, kind: str) -> None:
    """Gradients for the inputs, the initial state (h, or h and c) and the weights."""
    cell: RNNCell | LSTMCell = f64(RNNCell(3, 4, rng) if kind == "rnn" else LSTMCell(3, 4, rng))
    x = rng.standard_normal((2, 5, 3))
    state = [rng.standard_normal((2, 4)) * 0.5 for _ in range(1 if kind == "rnn" else 2)]
    r_out = rng.standard_normal((2, 5, 4))
    r_state = [rng.standard_normal((2, 4)) for _ in state]
    pack = (lambda s: s[0]) if kind == "rnn" else tuple

    def loss() -> float:
        out, last, _ = cell.forward(x, pack(state))
        last_list = [last] if kind == "rnn" else list(last)
        return float((out * r_out).sum() + sum((s * r).sum() for s, r in zip(last_list, r_state)))

    cell.zero_grad()
    _, _, cache = cell.forward(x, pack(state))
    dx, dstate = cell.backward(r_out, pack(r_state), cache)
    check(loss, x, dx, "x")
    for s, ds in zip(state, [dstate] if kind == "rnn" else dstate):
        check(loss, s, ds, "initial state")
    for name, p in cell.parameters().items():
        check(loss, p, cell.grads[name], name)


def test_causal_self_attention(rng: np.random.Generator) -> None:
    attn = f64(CausalSelfAttention(6, 2, rng))
    x = rng.standard_normal((2, 4, 6))
    check_module(
        attn, x, lambda a: attn.forward(a)[0], lambda d: attn.backward(d, attn.forward(x)[1][0])
    )


def test_attention_is_causal_and_cache_matches(rng: np.random.Generator) -> None:
    attn = f64(CausalSelfAttention(6, 3, rng))
    x = rng.standard_normal((1, 5, 6))
    full, _ = attn.forward(x)
    changed = x.copy()
    changed[:, 3:] += 1.0  # the future must not change the past
    np.testing.assert_allclose(attn.forward(changed)[0][:, :3], full[:, :3])
    cache: KVCache | None = None
    for t in range(5):
        y, (_, cache) = attn.forward(x[:, t : t + 1], cache)
        np.testing.assert_allclose(y[:, 0], full[:, t], atol=1e-12)
    assert cache is not None and cache.length == 5

"""A decoder-only Transformer language model in GPT-2's shape (as nanoGPT).

Token and learned position embeddings; ``layers`` pre-LayerNorm blocks, each
``x + attention(ln(x))`` then ``x + mlp(ln(x))`` with a GELU MLP four times
wider; a final LayerNorm; the output projection tied to the token embedding.

It reads at most ``block_size`` tokens (its learned positions): a longer
context is cut to its last ``block_size`` tokens, ``<s>`` included while it
fits. Generation keeps a key/value cache per layer, so a step costs one
position; once the cache is full, each further step rebuilds it from the
last ``block_size - 1`` tokens (the cost of a full window), which keeps
generation consistent with :meth:`next_distribution` on the cut context.

>>> from nextword import Vocab
>>> lm = TransformerLanguageModel(Vocab(["a", "b"]), dim=8, heads=2, layers=1, block_size=4)
>>> lm.next_distribution(["a", "b", "a", "b", "a"]).shape
(5,)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from nextword.neural.activations import gelu_backward, gelu_forward
from nextword.neural.attention import CausalSelfAttention, KVCache
from nextword.neural.embedding import Embedding
from nextword.neural.language_model import NeuralLanguageModel
from nextword.neural.layernorm import LayerNorm
from nextword.neural.linear import Linear
from nextword.neural.module import Array, IntArray, Module, matmul, outer_sum
from nextword.vocab import Vocab


class TransformerBlock(Module):
    """One pre-LayerNorm block: attention then MLP, each on a residual path."""

    def __init__(self, dim: int, heads: int, rng: np.random.Generator, out_std: float) -> None:
        super().__init__()
        self.ln1 = self.add_child("ln1", LayerNorm(dim))
        self.attn = self.add_child("attn", CausalSelfAttention(dim, heads, rng, out_std))
        self.ln2 = self.add_child("ln2", LayerNorm(dim))
        self.fc = self.add_child("fc", Linear(dim, 4 * dim, rng, std=0.02))
        self.proj = self.add_child("proj", Linear(4 * dim, dim, rng, std=out_std))

    def forward(self, x: Array, kv: Optional[KVCache]) -> tuple[Array, Any, KVCache]:
        """The block's output, a cache for :meth:`backward` and the grown key/value cache."""
        a, ln1 = self.ln1.forward(x)
        attended, (attn, kv) = self.attn.forward(a, kv)
        attended += x  # the residual, added into the fresh output (no new array)
        x = attended
        m, ln2 = self.ln2.forward(x)
        pre = self.fc.forward(m)
        hidden, s = gelu_forward(pre)
        out = self.proj.forward(hidden)
        out += x
        return out, (ln1, attn, ln2, m, pre, s, hidden), kv

    def backward(self, dx: Array, cache: Any) -> Array:
        """Add parameter gradients; return the gradient of the block's input."""
        ln1, attn, ln2, m, pre, s, hidden = cache
        dpre = gelu_backward(self.proj.backward(dx, hidden), pre, s)
        dmid = self.ln2.backward(self.fc.backward(dpre, m), ln2)
        dmid += dx
        dx = self.ln1.backward(self.attn.backward(dmid, attn), ln1)
        dx += dmid
        return dx


@dataclass
class TransformerState:
    """Generation state: the ids fed so far and each layer's key/value cache."""

    tokens: list[int] = field(default_factory=list)
    caches: list[Optional[KVCache]] = field(default_factory=list)


class TransformerLanguageModel(NeuralLanguageModel):
    """Decoder-only Transformer (see the module docs)."""

    def __init__(
        self,
        vocab: Vocab,
        dim: int = 128,
        heads: int = 4,
        layers: int = 4,
        block_size: int = 64,
        seed: int = 0,
    ) -> None:
        config = dict(dim=dim, heads=heads, layers=layers, block_size=block_size, seed=seed)
        super().__init__(vocab, config)
        rng = np.random.default_rng(seed)
        self.window: int = block_size
        self.block_size = block_size
        self.order = block_size + 1  # <s> and block_size - 1 tokens, then the predicted one
        out_std = 0.02 / np.sqrt(2 * layers)  # GPT-2: residual projections scaled by depth
        self.wte = self.add_child("wte", Embedding(len(vocab), dim, rng, std=0.02))
        self.wpe = self.add_child("wpe", Embedding(block_size, dim, rng, std=0.02))
        self.blocks = [
            self.add_child(f"block{i}", TransformerBlock(dim, heads, rng, out_std))
            for i in range(layers)
        ]
        self.ln_f = self.add_child("ln_f", LayerNorm(dim))

    def start_state(self, batch: int) -> TransformerState:
        return TransformerState([], [None] * len(self.blocks))

    def _run(
        self, ids: IntArray, start: int, caches: list[Optional[KVCache]]
    ) -> tuple[Array, Any, list[Optional[KVCache]]]:
        positions = np.arange(start, start + ids.shape[1])
        x = self.wte.forward(ids)
        x += self.wpe.forward(positions)
        block_caches: list[Any] = []
        new_kv: list[Optional[KVCache]] = []
        for block, kv in zip(self.blocks, caches):
            x, cache, grown = block.forward(x, kv)
            block_caches.append(cache)
            new_kv.append(grown)
        h, ln_f = self.ln_f.forward(x)
        logits = matmul(h, self.wte.weight.T)  # tied output projection
        return logits, (ids, positions, block_caches, h, ln_f), new_kv

    def forward(
        self, ids: IntArray, state: Any, rng: Optional[np.random.Generator] = None
    ) -> tuple[Array, Any, Any]:
        if state is None:  # training: whole windows, no cache
            if ids.shape[1] > self.window:
                raise ValueError(f"{ids.shape[1]} tokens exceed block_size {self.window}")
            logits, cache, _ = self._run(ids, 0, [None] * len(self.blocks))
            return logits, None, cache
        tokens, caches, pieces, fed = list(state.tokens), list(state.caches), [], 0
        while fed < ids.shape[1]:
            if len(tokens) == self.window:  # full: rebuild from the last block_size - 1
                tokens = tokens[1:]
                _, _, caches = self._run(np.array([tokens]), 0, [None] * len(self.blocks))
            room = self.window - len(tokens)
            chunk = ids[:, fed : fed + room]
            logits, _, caches = self._run(chunk, len(tokens), caches)
            pieces.append(logits)
            tokens.extend(int(i) for i in chunk[0])
            fed += chunk.shape[1]
        return np.concatenate(pieces, axis=1), TransformerState(tokens, caches), None

    def backward(self, dlogits: Array, cache: Any) -> None:
        ids, positions, block_caches, h, ln_f = cache
        self.wte.grads["weight"] += outer_sum(dlogits, h)
        dx = self.ln_f.backward(matmul(dlogits, self.wte.weight), ln_f)
        for block, c in zip(reversed(self.blocks), reversed(block_caches)):
            dx = block.backward(dx, c)
        self.wte.backward(dx, ids)
        self.wpe.grads["weight"][positions] += dx.sum(axis=0)  # distinct positions


__all__ = ["TransformerBlock", "TransformerLanguageModel", "TransformerState"]

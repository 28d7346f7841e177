"""Training batches from a token stream: random windows, or contiguous streams
whose state is carried from batch to batch (truncated BPTT, Zaremba et al. 2014).

Both give ``(inputs, targets, state)`` with ``inputs`` and ``targets`` of shape
``[batch, seq_len]``, targets shifted by one token, and both can save and
restore their position so that a resumed run draws the same batches.

>>> import numpy as np
>>> from nextword import Vocab
>>> from nextword.neural import TransformerLanguageModel
>>> lm = TransformerLanguageModel(Vocab(["a"]), dim=4, heads=1, layers=1, block_size=4)
>>> windows = WindowBatches(np.arange(20) % 4, 2, 4, lm)
>>> x, y, _ = windows.next(np.random.default_rng(0))
>>> bool((y[:, :-1] == x[:, 1:]).all())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nextword.neural.language_model import NeuralLanguageModel
from nextword.neural.module import Array, IntArray


def flatten_state(state: Any) -> list[Array]:
    """The arrays of a (nested list/tuple) state, depth first."""
    if isinstance(state, np.ndarray):
        return [state]
    if isinstance(state, (list, tuple)):
        return [a for part in state for a in flatten_state(part)]
    return []


def unflatten_state(template: Any, arrays: list[Array]) -> Any:
    """A state shaped as ``template`` holding ``arrays`` (inverse of :func:`flatten_state`)."""
    it = iter(arrays)

    def build(t: Any) -> Any:
        if isinstance(t, np.ndarray):
            return next(it)
        if isinstance(t, (list, tuple)):
            return type(t)(build(part) for part in t)
        return t

    return build(template)


class WindowBatches:
    """Windows of ``seq_len + 1`` tokens drawn uniformly from the stream."""

    def __init__(
        self, stream: IntArray, batch_size: int, seq_len: int, model: NeuralLanguageModel
    ) -> None:
        self.stream, self.batch_size, self.model = stream, batch_size, model
        self.seq_len = min(seq_len, len(stream) - 1)

    def next(self, rng: np.random.Generator) -> tuple[IntArray, IntArray, Any]:
        """The next batch."""
        starts = rng.integers(0, len(self.stream) - self.seq_len, size=self.batch_size)
        idx = starts[:, None] + np.arange(self.seq_len)[None, :]
        state = self.model.window_state(self.stream, starts)
        return self.stream[idx], self.stream[idx + 1], state

    def keep(self, state: Any) -> None:
        """Nothing to carry between random windows."""

    def position(self) -> tuple[dict[str, Any], list[Array]]:
        """What to save to resume here: JSON fields and arrays."""
        return {}, []

    def restore(self, fields: dict[str, Any], arrays: list[Array]) -> None:
        """Go back to a saved :meth:`position`."""


class StreamBatches:
    """``batch_size`` contiguous streams read ``seq_len`` tokens at a time; the
    model's last state is carried into the next batch and reset at each pass."""

    def __init__(
        self, stream: IntArray, batch_size: int, seq_len: int, model: NeuralLanguageModel
    ) -> None:
        self.model = model
        rows = max(1, min(batch_size, (len(stream) - 1) // 2))
        length = (len(stream) - 1) // rows
        self.inputs = stream[: rows * length].reshape(rows, length)
        self.targets = stream[1 : rows * length + 1].reshape(rows, length)
        self.seq_len = seq_len
        self.cursor = 0
        self.state = model.start_state(rows)

    def next(self, rng: np.random.Generator) -> tuple[IntArray, IntArray, Any]:
        """The next batch (the random generator is unused: streams are read in order)."""
        if self.cursor >= self.inputs.shape[1]:
            self.cursor, self.state = 0, self.model.start_state(self.inputs.shape[0])
        end = self.cursor + self.seq_len
        x, y = self.inputs[:, self.cursor : end], self.targets[:, self.cursor : end]
        self.cursor = end
        return x, y, self.state

    def keep(self, state: Any) -> None:
        """Carry ``state`` (the model's last) into the next batch."""
        self.state = state

    def position(self) -> tuple[dict[str, Any], list[Array]]:
        """What to save to resume here: the cursor and the carried state."""
        return {"cursor": self.cursor}, flatten_state(self.state)

    def restore(self, fields: dict[str, Any], arrays: list[Array]) -> None:
        """Go back to a saved :meth:`position`."""
        self.cursor = int(fields["cursor"])
        self.state = unflatten_state(self.model.start_state(self.inputs.shape[0]), arrays)


__all__ = ["StreamBatches", "WindowBatches", "flatten_state", "unflatten_state"]

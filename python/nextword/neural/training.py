"""One training loop for every neural model.

``train(model, data, config)`` draws mini-batches of token windows (contiguous
streams with the state carried over for recurrent models), minimises the
cross-entropy with AdamW under a warm-up + cosine learning-rate schedule and
gradient clipping, evaluates on ``valid`` every ``eval_every`` steps (stopping
early after ``patience`` evaluations without improvement and going back to the
best weights), writes a checkpoint at each evaluation and at the end, and
stops cleanly on Ctrl-C (after the step in progress, writing a checkpoint).
The same ``seed`` gives the same losses, and a run resumed from a checkpoint
(``resume=True``) gives the same next losses as one never stopped.

>>> from nextword import Vocab
>>> from nextword.neural import MLPLanguageModel
>>> lm = MLPLanguageModel(Vocab(["a", "b"]), order=2, embed_dim=4, hidden_dim=8)
>>> history = train(lm, ["a b a b a b"] * 5, TrainingConfig(steps=20), progress=False)
>>> history.losses[-1] < history.losses[0]
True
"""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import numpy as np

from nextword.corpus import CorpusLike
from nextword.errors import (
    EmptyCorpusError,
    TrainingDivergedError,
    TrainingError,
    VocabularyMismatchError,
)
from nextword.neural.batches import StreamBatches, WindowBatches
from nextword.neural.checkpoint import load_checkpoint, save_checkpoint
from nextword.neural.language_model import NeuralLanguageModel
from nextword.neural.module import Array, IntArray
from nextword.neural.optimizer import AdamW, clip_gradients, learning_rate_at
from nextword.neural.progress_bar import ProgressBar, progress_enabled

TrainingData = Union[CorpusLike, IntArray]


@dataclass(frozen=True)
class TrainingConfig:
    """The training loop's settings (``seq_len`` None: the model's block size, or 32;
    ``warmup_steps`` None: 5% of ``steps``)."""

    steps: int = 1000
    batch_size: int = 16
    seq_len: Optional[int] = None
    learning_rate: float = 3e-3
    weight_decay: float = 0.01
    warmup_steps: Optional[int] = None
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    eval_every: int = 100
    patience: Optional[int] = None
    seed: int = 0
    #: Stop (``stopped == "time"``) after this many seconds of this call (None: no limit).
    max_seconds: Optional[float] = None
    #: With ``max_seconds``: decay the learning rate over the wall-time budget instead
    #: of over ``steps`` (uses the whole budget whatever the machine's load; the losses
    #: then depend on the speed, so a run is not reproducible step for step).
    time_schedule: bool = False
    #: Parallel streams a recurrent model is evaluated on (1: the whole stream in one
    #: piece, exact; more: faster, each piece starting from the zero state).
    eval_rows: int = 1

    def check(self) -> None:
        """Raise :class:`~nextword.TrainingError` for a setting out of range."""
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise TrainingError(f"learning_rate must be > 0, not {self.learning_rate}")
        for name in ("steps", "batch_size", "eval_every", "eval_rows"):
            if getattr(self, name) < 1:
                raise TrainingError(f"{name} must be >= 1, not {getattr(self, name)}")
        if self.seq_len is not None and self.seq_len < 1:
            raise TrainingError(f"seq_len must be >= 1, not {self.seq_len}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise TrainingError(f"max_seconds must be > 0, not {self.max_seconds}")
        if self.time_schedule and self.max_seconds is None:
            raise TrainingError("time_schedule needs max_seconds")


@dataclass
class TrainingHistory:
    """What a run did: the loss of every step (nats/token), the validation losses
    by step, why it stopped (``done``, ``early``, ``interrupted``, ``time``), its
    speed, and the seconds spent at each validation (``valid_seconds``)."""

    losses: list[float] = field(default_factory=list)
    valid_losses: list[tuple[int, float]] = field(default_factory=list)
    stopped: str = "done"
    tokens_per_second: float = 0.0
    valid_seconds: list[float] = field(default_factory=list)

    @property
    def steps(self) -> int:
        """Steps done so far (over every resumed run)."""
        return len(self.losses)


def token_stream(model: NeuralLanguageModel, data: TrainingData) -> IntArray:
    """Ids of ``data`` (a corpus, encoded ``<s> ... </s>`` per sentence, or ids)."""
    if isinstance(data, np.ndarray):
        ids = data.astype(np.int64)
        if len(ids) and (ids.min() < 0 or ids.max() >= len(model.vocab)):
            raise VocabularyMismatchError(
                f"ids range over [{ids.min()}, {ids.max()}]: not ids of a vocabulary "
                f"of {len(model.vocab)} words"
            )
    else:
        raw, _ = model.vocab.encode_corpus(data, bos=True, eos=True, progress=False)
        ids = raw.astype(np.int64)
    if len(ids) < 2:
        raise EmptyCorpusError(f"the training data holds {len(ids)} tokens: nothing to learn")
    return ids


def evaluate(
    model: NeuralLanguageModel, stream: IntArray, seq_len: int, batch_size: int, rows: int = 1
) -> float:
    """Mean cross-entropy (nats/token) over a whole stream, without dropout.

    A recurrent model reads the stream as ``rows`` contiguous pieces side by side
    (1: exact; more: faster, each piece starting from the zero state, and the
    last ``len(stream) - 1`` mod ``rows`` tokens left out).

    >>> from nextword import Vocab
    >>> from nextword.neural import RNNLanguageModel
    >>> lm = RNNLanguageModel(Vocab(["a"]), embed_dim=4, hidden_dim=4)
    >>> round(evaluate(lm, np.array([1, 3, 3, 2]), 2, 1), 1) > 0
    True
    """
    batches: Union[StreamBatches, WindowBatches]
    if model.stateful_training:
        batches = StreamBatches(stream, rows, seq_len, model)
        chunks = range(0, batches.inputs.shape[1], seq_len)
        inputs = [batches.next(np.random.default_rng(0)) for _ in chunks]
    else:
        length = min(seq_len, len(stream) - 1)
        all_starts = np.arange(0, len(stream) - length, length)
        inputs = []
        for i in range(0, len(all_starts), batch_size):
            starts = all_starts[i : i + batch_size]
            idx = starts[:, None] + np.arange(length)[None, :]
            inputs.append((stream[idx], stream[idx + 1], model.window_state(stream, starts)))
    total = count = 0.0
    state = None
    for x, y, window_state in inputs:
        state = state if model.stateful_training and state is not None else window_state
        loss, state = model.loss(x, y, state, gradients=False)
        n = float((y != 1).sum())
        total, count = total + loss * n, count + n
    return total / count if count else math.nan


@contextmanager
def ctrl_c_flag() -> Iterator[Callable[[], bool]]:
    """While inside, Ctrl-C only sets a flag (read by the yielded function), so the
    loop stops between steps; a second Ctrl-C interrupts at once."""
    pressed = [False]
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return

    def handler(signum: int, frame: Any) -> None:
        if pressed[0]:
            raise KeyboardInterrupt
        pressed[0] = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: pressed[0]
    finally:
        signal.signal(signal.SIGINT, previous)


class TrainingRun:
    """The state of one run: optimizer, random generator, batches, history."""

    def __init__(
        self, model: NeuralLanguageModel, stream: IntArray, config: TrainingConfig
    ) -> None:
        self.model, self.config = model, config
        seq_len = config.seq_len or model.block_size or 32
        if model.block_size is not None:
            seq_len = min(seq_len, model.block_size)
        self.seq_len = seq_len
        kind = StreamBatches if model.stateful_training else WindowBatches
        self.batches: Union[StreamBatches, WindowBatches] = kind(
            stream, config.batch_size, seq_len, model
        )
        self.optimizer = AdamW(
            model.parameters(), config.learning_rate, weight_decay=config.weight_decay
        )
        self.rng = np.random.default_rng(config.seed)
        self.history = TrainingHistory()
        self.best: Optional[tuple[float, dict[str, Array]]] = None
        self.stale = 0
        self.started = time.perf_counter()

    def save(self, path: str) -> None:
        """Write a checkpoint from which :meth:`resume` continues exactly."""
        fields, carry = self.batches.position()
        training = {
            "config": dataclasses.asdict(self.config),
            "step": self.history.steps,
            "adam_t": self.optimizer.t,
            "rng": self.rng.bit_generator.state,
            "batches": fields,
            "losses": self.history.losses,
            "valid_losses": self.history.valid_losses,
            "best_valid": None if self.best is None else self.best[0],
            "stale": self.stale,
        }
        moments = {"adam_m": self.optimizer.m, "adam_v": self.optimizer.v}
        if self.best is not None:
            moments["best"] = self.best[1]
        save_checkpoint(path, self.model, moments, carry, training)

    def resume(self, path: str) -> None:
        """Continue from a checkpoint written by :meth:`save` for this model's vocabulary."""
        saved = load_checkpoint(path)
        mine, theirs = self.model.vocab, saved.model.vocab
        if mine.words() != theirs.words() or mine.tokenizer.spec != theirs.tokenizer.spec:
            raise VocabularyMismatchError(
                f"{path} was trained with another vocabulary ({len(theirs)} words, "
                f"tokenizer {theirs.tokenizer.spec!r}) than the model's ({len(mine)} words, "
                f"tokenizer {mine.tokenizer.spec!r})"
            )
        self.model.load_parameters(saved.model.parameters())
        t = saved.training
        if t is None or saved.optimizer is None:
            return  # weights only: start a fresh run from them
        for kind, moments in (("adam_m", self.optimizer.m), ("adam_v", self.optimizer.v)):
            for name, a in moments.items():
                a[...] = saved.optimizer[kind][name]
        self.optimizer.t = int(t["adam_t"])
        self.rng.bit_generator.state = t["rng"]
        self.batches.restore(t["batches"], saved.carry or [])
        self.history.losses = list(t["losses"])
        self.history.valid_losses = [(int(s), float(v)) for s, v in t["valid_losses"]]
        if t["best_valid"] is not None and "best" in saved.optimizer:
            self.best = (float(t["best_valid"]), saved.optimizer["best"])
        self.stale = int(t["stale"])

    def learning_rate(self, step: int) -> float:
        """The learning rate of (0-based) ``step``: warm-up, then the cosine over
        the steps, or over the time budget with ``time_schedule``."""
        c = self.config
        warmup = c.warmup_steps if c.warmup_steps is not None else c.steps // 20
        if c.time_schedule and c.max_seconds is not None and step >= warmup:
            # The same curve with wall time for steps.
            done = min(1.0, (time.perf_counter() - self.started) / c.max_seconds)
            return learning_rate_at(int(done * 10**6), c.learning_rate, 0, 10**6, c.min_lr_ratio)
        return learning_rate_at(step, c.learning_rate, warmup, c.steps, c.min_lr_ratio)

    def step(self) -> float:
        """One optimisation step; raises TrainingDivergedError before a NaN update."""
        c, step = self.config, self.history.steps
        x, y, state = self.batches.next(self.rng)
        loss, state = self.model.loss(x, y, state, self.rng)
        grads = self.model.gradients()
        norm = clip_gradients(grads, c.grad_clip)
        if not (math.isfinite(loss) and math.isfinite(norm)):
            raise TrainingDivergedError(f"the loss is {loss} at step {step + 1}")
        self.batches.keep(state)
        self.optimizer.step(grads, self.learning_rate(step))
        self.history.losses.append(loss)
        return loss

    def validate(self, stream: IntArray) -> bool:
        """Evaluate on ``stream``; True when training should stop early."""
        c = self.config
        loss = evaluate(self.model, stream, self.seq_len, c.batch_size, c.eval_rows)
        self.history.valid_losses.append((self.history.steps, loss))
        if self.best is None or loss < self.best[0]:
            self.best = (loss, {k: v.copy() for k, v in self.model.parameters().items()})
            self.stale = 0
        else:
            self.stale += 1
        return self.config.patience is not None and self.stale >= self.config.patience


def train(
    model: NeuralLanguageModel,
    data: TrainingData,
    config: Optional[TrainingConfig] = None,
    *,
    valid: Optional[TrainingData] = None,
    checkpoint: Optional[str] = None,
    resume: bool = False,
    progress: Optional[bool] = None,
    on_step: Optional[Callable[[int, float], None]] = None,
    on_validate: Optional[Callable[[int, float, float], None]] = None,
    **overrides: Any,
) -> TrainingHistory:
    """Train ``model`` on ``data`` (a corpus or an id array); see the module docs.

    ``overrides`` replace fields of ``config``. With ``resume`` and an existing
    ``checkpoint`` file, the run continues where that checkpoint left off.
    ``on_step(step, loss)`` is called after every step, ``on_validate(step,
    valid_loss, seconds)`` after every validation (seconds since this call began).
    """
    cfg = dataclasses.replace(config or TrainingConfig(), **overrides)
    cfg.check()
    stream = token_stream(model, data)
    valid_stream = token_stream(model, valid) if valid is not None else None
    run = TrainingRun(model, stream, cfg)
    if resume and checkpoint is not None and os.path.exists(checkpoint):
        run.resume(checkpoint)
    bar = ProgressBar(cfg.steps, progress_enabled(progress))
    started, done_before = time.perf_counter(), run.history.steps
    run.started = started
    history = run.history
    try:
        with ctrl_c_flag() as interrupted:
            while history.steps < cfg.steps:
                try:
                    loss = run.step()
                except TrainingDivergedError as e:
                    e.step, e.checkpoint = history.steps + 1, checkpoint
                    kept = f"; the last good checkpoint is {checkpoint}" if checkpoint else ""
                    e.args = (f"{e.args[0]}: training stopped{kept}",)
                    raise
                elapsed = max(time.perf_counter() - started, 1e-9)
                history.tokens_per_second = (
                    (history.steps - done_before) * cfg.batch_size * run.seq_len / elapsed
                )
                if on_step is not None:
                    on_step(history.steps, loss)
                stop_early = False
                if history.steps % cfg.eval_every == 0 or history.steps == cfg.steps:
                    if valid_stream is not None:
                        stop_early = run.validate(valid_stream)
                        history.valid_seconds.append(time.perf_counter() - started)
                        if on_validate is not None:
                            on_validate(
                                history.steps,
                                *history.valid_losses[-1][1:],
                                history.valid_seconds[-1],
                            )
                        bar.valid = history.valid_losses[-1][1]
                    if checkpoint is not None:
                        run.save(checkpoint)
                bar.update(history.steps, loss, history.tokens_per_second)
                out_of_time = cfg.max_seconds is not None and elapsed > cfg.max_seconds
                if stop_early or interrupted() or out_of_time:
                    history.stopped = (
                        "early" if stop_early else "interrupted" if interrupted() else "time"
                    )
                    break
    finally:
        bar.close()
    if history.stopped == "early" and run.best is not None:
        model.load_parameters(run.best[1])
    if checkpoint is not None and history.stopped != "done":
        run.save(checkpoint)
    return history


__all__ = ["TrainingConfig", "TrainingHistory", "evaluate", "token_stream", "train"]

"""The training loop and checkpoints: learning, determinism, resuming, errors."""

from __future__ import annotations

import dataclasses
import math
import signal
from pathlib import Path

import nextword
import numpy as np
import pytest
from nextword import Vocab
from nextword.errors import TrainingDivergedError, TrainingError, VocabularyMismatchError
from nextword.neural import (
    LSTMLanguageModel,
    MLPLanguageModel,
    NeuralLanguageModel,
    RNNLanguageModel,
    TrainingConfig,
    TransformerLanguageModel,
    train,
)
from nextword.neural.checkpoint import load_checkpoint

CORPUS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 12
VOCAB = Vocab.from_corpus(CORPUS, tokenizer="char")


def unigram_entropy(model: NeuralLanguageModel, corpus: list[str]) -> float:
    """Entropy (nats) of the token frequencies of the training stream's targets."""
    ids, _ = model.vocab.encode_corpus(corpus, bos=True, eos=True)
    targets = ids[1:][ids[1:] != 1]
    p = np.bincount(targets) / len(targets)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


@pytest.mark.parametrize(
    "model",
    [
        LSTMLanguageModel(VOCAB, embed_dim=24, hidden_dim=24, tie_weights=True, dropout=0.1),
        TransformerLanguageModel(VOCAB, dim=24, heads=2, layers=1, block_size=16),
    ],
    ids=["lstm", "transformer"],
)
def test_learns_well_below_unigram_entropy(model: NeuralLanguageModel) -> None:
    config = TrainingConfig(steps=250, batch_size=8, seq_len=16, learning_rate=1e-2)
    history = train(model, CORPUS, config, valid=CORPUS[:3], progress=False)
    entropy = unigram_entropy(model, CORPUS)
    assert history.valid_losses[-1][1] < 0.5 * entropy
    ppl = model.perplexity(CORPUS[:3])
    assert math.log(ppl.perplexity) * ppl.tokens < 0.5 * entropy * (ppl.tokens + 3)
    assert model.generate("the c", max_tokens=3, temperature=0, stop=()) == "ats"  # "thecatsat"


def small(kind: str) -> NeuralLanguageModel:
    if kind == "mlp":
        return MLPLanguageModel(VOCAB, order=3, embed_dim=4, hidden_dim=8)
    if kind == "rnn":
        return RNNLanguageModel(VOCAB, embed_dim=8, hidden_dim=8, dropout=0.2)
    if kind == "lstm":
        return LSTMLanguageModel(VOCAB, embed_dim=8, hidden_dim=8, layers=2, dropout=0.2)
    return TransformerLanguageModel(VOCAB, dim=8, heads=2, layers=1, block_size=8)


KINDS = ["mlp", "rnn", "lstm", "transformer"]
FAST = TrainingConfig(steps=12, batch_size=4, seq_len=8, eval_every=4)


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_losses(kind: str) -> None:
    one = train(small(kind), CORPUS, FAST, progress=False).losses
    assert one == train(small(kind), CORPUS, FAST, progress=False).losses
    assert one != train(small(kind), CORPUS, FAST, progress=False, seed=1).losses


@pytest.mark.parametrize("kind", KINDS)
def test_checkpoint_round_trip_and_resume(kind: str, tmp_path: Path) -> None:
    path = str(tmp_path / "ck.npz")
    straight = train(small(kind), CORPUS, FAST, progress=False)

    def press_ctrl_c(step: int, loss: float) -> None:
        if step == 5:
            signal.raise_signal(signal.SIGINT)

    model = small(kind)
    first = train(model, CORPUS, FAST, checkpoint=path, progress=False, on_step=press_ctrl_c)
    assert first.stopped == "interrupted" and first.steps == 5
    loaded = NeuralLanguageModel.load(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.next_distribution("the"), model.next_distribution("the"))
    assert loaded.generate("a", 5, seed=3) == model.generate("a", 5, seed=3)
    resumed = train(loaded, CORPUS, FAST, checkpoint=path, resume=True, progress=False)
    assert resumed.stopped == "done"
    np.testing.assert_allclose(resumed.losses, straight.losses, rtol=1e-6)


def test_corrupt_or_truncated_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "ck.npz"
    small("lstm").save(str(path))
    data = path.read_bytes()
    bad = tmp_path / "bad.npz"
    for damaged in (data[: len(data) // 2], data[:200], b"", b"not a zip at all"):
        bad.write_bytes(damaged)
        with pytest.raises(nextword.ModelFormatError):
            load_checkpoint(str(bad))
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # inside a stored array: zip CRC or our checksum
    bad.write_bytes(bytes(flipped))
    with pytest.raises(nextword.ModelFormatError):
        load_checkpoint(str(bad))
    with pytest.raises(FileNotFoundError):
        load_checkpoint(str(tmp_path / "missing.npz"))


def test_foreign_npz_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "weights.npz"
    np.savez(path, w=np.zeros(3))
    with pytest.raises(nextword.ModelFormatError, match="not a nextword"):
        load_checkpoint(str(path))


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(nextword.EmptyCorpusError):
        train(small("mlp"), [""], FAST, progress=False)
    for lr in (0.0, -1.0, math.nan):
        with pytest.raises(TrainingError, match="learning_rate"):
            train(small("mlp"), CORPUS, FAST, learning_rate=lr, progress=False)
    assert issubclass(TrainingError, ValueError)
    with pytest.raises(VocabularyMismatchError):
        train(small("mlp"), np.array([1, 5, 999]), FAST, progress=False)
    # A checkpoint of another vocabulary cannot be resumed into this model.
    path = str(tmp_path / "ck.npz")
    other = Vocab.from_corpus(["x y z"], tokenizer="char")
    train(
        LSTMLanguageModel(other, embed_dim=4, hidden_dim=4),
        ["x y z"] * 3,
        FAST,
        checkpoint=path,
        progress=False,
    )
    with pytest.raises(VocabularyMismatchError, match="another vocabulary"):
        train(small("lstm"), CORPUS, FAST, checkpoint=path, resume=True, progress=False)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    path = str(tmp_path / "ck.npz")
    model = small("transformer")
    train(model, CORPUS, FAST, checkpoint=path, progress=False)
    good = load_checkpoint(path).model.next_distribution("the")
    model.parameters()["wte.weight"][3] = np.nan
    with pytest.raises(TrainingDivergedError, match="last good checkpoint") as info:
        train(model, CORPUS, FAST, steps=24, checkpoint=path, resume=False, progress=False)
    assert info.value.step == 1 and info.value.checkpoint == path
    np.testing.assert_array_equal(load_checkpoint(path).model.next_distribution("the"), good)


def test_early_stopping_restores_the_best_weights() -> None:
    model = small("mlp")
    history = train(
        model,
        CORPUS,
        FAST,
        steps=400,
        eval_every=2,
        patience=2,
        learning_rate=0.5,
        valid=["zzz qqq"],
        progress=False,
    )
    assert history.stopped == "early" and history.steps < 400
    best = min(loss for _, loss in history.valid_losses)
    from nextword.neural.training import evaluate, token_stream

    stream = token_stream(model, ["zzz qqq"])
    assert evaluate(model, stream, 8, 4) == pytest.approx(best, rel=1e-5)


def test_fit_shortcut() -> None:
    lm = TransformerLanguageModel.fit(
        CORPUS,
        tokenizer="char",
        dim=8,
        heads=2,
        layers=1,
        block_size=8,
        training=TrainingConfig(steps=3, batch_size=2),
        progress=False,
    )
    assert lm.vocab.tokenizer.spec == "char" and lm.history.steps == 3


def test_resume_keeps_the_best_weights(tmp_path: Path) -> None:
    path = str(tmp_path / "ck.npz")
    config = dataclasses.replace(FAST, steps=8, eval_every=2)
    model = small("mlp")
    train(model, CORPUS, config, valid=CORPUS[:2], checkpoint=path, progress=False)
    saved = load_checkpoint(path)
    assert saved.optimizer is not None and "best" in saved.optimizer
    best = saved.training["best_valid"] if saved.training else None
    assert best == min(loss for _, loss in saved.training["valid_losses"])  # type: ignore[index]


def test_time_schedule_follows_the_clock() -> None:
    import time

    from nextword.neural.training import TrainingRun, token_stream

    model = small("mlp")
    config = TrainingConfig(steps=10**6, warmup_steps=2, max_seconds=100.0, time_schedule=True)
    run = TrainingRun(model, token_stream(model, CORPUS), config)
    assert run.learning_rate(0) == pytest.approx(config.learning_rate / 2)  # warm-up by steps
    run.started = time.perf_counter()
    assert run.learning_rate(5) == pytest.approx(config.learning_rate, rel=1e-3)
    run.started = time.perf_counter() - 50.0  # half the budget: half-way down the cosine
    half = config.learning_rate * (config.min_lr_ratio + (1 - config.min_lr_ratio) / 2)
    assert run.learning_rate(5) == pytest.approx(half, rel=1e-3)
    run.started = time.perf_counter() - 500.0  # past the budget: the floor
    assert run.learning_rate(5) == pytest.approx(config.learning_rate * config.min_lr_ratio)


def test_time_budget_stops_the_run() -> None:

    model = small("lstm")
    seen: list[tuple[int, float, float]] = []
    budget = TrainingConfig(steps=10**6, batch_size=4, seq_len=8, eval_every=2)
    history = train(
        model,
        CORPUS,
        budget,
        valid=CORPUS[:3],
        max_seconds=0.5,
        time_schedule=True,
        progress=False,
        on_validate=lambda *a: seen.append(a),
    )
    assert history.stopped == "time" and 0 < history.steps < 10**6
    # Every validation was reported with its step, loss and (growing) time.
    assert [(s, v) for s, v, _ in seen] == history.valid_losses
    assert [t for _, _, t in seen] == history.valid_seconds == sorted(history.valid_seconds)
    with pytest.raises(TrainingError, match="max_seconds"):
        train(small("mlp"), CORPUS, FAST, max_seconds=0.0, progress=False)
    with pytest.raises(TrainingError, match="time_schedule needs max_seconds"):
        train(small("mlp"), CORPUS, FAST, time_schedule=True, progress=False)
    with pytest.raises(TrainingError, match="eval_rows"):
        train(small("mlp"), CORPUS, FAST, eval_rows=0, progress=False)


def test_evaluating_on_parallel_streams() -> None:
    from nextword.neural.training import evaluate, token_stream

    model = small("lstm")
    train(model, CORPUS, FAST, progress=False)
    stream = token_stream(model, CORPUS)
    exact = evaluate(model, stream, 8, 4)
    # One row is the same as scoring the stream by hand in one forward pass.
    logits, _, _ = model.forward(stream[None, :-1], model.start_state(1))
    z = logits[0].astype(np.float64)
    z[:, 1] = -np.inf
    logp = (
        z
        - np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True))
        - z.max(-1, keepdims=True)
    )
    picked = logp[np.arange(len(stream) - 1), stream[1:]]
    counted = stream[1:] != 1
    assert exact == pytest.approx(-picked[counted].mean(), rel=1e-5)
    # Four pieces side by side restart the state three times: close, not equal.
    four = evaluate(model, stream, 8, 4, rows=4)
    assert four != exact and four == pytest.approx(exact, rel=0.05)


# The first losses of a seeded Transformer run, as the code before the in-place
# (speed) rewrite of GELU, LayerNorm, attention, the embedding's scatter-add
# and AdamW computed them (commit d4f3a5b, one and two BLAS threads alike).
# The rewrite reorders float32 arithmetic only: the losses stay within rounding.
TRANSFORMER_LOSSES_BEFORE = [
    2.760192943100229,
    2.6390376308765693,
    2.5470525223810614,
    2.5058886559779014,
    2.368382400244168,
    2.433359451961482,
    2.3962265983065025,
    2.407640259386095,
]


def test_transformer_losses_unchanged_by_the_speed_rewrite() -> None:
    rng = np.random.default_rng(7)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"]
    lines = [" ".join(rng.choice(words, size=rng.integers(3, 12))) for _ in range(200)]
    vocab = Vocab.from_corpus(lines, tokenizer="char:keep-ws", progress=False)
    model = TransformerLanguageModel(vocab, dim=32, heads=4, layers=2, block_size=16, seed=3)
    config = TrainingConfig(
        steps=8, batch_size=6, eval_every=10**9, learning_rate=1e-2, warmup_steps=2
    )
    history = train(model, lines, config, progress=False)
    assert history.losses == pytest.approx(TRANSFORMER_LOSSES_BEFORE, rel=1e-5)
    # Training stays in float32: no parameter, gradient or moment was promoted.
    run_arrays = [*model.parameters().values(), *model.gradients().values()]
    assert {a.dtype for a in run_arrays} == {np.dtype(np.float32)}
    logits, _, cache = model.forward(np.array([[1, 4, 5]]), None)
    assert logits.dtype == np.float32

    def floats(item: object) -> list[np.dtype]:
        if isinstance(item, np.ndarray):
            return [item.dtype] if item.dtype.kind == "f" else []
        if isinstance(item, (tuple, list)):
            return [d for part in item for d in floats(part)]
        return []

    kept = floats(cache)
    assert len(kept) > 20 and set(kept) == {np.dtype(np.float32)}  # every kept activation

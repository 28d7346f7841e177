"""The neural section of ``nextword demo``: train a small character Transformer
and an LSTM for a few seconds each and play the word-guessing game with them.

The lead's ``demo.py`` calls :func:`run_neural_demo` with its corpus (lines of
text); it prints to stdout and takes well under a minute on one core.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from nextword.neural.language_model import NeuralLanguageModel
from nextword.neural.recurrent import LSTMLanguageModel
from nextword.neural.training import TrainingConfig, train
from nextword.neural.transformer import TransformerLanguageModel
from nextword.vocab import Vocab


def unigram_perplexity(
    vocab: Vocab, train_lines: Sequence[str], test_lines: Sequence[str]
) -> float:
    """Perplexity of ``test_lines`` under add-one unigram frequencies of ``train_lines``
    (the baseline a model must beat; ``<s>`` is never predicted)."""
    ids, _ = vocab.encode_corpus(list(train_lines), eos=True, progress=False)
    counts = np.bincount(ids.astype(np.int64), minlength=len(vocab)).astype(np.float64) + 1.0
    counts[1] = 0.0
    with np.errstate(divide="ignore"):  # p(<s>) = 0: log 0 = -inf, never indexed
        logp = np.log(counts / counts.sum())
    test, _ = vocab.encode_corpus(list(test_lines), eos=True, progress=False)
    return math.exp(-float(logp[test.astype(np.int64)].mean()))


def run_neural_demo(lines: Sequence[str], steps: int = 150, seed: int = 0) -> None:
    """Train two small character models on ``lines`` and show what they learnt.

    >>> run_neural_demo(["to be or not to be"] * 20, steps=2)  # doctest: +ELLIPSIS
    <BLANKLINE>
    == 6. neural language models ...
    """
    print("\n== 6. neural language models (numpy, characters) " + "=" * 16)
    cut = max(1, len(lines) // 10)
    train_lines, test_lines = list(lines[cut:]), list(lines[:cut])
    vocab = Vocab.from_corpus(train_lines, tokenizer="char:keep-ws", progress=False)
    baseline = unigram_perplexity(vocab, train_lines, test_lines)
    print(f"{len(train_lines):,} training lines, {len(vocab)} characters; held out: {cut} lines")
    print(f"  unigram baseline                perplexity {baseline:7.2f}")
    models: list[tuple[str, NeuralLanguageModel]] = [
        (
            "Transformer 2x32, context 32",
            TransformerLanguageModel(vocab, dim=32, heads=2, layers=2, block_size=32, seed=seed),
        ),
        (
            "LSTM 1x64, tied embeddings",
            LSTMLanguageModel(vocab, embed_dim=64, hidden_dim=64, tie_weights=True, seed=seed),
        ),
    ]
    config = TrainingConfig(steps=steps, batch_size=16, seq_len=32, learning_rate=5e-3, seed=seed)
    for name, model in models:
        start = time.perf_counter()
        history = train(model, train_lines, config, progress=False)
        seconds = time.perf_counter() - start
        ppl = model.perplexity(test_lines[:50]).perplexity
        print(
            f"  {name:<30}  perplexity {ppl:7.2f}  (loss {history.losses[-1]:.2f} nats after "
            f"{steps} steps, {seconds:.1f} s, {history.tokens_per_second / 1000:.1f}k tok/s)"
        )
    name, model = models[0]
    prompt = "the "
    guesses = ", ".join(f"{w!r} {p:.2f}" for w, p in model.predict(prompt, k=5))
    print(f"\n{name}: after {prompt!r} it guesses {guesses}")
    text = model.generate(prompt, max_tokens=60, temperature=0.8, seed=seed, stop=())
    print(f"and writes (/ ends a line): {(prompt + text).replace('</s>', ' / ')!r}")

"""The neural section of ``nextword demo``: train a tiny character Transformer
and LSTM for a few seconds each, and set their perplexities and guesses
beside the unigram baseline and a character Kneser-Ney model on the same text.

:mod:`nextword.demo` calls :func:`run_neural_demo` with a slice of its corpus
(lines of text); it prints to stdout. The models are small on purpose: numpy
on a CPU, seconds not hours (so Kneser-Ney usually still wins here).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from nextword.lm import NGramLM
from nextword.model import LanguageModel
from nextword.neural.blas_threads import blas_threads
from nextword.neural.language_model import NeuralLanguageModel
from nextword.neural.recurrent import LSTMLanguageModel
from nextword.neural.training import TrainingConfig, TrainingHistory, train
from nextword.neural.transformer import TransformerLanguageModel
from nextword.vocab import Vocab

TOKENIZER = "char:keep-ws"


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


def _guesses(model: LanguageModel, prompt: str, k: int = 4) -> str:
    return "  ".join(f"{w!r} {p:.2f}" for w, p in model.predict(prompt, k=k))


def run_neural_demo(
    lines: Sequence[str], steps: int = 300, seed: int = 0
) -> dict[str, TrainingHistory]:
    """Train two tiny character models on ``lines`` for ``steps`` steps each
    and show what they learnt, next to Kneser-Ney on the same characters;
    returns each model's training history by name. BLAS runs on one thread
    meanwhile: products this small only wait on a second one
    (:mod:`nextword.neural.blas_threads`).

    >>> _ = run_neural_demo(["to be or not to be"] * 20, steps=2)  # doctest: +ELLIPSIS
    <BLANKLINE>
    == 9. neural language models ...
    """
    with blas_threads(1):
        return _run_neural_demo(lines, steps, seed)


def _run_neural_demo(lines: Sequence[str], steps: int, seed: int) -> dict[str, TrainingHistory]:
    print("\n== 9. neural language models (numpy, characters) " + "=" * 16)
    cut = max(1, len(lines) // 10)
    train_lines, test_lines = list(lines[cut:]), list(lines[:cut])
    vocab = Vocab.from_corpus(train_lines, tokenizer=TOKENIZER, progress=False)
    print(f"{len(train_lines):,} training lines, {len(vocab)} characters; held out: {cut} lines")
    test_lines = test_lines[:30]  # scoring is per sentence: keep it short
    baseline = unigram_perplexity(vocab, train_lines, test_lines)
    print(f"  {'unigram baseline':<34}  perplexity {baseline:6.2f}")
    with warnings.catch_warnings():  # a tiny corpus may need the fallback discounts
        warnings.simplefilter("ignore")
        kn = NGramLM.fit(train_lines, order=5, tokenizer=TOKENIZER, progress=False)
    kn_ppl = kn.perplexity(test_lines, progress=False).perplexity
    print(f"  {'Kneser-Ney, 5-grams of characters':<34}  perplexity {kn_ppl:6.2f}")
    # Sizes chosen for seconds on a CPU; a learning rate this high suits so few steps.
    config = TrainingConfig(steps=steps, batch_size=16, seq_len=16, learning_rate=1e-2, seed=seed)
    runs: list[tuple[str, NeuralLanguageModel, TrainingConfig]] = [
        (
            "Transformer 1x16, context 16",
            TransformerLanguageModel(vocab, dim=16, heads=2, layers=1, block_size=16, seed=seed),
            config,
        ),
        (
            "LSTM 1x32, tied embeddings",
            LSTMLanguageModel(vocab, embed_dim=32, hidden_dim=32, tie_weights=True, seed=seed),
            replace(config, seq_len=32, learning_rate=2e-2),
        ),
    ]
    histories: dict[str, TrainingHistory] = {}
    for name, model, settings in runs:
        start = time.perf_counter()
        history = histories[name] = train(model, train_lines, settings, progress=False)
        seconds = time.perf_counter() - start
        ppl = model.perplexity(test_lines).perplexity
        print(
            f"  {name:<34}  perplexity {ppl:6.2f}  (loss {history.losses[-1]:.2f} nats after "
            f"{steps} steps, {seconds:.1f} s)"
        )
    prompt = "the "
    print(f"\nafter {prompt!r}, each model's guesses for the next character:")
    print(f"  {'Kneser-Ney':<12} {_guesses(kn, prompt)}")
    for name, model, _ in runs:
        print(f"  {name.split()[0]:<12} {_guesses(model, prompt)}")
    name, model, _ = runs[-1]
    text = model.generate(prompt, max_tokens=60, temperature=0.8, seed=seed, stop=())
    print(
        f"the {name.split()[0]} writes (/ ends a line): {(prompt + text).replace('</s>', ' / ')!r}"
    )
    return histories

"""Where the time of one PTB-sized LSTM training step goes.

Times the parts of one step of a word LSTM (10 k vocabulary, tied embeddings)
separately: forward (embedding, LSTM layers, output projection), the softmax
cross-entropy, backward, gradient clipping and the AdamW update, and the whole
step; median of ``--repeat`` runs each, in milliseconds. Random ids stand in
for PTB (the cost does not depend on which ids). Usage::

    python benches/profile_lstm_step.py [--batch 64] [--seq 35] [--dim 200] [--threads 1]

``--threads`` sets the BLAS thread count before numpy loads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any, Callable


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeat`` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seq", type=int, default=35)
    parser.add_argument("--dim", type=int, default=200)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    from nextword import Vocab
    from nextword.neural import LSTMLanguageModel
    from nextword.neural.cross_entropy import softmax_cross_entropy
    from nextword.neural.optimizer import AdamW, clip_gradients

    vocab = Vocab([f"w{i}" for i in range(args.vocab - 3)])
    model = LSTMLanguageModel(
        vocab, embed_dim=args.dim, hidden_dim=args.dim, layers=args.layers, tie_weights=True
    )
    rng = np.random.default_rng(0)
    x = rng.integers(3, len(vocab), size=(args.batch, args.seq))
    y = rng.integers(3, len(vocab), size=(args.batch, args.seq))
    state = model.start_state(args.batch)
    logits, _, cache = model.forward(x, state, rng)
    _, dlogits = softmax_cross_entropy(logits, y)
    optimizer = AdamW(model.parameters(), 1e-3)
    grads = model.gradients()

    def backward() -> None:
        model.zero_grad()
        model.backward(dlogits, cache)

    parts = {
        "forward": lambda: model.forward(x, state, rng),
        "  embedding lookup": lambda: model.embed.forward(x),
        "  output projection": lambda: model.out_logits(cache[1]),
        "softmax cross-entropy": lambda: softmax_cross_entropy(logits, y),
        "backward": backward,
        "  embedding scatter-add": lambda: model.embed.backward(cache[1], x),
        "clip gradients": lambda: clip_gradients(grads, 1e6),
        "AdamW update": lambda: optimizer.step(grads, 1e-3),
        "whole step (model.loss + clip + AdamW)": lambda: (
            model.loss(x, y, state, rng),
            clip_gradients(grads, 1.0),
            optimizer.step(grads, 1e-3),
        ),
    }
    tokens = args.batch * args.seq
    print(
        f"LSTM {args.layers}x{args.dim}, vocab {len(vocab)}, batch {args.batch} x {args.seq} "
        f"= {tokens} tokens, BLAS threads {args.threads}, load {os.getloadavg()[0]:.1f}"
    )
    for name, fn in parts.items():
        try:
            ms = median_ms(fn, args.repeat)
        except AttributeError:
            continue  # a part this version of the model does not have
        print(f"{name:42s} {ms:9.1f} ms")
    step = median_ms(parts["whole step (model.loss + clip + AdamW)"], args.repeat)
    print(f"tokens per second: {tokens / step * 1000:,.0f}")


if __name__ == "__main__":
    main()

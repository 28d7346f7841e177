"""Where the time of one character-Transformer training step goes.

Times the parts of one step of the Transformer of ``report_neural.py`` (4 layers,
4 heads, 128 dims, context 64, batch 12, a 65-symbol vocabulary) separately:
forward (embeddings, each block's parts, the tied output projection), the
softmax cross-entropy, backward, gradient clipping and the AdamW update, and
the whole step; median of ``--repeat`` runs each, in milliseconds. Random ids
stand in for the text (the cost does not depend on which ids). Usage::

    python benches/profile_transformer_step.py [--repeat 20] [--threads 1]

``--threads`` sets the BLAS thread count before numpy loads.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, Callable

from profile_lstm_step import median_ms  # the same timing as the LSTM's profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sizes = dict(batch=12, seq=64, dim=128, heads=4, layers=4, vocab=65, repeat=20, threads=1)
    for name, default in sizes.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    from nextword import Vocab
    from nextword.neural import TransformerLanguageModel
    from nextword.neural.activations import gelu_backward, gelu_forward
    from nextword.neural.cross_entropy import softmax_cross_entropy
    from nextword.neural.optimizer import AdamW, clip_gradients

    vocab = Vocab([f"w{i}" for i in range(args.vocab - 3)])
    model = TransformerLanguageModel(
        vocab, dim=args.dim, heads=args.heads, layers=args.layers, block_size=args.seq
    )
    rng = np.random.default_rng(0)
    x = rng.integers(3, len(vocab), size=(args.batch, args.seq))
    y = rng.integers(3, len(vocab), size=(args.batch, args.seq))
    logits, _, cache = model.forward(x, None, rng)
    _, dlogits = softmax_cross_entropy(logits, y)
    optimizer = AdamW(model.parameters(), 1e-3)
    grads = model.gradients()
    block = model.blocks[0]
    h = rng.standard_normal((args.batch, args.seq, args.dim)).astype(np.float32)
    a, ln1 = block.ln1.forward(h)
    attended, (attn, _) = block.attn.forward(a, None)
    pre = block.fc.forward(a)
    hidden, s = gelu_forward(pre)
    wide = np.ones_like(pre)

    def backward() -> None:
        model.zero_grad()
        model.backward(dlogits, cache)

    parts: list[tuple[str, Callable[[], Any]]] = [
        ("forward", lambda: model.forward(x, None, rng)),
        ("  one block", lambda: block.forward(h, None)),
        ("    layernorm", lambda: block.ln1.forward(h)),
        ("    attention (with its projections)", lambda: block.attn.forward(a, None)),
        ("    fc (128 -> 512)", lambda: block.fc.forward(a)),
        ("    gelu", lambda: gelu_forward(pre)),
        ("    proj (512 -> 128)", lambda: block.proj.forward(hidden)),
        ("softmax cross-entropy", lambda: softmax_cross_entropy(logits, y)),
        ("backward", backward),
        ("  one block (its forward too)", lambda: block.backward(h, block.forward(h, None)[1])),
        ("    layernorm", lambda: block.ln1.backward(h, ln1)),
        ("    attention (with its projections)", lambda: block.attn.backward(attended, attn)),
        ("    fc (128 -> 512)", lambda: block.fc.backward(wide, a)),
        ("    gelu", lambda: gelu_backward(wide, pre, s)),
        ("    proj (512 -> 128)", lambda: block.proj.backward(h, hidden)),
        ("  embedding scatter-add", lambda: model.wte.backward(h, x)),
        ("clip gradients", lambda: clip_gradients(grads, 1e6)),
        ("AdamW update", lambda: optimizer.step(grads, 1e-3)),
        (
            "whole step (model.loss + clip + AdamW)",
            lambda: (
                model.loss(x, y, None, rng),
                clip_gradients(grads, 1.0),
                optimizer.step(grads, 1e-3),
            ),
        ),
    ]
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(
        f"Transformer {args.layers} x {args.dim} ({args.heads} heads), batch {args.batch} x "
        f"{args.seq}, vocab {args.vocab}, BLAS threads {args.threads}, load {load}"
    )
    for name, fn in parts:
        print(f"{name:42s} {median_ms(fn, args.repeat):8.2f} ms")


if __name__ == "__main__":
    main()

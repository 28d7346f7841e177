"""Character Transformer (numpy) against character Kneser-Ney on tinyshakespeare.

The split and shape of issue 9: the first 90% of the lines train, the last 10%
validate; 4 layers, 4 heads, 128 dims, context 64, batch 12, dropout 0, AdamW.
Prints the validation cross-entropy in nats per character (``</s>`` stands for
the newline) every ``--eval-every`` steps with the minutes spent, then the
Kneser-Ney 5- and 6-gram figures on the same tokens. Usage::

    python benches/char_transformer_vs_kn.py [--steps 2000] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpora/en/tinyshakespeare.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)  # before numpy loads
    import nextword
    from nextword.neural import TrainingConfig, TransformerLanguageModel, train

    if not CORPUS.exists():
        sys.exit(f"{CORPUS} not found: set NEXTWORD_SHARED")
    lines = [line for line in CORPUS.read_text(encoding="utf-8").split("\n") if line.strip()]
    cut = len(lines) * 9 // 10
    train_lines, valid_lines = lines[:cut], lines[cut:]
    vocab = nextword.Vocab.from_corpus(train_lines, tokenizer="char:keep-ws", progress=False)
    print(
        f"{len(train_lines)} training lines, {len(valid_lines)} validation lines, "
        f"{len(vocab)} symbols",
        flush=True,
    )

    for order in (5, 6):
        lm = nextword.NGramLM.fit(
            train_lines, order=order, tokenizer="char:keep-ws", progress=False
        )
        ppl = lm.perplexity(valid_lines, progress=False)
        print(
            f"Kneser-Ney {order}-gram: {ppl.cross_entropy:.3f} nats/char "
            f"(perplexity {ppl.perplexity:.3f})",
            flush=True,
        )

    model = TransformerLanguageModel(vocab, dim=128, heads=4, layers=4, block_size=64, seed=0)
    config = TrainingConfig(
        steps=args.steps,
        batch_size=12,
        seq_len=64,
        learning_rate=1e-3,
        eval_every=args.eval_every,
        seed=0,
    )
    start = time.perf_counter()
    clock: dict[int, float] = {}

    def on_step(step: int, loss: float) -> None:
        clock[step] = time.perf_counter() - start
        if step % args.eval_every == 0:
            print(
                f"step {step}: training loss {loss:.3f} after {clock[step] / 60:.1f} min",
                flush=True,
            )

    history = train(model, train_lines, config, valid=valid_lines, progress=False, on_step=on_step)
    for step, loss in history.valid_losses:
        minutes = clock.get(step, time.perf_counter() - start) / 60
        print(f"step {step}: validation {loss:.3f} nats/char after {minutes:.1f} min")
    per_step = sorted(b - a for a, b in zip(list(clock.values()), list(clock.values())[1:]))
    if per_step:
        print(f"median step: {per_step[len(per_step) // 2] * 1000:.0f} ms")


if __name__ == "__main__":
    main()

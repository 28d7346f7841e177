"""Time per training step of the numpy Transformer: a character model on
tinyshakespeare in nanoGPT's "baby GPT" shape (4 layers, 4 heads, 128 dims,
context 64, batch 12), forward + backward + AdamW, median of the timed steps.

PyTorch is measured side by side when it is installed (``pip install
nextword[bench]`` does not pull it in; ``pip install torch`` does); it is never
a run-time dependency. Usage::

    python benches/report_neural.py [--steps 20] [--threads 1]

``--threads`` sets the BLAS thread count before numpy loads (on a busy
machine, one thread is often faster than oversubscribed many).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpora/en/tinyshakespeare.txt"
SHAPE = dict(dim=128, heads=4, layers=4, block_size=64)
BATCH = 12


def time_numpy(lines: list[str], steps: int) -> tuple[list[float], float]:
    """Seconds of each training step and the last loss, for the numpy model."""
    from nextword import Vocab
    from nextword.neural import TrainingConfig, TransformerLanguageModel, train

    vocab = Vocab.from_corpus(lines, tokenizer="char:keep-ws", progress=False)
    model = TransformerLanguageModel(vocab, **SHAPE)
    times: list[float] = []
    last = [time.perf_counter()]

    def tick(step: int, loss: float) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    config = TrainingConfig(steps=steps, batch_size=BATCH, seq_len=64, eval_every=10**9)
    history = train(model, lines, config, progress=False, on_step=tick)
    return times[2:], history.losses[-1]  # the first steps warm caches up


def time_torch(vocab_size: int, steps: int) -> list[float] | None:
    """Seconds per step of the same shape in PyTorch (None when torch is absent)."""
    try:
        import torch
    except (ImportError, OSError, ValueError) as e:
        # A CUDA wheel without its nvidia-* libraries fails to import with
        # OSError/ValueError (libcublasLt... not found), not ImportError.
        print(f"pytorch: cannot import ({type(e).__name__}: {e})"[:300], file=sys.stderr)
        return None
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(
        SHAPE["dim"],
        SHAPE["heads"],
        4 * SHAPE["dim"],
        dropout=0.0,
        activation="gelu",
        batch_first=True,
        norm_first=True,
    )
    body = torch.nn.TransformerEncoder(layer, SHAPE["layers"])
    embed = torch.nn.Embedding(vocab_size, SHAPE["dim"])
    pos = torch.nn.Embedding(SHAPE["block_size"], SHAPE["dim"])
    head = torch.nn.Linear(SHAPE["dim"], vocab_size)
    params = [*body.parameters(), *embed.parameters(), *pos.parameters(), *head.parameters()]
    opt = torch.optim.AdamW(params, lr=3e-3)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(SHAPE["block_size"])
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        x = torch.randint(0, vocab_size, (BATCH, SHAPE["block_size"]))
        h = body(embed(x) + pos(torch.arange(SHAPE["block_size"])), mask=mask, is_causal=True)
        loss = torch.nn.functional.cross_entropy(head(h).flatten(0, 1), x.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return times[2:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    import numpy as np

    lines = [line for line in CORPUS.read_text().splitlines() if line.strip()]
    times, loss = time_numpy(lines, args.steps)
    tokens = BATCH * SHAPE["block_size"]
    ms = statistics.median(times) * 1000
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numpy {np.__version__}, BLAS threads {args.threads or 'default'}"
    )
    print(f"data: {CORPUS.name}, characters; model {SHAPE}, batch {BATCH}")
    print(
        f"nextword.neural (numpy): {ms:8.1f} ms/step  {tokens / ms:6.1f}k tok/s  "
        f"(loss {loss:.2f} after {args.steps} steps)"
    )
    from nextword import Vocab

    vocab_size = len(Vocab.from_corpus(lines, tokenizer="char:keep-ws", progress=False))
    torch_times = time_torch(vocab_size, args.steps)
    if torch_times is None:
        print(
            "pytorch: not available (pip install torch, a CPU build, to compare)", file=sys.stderr
        )
    else:
        tms = statistics.median(torch_times) * 1000
        print(f"pytorch (CPU):           {tms:8.1f} ms/step  {tokens / tms:6.1f}k tok/s")


if __name__ == "__main__":
    main()

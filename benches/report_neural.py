"""Time per training step of the numpy Transformer beside PyTorch's on the CPU:
a character model on tinyshakespeare in nanoGPT's "baby GPT" shape (4 layers,
4 heads, 128 dims, context 64, batch 12), forward + backward + clipping + AdamW.

Both sides do the same work: the same batches (random windows of the same id
stream, drawn in the timed step), pre-LayerNorm blocks with biases, GELU in its
tanh form, a final LayerNorm, the output projection tied to the token embedding
(no bias), the ``<s>`` logit masked and ``<s>`` targets left out of the mean loss,
gradient clipping at norm 1, AdamW (betas 0.9/0.99, weight decay 0.01 on
matrices only) with the warm-up + cosine schedule. The two run alternately,
``--rounds`` times ``--steps`` steps each, and the medians over all timed steps
are compared (the first two steps of each side warm caches up and are not timed).

PyTorch is measured when it is installed (``pip install torch``, a CPU build);
it is never a run-time dependency. Usage::

    python benches/report_neural.py [--steps 20] [--rounds 3] [--threads 1]

``--threads`` (default 1) sets the BLAS and PyTorch thread count before numpy
loads (on a busy machine, one thread is often faster than oversubscribed many).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpora/en/tinyshakespeare.txt"
SHAPE = dict(dim=128, heads=4, layers=4, block_size=64)
BATCH = 12
TOTAL_STEPS = 2000  # the schedule's length (as the 2000-step run)


def load_average() -> str:
    """The 1-minute load average (``?`` where /proc/loadavg is missing)."""
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def numpy_stepper(lines: list[str]) -> tuple[Any, Callable[[], float]]:
    """The numpy training run and a function doing one step of it (returns the loss)."""
    from nextword import Vocab
    from nextword.neural import TrainingConfig, TransformerLanguageModel
    from nextword.neural.training import TrainingRun, token_stream

    vocab = Vocab.from_corpus(lines, tokenizer="char:keep-ws", progress=False)
    model = TransformerLanguageModel(vocab, **SHAPE)
    config = TrainingConfig(steps=TOTAL_STEPS, batch_size=BATCH, seq_len=SHAPE["block_size"])
    run = TrainingRun(model, token_stream(model, lines), config)
    return run, run.step


def torch_stepper(run: Any) -> Optional[Callable[[], float]]:
    """One PyTorch training step of the same model on the same batches as ``run``
    (None when torch cannot be imported)."""
    try:
        import torch
    except (ImportError, OSError, ValueError) as e:
        # A CUDA wheel without its nvidia-* libraries fails to import with
        # OSError/ValueError (libcublasLt... not found), not ImportError.
        print(f"pytorch: cannot import ({type(e).__name__}: {e})"[:300], file=sys.stderr)
        return None
    import numpy as np
    from nextword.neural.batches import WindowBatches
    from nextword.neural.language_model import BOS

    f = torch.nn.functional
    dim, block = SHAPE["dim"], SHAPE["block_size"]
    vocab_size = len(run.model.vocab)
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(
        dim,
        SHAPE["heads"],
        4 * dim,
        dropout=0.0,
        activation=lambda x: f.gelu(x, approximate="tanh"),
        batch_first=True,
        norm_first=True,
    )
    body = torch.nn.TransformerEncoder(
        layer, SHAPE["layers"], norm=torch.nn.LayerNorm(dim), enable_nested_tensor=False
    )
    embed = torch.nn.Embedding(vocab_size, dim)
    pos = torch.nn.Embedding(block, dim)
    params = [*body.parameters(), *embed.parameters(), *pos.parameters()]
    # Our initialisation (GPT-2's): PyTorch's N(0, 1) embeddings, tied, would
    # start the loss near 14 nats.
    out_std = 0.02 / (2 * SHAPE["layers"]) ** 0.5
    with torch.no_grad():
        for name, p in [*body.named_parameters(), ("wte", embed.weight), ("wpe", pos.weight)]:
            if p.ndim < 2:  # LayerNorm gains (1) and biases (zeroed below)
                continue
            std = dim**-0.5 if "in_proj" in name else 0.02
            std = out_std if "out_proj" in name or "linear2" in name else std
            p.normal_(0.0, std)
        for name, p in body.named_parameters():
            if name.endswith("bias"):
                p.zero_()
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": run.config.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=run.config.learning_rate, betas=(0.9, 0.99), eps=1e-8)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(block)
    banned = torch.zeros(vocab_size, dtype=torch.bool)
    banned[BOS] = True
    positions = torch.arange(block)
    batches = WindowBatches(run.batches.stream, BATCH, block, run.model)
    rng = np.random.default_rng(1)
    step = [0]

    def one_step() -> float:
        x, y, _ = batches.next(rng)
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
        h = body(embed(inputs) + pos(positions), mask=mask, is_causal=True)
        logits = (h @ embed.weight.T).masked_fill(banned, float("-inf"))  # tied, no bias
        loss = f.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=BOS)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, run.config.grad_clip)
        for group in opt.param_groups:
            group["lr"] = run.learning_rate(step[0])
        opt.step()
        step[0] += 1
        return float(loss.detach())

    return one_step


def timed(step: Callable[[], float], count: int) -> tuple[list[float], list[float], float]:
    """Wall and CPU seconds (this process, every thread) of each of ``count`` calls
    of ``step``, and the last loss."""
    wall, cpu, loss = [], [], 0.0
    for _ in range(count):
        start, start_cpu = time.perf_counter(), time.process_time()
        loss = step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu, loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per side per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternations numpy / pytorch")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    lines = [line for line in CORPUS.read_text().splitlines() if line.strip()]
    run, numpy_step = numpy_stepper(lines)
    torch_step = torch_stepper(run)
    if torch_step is not None:
        import torch

        torch.set_num_threads(args.threads)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numpy {np.__version__}, BLAS threads {args.threads}, "
        f"load average {load_average()} at the start"
    )
    print(f"data: {CORPUS.name}, characters; model {SHAPE}, batch {BATCH}")
    timed(numpy_step, 2)
    if torch_step is not None:
        timed(torch_step, 2)
    mine: tuple[list[float], list[float]] = ([], [])
    theirs: tuple[list[float], list[float]] = ([], [])
    loss = torch_loss = 0.0
    for _ in range(args.rounds):
        wall, cpu, loss = timed(numpy_step, args.steps)
        mine[0].extend(wall)
        mine[1].extend(cpu)
        if torch_step is not None:
            wall, cpu, torch_loss = timed(torch_step, args.steps)
            theirs[0].extend(wall)
            theirs[1].extend(cpu)
    tokens = BATCH * SHAPE["block_size"]
    ms, cpu_ms = (statistics.median(t) * 1000 for t in mine)
    done = 2 + args.rounds * args.steps
    print(
        f"nextword.neural (numpy): {ms:8.1f} ms/step  {tokens / ms:6.1f}k tok/s  "
        f"CPU {cpu_ms:6.1f} ms/step  (loss {loss:.2f} after {done} steps)"
    )
    if torch_step is None:
        print(
            "pytorch: not available (pip install torch, a CPU build, to compare)", file=sys.stderr
        )
    else:
        tms, tcpu_ms = (statistics.median(t) * 1000 for t in theirs)
        print(
            f"pytorch (CPU):           {tms:8.1f} ms/step  {tokens / tms:6.1f}k tok/s  "
            f"CPU {tcpu_ms:6.1f} ms/step  (loss {torch_loss:.2f} after {done} steps)"
        )
        print(f"ratio numpy / pytorch: {ms / tms:.2f}x wall, {cpu_ms / tcpu_ms:.2f}x CPU")
    print(f"load average {load_average()} at the end, {args.rounds} rounds of {args.steps} steps")


if __name__ == "__main__":
    main()

"""Word-level PTB: an LSTM trained for at most an hour against the Kneser-Ney 5-gram
(and the MLP and the RNN, with ``--model mlp|rnn``, on the same split).

Both models see the same token stream: the shared Penn Treebank files (10 k
vocabulary, ``<unk>`` already in the text), each line ``<s> ... </s>``; the
Kneser-Ney 5-gram (nextword's, lmplz-identical) is fitted on the training file
and scored on the validation and test files. The LSTM (2 x 200, tied
embeddings, dropout, AdamW with warm-up and cosine decay, truncated BPTT of 35
steps with the state carried across batches, Zaremba et al. 2014) trains for
``--minutes`` of wall time; the learning rate decays over the wall-time budget
(cosine), and training stops at the budget. Validation perplexity is printed against
minutes (the curve, also written to ``--curve`` as TSV), then validation and
test perplexity of the best weights, two ways:

- *stream*: the files read as one stream with the state carried across
  sentences (how recurrent models are usually reported on PTB);
- *per sentence*: the state reset at every ``<s>``, so each word is predicted
  from the same sentence prefix the 5-gram sees.

Usage::

    python benches/ptb_lstm_vs_kn.py [--minutes 60] [--threads 1] [--checkpoint ptb.npz]
    python benches/ptb_lstm_vs_kn.py --evaluate ptb.npz   # only score a trained model

``--threads`` sets the BLAS thread count before numpy loads (one thread: on a
shared 2-core machine more threads oversubscribe the cores).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))
PTB = SHARED / "corpora/en"


def read_lines(name: str) -> list[str]:
    """The non-blank lines of a PTB file."""
    text = (PTB / f"ptb.{name}.txt").read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line.strip()]


def report(model: Any, valid: list[str], test: list[str], kn: dict[str, float]) -> None:
    """Validation and test perplexity of ``model``, stream and per sentence, beside Kneser-Ney."""
    from nextword.neural.training import evaluate, token_stream

    print(f"{'model':34s} {'valid ppl':>10s} {'test ppl':>10s}", flush=True)
    for name in ("valid", "test"):
        kn.setdefault(name, math.nan)
    print(f"{'Kneser-Ney 5-gram':34s} {kn['valid']:10.1f} {kn['test']:10.1f}")
    figures = {}
    for split, lines in (("valid", valid), ("test", test)):
        start = time.perf_counter()
        stream = token_stream(model, lines)
        figures[f"stream {split}"] = math.exp(evaluate(model, stream, 35, 64, rows=1))
        figures[f"sentence {split}"] = model.perplexity(lines).perplexity
        print(f"  (scored {split} in {time.perf_counter() - start:.0f} s)", file=sys.stderr)
    label = describe(model)
    for how in ("stream", "sentence"):
        print(
            f"{label + ', ' + how:34s} {figures[how + ' valid']:10.1f} "
            f"{figures[how + ' test']:10.1f}"
        )
    winner = (
        f"the {type(model).__name__}" if figures["sentence test"] < kn["test"] else "Kneser-Ney"
    )
    print(f"test perplexity, same sentence prefixes as the 5-gram: {winner} wins", flush=True)


def describe(model: Any) -> str:
    """A short name of ``model``'s shape and size."""
    c, size = model.config, sum(p.size for p in model.parameters().values())
    name = type(model).__name__.replace("LanguageModel", "")
    if name == "MLP":
        return f"MLP order {c['order']}, {c['embed_dim']}/{c['hidden_dim']} ({size / 1e6:.1f} M)"
    return f"{name} {c['layers']}x{c['hidden_dim']} ({size / 1e6:.1f} M)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="training budget")
    parser.add_argument("--steps", type=int, default=None, help="default: sized to the budget")
    parser.add_argument("--model", choices=["lstm", "rnn", "mlp"], default="lstm")
    parser.add_argument("--dim", type=int, default=200)
    parser.add_argument("--order", type=int, default=5, help="the MLP's n-gram order")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=35)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--eval-every", type=int, default=150)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--checkpoint", default="ptb_lstm.npz")
    parser.add_argument("--curve", default="ptb_lstm_curve.tsv")
    parser.add_argument("--evaluate", metavar="CHECKPOINT", help="only score this model")
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy loads
    import nextword
    from nextword.neural import (
        LSTMLanguageModel,
        MLPLanguageModel,
        NeuralLanguageModel,
        RNNLanguageModel,
        TrainingConfig,
        train,
    )

    if not (PTB / "ptb.train.txt").exists():
        sys.exit(f"{PTB}/ptb.train.txt not found: set NEXTWORD_SHARED")
    train_lines, valid, test = read_lines("train"), read_lines("valid"), read_lines("test")
    print(f"load average at start: {os.getloadavg()}, BLAS threads {args.threads}", flush=True)
    start = time.perf_counter()
    kn5 = nextword.NGramLM.fit(train_lines, order=5, progress=False)
    kn = {
        "valid": kn5.perplexity(valid, progress=False).perplexity,
        "test": kn5.perplexity(test, progress=False).perplexity,
    }
    print(
        f"Kneser-Ney 5-gram: valid {kn['valid']:.1f}, test {kn['test']:.1f} "
        f"(fitted and scored in {time.perf_counter() - start:.1f} s)",
        flush=True,
    )
    if args.evaluate:
        report(NeuralLanguageModel.load(args.evaluate), valid, test, kn)
        return

    vocab = nextword.Vocab.from_corpus(train_lines, progress=False)
    cls: type[NeuralLanguageModel]
    if args.model == "mlp":  # Bengio et al.: half-width embeddings, a tanh layer
        cls = MLPLanguageModel
        shape: dict[str, Any] = dict(order=args.order, embed_dim=args.dim // 2)
        shape.update(hidden_dim=args.dim, seed=0)
    else:
        cls = LSTMLanguageModel if args.model == "lstm" else RNNLanguageModel
        shape = dict(embed_dim=args.dim, hidden_dim=args.dim, layers=args.layers)
        shape.update(dropout=args.dropout, tie_weights=True, seed=0)
    budget = args.minutes * 60
    # Without --steps the learning rate decays over the time budget (the schedule
    # follows the wall clock, so a busy machine does not stop it half-way); the
    # step count then only bounds the run and sizes the warm-up.
    steps = args.steps or 10**6
    model = cls(vocab, **shape)
    config = TrainingConfig(
        steps=steps,
        batch_size=args.batch,
        seq_len=args.seq,
        learning_rate=args.lr,
        warmup_steps=max(1, min(100, steps // 50)),
        grad_clip=1.0,
        eval_every=args.eval_every,
        max_seconds=budget,
        time_schedule=args.steps is None,
        eval_rows=16,
    )
    tokens_per_epoch = sum(len(line.split()) + 1 for line in train_lines)
    print(
        f"{describe(model)}, dropout {args.dropout}, batch {args.batch}x"
        f"{args.seq}, AdamW lr {args.lr}, {args.minutes:g} min; an epoch is "
        f"{tokens_per_epoch // (args.batch * args.seq)} steps",
        flush=True,
    )
    curve = open(args.curve, "w", encoding="utf-8")
    curve.write("step\tminutes\tvalid_ppl\tload\n")
    started = time.perf_counter()

    def on_validate(step: int, loss: float, seconds: float) -> None:
        load = os.getloadavg()[0]
        ppl = math.exp(loss)
        print(f"step {step:6d}  {seconds / 60:6.1f} min  valid ppl {ppl:8.1f}  (load {load:.1f})")
        curve.write(f"{step}\t{seconds / 60:.2f}\t{ppl:.2f}\t{load:.2f}\n")
        curve.flush()
        sys.stdout.flush()

    history = train(
        model,
        train_lines,
        config,
        valid=valid,
        checkpoint=args.checkpoint,
        on_validate=on_validate,
    )
    curve.close()
    minutes = (time.perf_counter() - started) / 60
    # A budget shorter than --eval-every steps has no validation to report.
    best = min((v for _, v in history.valid_losses), default=math.nan)
    print(
        f"trained {history.steps} steps in {minutes:.1f} min ({history.stopped}), "
        f"{history.tokens_per_second:,.0f} tokens/s; best valid ppl (16 streams) "
        f"{math.exp(best):.1f} (scored below: the last weights); "
        f"load average now {os.getloadavg()}",
        flush=True,
    )
    report(model, valid, test, kn)


if __name__ == "__main__":
    main()

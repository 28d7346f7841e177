"""The neural side of the ``nextword`` command: ``train --model
mlp|rnn|lstm|transformer`` and its size options (the n-gram path,
``--model ngram``, stays in :mod:`nextword.cli`).

One set of size options serves every architecture: ``--dim`` is the width
(embeddings and hidden state; the MLP's hidden layer is four times wider),
``--context`` the tokens a prediction reads (the MLP's window, the
Transformer's block, the recurrent models' training length), ``--layers``
and ``--heads`` what their names say where the model has them.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from nextword.corpus import CorpusLike
from nextword.neural.language_model import NeuralLanguageModel
from nextword.neural.mlp import MLPLanguageModel
from nextword.neural.recurrent import LSTMLanguageModel, RNNLanguageModel
from nextword.neural.training import TrainingConfig
from nextword.neural.transformer import TransformerLanguageModel
from nextword.tokenizers import Tokenizer

ARCHITECTURES: dict[str, type[NeuralLanguageModel]] = {
    "mlp": MLPLanguageModel,
    "rnn": RNNLanguageModel,
    "lstm": LSTMLanguageModel,
    "transformer": TransformerLanguageModel,
}


def add_size_options(p: argparse.ArgumentParser) -> None:
    """The options of ``train`` for a neural ``--model`` (see the module docs)."""
    group = p.add_argument_group("neural models (--model mlp, rnn, lstm or transformer)")
    group.add_argument("--dim", type=int, default=64, help="width: embeddings and hidden state")
    group.add_argument("--layers", type=int, default=1, help="layers (rnn, lstm, transformer)")
    group.add_argument("--heads", type=int, default=2, help="attention heads (transformer)")
    group.add_argument("--context", type=int, default=32, help="tokens a prediction reads")
    group.add_argument("--steps", type=int, default=1000, help="training steps")
    group.add_argument("--batch-size", type=int, default=16, help="sequences per step")
    group.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    group.add_argument("--seed", type=int, default=0, help="initialisation and batch order")


def model_options(args: argparse.Namespace) -> dict[str, Any]:
    """The constructor's keyword arguments for ``args.model`` from the size options."""
    dim, layers = args.dim, args.layers
    if args.model == "mlp":
        return dict(order=args.context + 1, embed_dim=dim, hidden_dim=4 * dim)
    if args.model == "transformer":
        return dict(dim=dim, heads=args.heads, layers=layers, block_size=args.context)
    return dict(embed_dim=dim, hidden_dim=dim, layers=layers, tie_weights=True)


def train_neural(args: argparse.Namespace, corpus: CorpusLike, tokenizer: Tokenizer) -> int:
    """``nextword train --model NAME``: fit, report and save a checkpoint to ``args.output``."""
    cls = ARCHITECTURES[args.model]
    config = TrainingConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        seq_len=args.context,
        learning_rate=args.lr,
        seed=args.seed,
    )
    start = time.perf_counter()
    model = cls.fit(
        corpus,
        tokenizer,
        training=config,
        progress=False if args.quiet else None,
        seed=args.seed,
        **model_options(args),
    )
    seconds = time.perf_counter() - start
    size = sum(p.size for p in model.parameters().values())
    losses = model.history.losses
    print(
        f"trained {cls.__name__} ({size:,} parameters, {len(model.vocab):,} tokens in the "
        f"vocabulary) for {len(losses)} steps in {seconds:.2f} s; last loss {losses[-1]:.3f} nats"
    )
    model.save(args.output)
    print(f"saved to {args.output}")
    return 0


__all__ = ["ARCHITECTURES", "add_size_options", "model_options", "train_neural"]

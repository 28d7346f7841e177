"""``nextword compare``: n-gram and neural models trained (or loaded) on one
split, in one table.

Each entry of ``--models`` is ``knN`` (a Kneser-Ney N-gram model), a neural
architecture (``mlp``, ``rnn``, ``lstm``, ``transformer``, sized by the same
options as ``nextword train``), or the path of a saved model (an n-gram file or
a neural checkpoint), which is loaded instead of trained. Every model is
scored on the same validation and test text, sentence by sentence from
``<s>``, so the figures are comparable; the table gives parameters (n-gram
entries for an n-gram model), training time, perplexity and bits per token,
then a sample from each model with the same seed and prompt.

>>> train = ["the cat sat on the mat", "a dog sat on a log", "the dog ran",
...          "a cat ran to the mat", "the cat ran", "a dog sat"]
>>> rows = compare_models(train, ["the cat sat"], ["a dog ran"], ["kn2"], sample_tokens=3)
>>> rows[0].name, rows[0].test.tokens
('kn2', 4)
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Union

from nextword.corpus import CorpusLike
from nextword.model import Perplexity
from nextword.tokenizers import TokenizerLike

if TYPE_CHECKING:
    from nextword.lm import NGramLM
    from nextword.neural.language_model import NeuralLanguageModel


@dataclass
class Comparison:
    """One model's row: name, size, seconds to train (0 when loaded), the
    validation and test perplexities and a sample."""

    name: str
    parameters: int
    seconds: float
    valid: Perplexity
    test: Perplexity
    sample: str


def build_model(
    name: str,
    corpus: CorpusLike,
    tokenizer: TokenizerLike,
    neural_options: Optional[dict[str, Any]] = None,
    training: Any = None,
    valid: Optional[CorpusLike] = None,
) -> tuple[Union[NGramLM, NeuralLanguageModel], int]:
    """Train (or load) the model ``name`` names; returns it and its parameter count.

    Raises ValueError for a name that is no model and no file.
    """
    from nextword.lm import NGramLM
    from nextword.neural.cli import ARCHITECTURES

    kn = re.fullmatch(r"kn(\d+)", name)
    if kn:
        lm = NGramLM.fit(corpus, order=int(kn.group(1)), tokenizer=tokenizer, progress=False)
        return lm, sum(lm.sizes())
    if name in ARCHITECTURES:
        model = ARCHITECTURES[name].fit(
            corpus,
            tokenizer,
            training=training,
            valid=valid,
            progress=False,
            **(neural_options or {}),
        )
        return model, sum(p.size for p in model.parameters().values())
    if os.path.exists(name):
        from nextword.neural.checkpoint import is_checkpoint, load_checkpoint

        if is_checkpoint(name):
            loaded = load_checkpoint(name).model
            return loaded, sum(p.size for p in loaded.parameters().values())
        lm = NGramLM.load(name)
        return lm, sum(lm.sizes())
    known = "knN (N an order), " + ", ".join(ARCHITECTURES)
    raise ValueError(f"--models: {name!r} is not a model ({known}) nor a model file")


def compare_models(
    corpus: CorpusLike,
    valid: CorpusLike,
    test: CorpusLike,
    names: Sequence[str],
    tokenizer: TokenizerLike = None,
    neural_options: Optional[dict[str, dict[str, Any]]] = None,
    training: Any = None,
    prompt: str = "",
    sample_tokens: int = 20,
    seed: int = 0,
) -> list[Comparison]:
    """Train or load each model of ``names`` on ``corpus`` and score it on
    ``valid`` and ``test`` (see the module docs). ``neural_options`` maps an
    architecture to its constructor's options; ``training`` is the neural
    models' :class:`~nextword.neural.TrainingConfig`."""
    if not names:
        raise ValueError("--models: no model to compare")
    rows = []
    for name in names:
        start = time.perf_counter()
        options = (neural_options or {}).get(name)
        model, size = build_model(name, corpus, tokenizer, options, training, valid)
        seconds = 0.0 if os.path.exists(name) else time.perf_counter() - start
        sample = model.generate(prompt, max_tokens=sample_tokens, seed=seed)
        rows.append(
            Comparison(name, size, seconds, model.perplexity(valid), model.perplexity(test), sample)
        )
    return rows


def format_table(rows: Sequence[Comparison], prompt: str = "") -> str:
    """The comparison as a text table, then the samples."""
    head = (
        f"{'model':<14} {'parameters':>12} {'train s':>9} {'valid ppl':>10} {'valid bits':>10} "
        f"{'test ppl':>10} {'test bits':>10}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{os.path.basename(r.name):<14} {r.parameters:>12,} {r.seconds:>9.1f} "
            f"{r.valid.perplexity:>10.2f} {r.valid.bits_per_token:>10.3f} "
            f"{r.test.perplexity:>10.2f} {r.test.bits_per_token:>10.3f}"
        )
    lines.append("")
    lines.append(f"samples (same seed), after {prompt!r}:" if prompt else "samples (same seed):")
    for r in rows:
        lines.append(f"  {os.path.basename(r.name):<14} {r.sample}")
    return "\n".join(lines)


def cmd_compare(args: argparse.Namespace, corpus: CorpusLike, tokenizer: TokenizerLike) -> int:
    """``nextword compare``: the table of :func:`compare_models` on stdout."""
    from nextword.neural.cli import ARCHITECTURES, model_options
    from nextword.neural.training import TrainingConfig

    names = [n.strip() for n in args.models.split(",") if n.strip()]
    options = {}
    for name in names:
        if name in ARCHITECTURES:
            options[name] = dict(model_options(argparse.Namespace(**{**vars(args), "model": name})))
            options[name]["seed"] = args.seed
    training = TrainingConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        seq_len=args.context,
        learning_rate=args.lr,
        seed=args.seed,
    )
    rows = compare_models(
        corpus,
        args.valid,
        args.test,
        names,
        tokenizer,
        options,
        training,
        prompt=args.prompt,
        sample_tokens=args.sample_tokens,
        seed=args.seed,
    )
    print(format_table(rows, args.prompt))
    return 0


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``nextword compare`` besides the corpus and size options."""
    p.add_argument("--valid", required=True, help="validation text file")
    p.add_argument("--test", required=True, help="test text file")
    p.add_argument(
        "--models",
        default="kn5,lstm,transformer",
        help="comma-separated: knN, mlp, rnn, lstm, transformer, or saved model files",
    )
    p.add_argument("--prompt", default="", help="the start of each sample")
    p.add_argument("--sample-tokens", type=int, default=20, help="tokens per sample")


__all__ = ["Comparison", "add_compare_arguments", "build_model", "cmd_compare", "compare_models"]

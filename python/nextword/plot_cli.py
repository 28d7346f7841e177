"""``nextword plot``: the figures of :mod:`nextword.plots` from the command line.

nextword plot zipf corpus/*.txt -o zipf.png          # or a counts file from `count -o`
nextword plot count-of-counts counts.bin -o coc.svg
nextword plot perplexity train.txt --held-out test.txt --max-order 5 -o ppl.png
nextword plot loss lstm.npz -o loss.png               # a neural checkpoint
nextword plot vectors vectors.bin -o pca.png --words king queen man woman
nextword plot next model.nwlm "to be or not to" -k 10 -o next.png
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any, Callable

from nextword.corpus import Corpus
from nextword.counts import MAX_ORDER, NGramCounts, count_ngrams


def _is_counts_file(paths: list[str]) -> bool:
    if len(paths) != 1 or not Path(paths[0]).is_file():
        return False
    with open(paths[0], "rb") as f:
        return f.read(8) == b"NWCOUNT\0"


def _counts(args: argparse.Namespace, tokenizer_of: Callable[[argparse.Namespace], Any]) -> Any:
    """A counts file as it is, or the counts of a corpus."""
    if _is_counts_file(args.paths):
        return NGramCounts.load(args.paths[0])
    corpus = Corpus(paths=list(args.paths), errors=args.errors)
    return count_ngrams(corpus, order=args.order, tokenizer=tokenizer_of(args), progress=False)


Loader = Callable[[argparse.Namespace], Any]


def cmd_plot(args: argparse.Namespace, tokenizer_of: Loader, load_model: Loader) -> int:
    """Draw the figure ``args.figure`` to ``args.output``."""
    from nextword import plots

    kind = args.figure
    if kind == "zipf":
        out = plots.zipf(_counts(args, tokenizer_of), args.output)
    elif kind == "count-of-counts":
        out = plots.count_of_counts(_counts(args, tokenizer_of), args.output)
    elif kind == "perplexity":
        out = plots.perplexity_by_order(_perplexities(args, tokenizer_of), args.output)
    elif kind == "loss":
        from nextword.neural.checkpoint import load_checkpoint

        training = load_checkpoint(args.checkpoint).training
        if not training:
            raise ValueError(f"{args.checkpoint}: the checkpoint records no training history")
        out = plots.loss_curves(training, args.output)
    elif kind == "vectors":
        from nextword.embeddings import WordVectors

        vectors = WordVectors.load(args.vectors)
        out = plots.word_vectors(vectors, args.output, words=args.words or None)
    else:  # next
        out = plots.next_word(load_model(args), args.context, args.output, k=args.k)
    print(f"wrote {out}")
    return 0


def _perplexities(
    args: argparse.Namespace, tokenizer_of: Callable[[argparse.Namespace], Any]
) -> dict[int, float]:
    from nextword.lm import NGramLM

    train = Corpus(paths=list(args.paths), errors=args.errors)
    held_out = Corpus(paths=[args.held_out], errors=args.errors)
    tokenizer = tokenizer_of(args)
    result: dict[int, float] = {}
    for order in range(1, args.max_order + 1):
        with warnings.catch_warnings():  # discount fallbacks of small corpora: the plot shows
            warnings.simplefilter("ignore")
            lm = NGramLM.fit(train, order=order, tokenizer=tokenizer, progress=False)
        result[order] = lm.perplexity(held_out, progress=False).perplexity
        print(f"order {order}: perplexity {result[order]:.2f}")
    return result


def add_plot_command(
    sub: Any,
    model_options: Callable[[argparse.ArgumentParser], None],
    tokenizer_of: Loader,
    load_model: Loader,
) -> None:
    """Register ``nextword plot FIGURE ...`` (figures need ``nextword[plots]``)."""
    plot = sub.add_parser(
        "plot", help="draw a figure as PNG or SVG (needs matplotlib: nextword[plots])"
    )
    figures = plot.add_subparsers(dest="figure", required=True)

    def output(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--output", "-o", required=True, help="the figure to write: a .png or .svg name"
        )
        p.set_defaults(func=lambda args: cmd_plot(args, tokenizer_of, load_model))

    def corpus(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("paths", nargs="+", help=what)
        p.add_argument(
            "--tokenizer",
            "-t",
            default="whitespace",
            help="whitespace (KenLM's split), unicode-whitespace, word or char",
        )
        p.add_argument(
            "--lowercase", action="store_true", help="lowercase words (needs --tokenizer word)"
        )
        p.add_argument(
            "--errors",
            choices=["strict", "replace", "skip"],
            default="strict",
            help="invalid UTF-8: stop with an error, replace the bytes, or skip the line",
        )

    for name, text in (
        ("zipf", "rank against frequency of the words, log-log, with the fitted slope"),
        ("count-of-counts", "how many n-grams occur 1, 2, ... 10 times, per order"),
    ):
        p = figures.add_parser(name, help=text)
        corpus(p, "corpus files, directories or globs, or one counts file from `count -o`")
        p.add_argument(
            "--order", "-n", type=int, default=3, help=f"highest order counted (1..{MAX_ORDER})"
        )
        output(p)

    p = figures.add_parser("perplexity", help="held-out perplexity against the n-gram order")
    corpus(p, "training files, directories or globs")
    p.add_argument("--held-out", required=True, help="the text to score (never trained on)")
    p.add_argument(
        "--max-order", type=int, default=5, help="Kneser-Ney models of orders 1..N are fitted"
    )
    output(p)

    p = figures.add_parser("loss", help="training and validation loss of a neural checkpoint")
    p.add_argument("checkpoint", help="a checkpoint written by `train --model ...` (.npz)")
    output(p)

    p = figures.add_parser("vectors", help="word vectors on two principal components")
    p.add_argument("vectors", help="word vectors from `nextword word2vec` (or word2vec's files)")
    p.add_argument("--words", nargs="*", help="the words to show (default: the 40 most frequent)")
    output(p)

    p = figures.add_parser("next", help="the next-word distribution after a context")
    model_options(p)
    p.add_argument("context", help="the start of a sentence")
    p.add_argument("-k", type=int, default=10, help="how many words to show")
    output(p)

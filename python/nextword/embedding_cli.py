"""The ``nextword`` subcommands of word embeddings: ``word2vec``, ``similar``, ``analogy``.

nextword word2vec corpus.txt -o vectors.bin --dim 100 --window 5 --cbow
nextword similar vectors.bin king -k 10
nextword analogy vectors.bin man king woman
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Callable

from nextword.embeddings import Word2Vec, WordVectors


def cmd_word2vec(args: argparse.Namespace) -> int:
    # cli.py imports this module to add the commands: its helpers are imported late.
    from nextword.cli import _corpus_from_args, _tokenizer_from_args

    model = Word2Vec(
        dim=args.dim,
        window=args.window,
        negative=args.negative,
        min_count=args.min_count,
        sg=args.sg,
        epochs=args.epochs,
        alpha=args.alpha,
        min_alpha=args.min_alpha,
        sample=args.sample,
        threads=args.threads or None,
        seed=args.seed,
    )
    start = time.perf_counter()
    wv = model.fit(
        _corpus_from_args(args),
        tokenizer=_tokenizer_from_args(args),
        progress=False if args.quiet else None,
    )
    seconds = time.perf_counter() - start
    words = int(wv.counts.sum()) * args.epochs
    print(
        f"trained {'skip-gram' if args.sg else 'CBOW'} vectors of {len(wv):,} words, "
        f"dim {wv.dim}, in {seconds:.2f} s ({words / max(seconds, 1e-9) / 1e3:,.0f} k words/s)"
    )
    wv.save(args.output)
    print(f"saved to {args.output}")
    return 0


def _print_pairs(pairs: list[tuple[str, float]]) -> None:
    for word, score in pairs:
        print(f"{score:9.4f}  {word}")


def _queries(run: Callable[[argparse.Namespace, WordVectors], None]) -> Callable[..., int]:
    """A command that loads the vectors, runs, and reports an unknown word as an error."""

    def command(args: argparse.Namespace) -> int:
        wv = WordVectors.load(args.vectors)
        try:
            run(args, wv)
        except KeyError as e:
            print(f"nextword: error: {e.args[0]}", file=sys.stderr)
            return 1
        return 0

    return command


def _similar(args: argparse.Namespace, wv: WordVectors) -> None:
    _print_pairs(wv.most_similar(args.word, k=args.k))


def _analogy(args: argparse.Namespace, wv: WordVectors) -> None:
    _print_pairs(wv.analogy(args.a, args.b, args.c, k=args.k, method=args.method))


def add_embedding_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    corpus_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``word2vec``, ``similar`` and ``analogy`` to the ``nextword`` parser."""
    w2v = sub.add_parser("word2vec", help="train word2vec embeddings (skip-gram or CBOW)")
    w2v.add_argument("paths", nargs="+", help="files, directories or globs (.gz/.zst/.jsonl)")
    w2v.add_argument(
        "--output", "-o", required=True, help="vectors.bin (word2vec binary), .txt, or .nwvec"
    )
    w2v.add_argument("--dim", type=int, default=100, help="vector size")
    w2v.add_argument("--window", type=int, default=5, help="context words on each side (at most)")
    w2v.add_argument("--negative", type=int, default=5, help="noise words per example")
    w2v.add_argument("--min-count", type=int, default=5, help="words seen fewer times are left out")
    w2v.add_argument("--epochs", "--iter", type=int, default=5, help="passes over the corpus")
    arch = w2v.add_mutually_exclusive_group()
    arch.add_argument(
        "--sg", dest="sg", action="store_true", default=True, help="skip-gram (the default)"
    )
    arch.add_argument("--cbow", dest="sg", action="store_false", help="CBOW")
    w2v.add_argument("--alpha", type=float, default=0.025, help="initial learning rate")
    w2v.add_argument(
        "--min-alpha", type=float, default=0.0001, help="learning rate at the end (decays linearly)"
    )
    w2v.add_argument("--sample", type=float, default=1e-3, help="subsampling threshold (0 = off)")
    w2v.add_argument("--seed", type=int, default=1, help="same seed and one thread, same vectors")
    w2v.add_argument(
        "--tokenizer",
        "-t",
        default="whitespace",
        help="whitespace (KenLM's split), unicode-whitespace, word or char",
    )
    w2v.add_argument(
        "--lowercase", action="store_true", help="lowercase words (needs --tokenizer word)"
    )
    corpus_options(w2v)
    w2v.set_defaults(func=cmd_word2vec)

    similar = sub.add_parser("similar", help="the nearest words by cosine similarity")
    similar.add_argument("vectors", help="vectors file (.bin, .txt, .nwvec)")
    similar.add_argument("word", help="the word whose neighbours to show")
    similar.add_argument("-k", type=int, default=10, help="how many neighbours")
    similar.set_defaults(func=_queries(_similar))

    analogy = sub.add_parser("analogy", help="a is to b as c is to ?")
    analogy.add_argument("vectors", help="vectors file (.bin, .txt, .nwvec)")
    analogy.add_argument("a", help="a (man)")
    analogy.add_argument("b", help="is to b (king)")
    analogy.add_argument("c", help="as c (woman) is to ?")
    analogy.add_argument("-k", type=int, default=5, help="how many answers")
    analogy.add_argument(
        "--method",
        choices=["3cosadd", "3cosmul"],
        default="3cosadd",
        help="3CosAdd (b - a + c) or Levy and Goldberg's 3CosMul",
    )
    analogy.set_defaults(func=_queries(_analogy))

"""The ``nextword`` command: ``count``, ``train``, ``compare``, ``score``, ``predict``,
``demo``, ``bpe``; ``generate`` (in :mod:`nextword.generate_cli`); ``word2vec``,
``similar``, ``analogy`` (in :mod:`nextword.embedding_cli`); ``index`` (in
:mod:`nextword.index_cli`); ``plot`` (:mod:`nextword.plot_cli`); ``serve``
(:mod:`nextword.serve_cli`); ``filter``, ``dedup``, ``stats``
(:mod:`nextword.filter_cli`). How it prints help, warnings and errors:
:mod:`nextword.cli_messages`.

Run ``nextword --help`` or ``nextword COMMAND --help`` for the options.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

from nextword import __version__
from nextword.bpe_cli import add_bpe_commands
from nextword.cli_messages import Parser, option_names, run_command
from nextword.convert_cli import add_convert_command, add_layout_options, layout_arguments
from nextword.corpus import Corpus
from nextword.counts import MAX_ORDER, NGramCounts, count_ngrams
from nextword.embedding_cli import add_embedding_commands
from nextword.filter_cli import add_filter_commands
from nextword.generate_cli import add_generate_command
from nextword.index_cli import add_index_commands
from nextword.neural.cli import add_size_options
from nextword.neural.compare import add_compare_arguments
from nextword.plot_cli import add_plot_command
from nextword.prune_cli import add_prune_command, add_prune_options, prune_options
from nextword.serve_cli import add_serve_command
from nextword.tokenizers import Tokenizer, as_tokenizer

if TYPE_CHECKING:
    from nextword.lm import NGramLM
    from nextword.neural.language_model import NeuralLanguageModel


def _tokenizer_from_args(args: argparse.Namespace) -> Tokenizer:
    spec: str = args.tokenizer or "whitespace"
    lowercase = getattr(args, "lowercase", False)
    if lowercase and not spec.startswith("word"):
        # Only the word tokenizer lowercases; ignoring the flag would count "The"
        # and "the" apart while the user believes otherwise.
        raise ValueError(
            f"--lowercase works with --tokenizer word, not {spec} "
            "(which keeps the text as it is); add --tokenizer word or drop --lowercase"
        )
    if spec.endswith(".json"):  # a BPE tokenizer.json from `nextword bpe train`
        from nextword.bpe import BPETokenizer

        return BPETokenizer.load(spec)
    if lowercase and ":lower" not in spec:
        spec += ":lower"
    return as_tokenizer(spec)


def print_counts(counts: NGramCounts, top: int, seconds: Optional[float] = None) -> None:
    """Print the summary and the top n-grams of each order."""
    stats = counts.stats
    line = f"read {counts.tokens:,} tokens in {stats['sentences']:,} sentences"
    if seconds is not None:
        line += f" in {seconds:.2f} s ({counts.tokens / max(seconds, 1e-9) / 1e6:.2f} M tokens/s)"
    print(line)
    if stats["bad_lines"]:
        print(f"  {stats['bad_lines']:,} lines with invalid UTF-8 were replaced or skipped")
    print(f"{'order':>5}  {'unique':>14}  {'total':>14}")
    for n in range(1, counts.order + 1):
        print(f"{n:>5}  {counts.num_unique(n):>14,}  {counts.total(n):>14,}")
    if top > 0:
        for n in range(1, counts.order + 1):
            print(f"\ntop {top} {n}-grams:")
            for ngram, c in counts.most_common(top, n):
                print(f"  {c:>12,}  {' '.join(ngram)}")


def cmd_count(args: argparse.Namespace) -> int:
    corpus = Corpus(
        paths=list(args.paths),
        errors=args.errors,
        skip_blank=args.skip_blank,
        text_field=args.text_field,
        format=args.format,
    )
    start = time.perf_counter()
    counts = count_ngrams(
        corpus,
        order=args.order,
        tokenizer=_tokenizer_from_args(args),
        pad=not args.no_pad,
        threads=args.threads,
        progress=False if args.quiet else None,
    )
    seconds = time.perf_counter() - start
    if args.output:  # saved before printing: a reader that stops early never costs the file
        counts.save(args.output)
    print_counts(counts, args.top, seconds)
    if args.output:
        print(f"\nsaved to {args.output}")
    return 0


def _corpus_from_args(args: argparse.Namespace) -> Corpus:
    return Corpus(
        paths=list(args.paths),
        errors=args.errors,
        skip_blank=getattr(args, "skip_blank", False),
        text_field=args.text_field,
        format=args.format,
    )


def cmd_compare(args: argparse.Namespace) -> int:
    from nextword.neural.compare import cmd_compare as compare

    return compare(args, _corpus_from_args(args), _tokenizer_from_args(args))


def cmd_train(args: argparse.Namespace) -> int:
    from nextword.lm import NGramLM

    if args.model != "ngram":
        from nextword.neural.cli import train_neural

        return train_neural(args, _corpus_from_args(args), _tokenizer_from_args(args))
    if args.memory is not None:
        if args.in_memory:
            raise ValueError("--memory streams through disk and --in-memory does not: pick one")
        if args.prune or args.prune_entropy is not None:
            raise ValueError("--prune and --prune-entropy train in memory: drop --memory")
        return _train_within_memory(args)
    if _streams_by_default(args):
        return _train_within_memory(args)
    start = time.perf_counter()
    lm = NGramLM.fit(
        _corpus_from_args(args),
        order=args.order,
        smoothing=args.smoothing,
        tokenizer=_tokenizer_from_args(args),
        k=args.k,
        alpha=args.alpha,
        interpolate_unigrams=not args.no_interpolate_unigrams,
        **prune_options(args),
        threads=args.threads,
        progress=False if args.quiet else None,
    )
    seconds = time.perf_counter() - start
    print(f"trained {lm.smoothing} order {lm.order} in {seconds:.2f} s")
    for n, size in enumerate(lm.sizes(), start=1):
        line = f"  {n}-grams: {size:>12,}"
        if lm.discounts:
            d1, d2, d3 = lm.discounts[n - 1]
            line += f"   discounts {d1:.6g} {d2:.6g} {d3:.6g}"
        print(line)
    start = time.perf_counter()
    lm.save(args.output, progress=False if args.quiet else None, **layout_arguments(args))  # type: ignore[arg-type]
    print(f"saved to {args.output} in {time.perf_counter() - start:.2f} s")
    return 0


def _streams_by_default(args: argparse.Namespace) -> bool:
    """Whether ``train`` without ``--memory`` takes the streaming pipeline: a
    Kneser-Ney ARPA file of order 2 or more, unpruned, not ``--in-memory``.

    Its file is byte-identical to the in-memory path's, written in less time
    and a fraction of the memory (README, "End to end at scale")."""
    return (
        not args.in_memory
        and args.smoothing in ("kneser-ney", "kn")
        and args.order >= 2
        and not args.prune
        and args.prune_entropy is None
        and str(args.output).endswith((".arpa", ".arpa.gz"))
    )


def _train_within_memory(args: argparse.Namespace) -> int:
    """``train --memory`` (and ``train -o m.arpa`` by default): Kneser-Ney
    straight to ARPA through disk, within ``--memory`` (default: lmplz's 80%)."""
    from nextword.scale import DEFAULT_MEMORY, train_arpa

    if args.smoothing not in ("kneser-ney", "kn"):
        raise ValueError("--memory trains Kneser-Ney (the streaming pipeline is lmplz's)")
    if not str(args.output).endswith((".arpa", ".arpa.gz")):
        raise ValueError(
            "--memory writes ARPA (model.arpa or model.arpa.gz); "
            "the binary model is built in memory"
        )
    if args.layout is not None or args.quantize is not None:
        raise ValueError(
            f"{args.output}: an ARPA file has no binary layout; "
            "name the file .nwlm for layout/quantize"
        )
    memory = args.memory or DEFAULT_MEMORY
    start = time.perf_counter()
    report = train_arpa(
        _corpus_from_args(args),
        args.output,
        order=args.order,
        tokenizer=_tokenizer_from_args(args),
        memory=memory,
        temp_dir=args.temp_dir,
        interpolate_unigrams=not args.no_interpolate_unigrams,
        threads=args.threads,
        progress=False if args.quiet else None,
    )
    for message in report["warnings"]:
        print(f"warning: {message}", file=sys.stderr)
    seconds = time.perf_counter() - start
    print(f"trained kneser-ney order {args.order} within {memory} in {seconds:.2f} s")
    for n, (size, (d1, d2, d3)) in enumerate(zip(report["sizes"], report["discounts"]), 1):
        print(f"  {n}-grams: {size:>12,}   discounts {d1:.6g} {d2:.6g} {d3:.6g}")
    print(f"saved to {args.output} ({report['temp_bytes'] / 1e6:.0f} MB of temporary files)")
    return 0


def _load_model(args: argparse.Namespace) -> Union[NGramLM, NeuralLanguageModel]:
    """The model, n-gram or neural whatever the file's name (a neural checkpoint
    is told by its content), read with ``--tokenizer`` when given, else with the
    one it records (a neural model keeps its own)."""
    from nextword.lm import NGramLM
    from nextword.neural.checkpoint import is_checkpoint, load_checkpoint

    if is_checkpoint(args.model):
        if args.tokenizer is not None:
            raise ValueError(f"{args.model}: a neural checkpoint keeps its own tokenizer")
        return load_checkpoint(args.model).model
    if args.tokenizer is None and args.lowercase:
        raise ValueError("--lowercase needs --tokenizer word (the model's own tokenizer is used)")
    tokenizer = _tokenizer_from_args(args) if args.tokenizer is not None else None
    return NGramLM.load(args.model, tokenizer=tokenizer)


def _ngram(lm: Union[NGramLM, NeuralLanguageModel], option: str) -> NGramLM:
    """``lm`` if it is an n-gram model, else an error naming the n-gram-only option."""
    from nextword.lm import NGramLM

    if not isinstance(lm, NGramLM):
        raise ValueError(f"{option} needs an n-gram model, not a {type(lm).__name__}")
    return lm


def cmd_score(args: argparse.Namespace) -> int:
    from nextword.lm import NGramLM

    lm = _load_model(args)
    progress = False if args.quiet else None
    if args.jsonl:
        lm.annotate_jsonl(
            list(args.paths),
            output=args.output,
            text_field=args.text_field,
            out_field=args.field,
            errors=args.errors,
            threads=args.threads,
            progress=progress,
        )
        return 0
    corpus = _corpus_from_args(args)
    if args.per_sentence:
        logprob, tokens, oovs = lm.score_sentences(corpus, threads=args.threads, progress=progress)
        for i, (lp, t, o) in enumerate(zip(logprob.tolist(), tokens.tolist(), oovs.tolist())):
            ppl = 10.0 ** (-lp / t) if t else float("nan")
            print(f"{i + 1}\tTotal: {lp:.6f}\tOOV: {o}\tTokens: {t}\tPerplexity: {ppl:.4f}")
    if isinstance(lm, NGramLM):
        print(lm.perplexity(corpus, threads=args.threads, progress=progress))
    else:
        print(lm.perplexity(corpus, threads=args.threads))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    lm = _load_model(args)
    context = args.context
    shown = context if context else "<s>"
    print(f"after {shown!r}:")
    if args.no_bos:  # a neural model's context always starts a sentence
        best = _ngram(lm, "--no-bos").predict(context, k=args.k, bos=False)
    else:
        best = lm.predict(context, k=args.k)
    for word, p in best:
        print(f"  {word:<20} {p:8.4f}  " + "#" * round(40 * p))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from nextword.demo import run_demo

    run_demo(plots=args.plots)
    return 0


def tokenizer_options(p: argparse.ArgumentParser) -> None:
    """``--tokenizer`` and ``--lowercase`` of the commands that read a corpus."""
    p.add_argument(
        "--tokenizer",
        "-t",
        default="whitespace",
        help="whitespace (KenLM's split), unicode-whitespace, word, char, or a BPE tokenizer.json",
    )
    p.add_argument(
        "--lowercase", action="store_true", help="lowercase words (needs --tokenizer word)"
    )


def corpus_format_options(p: argparse.ArgumentParser) -> None:
    """``--errors`` and ``--format``, shared by every command that reads a corpus."""
    p.add_argument(
        "--errors",
        choices=["strict", "replace", "skip"],
        default="strict",
        help="invalid UTF-8: stop with an error naming the file and line (strict), "
        "replace the bad bytes with U+FFFD, or skip the line",
    )
    p.add_argument(
        "--format",
        choices=["auto", "text", "jsonl"],
        default="auto",
        help="text (a sentence per line) or jsonl (a record per line); auto: jsonl "
        "for .jsonl and .ndjson names (before any .gz/.zst), text otherwise",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="nextword",
        description="Language modelling from corpus to next word.",
    )
    parser.add_argument(
        "--version", action="version", version=f"nextword {__version__}", help="show the version"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    count = sub.add_parser("count", help="count n-grams of a corpus")
    count.add_argument("paths", nargs="+", help="files, directories or globs (.gz/.zst/.jsonl)")
    count.add_argument("--order", "-n", type=int, default=3, help=f"highest order (1..{MAX_ORDER})")
    tokenizer_options(count)
    count.add_argument("--top", "-k", type=int, default=10, help="show the top K n-grams per order")
    count.add_argument("--output", "-o", type=Path, help="save the counts to this file")
    corpus_format_options(count)
    count.add_argument("--text-field", default="text", help="JSONL field holding the text")
    count.add_argument(
        "--skip-blank",
        action="store_true",
        help="drop blank lines (by default each is the sentence <s> </s>, as in lmplz)",
    )
    count.add_argument("--no-pad", action="store_true", help="no <s> and </s> around sentences")
    count.add_argument("--threads", type=int, default=0, help="worker threads (0 = all cores)")
    count.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    count.set_defaults(func=cmd_count)

    def corpus_options(p: argparse.ArgumentParser) -> None:
        corpus_format_options(p)
        p.add_argument("--text-field", default="text", help="JSONL field holding the text")
        p.add_argument(
            "--skip-blank",
            action="store_true",
            help="drop blank lines (by default each is the sentence <s> </s>, as in lmplz)",
        )
        p.add_argument("--threads", type=int, default=0, help="worker threads (0 = all cores)")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    train = sub.add_parser("train", help="train an n-gram or a neural language model")
    train.add_argument("paths", nargs="+", help="files, directories or globs (.gz/.zst/.jsonl)")
    train.add_argument(
        "--model",
        "-m",
        choices=["ngram", "mlp", "rnn", "lstm", "transformer"],
        default="ngram",
        help="ngram (default) or a neural model, saved as a checkpoint (.npz)",
    )
    train.add_argument(
        "--order", "-n", type=int, default=5, help=f"highest n-gram order (1..{MAX_ORDER})"
    )
    train.add_argument(
        "--smoothing",
        "-s",
        default="kneser-ney",
        help="kneser-ney (kn, default), mle, add-k, witten-bell, stupid-backoff",
    )
    tokenizer_options(train)
    train.add_argument("-k", type=float, default=1.0, help="k of add-k")
    train.add_argument("--alpha", type=float, default=0.4, help="alpha of stupid backoff")
    train.add_argument(
        "--no-interpolate-unigrams",
        action="store_true",
        help="as lmplz --interpolate_unigrams 0",
    )
    train.add_argument(
        "--output",
        "-o",
        required=True,
        help="model.nwlm (binary), model.arpa or model.arpa.gz; model.npz for a neural model",
    )
    train.add_argument(
        "--memory",
        "-S",
        help="train Kneser-Ney to ARPA within this memory (2G, 512M, 80%%: as lmplz -S), "
        "spilling sorted runs to disk; default 80%% for an unpruned Kneser-Ney ARPA "
        "file, else everything in memory",
    )
    train.add_argument(
        "--in-memory",
        action="store_true",
        help="fit the whole model in memory (NGramLM.fit) even for a Kneser-Ney ARPA "
        "file: the same file, more memory",
    )
    train.add_argument(
        "--temp-dir",
        "-T",
        help="where the streaming trainer puts its temporary files "
        "(default: the system's temp directory)",
    )
    add_layout_options(train)
    corpus_options(train)
    add_size_options(train)
    add_prune_options(train)
    train.set_defaults(func=cmd_train)
    add_prune_command(sub)

    compare = sub.add_parser(
        "compare", help="n-gram and neural models on one split: perplexity, size, samples"
    )
    compare.add_argument("paths", nargs="+", help="training files, directories or globs")
    add_compare_arguments(compare)
    tokenizer_options(compare)
    corpus_options(compare)
    add_size_options(compare)
    compare.set_defaults(func=cmd_compare)

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("model", help="a model file (.nwlm binary, ARPA, or a neural checkpoint)")
        p.add_argument(
            "--tokenizer",
            "-t",
            help="how to split text (default: the one the model records; whitespace for "
            "ARPA files that record none, as KenLM's)",
        )
        p.add_argument(
            "--lowercase", action="store_true", help="lowercase words (needs --tokenizer word)"
        )

    score = sub.add_parser("score", help="perplexity of text under a model (KenLM query layout)")
    model_options(score)
    score.add_argument("paths", nargs="+", help="text files, directories or globs to score")
    score.add_argument("--per-sentence", action="store_true", help="a line per sentence too")
    score.add_argument(
        "--jsonl", action="store_true", help="JSONL in, JSONL out with a perplexity field"
    )
    score.add_argument("--field", default="perplexity", help="name of the added JSONL field")
    score.add_argument("--output", "-o", help="JSONL output file (default stdout)")
    corpus_options(score)
    score.set_defaults(func=cmd_score)

    predict = sub.add_parser("predict", help="the most probable next words")
    model_options(predict)
    predict.add_argument("context", nargs="?", default="", help="the start of a sentence")
    predict.add_argument("-k", type=int, default=10, help="how many words to show")
    predict.add_argument("--no-bos", action="store_true", help="context is not a sentence start")
    predict.set_defaults(func=cmd_predict)

    add_generate_command(sub, model_options, _load_model)
    add_plot_command(sub, model_options, _tokenizer_from_args, _load_model)
    add_serve_command(sub)

    demo = sub.add_parser("demo", help="the whole pipeline on text that ships with Python")
    demo.add_argument(
        "--plots",
        metavar="DIR",
        type=Path,
        help="also save the figures (Zipf, count-of-counts, perplexity by order, ...) "
        "as PNG files in DIR (needs matplotlib: pip install 'nextword[plots]')",
    )
    demo.set_defaults(func=cmd_demo)
    add_embedding_commands(sub, corpus_options)
    add_bpe_commands(sub, corpus_options)
    add_convert_command(sub)
    add_index_commands(sub, corpus_options, _tokenizer_from_args)
    add_filter_commands(sub, corpus_options)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the ``nextword`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_command(lambda: args.func(args), option_names(parser))


if __name__ == "__main__":
    sys.exit(main())

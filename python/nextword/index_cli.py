"""The ``nextword index`` commands: ``build`` a suffix-array index of a
corpus, ``count`` a phrase, ``find`` where it occurs, and measure the
``novelty`` of a text against the corpus.

    nextword index build corpus/*.txt -o corpus.idx
    nextword index count corpus.idx "to be or not to be"
    nextword index find corpus.idx "to be or not" -n 10
    nextword index novelty corpus.idx generated.txt
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable

from nextword.corpus import Corpus
from nextword.index import CorpusIndex
from nextword.tokenizers import Tokenizer


def cmd_index_build(args: argparse.Namespace, tokenizer: Tokenizer) -> int:
    start = time.perf_counter()
    corpus = Corpus(
        paths=list(args.paths), errors=args.errors, text_field=args.text_field, format=args.format
    )
    index = CorpusIndex.build(
        corpus,
        path=args.output,
        tokenizer=tokenizer,
        documents=args.documents,
        pad=not args.no_pad,
        token_width=args.token_width,
        max_vocab=args.max_vocab,
        threads=args.threads,
        progress=False if args.quiet else None,
        memory=args.memory,
        shard_tokens=args.shard_tokens,
    )
    seconds = time.perf_counter() - start
    info = index.info()
    per_token = info["file_bytes"] / info["tokens"]
    print(
        f"indexed {info['tokens']:,} tokens in {info['documents']:,} documents "
        f"({info['vocab_size']:,} types) in {seconds:.2f} s -> {args.output} "
        f"({info['file_bytes'] / 1e6:.1f} MB, {per_token:.2f} bytes/token: "
        f"{info['token_width']}-byte tokens, {info['pointer_width']}-byte pointers"
        + (f", {info['shards']} shards)" if info["shards"] > 1 else ")")
    )
    return 0


def cmd_index_count(args: argparse.Namespace) -> int:
    index = CorpusIndex.open(args.index)
    for phrase in args.phrases:
        print(f"{index.count(phrase)}\t{phrase}")
        if args.next:
            for word, n in index.next_counts(phrase, k=args.next):
                print(f"\t{n}\t{word}")
    return 0


def cmd_index_find(args: argparse.Namespace) -> int:
    index = CorpusIndex.open(args.index)
    total = index.count(args.phrase)
    hits = index.find(args.phrase, limit=args.limit, window=args.window)
    print(f"{total:,} occurrences of {args.phrase!r}; {len(hits)} shown")
    for h in hits:
        print(f"doc {h.document}:{h.offset}\t{h}")
    return 0


def cmd_index_novelty(args: argparse.Namespace) -> int:
    index = CorpusIndex.open(args.index)
    text = Path(args.text).read_text(encoding="utf-8")
    result = index.novelty(text, max_n=args.max_n, threads=args.threads)
    print("n\tn-grams\tfound in corpus\tnovel")
    for n in range(1, args.max_n + 1):
        found = result.found[n]
        print(f"{n}\t{result.ngrams[n]:,}\t{found:.1%}\t{1 - found:.1%}")
    print(f"median longest match: {result.median_longest:g} tokens")
    return 0


def add_index_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    corpus_options: Callable[[argparse.ArgumentParser], None],
    tokenizer_of: Callable[[argparse.Namespace], Tokenizer],
) -> None:
    """Add ``index build|count|find|novelty`` to the command's subparsers."""
    index = sub.add_parser("index", help="suffix-array index: counts of any length, search")
    cmds = index.add_subparsers(dest="index_command", required=True)

    build = cmds.add_parser("build", help="index a corpus")
    build.add_argument("paths", nargs="+", help="files, directories or globs (.gz/.zst/.jsonl)")
    build.add_argument("--output", "-o", required=True, help="the index file to write")
    build.add_argument("--tokenizer", "-t", default="whitespace", help="a name or tokenizer.json")
    build.add_argument("--lowercase", action="store_true", help="lowercase (word tokenizer)")
    build.add_argument(
        "--documents",
        choices=["lines", "files"],
        default="lines",
        help="what a document is (no match crosses one): a line, or a whole file",
    )
    build.add_argument("--no-pad", action="store_true", help="no <s> and </s> around sentences")
    build.add_argument("--token-width", type=int, choices=[2, 4], help="bytes per token")
    build.add_argument("--max-vocab", type=int, help="keep this many types, the rest <unk>")
    build.add_argument(
        "--memory",
        help="peak memory budget, e.g. 4G: the corpus is indexed in shards sorted within it",
    )
    build.add_argument("--shard-tokens", type=int, help="at most this many tokens a shard")
    corpus_options(build)
    build.set_defaults(func=lambda a: cmd_index_build(a, tokenizer_of(a)))

    count = cmds.add_parser("count", help="how often phrases occur")
    count.add_argument("index", help="an index file")
    count.add_argument("phrases", nargs="+", help="one or more phrases")
    count.add_argument("--next", "-k", type=int, default=0, help="show the K commonest successors")
    count.set_defaults(func=cmd_index_count)

    find = cmds.add_parser("find", help="where a phrase occurs, in context")
    find.add_argument("index", help="an index file")
    find.add_argument("phrase", help="the words to find")
    find.add_argument("--limit", "-n", type=int, default=10, help="show at most N hits")
    find.add_argument("--window", "-w", type=int, default=8, help="tokens of context each side")
    find.set_defaults(func=cmd_index_find)

    novelty = cmds.add_parser("novelty", help="how much of a text occurs in the corpus")
    novelty.add_argument("index", help="an index file")
    novelty.add_argument("text", help="a text file (each line a separate sequence)")
    novelty.add_argument("--max-n", type=int, default=10, help="n-grams of n = 1..N")
    novelty.add_argument("--threads", type=int, default=0, help="worker threads (0 = all cores)")
    novelty.set_defaults(func=cmd_index_novelty)

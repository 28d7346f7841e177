"""The ``nextword bpe`` commands: ``train`` a byte-level BPE on files, ``encode``
text to ids, ``decode`` ids to text.

    nextword bpe train corpus/*.txt --vocab-size 8000 -o tokenizer.json
    nextword bpe encode tokenizer.json "some text"
    nextword bpe encode tokenizer.json --file notes.txt   # one line of ids per line
    nextword bpe decode tokenizer.json 464 3797 3332
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

from nextword.bpe import BPETokenizer
from nextword.corpus import Corpus


def cmd_bpe_train(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    corpus = Corpus(
        paths=list(args.paths), errors=args.errors, text_field=args.text_field, format=args.format
    )
    tok = BPETokenizer.train(
        corpus,
        vocab_size=args.vocab_size,
        min_frequency=args.min_frequency,
        special_tokens=args.special,
        pattern=args.pattern,
        threads=args.threads,
        progress=False if args.quiet else None,
    )
    if args.tiktoken:
        tok.save_tiktoken(args.output)
    else:
        tok.save(args.output)
    seconds = time.perf_counter() - start
    merges = len(tok.merges)
    print(f"{tok.vocab_size:,} tokens ({merges:,} merges) in {seconds:.2f} s -> {args.output}")
    return 0


def _lines(args: argparse.Namespace, given: list[str]) -> list[str]:
    if args.file is not None:
        return Path(args.file).read_text(encoding="utf-8").splitlines()
    if not given:
        raise ValueError("give the input as arguments or with --file")
    return [" ".join(given)]


def cmd_bpe_encode(args: argparse.Namespace) -> int:
    tok = BPETokenizer.load(args.tokenizer)
    for ids in tok.encode_batch(_lines(args, args.text)):
        print(" ".join(str(i) for i in ids.tolist()))
    return 0


def cmd_bpe_decode(args: argparse.Namespace) -> int:
    tok = BPETokenizer.load(args.tokenizer)
    for line in _lines(args, args.ids):
        ids = [int(i) for i in line.split()]
        try:
            text = tok.decode(ids)
        except IndexError as e:  # reported as a usage error, not a traceback
            raise ValueError(str(e)) from e
        sys.stdout.write(text + "\n")
    return 0


def add_bpe_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    corpus_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``bpe train|encode|decode`` to the command's subparsers."""
    bpe = sub.add_parser("bpe", help="byte-level BPE: train, encode, decode")
    cmds = bpe.add_subparsers(dest="bpe_command", required=True)

    train = cmds.add_parser("train", help="learn BPE merges from files")
    train.add_argument("paths", nargs="+", help="files, directories or globs (.gz/.zst/.jsonl)")
    train.add_argument("--vocab-size", type=int, default=8000, help="bytes + merges + specials")
    train.add_argument("--min-frequency", type=int, default=2, help="rarest pair merged")
    train.add_argument("--special", action="append", default=[], help="a special token (repeat)")
    train.add_argument("--pattern", default="gpt2", help="gpt2 (default), cl100k, o200k or a regex")
    train.add_argument("--tiktoken", action="store_true", help="write a tiktoken rank file")
    train.add_argument("--output", "-o", required=True, help="tokenizer.json to write")
    corpus_options(train)
    train.set_defaults(func=cmd_bpe_train)

    encode = cmds.add_parser("encode", help="text to token ids")
    encode.add_argument("tokenizer", help="a tokenizer.json")
    encode.add_argument("text", nargs="*", help="the text (or --file)")
    encode.add_argument("--file", "-f", help="encode each line of this file")
    encode.set_defaults(func=cmd_bpe_encode)

    decode = cmds.add_parser("decode", help="token ids to text")
    decode.add_argument("tokenizer", help="a tokenizer.json")
    decode.add_argument("ids", nargs="*", help="the ids (or --file, a line of ids per text)")
    decode.add_argument("--file", "-f", help="decode each line of ids of this file")
    decode.set_defaults(func=cmd_bpe_decode)

"""Counting n-grams and fitting Kneser-Ney across machines with Dask.

An optional extra (``pip install nextword[dask]``); nothing else in nextword
imports Dask. The plan is the one a single process follows, spread out:

1. **Shards.** Every file is one shard; a plain-text file larger than
   ``split_bytes`` is cut into byte ranges at line boundaries (a range owns
   every line whose first byte lies inside it, so no line is lost or counted
   twice). Compressed files cannot be entered in the middle and stay whole.
2. **Count.** Each worker counts its shard with the Rust core, exactly as
   :func:`nextword.count_ngrams` would, and returns the count table in the
   project's own checksummed binary format (``NGramCounts.save``): bytes, never
   pickled Python objects of n-grams.
3. **Merge.** Tables are added pairwise in a tree (``log2(shards)`` rounds),
   neighbours with neighbours, so the vocabulary comes out in order of first
   occurrence, as one process assigns it: the merged table equals the
   single-process count, ids included.
4. **Estimate.** Kneser-Ney needs continuation counts (how many distinct words
   precede an n-gram), which no shard can compute from its own text: a word's
   left neighbours are spread over all shards. So shards ship raw counts, and
   the adjustment runs once on the merged table (``NGramLM.fit(counts)``),
   which makes the model identical to the single-process one. At cluster
   scale the merged table no longer fits one machine; ``docs/scaling.md`` says
   how the adjustment is sharded by suffix instead.

Failures are Dask's to handle: a worker that dies loses its tasks and their
results, and the scheduler runs them again elsewhere; every task is a pure
function of its inputs, so the result does not change.
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from nextword.corpus import Corpus
from nextword.counts import MAX_ORDER, NGramCounts
from nextword.counts import count_ngrams as _count_local
from nextword.errors import CorpusError
from nextword.tokenizers import TokenizerLike, as_tokenizer

PathLike = Union[str, "os.PathLike[str]"]

#: Plain-text files larger than this are split into byte ranges of about this size.
SPLIT_BYTES = 64 << 20

_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")  # gzip, zstd
_JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class Shard:
    """The lines of ``path`` whose first byte lies in ``[start, end)``
    (``end`` None: the whole file, read by the core itself)."""

    path: str
    start: int = 0
    end: Optional[int] = None


def _files(paths: Sequence[PathLike]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files += sorted(
                f
                for f in path.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.parts)
            )
        elif path.exists():
            files.append(path)
        else:
            pattern = str(p)
            matches = [Path(m) for m in sorted(glob.glob(pattern, recursive=True))]
            wild = any(c in pattern for c in "*?[")
            matches = [m for m in matches if m.is_file()] if wild else []
            if not matches:
                raise FileNotFoundError(f"{p}: no such file, directory or glob match")
            files += matches
    return files


def plan_shards(paths: Sequence[PathLike], split_bytes: int = SPLIT_BYTES) -> list[Shard]:
    """The shards of a corpus, in corpus order (see the module docs)."""
    if split_bytes <= 0:
        raise ValueError(f"split_bytes must be > 0, not {split_bytes}")
    shards: list[Shard] = []
    for file in _files(paths):
        size = file.stat().st_size
        with open(file, "rb") as f:
            compressed = f.read(4).startswith(_COMPRESSED_MAGIC)
        if compressed or size <= split_bytes:
            shards.append(Shard(str(file)))
            continue
        for start in range(0, size, split_bytes):
            shards.append(Shard(str(file), start, min(start + split_bytes, size)))
    if not shards:
        raise FileNotFoundError("the corpus names no file")
    return shards


def read_shard(shard: Shard) -> tuple[int, bytes]:
    """The lines a byte-range shard owns (see :class:`Shard`): the file offset
    of their first byte, and their bytes."""
    assert shard.end is not None
    with open(shard.path, "rb") as f:
        start = shard.start
        if start > 0:
            f.seek(start - 1)
            if f.read(1) != b"\n":
                f.readline()  # the line running into the range belongs to the previous shard
                start = f.tell()
        if start >= shard.end:
            return start, b""
        f.seek(start)
        data = f.read(shard.end - start)
        if not data.endswith(b"\n"):
            data += f.readline()  # the last line runs on past the range
    return start, data


def _line_of(path: str, byte: int) -> int:
    """1-based line number of byte offset ``byte`` in ``path``."""
    line, done = 1, 0
    with open(path, "rb") as f:
        while done < byte:
            block = f.read(min(1 << 20, byte - done))
            if not block:
                break
            line += block.count(b"\n")
            done += len(block)
    return line


def _shard_text(path: str, offset: int, data: bytes, errors: str) -> str:
    """Decode a shard's bytes under the corpus's UTF-8 policy."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        if errors == "replace":
            return data.decode("utf-8", errors="replace")
        if errors == "skip":
            kept = []
            for raw in data.split(b"\n"):
                try:
                    kept.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    continue
            return "\n".join(kept)
        byte = offset + e.start
        line = _line_of(path, byte)
        err = CorpusError(
            f"{path}: line {line}, byte {byte}: invalid UTF-8 "
            f'(byte 0x{data[e.start]:02x}); pass errors="replace" or "skip" to go on'
        )
        err.source, err.line, err.byte = path, line, byte
        raise err from None


def _table_bytes(counts: NGramCounts) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counts.nwc"
        counts.save(path)
        return path.read_bytes()


def _table(data: bytes) -> NGramCounts:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counts.nwc"
        path.write_bytes(data)
        return NGramCounts.load(path)


def count_shard(
    shard: Shard, order: int, tokenizer: str, pad: bool, options: dict[str, Any]
) -> bytes:
    """Count one shard (on a worker); return the table's file bytes."""
    options = dict(options)

    def count(corpus: Corpus) -> bytes:
        counts = _count_local(
            corpus, order=order, tokenizer=tokenizer, pad=pad, threads=1, progress=False
        )
        return _table_bytes(counts)

    if shard.end is None:
        return count(Corpus(paths=[shard.path], **options))
    offset, data = read_shard(shard)
    text = _shard_text(shard.path, offset, data, options.get("errors", "strict"))
    if options.get("format", "auto") == "auto" and shard.path.endswith(_JSONL_SUFFIXES):
        options["format"] = "jsonl"
    if options.get("format") != "jsonl" and text and not text.endswith("\n"):
        # The file's last line, without a newline: read from a file, as in one
        # process, it gets no </s> (lmplz's rule); a text would end it.
        with tempfile.TemporaryDirectory() as tmp:
            part = Path(tmp) / "last-shard.txt"
            part.write_bytes(text.encode("utf-8"))
            return count(Corpus(paths=[str(part)], **options))
    return count(Corpus(texts=[text], **options))


def merge_tables(left: bytes, right: bytes) -> bytes:
    """Add two count tables (``left`` first); the file bytes of the sum."""
    return _table_bytes(_table(left).merge(_table(right)))


def count_ngrams(
    paths: Union[PathLike, Sequence[PathLike]],
    order: int = 3,
    client: Any = None,
    tokenizer: TokenizerLike = None,
    pad: bool = True,
    split_bytes: int = SPLIT_BYTES,
    **corpus_options: Any,
) -> NGramCounts:
    """Count n-grams of orders 1..``order`` over files on a Dask cluster.

    Equal to :func:`nextword.count_ngrams` over the same files, ids included
    (see the module docs for how). ``client`` is a ``distributed.Client``
    (default: the current one); ``corpus_options`` are
    :class:`~nextword.Corpus` fields (``errors``, ``skip_blank``, ``format``,
    ``text_field``).
    """
    if not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be an int in 1..{MAX_ORDER}, not {order!r}")
    if client is None:
        from distributed import default_client

        client = default_client()  # type: ignore[no-untyped-call]
    names = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    Corpus(**corpus_options)  # unknown or bad options fail here, not on a worker
    spec = as_tokenizer(tokenizer).spec
    shards = plan_shards(names, split_bytes)
    futures = client.map(
        count_shard,
        shards,
        order=order,
        tokenizer=spec,
        pad=pad,
        options=corpus_options,
        pure=False,
    )
    while len(futures) > 1:
        merged = [
            client.submit(merge_tables, futures[i], futures[i + 1], pure=False)
            for i in range(0, len(futures) - 1, 2)
        ]
        if len(futures) % 2:
            merged.append(futures[-1])
        futures = merged
    return _table(futures[0].result())


__all__ = ["SPLIT_BYTES", "Shard", "count_ngrams", "count_shard", "merge_tables", "plan_shards"]

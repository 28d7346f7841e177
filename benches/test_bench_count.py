"""Tokenizing and counting: the Rust core against the pure-Python reference.

Run with ``pytest benches --benchmark-only`` (slow; not part of the test suite).
``python benches/report.py`` prints the README table with peak memory. Both time
the same cases with the same code (``report.encode_rust`` / ``encode_reference``
and the counting calls): a corpus tokenized to ids, and n-grams counted, on the
same corpora and orders. Only the Gutenberg reference (a prefix in report.py)
is not repeated here.
"""

from __future__ import annotations

from pathlib import Path

import nextword
import pytest
from nextword import reference
from report import encode_reference, encode_rust

CORPORA = {"tinyshakespeare": "corpora/en/tinyshakespeare.txt", "ptb": "corpora/en/ptb.train.txt"}


def _lines(path: Path) -> list[str]:
    return reference.split_lines(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CORPORA))
@pytest.mark.parametrize("order", [3, 5])
def test_count_rust(benchmark, shared: Path, name: str, order: int) -> None:
    path = shared / CORPORA[name]
    counts = benchmark(nextword.count_ngrams, path, order=order, progress=False)
    benchmark.extra_info["tokens"] = counts.tokens
    benchmark.extra_info["tokens_per_s"] = counts.tokens / benchmark.stats.stats.median


@pytest.mark.parametrize("name", sorted(CORPORA))
@pytest.mark.parametrize("order", [3, 5])
def test_count_reference(benchmark, shared: Path, name: str, order: int) -> None:
    lines = _lines(shared / CORPORA[name])
    benchmark.pedantic(reference.count_ngrams, args=(lines,), kwargs={"order": order}, rounds=3)
    tokens = sum(len(reference.whitespace_tokenize(s)) for s in reference.sentences(lines))
    benchmark.extra_info["tokens_per_s"] = tokens / benchmark.stats.stats.median


@pytest.mark.parametrize("tokenizer", ["whitespace", "word", "char"])
@pytest.mark.parametrize("impl", ["rust", "reference"])
def test_tokenize_to_ids(benchmark, shared: Path, impl: str, tokenizer: str) -> None:
    lines = _lines(shared / CORPORA["tinyshakespeare"])
    vocab = nextword.Vocab.from_corpus(lines, tokenizer=tokenizer, progress=False)
    encode = encode_rust if impl == "rust" else encode_reference
    tokens = benchmark.pedantic(encode, args=(vocab, tokenizer, lines), rounds=3)
    benchmark.extra_info["tokens_per_s"] = tokens / benchmark.stats.stats.median


def test_count_gutenberg_order5(benchmark, shared: Path) -> None:
    counts = benchmark.pedantic(
        nextword.count_ngrams,
        args=(shared / "corpora/gutenberg",),
        kwargs={"order": 5, "progress": False},
        rounds=1,
    )
    assert counts.tokens > 50_000_000

"""Tokenizing and counting: the Rust core against the pure-Python reference.

Run with ``pytest benches --benchmark-only`` (slow; not part of the test suite).
``python benches/report.py`` prints the README table with peak memory.
"""

from __future__ import annotations

from pathlib import Path

import nextword
import pytest
from nextword import reference

CORPORA = {"tinyshakespeare": "corpora/en/tinyshakespeare.txt", "ptb": "corpora/en/ptb.train.txt"}


def _lines(path: Path, limit: int = 0) -> list[str]:
    text = path.read_text(encoding="utf-8")
    lines = reference.split_lines(text)
    return lines[:limit] if limit else lines


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
    lines = _lines(shared / CORPORA[name], limit=20000)
    benchmark.pedantic(reference.count_ngrams, args=(lines,), kwargs={"order": order}, rounds=3)
    tokens = sum(len(reference.whitespace_tokenize(s)) for s in lines)
    benchmark.extra_info["tokens_per_s"] = tokens / benchmark.stats.stats.median


@pytest.mark.parametrize("tokenizer", ["whitespace", "word", "char"])
def test_tokenize_rust(benchmark, shared: Path, tokenizer: str) -> None:
    lines = _lines(shared / CORPORA["tinyshakespeare"])
    tok = nextword.Tokenizer.from_spec(tokenizer)
    benchmark(tok.tokenize_batch, lines)


@pytest.mark.parametrize("tokenizer", ["whitespace", "word", "char"])
def test_tokenize_reference(benchmark, shared: Path, tokenizer: str) -> None:
    lines = _lines(shared / CORPORA["tinyshakespeare"], limit=5000)
    fn = {
        "whitespace": reference.whitespace_tokenize,
        "word": reference.word_tokenize,
        "char": reference.char_tokenize,
    }[tokenizer]
    benchmark.pedantic(lambda: [fn(s) for s in lines], rounds=3)


def test_count_gutenberg_order5(benchmark, shared: Path) -> None:
    counts = benchmark.pedantic(
        nextword.count_ngrams,
        args=(shared / "corpora/gutenberg",),
        kwargs={"order": 5, "progress": False},
        rounds=1,
    )
    assert counts.tokens > 50_000_000

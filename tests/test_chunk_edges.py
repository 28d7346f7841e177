"""Differential tests that reach chunk edges, several workers and their merge.

The reader cuts inputs into chunks of ``_core.CHUNK_BYTES`` (256 KiB): the small
corpora hypothesis draws fit in one chunk, which takes the single-threaded
path. ``_core.set_chunk_bytes`` (for tests only) shrinks the chunk to a few
bytes, so the same small corpora are cut at every kind of place (inside a
line, between the ``\\r`` and ``\\n`` of a CRLF, inside a multi-byte
character's line) and spread over several workers whose states are merged.
Every result must equal the reference's and the one-chunk result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nextword
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nextword import _core, reference
from test_differential import TOKENIZERS, texts

EDGES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHUNK = st.sampled_from([1, 2, 3, 5, 8, 17, 64])


@contextmanager
def chunk_bytes(n: int) -> Iterator[None]:
    _core.set_chunk_bytes(n)
    try:
        yield
    finally:
        _core.set_chunk_bytes(0)


def write(tmp: pytest.TempPathFactory, corpus: list[str]) -> tuple[Path, str]:
    """The texts as one file (its bytes as they are) and that file's text."""
    text = "".join(t if t.endswith("\n") or not t else t + "\n" for t in corpus)
    path = tmp.mktemp("edges") / "corpus.txt"
    path.write_bytes(text.encode("utf-8"))
    return path, text


def test_small_chunks_reach_several_workers() -> None:
    """The setting works: 6,000 short lines in 8-byte chunks give the same counts
    and vocabulary order whatever the thread count."""
    lines = [f"w{i % 97} w{i % 13} x" for i in range(6000)]
    expected = nextword.count_ngrams(lines, order=3, threads=1)
    with chunk_bytes(8):
        for threads in (1, 2, 4):
            got = nextword.count_ngrams(lines, order=3, threads=threads)
            assert list(got.items()) == list(expected.items())
            assert got.vocab.words() == expected.vocab.words()
            assert got.vocab.counts().tolist() == expected.vocab.counts().tolist()


@pytest.mark.parametrize(("rust", "ref"), TOKENIZERS[:3] + TOKENIZERS[5:6])
@EDGES
@given(corpus=texts(), order=st.integers(1, 3), chunk=CHUNK, threads=st.sampled_from([1, 3]))
def test_file_counts_at_chunk_edges(
    tmp_path_factory: pytest.TempPathFactory,
    rust: nextword.Tokenizer,
    ref,
    corpus: list[str],
    order: int,
    chunk: int,
    threads: int,
) -> None:
    path, text = write(tmp_path_factory, corpus)
    sentences = list(reference.sentences([text]))
    if not sentences:
        return
    expected = reference.count_ngrams([text], order=order, tokenize=ref)
    whole = nextword.count_ngrams(path, order=order, tokenizer=rust, threads=1)
    with chunk_bytes(chunk):
        counts = nextword.count_ngrams(path, order=order, tokenizer=rust, threads=threads)
    for n in range(1, order + 1):
        assert Counter(dict(counts.items(n))) == expected[n - 1], f"order {n}"
    assert counts.sentences == len(sentences)
    assert counts.stats == whole.stats
    assert counts.vocab.words() == whole.vocab.words()
    assert counts.vocab.counts().tolist() == whole.vocab.counts().tolist()


@EDGES
@given(corpus=texts(), chunk=CHUNK, threads=st.sampled_from([1, 3]))
def test_vocab_and_encoding_at_chunk_edges(
    tmp_path_factory: pytest.TempPathFactory, corpus: list[str], chunk: int, threads: int
) -> None:
    path, text = write(tmp_path_factory, corpus)
    sentences = list(reference.sentences([text], skip_blank=False))
    if not sentences or not list(reference.sentences([text], skip_blank=True)):
        return
    vocab = nextword.Vocab.from_corpus(path, threads=1)
    char = nextword.Vocab([], tokenizer=nextword.CharTokenizer(keep_whitespace=True))
    ids, offsets = char.encode_corpus(path, skip_blank=False)
    with chunk_bytes(chunk):
        assert nextword.Vocab.from_corpus(path, threads=threads).words() == vocab.words()
        got_ids, got_offsets = char.encode_corpus(path, skip_blank=False, threads=threads)
    assert got_ids.tolist() == ids.tolist()
    assert got_offsets.tolist() == offsets.tolist()
    assert len(offsets) == len(sentences) + 1


@EDGES
@given(corpus=texts(), chunk=CHUNK, where=st.floats(0, 1))
def test_error_position_at_chunk_edges(
    tmp_path_factory: pytest.TempPathFactory, corpus: list[str], chunk: int, where: float
) -> None:
    """A bad byte is reported at the same line and byte whatever the chunking."""
    path, _ = write(tmp_path_factory, corpus)
    data = path.read_bytes()
    cut = int(where * len(data))
    while 0 < cut < len(data) and (data[cut] & 0xC0) == 0x80:
        cut -= 1  # not inside a character: the bad byte must be the first one
    path.write_bytes(data[:cut] + b"\xff" + data[cut:])
    with pytest.raises(nextword.CorpusError) as whole:
        nextword.count_ngrams(path, order=2, threads=1)
    with chunk_bytes(chunk), pytest.raises(nextword.CorpusError) as small:
        nextword.count_ngrams(path, order=2, threads=3)
    assert (small.value.line, small.value.byte) == (whole.value.line, whole.value.byte)
    assert whole.value.byte == cut
    assert whole.value.line == data[:cut].count(b"\n") + 1

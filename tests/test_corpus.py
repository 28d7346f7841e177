"""Corpus input: every way of naming a corpus, line ends, blank lines, UTF-8 policy, errors.

Expected values are computed independently in the tests (``collections.Counter``
over tiny inputs, plain Python over the bytes of real files).
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import nextword
import pytest
from conftest import require_shared
from nextword import Corpus, CorpusError, EmptyCorpusError, NoFilesError, Vocab, count_ngrams

NGram = tuple[str, ...]


def ref_counts(
    sentences: Iterable[str], order: int, pad: bool = True, unended_last: bool = False
) -> dict[NGram, int]:
    """n-gram counts of orders 1..order by plain Python (lmplz's whitespace tokens:
    split at NUL, tab, LF, CR and space). ``unended_last``: the last sentence is
    a file's last line without a newline, which lmplz gives no ``</s>``."""
    counter: Counter[NGram] = Counter()
    sentences = list(sentences)
    for index, sentence in enumerate(sentences):
        tokens = [t for t in re.split("[\0\t\n\r ]", sentence) if t]
        if pad:
            unended = unended_last and index == len(sentences) - 1
            tokens = ["<s>", *tokens] + ([] if unended else ["</s>"])
        for n in range(1, order + 1):
            for i in range(len(tokens) - n + 1):
                counter[tuple(tokens[i : i + n])] += 1
    return dict(counter)


def got(counts: nextword.NGramCounts) -> dict[NGram, int]:
    return dict(counts.items())


def split_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset, line) for each line of ``data``; lines end at \\r\\n or \\n."""
    pos = 0
    for m in re.finditer(rb"\r?\n", data):
        yield pos, data[pos : m.start()]
        pos = m.end()
    if pos < len(data):
        yield pos, data[pos:]


def first_bad_utf8(data: bytes) -> tuple[int, int]:
    """(1-based line, 0-based byte offset) of the first byte that is not valid UTF-8."""
    for index, (offset, line) in enumerate(split_lines(data)):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as e:
            return index + 1, offset + e.start
    raise AssertionError("no invalid UTF-8 in data")


SENTENCES = ["the cat sat on the mat", "the dog sat", "a cat and a dog"]
EXPECTED = ref_counts(SENTENCES, 3)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


# --- the shared fixture ------------------------------------------------------


def test_shared_fixture_skips_or_fails_when_absent(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no-shared-here"
    monkeypatch.setenv("NEXTWORD_SHARED", str(missing))
    monkeypatch.delenv("NEXTWORD_REQUIRE_SHARED", raising=False)
    with pytest.raises(pytest.skip.Exception, match="set NEXTWORD_SHARED"):
        require_shared()


def test_shared_fixture_fails_in_ci(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no-shared-here"
    monkeypatch.setenv("NEXTWORD_SHARED", str(missing))
    monkeypatch.setenv("NEXTWORD_REQUIRE_SHARED", "1")
    with pytest.raises(pytest.fail.Exception, match=re.escape(str(missing))):
        require_shared()


def test_shared_fixture_follows_the_env_var(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEXTWORD_SHARED", str(tmp_path))
    assert require_shared() == tmp_path


# --- kinds of input ------------------------------------------------------------


def test_one_path_as_str_and_as_path(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "\n".join(SENTENCES) + "\n")
    assert got(count_ngrams(str(path), order=3)) == EXPECTED
    counts = count_ngrams(path, order=3)
    assert got(counts) == EXPECTED
    assert counts.sentences == 3
    assert counts.tokens == sum(len(s.split()) for s in SENTENCES)
    assert counts.stats["bytes"] == path.stat().st_size
    assert counts.stats["lines"] == 3


def test_last_line_without_terminator(tmp_path: Path) -> None:
    # lmplz's rule (lm/builder/corpus_count.cc): a file's last line without a
    # newline has its words counted but no </s>; a blank one counts nothing.
    expected = Counter(ref_counts(SENTENCES[:-1], 3))
    last = ["<s>", *SENTENCES[-1].split()]
    for n in range(1, 4):
        for i in range(len(last) - n + 1):
            expected[tuple(last[i : i + n])] += 1
    assert last[-1] != "</s>" and len(last) > 3
    path = write(tmp_path / "a.txt", "\n".join(SENTENCES))
    assert got(count_ngrams(path, order=3)) == dict(expected)
    for tail in ("\n", "\n \t ", "\r\n\r"):
        path = write(tmp_path / "b.txt", "\n".join(SENTENCES) + tail)
        assert got(count_ngrams(path, order=3)) == EXPECTED, repr(tail)
    # Texts given as strings are whole: each ends its last line.
    assert got(count_ngrams(["\n".join(SENTENCES)], order=3)) == EXPECTED


def test_list_of_paths_read_in_list_order(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", "alpha beta\n")
    b = write(tmp_path / "b.txt", "gamma alpha\n")
    counts = count_ngrams([b, a], order=2)
    assert got(counts) == ref_counts(["gamma alpha", "alpha beta"], 2)
    # Ids are in order of first appearance, so they show the reading order.
    assert counts.vocab.words()[3:] == ["gamma", "alpha", "beta"]
    vocab = Vocab.from_corpus([b, a])
    assert vocab.words()[3:] == ["alpha", "gamma", "beta"]  # alpha twice, then ties


def test_directory_recursive_sorted_hidden_skipped(tmp_path: Path) -> None:
    d = tmp_path / "corpus"
    write(d / "z.txt", "zulu\n")
    write(d / "b.txt", "bravo\n")
    write(d / "sub" / "c.txt", "charlie\n")
    write(d / "a.txt", "alpha\n")
    write(d / "sub" / "deeper" / "d.txt", "delta\n")
    write(d / ".hidden.txt", "hidden\n")
    write(d / ".git" / "config", "gitconfig\n")
    write(d / "sub" / ".cache", "cached\n")
    counts = count_ngrams(d, order=1)
    assert counts.vocab.words()[3:] == ["alpha", "bravo", "charlie", "delta", "zulu"]
    assert counts.sentences == 5
    assert "hidden" not in counts and "gitconfig" not in counts and "cached" not in counts
    # Every word occurs once: Vocab ties are broken by first appearance, same order.
    assert Vocab.from_corpus(str(d)).words()[3:] == ["alpha", "bravo", "charlie", "delta", "zulu"]


def test_directory_mixes_compressed_and_jsonl_files(tmp_path: Path) -> None:
    d = tmp_path / "mixed"
    d.mkdir()
    (d / "1.txt.gz").write_bytes(gzip.compress(b"one two\n"))
    (d / "2.jsonl").write_text(json.dumps({"text": "three four"}) + "\n")
    (d / "3.txt").write_text("five\n")
    counts = count_ngrams(d, order=2)
    assert got(counts) == ref_counts(["one two", "three four", "five"], 2)


def test_glob_sorted(tmp_path: Path) -> None:
    write(tmp_path / "c.txt", "charlie\n")
    write(tmp_path / "a.txt", "alpha\n")
    write(tmp_path / "b.txt", "bravo\n")
    write(tmp_path / "notes.md", "notes\n")
    counts = count_ngrams(str(tmp_path / "*.txt"), order=1)
    assert counts.vocab.words()[3:] == ["alpha", "bravo", "charlie"]
    assert counts["notes"] == 0
    counts = count_ngrams(str(tmp_path / "[ab].txt"), order=1)
    assert counts.vocab.words()[3:] == ["alpha", "bravo"]


def test_recursive_glob(tmp_path: Path) -> None:
    write(tmp_path / "x" / "b.txt", "bravo\n")
    write(tmp_path / "a.txt", "alpha\n")
    write(tmp_path / "x" / "y" / "c.txt", "charlie\n")
    counts = count_ngrams(str(tmp_path / "**" / "*.txt"), order=1)
    assert counts.vocab.words()[3:] == ["alpha", "bravo", "charlie"]


def test_glob_skips_hidden_files_like_a_directory(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "alpha\n")
    write(tmp_path / ".hidden.txt", "hidden\n")
    counts = count_ngrams(str(tmp_path / "*.txt"), order=1)
    assert counts["hidden"] == 0


def test_directory_symlink_loop_does_not_repeat_files(tmp_path: Path) -> None:
    d = tmp_path / "loop"
    write(d / "a.txt", "alpha beta\n")
    try:
        os.symlink(".", d / "self", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("symlinks not supported here")
    counts = count_ngrams(d, order=1)
    assert counts.sentences == 1


def test_gzip(tmp_path: Path) -> None:
    text = "\n".join(SENTENCES) + "\n"
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress(text.encode()))
    counts = count_ngrams(path, order=3)
    assert got(counts) == EXPECTED
    assert counts.stats["bytes"] == len(text.encode())  # decompressed bytes


def test_gzip_detected_by_magic_and_multi_member(tmp_path: Path) -> None:
    path = tmp_path / "misnamed.txt"
    members = [gzip.compress(f"{s}\n".encode()) for s in SENTENCES]
    path.write_bytes(b"".join(members))
    assert got(count_ngrams(path, order=3)) == EXPECTED


def test_zstd(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    data = ("\n".join(SENTENCES) + "\n").encode()
    path = tmp_path / "a.txt.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(data))
    assert got(count_ngrams(path, order=3)) == EXPECTED
    misnamed = tmp_path / "b.txt"
    misnamed.write_bytes(zstandard.ZstdCompressor(level=19).compress(data))
    assert got(count_ngrams(misnamed, order=3)) == EXPECTED


def test_zstd_streamed_frames(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    # A stream written without a content size, in many flushed blocks, and bigger
    # than a chunk, so decompression is read across several chunks.
    lines = [f"w{i % 1000} x{i % 7} y" for i in range(150_000)]
    path = tmp_path / "big.zst"
    with open(path, "wb") as f:
        with zstandard.ZstdCompressor().stream_writer(f) as w:
            for i in range(0, len(lines), 10_000):
                w.write(("\n".join(lines[i : i + 10_000]) + "\n").encode())
                w.flush()
    assert got(count_ngrams(path, order=2)) == ref_counts(lines, 2)


JSONL_RECORDS = [
    {"id": 1, "text": "the cat sat on the mat", "body": "x y"},
    {"id": 2, "text": "the dog sat", "body": "y z"},
    {"id": 3, "text": "a cat and a dog", "body": "z"},
]


def jsonl_bytes(records: list[dict[str, object]]) -> bytes:
    return ("\n".join(json.dumps(r) for r in records) + "\n").encode()


def test_jsonl_text_field(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(jsonl_bytes(JSONL_RECORDS))
    assert got(count_ngrams(path, order=3)) == EXPECTED
    body = count_ngrams(path, order=2, text_field="body")
    assert got(body) == ref_counts(["x y", "y z", "z"], 2)
    # The name decides the format; format="jsonl" forces it.
    other = tmp_path / "docs.data"
    other.write_bytes(jsonl_bytes(JSONL_RECORDS))
    assert got(count_ngrams(other, order=3, format="jsonl")) == EXPECTED
    raw = count_ngrams(path, order=1, format="text")  # read as raw JSON text
    assert raw['"text":'] == 3 and raw["text"] == 0


def test_jsonl_gz_and_zst(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl_bytes(JSONL_RECORDS)))
    assert got(count_ngrams(path, order=3)) == EXPECTED
    assert got(count_ngrams(Corpus(paths=[str(path)]), order=3)) == EXPECTED
    zstandard = pytest.importorskip("zstandard")
    zpath = tmp_path / "docs.NDJSON.zst"
    zpath.write_bytes(zstandard.ZstdCompressor().compress(jsonl_bytes(JSONL_RECORDS)))
    assert got(count_ngrams(zpath, order=3)) == EXPECTED


def test_jsonl_text_with_newlines_gives_several_sentences(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(jsonl_bytes([{"text": "a b\nc d\r\ne"}, {"text": "f"}]))
    counts = count_ngrams(path, order=2)
    assert got(counts) == ref_counts(["a b", "c d", "e", "f"], 2)
    assert counts.sentences == 4
    assert counts.stats["lines"] == 2  # records


def test_texts_list_and_generator() -> None:
    assert got(count_ngrams(SENTENCES, order=3)) == EXPECTED
    assert got(count_ngrams(s for s in SENTENCES)) == EXPECTED
    assert got(count_ngrams(iter(SENTENCES), order=3)) == EXPECTED
    assert got(count_ngrams(tuple(SENTENCES), order=3)) == EXPECTED
    assert got(count_ngrams(Corpus(texts=SENTENCES), order=3)) == EXPECTED
    vocab = Vocab.from_corpus(s for s in SENTENCES)
    assert vocab.words()[3:6] == ["the", "cat", "sat"]


def test_texts_with_embedded_line_ends_split_into_sentences() -> None:
    counts = count_ngrams(["a b\nc", "d\r\ne f\rg"], order=2)
    assert got(counts) == ref_counts(["a b", "c", "d", "e f g"], 2)


# --- line ends and blank lines ---------------------------------------------------


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_line_ends_give_same_counts(tmp_path: Path, end: str) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(end.join(SENTENCES).encode() + end.encode())
    counts = count_ngrams(path, order=3)
    assert got(counts) == EXPECTED
    assert counts.stats["lines"] == 3
    assert got(count_ngrams([end.join(SENTENCES)], order=3)) == EXPECTED


def test_lone_cr_is_whitespace_inside_the_line(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    # Only "\n" ends a line, as in lmplz: "c\rd" is one sentence of two words,
    # and "\r\r\n" is a line holding one "\r" (blank) and its CRLF.
    path.write_bytes(b"a b\r\nc\rd\n\r\r\ne\r")
    # The file's last line "e\r" has no newline: no </s> for it, as in lmplz.
    counts = count_ngrams(path, order=2, skip_blank=False)
    assert got(counts) == ref_counts(["a b", "c d", "", "e"], 2, unended_last=True)
    assert counts.stats["lines"] == 4
    skipped = count_ngrams(path, order=2, skip_blank=True)
    assert got(skipped) == ref_counts(["a b", "c d", "e"], 2, unended_last=True)
    # A text given as a string ends its last line.
    assert got(count_ngrams([b"a b\r\nc\rd\n\r\r\ne\r".decode()], order=2)) == ref_counts(
        ["a b", "c d", "", "e"], 2
    )
    # Lines are numbered at "\n" only.
    path.write_bytes(b"a\rb\rc\nd \xff\n")
    with pytest.raises(CorpusError) as info:
        count_ngrams(path)
    assert (info.value.line, info.value.byte) == (2, 8)


# Every way a line can end, and a lone "\r" that stays inside its line.
LINE_ENDS = {"lf": b"\n", "crlf": b"\r\n", "cr-crlf": b"\r\r\n", "lone-cr": b"\rtail\n"}


def across_the_first_chunk_edge(end: bytes, offset: int) -> tuple[bytes, list[bytes]]:
    """Data whose line ending ``end`` starts ``offset`` bytes after the reader's
    first chunk edge (``_core.CHUNK_BYTES``, the real buffer size), so the edge
    falls before, inside or after it; and the lines a reader must see."""
    edge = nextword._core.CHUNK_BYTES
    lines: list[bytes] = []
    data = bytearray()
    while len(data) < edge - 64:
        lines.append(b"w%d x y" % len(lines))
        data += lines[-1] + b"\r\n"
    pad = b"p" * (edge + offset - len(data))
    data += pad + end
    # What the reader sees: a "\r" right before "\n" is part of the line end.
    lines.append(pad + end.rstrip(b"\n")[:-1] if end.endswith(b"\r\n") else pad + end[:-1])
    for j in range(30_000):
        lines.append(b"v%d a b" % j)
        data += lines[-1] + b"\n"
    assert data[edge + offset : edge + offset + len(end)] == end
    return bytes(data), lines


@pytest.mark.parametrize("offset", range(-3, 3))
@pytest.mark.parametrize("end", LINE_ENDS.values(), ids=LINE_ENDS.keys())
def test_line_ends_at_every_chunk_edge(tmp_path: Path, end: bytes, offset: int) -> None:
    """A chunk cut must never split a CRLF (a phantom blank line) nor lose or add
    line numbers, wherever the edge falls around each kind of line ending."""
    data, lines = across_the_first_chunk_edge(end, offset)
    bad_line = len(lines) + 1
    bad_byte = len(data) + 4
    data += b"bad \xff here\r\n"
    path = tmp_path / "big.txt"
    path.write_bytes(data)

    with pytest.raises(CorpusError) as info:
        count_ngrams(path, order=2, threads=2)
    assert (info.value.line, info.value.byte) == (bad_line, bad_byte)
    assert (info.value.line, info.value.byte) == first_bad_utf8(data)

    counts = count_ngrams(path, order=2, errors="skip", threads=2, skip_blank=False)
    assert got(counts) == ref_counts((x.decode() for x in lines), 2)
    assert counts.stats["lines"] == len(lines) + 1
    assert counts.stats["sentences"] == len(lines)
    assert counts.stats["bad_lines"] == 1

    gz = tmp_path / "big.txt.gz"
    gz.write_bytes(gzip.compress(data, compresslevel=1))
    with pytest.raises(CorpusError) as info:
        count_ngrams(gz, order=2)
    assert (info.value.line, info.value.byte) == (bad_line, bad_byte)


def test_line_longer_than_a_chunk(tmp_path: Path) -> None:
    long = " ".join(f"t{i % 5000}" for i in range(250_000))
    assert len(long) > 2 * nextword._core.CHUNK_BYTES  # longer than two of the reader's chunks
    path = tmp_path / "long.txt"
    path.write_bytes(b"first line\n" + long.encode() + b"\nlast \xff line\r\n")
    counts = count_ngrams(path, order=2, errors="replace", threads=2)
    assert got(counts) == ref_counts(["first line", long, "last \ufffd line"], 2)
    with pytest.raises(CorpusError) as info:
        count_ngrams(path, order=1)
    assert (info.value.line, info.value.byte) == (3, 11 + len(long) + 1 + 5)


def test_blank_lines_kept_by_default_skipped_on_request(tmp_path: Path) -> None:
    # A line of U+3000 is not blank: for lmplz (and the whitespace tokenizer) it is a word.
    text = "a b\n\n   \n\t\r\0\nc\n\u3000\n\nd e\n"
    path = write(tmp_path / "a.txt", text)
    counts = count_ngrams(path, order=2, skip_blank=True)
    assert got(counts) == ref_counts(["a b", "c", "\u3000", "d e"], 2)
    assert counts.stats["sentences"] == 4
    assert counts.stats["blank_lines"] == 4
    assert counts.stats["lines"] == 8

    kept = count_ngrams(path, order=2)
    blanks = ["", "   ", "\t\r\0", ""]
    assert got(kept) == ref_counts(["a b", *blanks[:3], "c", "\u3000", blanks[3], "d e"], 2)
    assert kept["<s>", "</s>"] == 4
    assert kept.sentences == 8
    assert kept.stats["blank_lines"] == 0

    vocab = Vocab.from_corpus(path)
    assert vocab.stats["sentences"] == 8
    assert Vocab.from_corpus(path, skip_blank=True).stats["sentences"] == 4


# --- invalid UTF-8 -----------------------------------------------------------------


def test_invalid_utf8_strict_points_at_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"good line\nsecond ok\ncaf\xe9 au lait\nna\xefve\n")
    # line 3 starts at 10 + 10 = 20; the bad byte is 3 bytes into it.
    with pytest.raises(CorpusError) as info:
        count_ngrams(path)
    e = info.value
    assert (e.source, e.line, e.byte) == (str(path), 3, 23)
    assert isinstance(e, ValueError) and isinstance(e, nextword.NextwordError)
    assert "line 3" in str(e) and "byte 23" in str(e) and str(path) in str(e)

    with pytest.raises(CorpusError) as info:
        Vocab.from_corpus(path)
    assert (info.value.line, info.value.byte) == (3, 23)


def test_invalid_utf8_with_crlf_and_truncated_sequence(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    # "\xe2\x82" starts a 3-byte sequence that never ends; offset of its first byte.
    path.write_bytes(b"ok\r\nfine\r\nab \xe2\x82x\r\n")
    with pytest.raises(CorpusError) as info:
        count_ngrams(path)
    assert (info.value.line, info.value.byte) == (3, 4 + 6 + 3)


def test_invalid_utf8_in_second_file_names_that_file(tmp_path: Path) -> None:
    good = write(tmp_path / "a.txt", "x y\n" * 5)
    bad = tmp_path / "b.txt"
    bad.write_bytes(b"ok\n\xff\n")
    with pytest.raises(CorpusError) as info:
        count_ngrams([good, bad])
    assert (info.value.source, info.value.line, info.value.byte) == (str(bad), 2, 3)


def test_invalid_utf8_first_error_in_corpus_order(tmp_path: Path) -> None:
    """With bad bytes in several chunks, the first one in the file is reported."""
    lines = [b"line %d of text" % i for i in range(200_000)]  # ~3.5 MB, several chunks
    for i in (180_000, 120_000, 70_000):
        lines[i] = b"bad \xfe %d" % i
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    expected = first_bad_utf8(data)
    assert expected[0] == 70_001
    for _ in range(3):
        with pytest.raises(CorpusError) as info:
            count_ngrams(path, order=1, threads=2)
        assert (info.value.line, info.value.byte) == expected


def test_invalid_utf8_in_gzip_offset_is_in_decompressed_stream(tmp_path: Path) -> None:
    data = b"abc def\nghi\xc3(\n"
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(CorpusError) as info:
        count_ngrams(path)
    assert (info.value.line, info.value.byte) == (2, 11) == first_bad_utf8(data)


def test_replace_and_skip(tmp_path: Path) -> None:
    data = b"caf\xe9 ok\nplain words\n\xff\xfe both bad\nend\n"
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    lines = data.decode("utf-8", "replace").splitlines()
    assert lines[0] == "caf\ufffd ok"

    replaced = count_ngrams(path, order=2, errors="replace")
    assert got(replaced) == ref_counts(lines, 2)
    assert replaced["caf\ufffd"] == 1
    assert replaced.stats["bad_lines"] == 2
    assert replaced.sentences == 4

    skipped = count_ngrams(path, order=2, errors="skip")
    assert got(skipped) == ref_counts(["plain words", "end"], 2)
    assert skipped.stats["bad_lines"] == 2
    assert skipped.stats["lines"] == 4
    assert skipped.sentences == 2

    vocab = Vocab.from_corpus(path, errors="skip")
    assert vocab.stats["bad_lines"] == 2
    assert "ok" not in vocab and "plain" in vocab


def test_lee_cor_latin1_strict_replace_skip(shared: Path) -> None:
    path = shared / "corpora" / "eval" / "lee.cor"
    data = path.read_bytes()
    line, byte = first_bad_utf8(data)
    assert data[byte] >= 0x80

    with pytest.raises(CorpusError) as info:
        count_ngrams(path, order=2)
    assert (info.value.source, info.value.line, info.value.byte) == (str(path), line, byte)
    with pytest.raises(CorpusError) as info:
        count_ngrams(str(path), order=1, threads=1)
    assert (info.value.line, info.value.byte) == (line, byte)

    raw_lines = [raw for _, raw in split_lines(data)]
    bad = [raw for raw in raw_lines if not _is_utf8(raw)]
    assert bad
    nonblank = [raw for raw in raw_lines if raw.strip()]

    # A last line without a newline gets no </s> (lmplz's rule).
    unended = not data.endswith(b"\n") and raw_lines[-1] is nonblank[-1]
    replaced = count_ngrams(path, order=2, errors="replace")
    expected = ref_counts((r.decode("utf-8", "replace") for r in nonblank), 2, unended_last=unended)
    assert got(replaced) == expected
    assert replaced.stats["bad_lines"] == len(bad)

    skipped = count_ngrams(path, order=2, errors="skip")
    unended = unended and _is_utf8(nonblank[-1])
    expected = ref_counts((r.decode() for r in nonblank if _is_utf8(r)), 2, unended_last=unended)
    assert got(skipped) == expected
    assert skipped.stats["bad_lines"] == len(bad)
    assert skipped.sentences == len(nonblank) - len(bad)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_bad_errors_value_raises_value_error() -> None:
    with pytest.raises(ValueError, match="errors"):
        count_ngrams(["a"], errors="ignore-all")


# --- errors -----------------------------------------------------------------------


def test_empty_file_raises_empty_corpus(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(EmptyCorpusError):
        count_ngrams(path)
    with pytest.raises(EmptyCorpusError):
        Vocab.from_corpus(path)


@pytest.mark.parametrize("content", [b"\n", b"\n\n  \n\t\r\n", b"\r"])
def test_blank_file_is_empty_only_when_blank_lines_are_skipped(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(content)
    with pytest.raises(EmptyCorpusError):
        count_ngrams(path, skip_blank=True)
    with pytest.raises(EmptyCorpusError):
        Vocab.from_corpus(path, skip_blank=True)
    # Kept (the default, as lmplz), every blank line is the sentence "<s> </s>";
    # a blank last line without a newline is nothing (lmplz's rule too).
    lines = content.count(b"\n")
    if not lines:
        with pytest.raises(EmptyCorpusError):
            count_ngrams(path, order=2)
        return
    counts = count_ngrams(path, order=2)
    assert counts["<s>", "</s>"] == counts.sentences == lines


def test_empty_texts_raise_empty_corpus() -> None:
    for texts in ([], [""], (s for s in [""])):
        with pytest.raises(EmptyCorpusError):
            count_ngrams(texts)
    with pytest.raises(EmptyCorpusError):
        count_ngrams(["", "   ", "\t"], skip_blank=True)
    assert count_ngrams(["", "   ", "\t"]).sentences == 2
    with pytest.raises(EmptyCorpusError):
        Vocab.from_corpus([])
    assert issubclass(EmptyCorpusError, CorpusError)


def test_blank_lines_kept_are_not_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(b"\n\n")
    counts = count_ngrams(path, order=2, skip_blank=False)
    assert counts.sentences == 2
    assert got(counts) == {("<s>",): 2, ("</s>",): 2, ("<s>", "</s>"): 2}


def test_all_lines_skipped_raises_empty_corpus(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xff\n\xfe\n")
    with pytest.raises(EmptyCorpusError):
        count_ngrams(path, errors="skip")


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError) as info:
        count_ngrams(path)
    assert info.value.filename == str(path)
    assert not isinstance(info.value, NoFilesError)

    good = write(tmp_path / "a.txt", "a\n")
    with pytest.raises(FileNotFoundError) as info:
        count_ngrams([good, path])
    assert info.value.filename == str(path)
    with pytest.raises(FileNotFoundError) as info:
        Vocab.from_corpus(str(path))
    assert info.value.filename == str(path)


def test_empty_directory_raises_no_files(tmp_path: Path) -> None:
    d = tmp_path / "empty"
    d.mkdir()
    with pytest.raises(NoFilesError, match="no files") as info:
        count_ngrams(d)
    assert str(d) in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, CorpusError)

    write(d / ".hidden", "only hidden files\n")
    (d / "subdir").mkdir()
    with pytest.raises(NoFilesError, match="no files"):
        Vocab.from_corpus(d)


def test_glob_matching_nothing_raises_no_files(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "a\n")
    pattern = str(tmp_path / "*.txt")
    with pytest.raises(NoFilesError, match="matched no files") as info:
        count_ngrams(pattern)
    assert pattern in str(info.value)


def test_bad_glob_pattern_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="glob"):
        count_ngrams(str(tmp_path / "[z"))


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    first = json.dumps({"text": "a b"}) + "\n"
    path.write_text(first + "{not json\n" + json.dumps({"text": "c"}) + "\n")
    with pytest.raises(CorpusError, match="line 2") as info:
        count_ngrams(path)
    e = info.value
    assert (e.source, e.line, e.byte) == (str(path), 2, len(first))
    assert "JSON" in str(e)


def test_missing_or_non_string_field_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    lines = [{"text": "a b"}, {"text": "c"}, {"body": "d"}]
    path.write_bytes(jsonl_bytes(lines))
    with pytest.raises(CorpusError, match="line 3") as info:
        count_ngrams(path)
    assert info.value.line == 3
    assert '"text"' in str(info.value)

    with pytest.raises(CorpusError, match="line 1"):
        count_ngrams(path, text_field="body")

    path.write_bytes(jsonl_bytes([{"text": "a"}, {"text": 5}]))
    with pytest.raises(CorpusError, match="line 2"):
        Vocab.from_corpus(path)

    path.write_text('{"text": "a"}\n["text"]\n')
    with pytest.raises(CorpusError, match="line 2"):
        count_ngrams(path)


CORRUPT_GZ = ["flipped byte", "truncated", "bad header", "bad checksum"]


def _corrupt_gz(kind: str) -> bytes:
    lines = b"".join(b"sentence number %d here\n" % i for i in range(2000))
    data = gzip.compress(lines, mtime=0)
    if kind == "flipped byte":
        b = bytearray(data)
        b[len(b) // 2] ^= 0xFF
        return bytes(b)
    if kind == "truncated":
        return data[: len(data) // 2]
    if kind == "bad header":
        return b"\x1f\x8b" + b"\x00" * 30
    b = bytearray(data)
    b[-6] ^= 0xFF  # inside the CRC-32 trailer
    return bytes(b)


@pytest.mark.parametrize("kind", CORRUPT_GZ)
def test_corrupt_gzip_raises_corpus_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "broken.txt.gz"
    path.write_bytes(_corrupt_gz(kind))
    with pytest.raises(CorpusError) as info:
        count_ngrams(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("kind", CORRUPT_GZ)
def test_corrupt_gzip_is_an_error_not_a_crash(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "broken.txt.gz"
    path.write_bytes(_corrupt_gz(kind))
    with pytest.raises((CorpusError, OSError)) as info:
        count_ngrams(path)
    assert str(path) in str(info.value)


def test_truncated_zstd_raises_corpus_error(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    data = zstandard.ZstdCompressor().compress(b"hello world\n" * 5000)
    path = tmp_path / "broken.txt.zst"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorpusError):
        count_ngrams(path)


def test_mixed_list_of_str_and_path_raises_type_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "a b\n")
    with pytest.raises(TypeError, match="not a mix"):
        count_ngrams(["some text", path])
    with pytest.raises(TypeError):
        count_ngrams([path, "some text"])
    with pytest.raises(TypeError):
        Vocab.from_corpus([path, str(path)])
    with pytest.raises(TypeError):
        count_ngrams([b"bytes"])
    with pytest.raises(TypeError):
        count_ngrams(b"a b c")
    with pytest.raises(TypeError, match="Corpus"):
        count_ngrams(Corpus(texts=["a"]), errors="skip")

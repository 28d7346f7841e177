"""Vocab: building from a corpus, encode/decode, encode_corpus, save/load."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from nextword import CharTokenizer, ModelFormatError, Vocab, WordTokenizer, count_ngrams

SENTENCES = [
    "c b a",
    "a b",
    "d",
    "e e a b",
]


def expected_order(sentences: Iterable[str], min_count: int = 1) -> list[str]:
    """Words by descending count, ties by first appearance (plain Python)."""
    tokens = [t for s in sentences for t in s.split()]
    counts = Counter(tokens)
    first = {}
    for i, t in enumerate(tokens):
        first.setdefault(t, i)
    kept = [w for w in counts if counts[w] >= min_count]
    return sorted(kept, key=lambda w: (-counts[w], first[w]))


def lines_of(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    assert "\r" not in text
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


# --- building ------------------------------------------------------------------


def test_from_corpus_order_count_desc_then_first_appearance() -> None:
    v = Vocab.from_corpus(SENTENCES)
    # b: 3 and a: 3 ("c b a" shows b first), e: 2, then c: 1 before d: 1
    assert v.words() == ["<unk>", "<s>", "</s>", "b", "a", "e", "c", "d"]
    assert v.words()[3:] == expected_order(SENTENCES)
    assert v.counts().tolist() == [0, 0, 0, 3, 3, 2, 1, 1]
    assert v.counts().dtype == np.uint64
    assert len(v) == 8
    assert v.stats["sentences"] == 4 and v.stats["lines"] == 4
    assert v.tokenizer.spec == "whitespace"


def test_min_count_and_max_size() -> None:
    assert Vocab.from_corpus(SENTENCES, min_count=2).words()[3:] == ["b", "a", "e"]
    assert Vocab.from_corpus(SENTENCES, min_count=3).words()[3:] == ["b", "a"]
    assert Vocab.from_corpus(SENTENCES, min_count=4).words() == ["<unk>", "<s>", "</s>"]
    # max_size counts the specials.
    assert Vocab.from_corpus(SENTENCES, max_size=5).words()[3:] == ["b", "a"]
    assert len(Vocab.from_corpus(SENTENCES, max_size=6)) == 6
    assert len(Vocab.from_corpus(SENTENCES, max_size=100)) == 8
    assert Vocab.from_corpus(SENTENCES, min_count=2, max_size=4).words()[3:] == ["b"]
    assert Vocab.from_corpus(SENTENCES, max_size=3).words() == ["<unk>", "<s>", "</s>"]


def test_max_size_smaller_than_specials_is_refused() -> None:
    for max_size in (0, 1, 2):
        with pytest.raises(ValueError, match="max_size must be at least 3"):
            Vocab.from_corpus(["a b c"], max_size=max_size)


def test_specials_in_text_are_not_added_twice() -> None:
    v = Vocab.from_corpus(["<unk> x <s> y </s> x"])
    assert v.words() == ["<unk>", "<s>", "</s>", "x", "y"]
    assert v.encode("<unk> x </s>").tolist() == [0, 3, 2]


def test_ties_by_first_appearance_across_chunks_and_threads(tmp_path: Path) -> None:
    # All words but two occur once: the order is corpus order, over several chunks.
    lines = [f"w{i} common" for i in range(160_000)] + ["w5 w7"]
    path = tmp_path / "words.txt"
    path.write_text("\n".join(lines) + "\n")
    expected = expected_order(lines)
    assert expected[:3] == ["common", "w5", "w7"]
    for threads in (1, 2, 2):
        v = Vocab.from_corpus(path, threads=threads, progress=False)
        assert v.words()[3:] == expected


def test_constructor() -> None:
    v = Vocab(["b", "a", "b", "<s>", "c"])
    assert v.words() == ["<unk>", "<s>", "</s>", "b", "a", "c"]
    assert v.counts().tolist() == [0] * 6
    assert v["a"] == 4 and v.id("a") == 4 and v.word(4) == "a"
    assert "a" in v and "z" not in v and 3 not in v
    with pytest.raises(KeyError):
        v["z"]
    assert v.id("z") == 0
    with pytest.raises(IndexError):
        v.word(6)
    assert repr(v) == "Vocab(6 words, tokenizer='whitespace')"


def test_from_corpus_with_other_tokenizers() -> None:
    v = Vocab.from_corpus(["Don't PANIC, don't!"], tokenizer=WordTokenizer(lowercase=True))
    assert v.words()[3:] == ["don't", "panic", ",", "!"]
    c = Vocab.from_corpus(["abca", "西游"], tokenizer="char")
    assert c.words()[3:] == ["a", "b", "c", "西", "游"]
    assert c.tokenizer == CharTokenizer()


# --- encode / decode -------------------------------------------------------------


def test_encode_decode() -> None:
    v = Vocab.from_corpus(SENTENCES)
    ids = v.encode("a b zzz  e")
    assert ids.dtype == np.uint32
    assert ids.tolist() == [4, 3, 0, 5]
    assert v.encode("a b", bos=True).tolist() == [1, 4, 3]
    assert v.encode("a b", eos=True).tolist() == [4, 3, 2]
    assert v.encode("a", bos=True, eos=True).tolist() == [1, 4, 2]
    assert v.encode("").tolist() == []
    assert v.encode("", bos=True, eos=True).tolist() == [1, 2]
    assert v.decode([4, 3, 0, 5]) == "a b <unk> e"
    assert v.decode(np.array([1, 4, 2], dtype=np.int64)) == "<s> a </s>"
    assert v.decode([]) == ""
    for s in SENTENCES:
        assert v.decode(v.encode(s)) == s
    with pytest.raises(ValueError, match="out of range"):
        v.decode([8])


def test_char_tokenizer_decodes_without_spaces() -> None:
    v = Vocab.from_corpus(["hello world"], tokenizer="char")
    ids = v.encode("hold")
    assert ids.tolist() == [v["h"], v["o"], v["l"], v["d"]]
    assert v.decode(ids) == "hold"
    assert v.decode(v.encode("hello world")) == "helloworld"  # whitespace dropped
    assert v.encode("hex").tolist() == [v["h"], v["e"], 0]
    kept = Vocab.from_corpus(["a b"], tokenizer=CharTokenizer(keep_whitespace=True))
    assert kept.decode(kept.encode("b a")) == "b a"


# --- encode_corpus ---------------------------------------------------------------


def test_encode_corpus_matches_per_sentence_encode(tmp_path: Path) -> None:
    v = Vocab.from_corpus(SENTENCES[:2])
    texts = ["a b c", "", "d e a", "zzz", "  ", "b"]
    path = tmp_path / "t.txt"
    path.write_text("\n".join(texts) + "\n")
    kept = [t for t in texts if t.strip()]
    for bos, eos in [(False, False), (True, False), (False, True), (True, True)]:
        for corpus in (texts, path):
            ids, offsets = v.encode_corpus(corpus, bos=bos, eos=eos, skip_blank=True)
            assert ids.dtype == np.uint32 and offsets.dtype == np.uint64
            assert len(offsets) == len(kept) + 1
            assert offsets[0] == 0 and offsets[-1] == len(ids)
            pieces = [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(kept))]
            assert pieces == [v.encode(t, bos=bos, eos=eos).tolist() for t in kept]
    ids, offsets = v.encode_corpus(path)
    assert len(offsets) == len(texts) + 1


def test_encode_corpus_real_text_and_threads(shared: Path) -> None:
    path = shared / "corpora" / "en" / "ptb.train.txt"
    lines = lines_of(path)
    v = Vocab.from_corpus(path, max_size=5000, progress=False)
    assert len(v) == 5000
    runs = [v.encode_corpus(path, eos=True, threads=t, progress=False) for t in (1, 2, 2)]
    ids, offsets = runs[0]
    for other_ids, other_offsets in runs[1:]:
        np.testing.assert_array_equal(other_ids, ids)
        np.testing.assert_array_equal(other_offsets, offsets)
    kept = [line for line in lines if line.strip()]
    assert len(offsets) == len(kept) + 1
    index = {w: i for i, w in enumerate(v.words())}
    expected = [index.get(w, 0) for line in kept for w in [*line.split(), "</s>"]]
    assert ids.tolist() == expected
    for i in (0, 1, len(kept) // 2, len(kept) - 1):
        assert ids[offsets[i] : offsets[i + 1]].tolist() == v.encode(kept[i], eos=True).tolist()


def test_vocab_from_corpus_matches_counter_on_real_text(shared: Path) -> None:
    path = shared / "corpora" / "en" / "ptb.valid.txt"
    lines = lines_of(path)
    v = Vocab.from_corpus(path, min_count=2, progress=False)
    expected = [w for w in expected_order(lines, min_count=2) if w not in ("<unk>", "<s>", "</s>")]
    assert v.words()[3:] == expected
    counts = Counter(w for line in lines for w in line.split())
    assert v.counts()[3:].tolist() == [counts[w] for w in expected]
    # Counting n-grams of the same text gives the same words, in first-appearance order.
    c = count_ngrams(path, order=1, progress=False)
    assert {w: c[w] for w in expected} == {w: counts[w] for w in expected}


# --- save / load -----------------------------------------------------------------


def test_save_load_round_trip(tmp_path: Path) -> None:
    v = Vocab.from_corpus(["Hello world, hello WORLD!"], tokenizer=WordTokenizer(lowercase=True))
    path = tmp_path / "v.nwv"
    v.save(path)
    w = Vocab.load(path)
    assert w.words() == v.words()
    assert w.counts().tolist() == v.counts().tolist()
    assert w.tokenizer == v.tokenizer == WordTokenizer(lowercase=True)
    assert w.encode("HELLO there").tolist() == v.encode("HELLO there").tolist()
    assert Vocab.load(str(path)).words() == v.words()
    assert [p.name for p in tmp_path.iterdir()] == ["v.nwv"]


def _saved(tmp_path: Path) -> bytes:
    path = tmp_path / "good.nwv"
    Vocab.from_corpus(SENTENCES).save(path)
    return path.read_bytes()


def _load_bytes(tmp_path: Path, data: bytes) -> Vocab:
    path = tmp_path / "bad.nwv"
    path.write_bytes(data)
    return Vocab.load(path)


def test_corrupt_files_raise_model_format_error(tmp_path: Path) -> None:
    data = _saved(tmp_path)
    for cut in (0, 5, 23, 24, len(data) // 2, len(data) - 1):
        with pytest.raises(ModelFormatError):
            _load_bytes(tmp_path, data[:cut])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    with pytest.raises(ModelFormatError, match="checksum"):
        _load_bytes(tmp_path, bytes(flipped))
    with pytest.raises(ModelFormatError, match="magic|counts file"):
        _load_bytes(tmp_path, b"NOTVOCAB" + data[8:])
    counts_path = tmp_path / "c.nwc"
    count_ngrams(SENTENCES).save(counts_path)
    with pytest.raises(ModelFormatError, match="magic|counts file"):
        Vocab.load(counts_path)
    with pytest.raises(FileNotFoundError):
        Vocab.load(tmp_path / "missing.nwv")


def test_valid_checksum_but_bad_structure(tmp_path: Path) -> None:
    def with_crc(body: bytes) -> bytes:
        return body + struct.pack("<I", zlib.crc32(body))

    body = _saved(tmp_path)[:-4]
    # Make word "b" (id 3) a duplicate of "a": same length, so framing still holds.
    i = body.index(b"\x01\x00\x00\x00\x00\x00\x00\x00b")
    dup = bytearray(body)
    dup[i + 8 : i + 9] = b"a"
    with pytest.raises(ModelFormatError, match="duplicate"):
        _load_bytes(tmp_path, with_crc(bytes(dup)))
    # Rename <unk>: the first three entries must be the specials.
    j = body.index(b"<unk>")
    renamed = bytearray(body)
    renamed[j : j + 5] = b"<UNK>"
    with pytest.raises(ModelFormatError, match="<unk>"):
        _load_bytes(tmp_path, with_crc(bytes(renamed)))
    # Every other single-byte change with a valid checksum: refused with
    # ModelFormatError (never another error, never a crash), or, where the
    # bytes still frame a vocabulary (a changed letter or count), a well-formed one.
    refused = 0
    for pos in range(20, len(body)):
        bad = bytearray(body)
        bad[pos] ^= 0xFF
        try:
            v = _load_bytes(tmp_path, with_crc(bytes(bad)))
        except ModelFormatError:
            refused += 1
            continue
        words = v.words()
        assert words[:3] == ["<unk>", "<s>", "</s>"], pos
        assert len(set(words)) == len(words) == len(v), pos
        assert [v[w] for w in words] == list(range(len(words))), pos
    assert refused > 0

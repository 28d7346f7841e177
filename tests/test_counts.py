"""NGramCounts: lookup, statistics, ordering, numpy export, merge, save/load,
determinism across threads, and KenLM's golden n-gram counts."""

from __future__ import annotations

import random
import re
import struct
import zlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import nextword
import numpy as np
import pytest
from nextword import MAX_ORDER, ModelFormatError, NGramCounts, Vocab, count_ngrams, reference

NGram = tuple[str, ...]


def ref_counts(sentences: Iterable[str], order: int, pad: bool = True) -> dict[NGram, int]:
    """n-gram counts of orders 1..order, all in one dict, by the reference counter."""
    return {
        k: c
        for level in reference.count_ngrams(sentences, order, pad=pad)
        for k, c in level.items()
    }


def first_appearance_ids(sentences: Iterable[str]) -> dict[str, int]:
    """Ids as KenLM gives them: <unk>, <s>, </s>, then words by first appearance."""
    ids = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for sentence in sentences:
        for token in sentence.split():
            ids.setdefault(token, len(ids))
    return ids


def lines_of(path: Path) -> list[str]:
    """Lines of a plain-text file ending in \\n (no other line ends in these corpora)."""
    text = path.read_text(encoding="utf-8")
    assert "\r" not in text
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


SENTENCES = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "of the people by the people for the people",
    "a cat saw the dog",
]
REF = ref_counts(SENTENCES, 3)
IDS = first_appearance_ids(SENTENCES)


@pytest.fixture(scope="module")
def counts() -> NGramCounts:
    return count_ngrams(SENTENCES, order=3)


# --- lookup ----------------------------------------------------------------------


def test_getitem_tuples_and_single_words(counts: NGramCounts) -> None:
    assert counts["of", "the"] == REF[("of", "the")] == 1
    assert counts["the", "people"] == 3
    assert counts[("the", "people")] == 3
    assert counts["the"] == REF[("the",)] == 8
    assert counts[("the",)] == 8
    assert counts["<s>", "the"] == 2
    assert counts["people", "</s>"] == 1
    assert counts["sat", "on", "the"] == 2
    assert counts["<s>"] == counts["</s>"] == 4
    for ngram, c in REF.items():
        assert counts[ngram] == c


def test_unseen_is_zero(counts: NGramCounts) -> None:
    assert counts["zebra"] == 0
    assert counts["the", "the"] == 0  # both words known, bigram unseen
    assert counts["the", "zebra"] == 0
    assert counts["the", "cat", "sat", "on"] == 0  # longer than the order
    assert counts["<unk>"] == 0
    assert counts[()] == 0


def test_contains(counts: NGramCounts) -> None:
    assert ("of", "the") in counts
    assert "people" in counts
    assert ("people",) in counts
    assert ("the", "the") not in counts
    assert "zebra" not in counts
    assert 5 not in counts
    assert None not in counts


def test_bad_key_type_raises_type_error(counts: NGramCounts) -> None:
    with pytest.raises(TypeError):
        counts[5]  # type: ignore[index]


def test_len_total_num_unique(counts: NGramCounts) -> None:
    by_order = {n: {k: c for k, c in REF.items() if len(k) == n} for n in (1, 2, 3)}
    assert len(counts) == len(REF)
    tokens = sum(len(s.split()) for s in SENTENCES)
    assert counts.tokens == tokens
    assert counts.sentences == len(SENTENCES)
    assert counts.total(1) == tokens + 2 * len(SENTENCES)
    for n in (1, 2, 3):
        assert counts.num_unique(n) == len(by_order[n])
        assert counts.total(n) == sum(by_order[n].values())
    assert counts.order == 3
    assert counts.padded
    assert counts.tokenizer == nextword.WhitespaceTokenizer()
    for bad in (0, 4):
        with pytest.raises(ValueError):
            counts.total(bad)
        with pytest.raises(ValueError):
            counts.num_unique(bad)
    assert repr(counts) == (
        f"NGramCounts(order=3, tokens={tokens}, unique=[{len(by_order[1])}, "
        f"{len(by_order[2])}, {len(by_order[3])}])"
    )


def test_vocab_ids_in_first_appearance_order(counts: NGramCounts) -> None:
    assert counts.vocab.words() == list(IDS)
    assert counts.vocab.words()[:3] == ["<unk>", "<s>", "</s>"]
    assert counts.vocab.id("people") == IDS["people"]


# --- ordering ---------------------------------------------------------------------


def test_most_common_count_desc_ties_by_first_appearance(counts: NGramCounts) -> None:
    unigrams = [(k, c) for k, c in REF.items() if len(k) == 1]
    expected = sorted(unigrams, key=lambda kc: (-kc[1], IDS[kc[0][0]]))
    assert counts.most_common(len(expected) + 5, order=1) == expected
    for k in (0, 1, 3, 7):
        assert counts.most_common(k, order=1) == expected[:k]
    assert counts.most_common(order=1) == expected[:10]
    assert expected[:3] == [(("the",), 8), (("<s>",), 4), (("</s>",), 4)]


def test_most_common_higher_order_ties_by_ids(counts: NGramCounts) -> None:
    # For n >= 2 the documented tie rule is "by id": the id tuples, compared in order.
    bigrams = [(k, c) for k, c in REF.items() if len(k) == 2]
    expected = sorted(bigrams, key=lambda kc: (-kc[1], [IDS[w] for w in kc[0]]))
    assert counts.most_common(1000, order=2) == expected
    assert counts.most_common(4, order=2) == expected[:4]
    c = count_ngrams(["x y", "a b", "x b"], order=2, pad=False)
    assert c.most_common(3, order=2) == [(("x", "y"), 1), (("x", "b"), 1), (("a", "b"), 1)]


def test_count_of_counts(counts: NGramCounts) -> None:
    for n in (1, 2, 3):
        expected = Counter(c for k, c in REF.items() if len(k) == n)
        assert counts.count_of_counts(n) == dict(expected)


def test_items_and_iteration_order(counts: NGramCounts) -> None:
    expected = sorted(REF.items(), key=lambda kc: (len(kc[0]), [IDS[w] for w in kc[0]]))
    assert list(counts.items()) == expected
    assert list(counts) == [k for k, _ in expected]
    for n in (1, 2, 3):
        assert list(counts.items(n)) == [kc for kc in expected if len(kc[0]) == n]
    with pytest.raises(ValueError):
        list(counts.items(4))


def test_to_numpy(counts: NGramCounts) -> None:
    words = counts.vocab.words()
    for n in (1, 2, 3):
        ids, cs = counts.to_numpy(n)
        assert ids.dtype == np.uint32 and cs.dtype == np.uint64
        assert ids.shape == (counts.num_unique(n), n)
        assert cs.shape == (counts.num_unique(n),)
        decoded = [(tuple(words[i] for i in row), int(c)) for row, c in zip(ids.tolist(), cs)]
        assert decoded == list(counts.items(n))
        assert decoded == sorted(decoded, key=lambda kc: [IDS[w] for w in kc[0]])
    with pytest.raises(ValueError):
        counts.to_numpy(4)


def test_items_pages_through_large_orders(shared: Path) -> None:
    path = shared / "corpora" / "en" / "ptb.train.txt"
    c = count_ngrams(path, order=2, progress=False)
    assert c.num_unique(2) > 4 * 65536  # items() fetches 65536 per call
    items = list(c.items(2))
    assert len(items) == c.num_unique(2)
    ids, cs = c.to_numpy(2)
    words = c.vocab.words()
    assert items == [((words[a], words[b]), n) for (a, b), n in zip(ids.tolist(), cs.tolist())]
    assert sum(n for _, n in items) == c.total(2)


# --- merge -------------------------------------------------------------------------


def test_merge_equals_counting_the_concatenation() -> None:
    a_texts = SENTENCES[:2]
    b_texts = [*SENTENCES[2:], "the cat saw a new bird"]
    a = count_ngrams(a_texts, order=3)
    b = count_ngrams(b_texts, order=3)
    both = count_ngrams(a_texts + b_texts, order=3)
    for merged in (a.merge(b), a + b):
        assert list(merged.items()) == list(both.items())
        assert merged.vocab.words() == both.vocab.words()
        assert merged.tokens == both.tokens
        assert merged.stats == both.stats
        assert merged.sentences == len(a_texts) + len(b_texts)
    assert dict((b + a).items()) == dict(both.items())
    assert (b + a).vocab.words()[3:6] == ["of", "the", "people"]


def vocab_counts(counts: NGramCounts) -> dict[str, int]:
    return dict(zip(counts.vocab.words(), counts.vocab.counts().tolist()))


def unigram_counts(counts: NGramCounts) -> dict[str, int]:
    """Each vocabulary word's count in the unigram table (0 when absent)."""
    return {w: counts[w] for w in counts.vocab.words()}


@pytest.mark.parametrize("pad", [True, False])
def test_merge_adds_vocab_counts(pad: bool) -> None:
    """The merged vocabulary reports the counts of counting both texts at once
    (it once kept the first table's counts: the=2 and a=0 instead of 3 and 1)."""
    a = count_ngrams(SENTENCES[:2], order=2, pad=pad)
    b = count_ngrams(SENTENCES[2:], order=2, pad=pad)
    both = count_ngrams(SENTENCES, order=2, pad=pad)
    for merged in (a + b, a.merge(b)):
        assert vocab_counts(merged) == vocab_counts(both)
        assert vocab_counts(merged) == unigram_counts(both)
        assert (vocab_counts(merged)["the"], vocab_counts(merged)["a"]) == (8, 1)
    assert vocab_counts(b + a) == vocab_counts(both)


def test_merge_mismatch_raises() -> None:
    a = count_ngrams(SENTENCES, order=3)
    with pytest.raises(ValueError, match="order"):
        a.merge(count_ngrams(SENTENCES, order=2))
    with pytest.raises(ValueError):
        a.merge(count_ngrams(SENTENCES, order=3, pad=False))
    with pytest.raises(ValueError, match="tokenizer"):
        a.merge(count_ngrams(SENTENCES, order=3, tokenizer="char"))
    with pytest.raises(TypeError):
        a + 1  # type: ignore[operator]


# --- save / load --------------------------------------------------------------------


def test_save_load_round_trip(tmp_path: Path) -> None:
    c = count_ngrams(SENTENCES, order=3, tokenizer="word:lower")
    path = tmp_path / "c.nwc"
    c.save(path)
    d = NGramCounts.load(path)
    assert list(d.items()) == list(c.items())
    assert d.vocab.words() == c.vocab.words()
    assert vocab_counts(d) == vocab_counts(c) == unigram_counts(c)
    assert vocab_counts(d)["the"] == 8
    assert (d.order, d.padded, d.tokens, d.stats) == (c.order, c.padded, c.tokens, c.stats)
    assert d.tokenizer == nextword.WordTokenizer(lowercase=True)
    assert NGramCounts.load(str(path))["the", "people"] == 3
    unpadded = count_ngrams(SENTENCES, order=2, pad=False)
    unpadded.save(path)  # overwrites in place
    e = NGramCounts.load(path)
    assert not e.padded and list(e.items()) == list(unpadded.items())
    assert vocab_counts(e) == vocab_counts(unpadded) == unigram_counts(unpadded)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.nwc"]  # no temporary left


def _saved(tmp_path: Path) -> bytes:
    path = tmp_path / "good.nwc"
    count_ngrams(SENTENCES, order=3).save(path)
    return path.read_bytes()


def _load_bytes(tmp_path: Path, data: bytes) -> NGramCounts:
    path = tmp_path / "bad.nwc"
    path.write_bytes(data)
    return NGramCounts.load(path)


def test_truncated_file_raises_model_format_error(tmp_path: Path) -> None:
    data = _saved(tmp_path)
    for cut in (0, 1, 8, 12, 20, 23, 24, 40, len(data) // 2, len(data) - 4, len(data) - 1):
        with pytest.raises(ModelFormatError):
            _load_bytes(tmp_path, data[:cut])
    with pytest.raises(ModelFormatError, match="truncated or padded"):
        _load_bytes(tmp_path, data + b"\0")


def test_flipped_byte_raises_model_format_error(tmp_path: Path) -> None:
    data = _saved(tmp_path)
    for pos in (len(data) // 2, 30, len(data) - 10, len(data) - 2):
        bad = bytearray(data)
        bad[pos] ^= 0x40
        with pytest.raises(ModelFormatError, match="checksum"):
            _load_bytes(tmp_path, bytes(bad))


def test_wrong_magic_or_version_raises_model_format_error(tmp_path: Path) -> None:
    data = _saved(tmp_path)
    with pytest.raises(ModelFormatError, match="magic"):
        _load_bytes(tmp_path, b"XXCOUNT\0" + data[8:])
    with pytest.raises(ModelFormatError, match="version"):
        _load_bytes(tmp_path, data[:8] + struct.pack("<I", 99) + data[12:])
    with pytest.raises(ModelFormatError, match="magic"):
        _load_bytes(tmp_path, b"some text that is not a counts file at all\n")
    vocab_path = tmp_path / "v.nwv"
    Vocab.from_corpus(SENTENCES).save(vocab_path)
    with pytest.raises(ModelFormatError, match="magic"):
        NGramCounts.load(vocab_path)
    assert issubclass(ModelFormatError, ValueError)


def test_empty_or_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError):
        _load_bytes(tmp_path, b"")
    with pytest.raises(FileNotFoundError):
        NGramCounts.load(tmp_path / "missing.nwc")


def _with_crc(payload_and_head: bytes) -> bytes:
    return payload_and_head + struct.pack("<I", zlib.crc32(payload_and_head))


def test_altered_payload_with_valid_checksum_never_crashes(tmp_path: Path) -> None:
    """Past the checksum, the parser itself must reject nonsense with ModelFormatError."""
    data = _saved(tmp_path)
    body = data[:-4]
    rng = random.Random(1234)
    outcomes = Counter()
    positions = list(range(20, len(body)))
    for pos in rng.sample(positions, 150) + positions[:60]:
        bad = bytearray(body)
        bad[pos] ^= rng.choice([0x01, 0x80, 0xFF, 0x10])
        try:
            c = _load_bytes(tmp_path, _with_crc(bytes(bad)))
            list(c.items())
            for n in range(1, c.order + 1):
                c.most_common(3, n)
                c.to_numpy(n)
            outcomes["loaded"] += 1
        except ModelFormatError:
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 0


def test_structural_lies_are_rejected(tmp_path: Path) -> None:
    data = _saved(tmp_path)
    body = bytearray(data[:-4])
    # Payload starts with the tokenizer spec: u64 length then "whitespace".
    assert body[20:28] == struct.pack("<Q", 10) and body[28:38] == b"whitespace"
    huge = bytearray(body)
    huge[20:28] = struct.pack("<Q", 2**62)
    with pytest.raises(ModelFormatError, match="length"):
        _load_bytes(tmp_path, _with_crc(bytes(huge)))
    spec = bytearray(body)
    spec[28:38] = b"whitespacX"
    with pytest.raises(ModelFormatError, match="tokenizer"):
        _load_bytes(tmp_path, _with_crc(bytes(spec)))


# --- padding and orders ---------------------------------------------------------------


def test_padding_off() -> None:
    c = count_ngrams(SENTENCES, order=3, pad=False)
    assert dict(c.items()) == ref_counts(SENTENCES, 3, pad=False)
    assert not c.padded
    assert c["<s>"] == 0 and c["</s>"] == 0
    assert c.total(1) == c.tokens
    assert c.vocab.words()[:3] == ["<unk>", "<s>", "</s>"]  # ids 0..2 still reserved


def test_order_1() -> None:
    c = count_ngrams(SENTENCES, order=1)
    assert dict(c.items()) == ref_counts(SENTENCES, 1)
    assert c.order == 1 and len(c) == c.num_unique(1)
    assert c["the", "cat"] == 0


def test_order_12_and_max_order() -> None:
    long = " ".join(f"w{i % 9}" for i in range(40))
    texts = [long, "a b c d e f g h i j k", "short one"]
    c = count_ngrams(texts, order=12)
    assert dict(c.items()) == ref_counts(texts, 12)
    assert c.num_unique(12) == len([k for k in ref_counts(texts, 12) if len(k) == 12])
    assert MAX_ORDER == 16
    c16 = count_ngrams(texts, order=MAX_ORDER)
    assert dict(c16.items()) == ref_counts(texts, 16)


@pytest.mark.parametrize("pad", [True, False])
@pytest.mark.parametrize("order", [2, 3, 5, 7, 9])
def test_lower_orders_equal_the_reference_at_every_order(order: int, pad: bool) -> None:
    # Lower orders are summed from the top order and each sentence's last
    # window: sentences of every length from 0 to past the order, blank ones,
    # a few words repeated so that most n-grams recur.
    rng = random.Random(order * 2 + pad)
    words = [f"w{i}" for i in range(6)] + ["x" * 20, "西"]
    texts = [
        " ".join(rng.choice(words) for _ in range(rng.randrange(order + 4))) for _ in range(400)
    ]
    want = ref_counts(texts, order, pad=pad)
    for threads in (1, 2):
        c = count_ngrams(texts, order=order, pad=pad, threads=threads)
        assert dict(c.items()) == want


@pytest.mark.parametrize("order", [0, 17, -1, 2.0, "3", None])
def test_bad_order_raises_value_error(order: object) -> None:
    with pytest.raises(ValueError, match="order"):
        count_ngrams(SENTENCES, order=order)  # type: ignore[arg-type]


def test_char_tokenizer_counts() -> None:
    texts = ["abca b", "西游记 西"]
    c = count_ngrams(texts, order=2, tokenizer="char")
    expected = ref_counts((" ".join(ch for ch in t if not ch.isspace()) for t in texts), 2)
    assert dict(c.items()) == expected
    assert c.tokenizer == nextword.CharTokenizer()


# --- determinism and vocabulary order on real data -----------------------------------


def test_threads_and_repeated_runs_give_identical_items(shared: Path, tmp_path: Path) -> None:
    lines = lines_of(shared / "corpora" / "en" / "ptb.train.txt")
    rng = random.Random(7)
    picked = lines[:12_000] * 2 + rng.sample(lines, 12_000)
    path = tmp_path / "ptb-repeated.txt"
    path.write_text("\n".join(picked) + "\n")
    assert path.stat().st_size > 4_000_000  # several 1 MiB chunks

    runs = [count_ngrams(path, order=3, threads=t, progress=False) for t in (1, 2, 2, 0)]
    first = list(runs[0].items())
    assert len(first) == len(runs[0])
    for other in runs[1:]:
        assert other.vocab.words() == runs[0].vocab.words()
        assert list(other.items()) == first
        assert other.stats == runs[0].stats
        for n in (1, 2, 3):
            assert other.most_common(20, n) == runs[0].most_common(20, n)
    # In-memory texts spanning several chunks count the same.
    texts = count_ngrams(picked, order=3, threads=2, progress=False)
    assert list(texts.items()) == first
    assert runs[0].vocab.words() == list(first_appearance_ids(picked))


def test_first_appearance_order_with_new_words_in_every_chunk(tmp_path: Path) -> None:
    # Every line brings new words, so each chunk (and each thread) meets new words
    # at once; ids must still follow first appearance in the file.
    lines = [f"w{i} shared x{i // 3}" for i in range(150_000)]
    path = tmp_path / "new-words.txt"
    path.write_text("\n".join(lines) + "\n")
    expected = list(first_appearance_ids(lines))
    for threads in (1, 2):
        c = count_ngrams(path, order=2, threads=threads, progress=False)
        assert c.vocab.words() == expected
        assert c["shared"] == 150_000 and c["x0"] == 3 and c["w149999", "shared"] == 1


# --- KenLM golden counts ----------------------------------------------------------------


def test_kenlm_counts_tinyshakespeare(shared: Path) -> None:
    path = shared / "golden" / "kenlm" / "tinyshakespeare.train.txt"
    expected_md = (shared / "golden" / "kenlm" / "EXPECTED.md").read_text()
    assert "23969 / 109828 / 156000 / 148612 / 128375" in expected_md
    c = count_ngrams(path, order=5, tokenizer="whitespace", progress=False)
    assert [c.num_unique(n) for n in range(2, 6)] == [109828, 156000, 148612, 128375]
    # lmplz's unigram count (23969) always includes <unk>, even though it never
    # occurs in this text; nextword lists only n-grams that occur.
    assert c["<unk>"] == 0
    assert c.num_unique(1) == 23969 - 1
    assert c.sentences == 29_499 and c.tokens == 184_066  # as EXPECTED.md says


def test_kenlm_counts_ptb_with_literal_unk(shared: Path) -> None:
    path = shared / "corpora" / "en" / "ptb.train.txt"
    lines = lines_of(path)
    words = Counter(w for line in lines for w in line.split())
    assert "UNK" not in words  # so lmplz's UNK <-> nextword's <unk> is one-to-one
    c = count_ngrams(path, order=5, tokenizer="whitespace", progress=False)
    assert [c.num_unique(n) for n in range(2, 6)] == [264990, 586558, 717733, 737952]
    # The literal `<unk>` maps to id 0 and is counted there.
    assert c.vocab.id("<unk>") == 0
    assert c["<unk>"] == words["<unk>"] > 0
    ids, cs = c.to_numpy(1)
    assert ids[0, 0] == 0 and cs[0] == words["<unk>"]
    # lmplz (run on text with UNK for <unk>) lists UNK and its own unseen <unk>:
    # 10002 types. Here UNK *is* <unk>, so one fewer.
    assert c.num_unique(1) == len(words) + 2 == 10002 - 1


def test_counting_real_text_matches_counter(shared: Path) -> None:
    path = shared / "golden" / "kenlm" / "tinyshakespeare.test.txt"
    lines = lines_of(path)
    c = count_ngrams(path, order=4, progress=False)
    assert dict(c.items()) == ref_counts(lines, 4)
    assert re.fullmatch(r"NGramCounts\(order=4, tokens=\d+, unique=\[.*\]\)", repr(c))


def test_vocab_of_counts_carries_unigram_counts() -> None:
    """The documented rule (``Vocab.counts``): a count table's vocabulary holds
    its unigram counts, so ``<s>`` and ``</s>`` count the sentences when padded
    and are 0 when not; a vocabulary built from the corpus gives them 0."""
    counts = count_ngrams(["a b a", "b a"], order=2)
    assert vocab_counts(counts) == {"<unk>": 0, "<s>": 2, "</s>": 2, "a": 3, "b": 2}
    unpadded = count_ngrams(["a b a", "b a"], order=2, pad=False)
    assert vocab_counts(unpadded) == {"<unk>": 0, "<s>": 0, "</s>": 0, "a": 3, "b": 2}
    built = nextword.Vocab.from_corpus(["a b a", "b a"])
    assert dict(zip(built.words(), built.counts().tolist())) == {
        "<unk>": 0,
        "<s>": 0,
        "</s>": 0,
        "a": 3,
        "b": 2,
    }


def test_utf8_byte_order_mark_is_not_part_of_the_first_token(tmp_path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfthe cat\nthe dog\n")
    counts = count_ngrams(path, order=1)
    assert counts["the"] == 2
    assert counts["\ufeffthe"] == 0

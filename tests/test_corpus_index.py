"""The suffix-array corpus index against n-gram counts and the reference.

Counts of every n-gram up to order 5 must equal ``NGramCounts`` (same corpus,
same tokenizer), on a shared corpus and on random ones; longer phrases,
successors, positions, longest matches and the ∞-gram must equal the plain
suffix array of ``nextword.reference.suffix_array``.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
from pathlib import Path

import nextword
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nextword import CorpusIndex, LanguageModel, ModelFormatError
from nextword.reference.suffix_array import SuffixArrayIndex


def index_ids(index: CorpusIndex, words: list[str]) -> list[int]:
    return [index.vocab.id(w) if w in index.vocab else 2**32 - 2 for w in words]


def reference_of(index: CorpusIndex, texts: list[str]) -> SuffixArrayIndex:
    """The reference index of the same sentences, padded, in the index's ids."""
    tok = index.vocab.tokenizer
    docs = [
        [1] + [index.vocab.id(t) for t in tok.tokenize(t)] + [2] for t in texts if tok.tokenize(t)
    ]
    return SuffixArrayIndex(docs)


def assert_counts_equal_ngram_counts(index: CorpusIndex, counts: nextword.NGramCounts) -> int:
    """Every n-gram of ``counts`` has the same count in ``index``; returns how many."""
    words = counts.vocab.words()
    to_index = np.array([index.vocab.id(w) for w in words], dtype=np.uint32)
    checked = 0
    for n in range(1, counts.order + 1):
        ids, want = counts.to_numpy(n)
        got = index.count_many(to_index[ids], threads=2)
        bad = np.flatnonzero(got != want)
        assert len(bad) == 0, (n, [words[i] for i in ids[bad[0]]], got[bad[0]], want[bad[0]])
        checked += len(want)
    return checked


# -- real text -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ptb(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[CorpusIndex, Path]:
    corpus = shared / "corpora" / "en" / "ptb.valid.txt"
    path = tmp_path_factory.mktemp("idx") / "ptb.idx"
    return CorpusIndex.build(corpus, path=path, progress=False), corpus


def test_counts_equal_ngram_counts_on_ptb(ptb: tuple[CorpusIndex, Path]) -> None:
    index, corpus = ptb
    counts = nextword.count_ngrams(corpus, order=5, progress=False)
    assert index.tokens == int(counts.vocab.counts().sum())  # <s> ... </s> included
    assert assert_counts_equal_ngram_counts(index, counts) > 200_000
    # PTB's literal <unk> is a word of the corpus; a word it never holds counts 0.
    assert index.count("<unk>") == counts["<unk>"] > 0
    assert index.count("zzyzx") == 0
    assert index.count("zzyzx qqq") == 0
    assert index.count("") == index.tokens


def test_index_reopens_and_answers_the_same(ptb: tuple[CorpusIndex, Path]) -> None:
    index, _ = ptb
    again = CorpusIndex.open(index.path, verify=True)
    info = again.info()
    assert info["token_width"] == 2 and info["pointer_width"] == 3
    assert info["file_bytes"] < 7 * info["tokens"] + 200_000  # + the vocabulary
    for phrase in ["the company said", "of the", "<s> the", "in the first half of"]:
        assert again.count(phrase) == index.count(phrase) > 0
    assert again.next_counts("the company", k=3) == index.next_counts("the company", k=3)


def test_long_phrases_and_successors_equal_the_reference(ptb: tuple[CorpusIndex, Path]) -> None:
    index, corpus = ptb
    lines = corpus.read_text().splitlines()[:300]
    small = CorpusIndex.build(lines, path=Path(index.path).with_name("small.idx"), progress=False)
    ref = reference_of(small, lines)
    rng = random.Random(0)
    for _ in range(200):
        words = rng.choice([ln for ln in lines if ln.strip()]).split()
        i = rng.randrange(len(words))
        phrase = words[i : i + rng.randint(1, 15)]
        ids = index_ids(small, phrase)
        assert small.count(phrase) == ref.count(ids) >= 1
        want = {small.vocab.word(t): c for t, c in ref.next_counts(ids).items()}
        assert dict(small.next_counts(phrase, k=None)) == want
        hits = small.find(phrase, limit=1000)
        assert [h.position for h in hits] == ref.positions(ids)


# -- random corpora ------------------------------------------------------------------------

WORDS = ["a", "b", "c", "d", "<unk>"]
sentence = st.lists(st.sampled_from(WORDS), min_size=0, max_size=12).map(" ".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(sentence, min_size=1, max_size=25), seed=st.integers(0, 2**16))
def test_random_corpora_against_counts_and_reference(texts: list[str], seed: int) -> None:
    if not any(t.split() for t in texts):
        return  # no sentence: see test_empty_corpus_is_an_error
    with tempfile.TemporaryDirectory() as tmp:
        index = CorpusIndex.build(texts, path=os.path.join(tmp, "r.idx"), progress=False)
        counts = nextword.count_ngrams(texts, order=5, progress=False)
        assert_counts_equal_ngram_counts(index, counts)
        ref = reference_of(index, texts)
        rng = random.Random(seed)
        vocab = index.vocab.words()
        for _ in range(20):
            phrase = [rng.choice(vocab[1:] + ["zz"]) for _ in range(rng.randint(1, 9))]
            ids = index_ids(index, phrase)
            assert index.count(phrase) == ref.count(ids)
            assert index.longest_matches(phrase).tolist() == ref.longest_matches(ids)
            after, n = ref.infini_gram([1, *ids])
            assert index.effective_n(phrase) == n
            total = sum(after.values())
            p = index.next_distribution(phrase)
            want = np.zeros(len(vocab))
            for t, c in after.items():
                want[t] = c / total
            np.testing.assert_allclose(p, want, rtol=1e-12, atol=0)


# -- documents -----------------------------------------------------------------------------


def test_no_match_crosses_a_document(tmp_path: Path) -> None:
    one = tmp_path / "one.txt"
    two = tmp_path / "two.txt"
    one.write_text("x y\nz w\n")
    two.write_text("q r\n")
    lines = CorpusIndex.build([one, two], path=tmp_path / "l.idx", pad=False, progress=False)
    files = CorpusIndex.build(
        [one, two], path=tmp_path / "f.idx", pad=False, documents="files", progress=False
    )
    assert lines.count("y z") == 0 and files.count("y z") == 1  # sentences of one file
    assert lines.count("w q") == 0 and files.count("w q") == 0  # never across files
    assert files.info()["documents"] == 2 and lines.info()["documents"] == 3
    hit = files.find("q", window=3)[0]
    assert (hit.document, hit.offset, hit.left, hit.match, hit.right) == (1, 0, "", "q", "r")
    (hit,) = files.find("z w", window=1)
    assert (hit.document, hit.offset, hit.left, hit.right) == (0, 2, "y", "")


def test_find_gives_context_within_the_document(tmp_path: Path) -> None:
    texts = ["the cat sat on the mat", "a cat ran"]
    index = CorpusIndex.build(texts, path=tmp_path / "c.idx", progress=False)
    hits = index.find("cat", window=2)
    assert [(h.document, h.offset) for h in hits] == [(0, 2), (1, 2)]
    assert str(hits[0]) == "<s> the [cat] sat on"
    assert (hits[1].left, hits[1].right) == ("<s> a", "ran </s>")
    assert len(index.find("cat", limit=1)) == 1
    assert index.find("dog") == [] and index.find("") == []


# -- the ∞-gram model ----------------------------------------------------------------------


def test_infini_gram_is_a_language_model(tmp_path: Path) -> None:
    texts = ["to be or not to be", "to be is to do", "not to worry"]
    index = CorpusIndex.build(texts, path=tmp_path / "m.idx", progress=False)
    assert isinstance(index, LanguageModel)
    # "<s> not to" occurs once, followed by "worry": the longest suffix wins.
    assert index.effective_n("not to") == 4
    assert index.prob("worry", "not to") == 1.0
    # The whole context occurs (a sentence starts so): n = 7.
    assert index.prob("be", "to be or not to") == 1.0 and index.effective_n("to be or not to") == 7
    # An unknown word cuts the context: after "zzz to" only "to" is used.
    p = index.next_distribution("zzz to")
    assert index.effective_n("zzz to") == 2
    assert p[index.vocab.id("be")] == pytest.approx(3 / 5)
    assert p.sum() == pytest.approx(1.0) and p[index.vocab.id("<s>")] == 0
    # The empty context: unigrams without <s>.
    unigram = index.next_distribution()
    assert index.effective_n() == 2  # "<s>" itself is followed by "to" or "not"
    assert unigram[index.vocab.id("to")] == pytest.approx(2 / 3)
    sentence_logp = index.score("to be or not to be")
    assert sentence_logp == pytest.approx(
        sum(
            math.log10(index.prob(w, c))
            for w, c in [
                ("to", ""),
                ("be", "to"),
                ("or", "to be"),
                ("not", "to be or"),
                ("to", "to be or not"),
                ("be", "to be or not to"),
                ("</s>", "to be or not to be"),
            ]
        )
    )
    assert index.perplexity(texts).perplexity < 2.0
    a = index.generate(max_tokens=20, seed=3)
    assert a == index.generate(max_tokens=20, seed=3)
    assert a in texts  # every continuation is copied from the corpus
    many = index.infini_gram_many(["to be", "not"], threads=2)
    assert many[0] == ({"or": 1, "is": 1}, 2, 4)
    assert many[1] == ({"to": 1}, 1, 3)


# -- novelty -------------------------------------------------------------------------------


def test_novelty_of_copied_and_shuffled_text(ptb: tuple[CorpusIndex, Path]) -> None:
    index, corpus = ptb
    lines = [ln for ln in corpus.read_text().splitlines() if len(ln.split()) >= 12][:50]
    copied = index.novelty(lines, max_n=10)
    assert all(copied.found[n] == 1.0 for n in range(1, 11))
    assert copied.median_longest >= 6
    rng = random.Random(1)
    words = [w for ln in lines for w in ln.split()]
    rng.shuffle(words)
    shuffled = index.novelty(" ".join(words[i : i + 20]) for i in range(0, len(words), 20))
    assert shuffled.found[1] == 1.0  # every word occurs
    assert shuffled.novel(6) > 0.9 and shuffled.median_longest < copied.median_longest
    assert shuffled.ngrams[1] == len(words)
    longest = np.concatenate(shuffled.longest)
    assert float(np.median(longest)) == shuffled.median_longest


# -- bad input -----------------------------------------------------------------------------


@pytest.fixture()
def small_index(tmp_path: Path) -> CorpusIndex:
    return CorpusIndex.build(["a b c", "b c d"], path=tmp_path / "s.idx", progress=False)


def test_corrupt_and_truncated_files_raise_model_format_error(
    small_index: CorpusIndex, tmp_path: Path
) -> None:
    good = Path(small_index.path).read_bytes()
    cases = {
        "header": bytearray(good),
        "truncated": bytearray(good[:-5]),
        "cut to the header": bytearray(good[:100]),
        "empty": bytearray(),
        "foreign": bytearray(b"not an index at all" * 10),
    }
    cases["header"][20] ^= 0xFF
    for name, data in cases.items():
        path = tmp_path / f"{name}.idx"
        path.write_bytes(bytes(data))
        with pytest.raises(ModelFormatError):
            CorpusIndex.open(path)
    body = bytearray(good)
    body[129] ^= 0x01  # the first shard's tokens
    path = tmp_path / "body.idx"
    path.write_bytes(bytes(body))
    CorpusIndex.open(path).count("a b")  # maps: a query cannot crash on bad bytes
    with pytest.raises(ModelFormatError, match="checksum"):
        CorpusIndex.open(path, verify=True)
    with pytest.raises(FileNotFoundError):
        CorpusIndex.open(tmp_path / "missing.idx")


def test_a_corrupt_vocabulary_is_found_when_first_read(
    small_index: CorpusIndex, tmp_path: Path
) -> None:
    """Opening reads the vocabulary's layout, not its words: a bad word is a
    format error when the words are first needed, and queries by ids still run."""
    good = Path(small_index.path).read_bytes()
    bad = bytearray(good)
    bad[good.index(b"<unk>")] = 0xFF  # not UTF-8
    path = tmp_path / "vocab.idx"
    path.write_bytes(bytes(bad))
    index = CorpusIndex.open(path)
    assert index.info()["vocab_size"] == len(small_index.vocab)
    ids = np.array([[small_index.vocab.id("b"), small_index.vocab.id("c")]], dtype=np.uint32)
    assert index.count_many(ids).tolist() == [2]
    with pytest.raises(ModelFormatError, match="UTF-8"):
        index.vocab  # noqa: B018
    with pytest.raises(ModelFormatError):
        index.count("b c")
    with pytest.raises(ModelFormatError):
        index.verify()
    small_index.verify()


def test_batch_counts_of_ids_equal_single_counts(ptb: tuple[CorpusIndex, Path]) -> None:
    """Random phrases of every length from the stream, duplicates, unknown ids,
    the empty phrase and a strided array: the batch gives each phrase's count."""
    index, _ = ptb
    stream = index.token_stream().astype(np.int64)
    rng = np.random.default_rng(5)
    for width in [0, 1, 2, 3, 7]:
        starts = rng.integers(0, len(stream) - width, size=500)
        grams = stream[starts[:, None] + np.arange(width)]
        grams[grams == np.iinfo(np.uint16).max] = 2**32 - 2  # a separator: unknown
        grams = np.concatenate([grams, grams[:50]]).astype(np.uint32)  # duplicates
        if width:
            grams[::97, -1] = len(index.vocab) + 3  # out of the vocabulary
        want = [index._core.count(g.tolist()) for g in grams]
        assert index.count_many(grams, threads=1).tolist() == want
        assert index.count_many(grams, threads=2).tolist() == want
        if width > 1:
            strided = np.asfortranarray(grams[:, ::-1])
            want_rev = [index._core.count(g.tolist()) for g in strided]
            assert index._core.count_ids(strided, 1).tolist() == want_rev
    assert index.count_many(np.zeros((3, 0), dtype=np.uint32)).tolist() == [index.tokens] * 3


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    texts = [" ".join(f"w{i}" for i in range(j, j + 1000)) for j in range(0, 70_000, 1000)]
    target = tmp_path / "wide.idx"
    with pytest.raises(ValueError, match="does not fit 16-bit tokens"):
        CorpusIndex.build(texts, path=target, token_width=2, progress=False)
    assert not target.exists()
    wide = CorpusIndex.build(texts, path=target, progress=False)
    assert wide.info()["token_width"] == 4 and wide.count("w69998 w69999") == 1
    capped = CorpusIndex.build(texts, path=tmp_path / "cap.idx", max_vocab=1000, progress=False)
    assert capped.info()["token_width"] == 2 and capped.count("<unk>") > 60_000
    with pytest.raises(ValueError, match="token_width"):
        CorpusIndex.build(["a"], path=tmp_path / "x.idx", token_width=3, progress=False)
    with pytest.raises(ValueError, match="documents"):
        CorpusIndex.build(["a"], path=tmp_path / "x.idx", documents="pages", progress=False)
    index = CorpusIndex.build(["a b"], path=tmp_path / "y.idx", progress=False)
    with pytest.raises(ValueError, match="2-D"):
        index.count_many(np.zeros(3, dtype=np.uint32))
    with pytest.raises(TypeError):
        index.count_many(["a", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        index.next_counts("a", k=-1)
    with pytest.raises(ValueError):
        index.novelty("a", max_n=0)


def test_a_memory_budget_shards_the_index_and_answers_as_one(tmp_path: Path) -> None:
    from nextword.index import parse_bytes

    rng = np.random.default_rng(3)
    words = np.array("the cat sat on a mat and the dog ran off".split())
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 12))) for _ in range(3000)]
    target = tmp_path / "m.idx"
    with pytest.raises(ValueError, match=r"leaves room to sort only"):
        CorpusIndex.build(texts, path=target, memory="1K", progress=False)
    assert not target.exists() and list(tmp_path.iterdir()) == []
    one = CorpusIndex.build(texts, path=tmp_path / "one.idx", progress=False)
    many = CorpusIndex.build(texts, path=target, shard_tokens=500, progress=False)
    assert one.info()["shards"] == 1 and many.info()["shards"] > 20
    many.verify()
    assert np.array_equal(many.token_stream(), one.token_stream())
    for phrase in ["the", "the cat", "on a mat", "dog ran off the", "zebra", ""]:
        assert many.count(phrase) == one.count(phrase)
        assert many.next_counts(phrase, k=None) == one.next_counts(phrase, k=None)
        assert many.find(phrase, limit=10**6) == one.find(phrase, limit=10**6)
        assert len(many.find(phrase, limit=5)) == len(one.find(phrase, limit=5))
        assert np.array_equal(many.next_distribution(phrase), one.next_distribution(phrase))
    sample = texts[:50]
    assert many.count_many(sample).tolist() == one.count_many(sample).tolist()
    assert many.novelty(sample).found == one.novelty(sample).found
    # A budget that fits one shard builds one; the figures are the same.
    fits = CorpusIndex.build(texts, path=tmp_path / "f.idx", memory="8G", progress=False)
    assert fits.info()["shards"] == 1
    assert (parse_bytes("2G"), parse_bytes("1.5m"), parse_bytes("300kB")) == (2e9, 1.5e6, 3e5)
    for bad in ["", "x", "-1G", "0"]:
        with pytest.raises(ValueError):
            parse_bytes(bad)
    with pytest.raises(TypeError):
        parse_bytes(1.5)  # type: ignore[arg-type]


def test_every_flipped_byte_of_a_sharded_index_is_caught_and_never_crashes(
    tmp_path: Path,
) -> None:
    """A byte flipped anywhere (header, shard table, row tables, arrays) is a
    ModelFormatError at opening or at verify; queries on what opens run."""
    texts = ["a b c", "b c d a", "c", "d d a b", "a b"] * 3
    good_path = tmp_path / "good.idx"
    CorpusIndex.build(texts, path=good_path, shard_tokens=12, progress=False)
    good = good_path.read_bytes()
    assert CorpusIndex.open(good_path).info()["shards"] >= 4
    path = tmp_path / "bad.idx"
    opened = 0
    for i in range(len(good)):
        bad = bytearray(good)
        bad[i] ^= 0x10
        path.write_bytes(bytes(bad))
        try:
            index = CorpusIndex.open(path)
        except ModelFormatError:
            continue
        opened += 1
        ids = np.array([[1, 2], [3, 4], [5, 5]], dtype=np.uint32)
        index.count_many(ids)
        index._core.count([3, 4, 5])
        index._core.next_counts([3], None)
        index._core.infini_gram([3, 4])
        index._core.longest_matches([3, 4, 5, 6])
        try:
            index._core.find([4], 5, 2)  # decodes words: a corrupt vocabulary raises
        except ModelFormatError:
            pass
        with pytest.raises(ModelFormatError):
            index.verify()
    assert opened > len(good) // 2  # most flips land in arrays: found by verify


def test_a_document_larger_than_a_shard_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n" * 100)
    with pytest.raises(ValueError, match=r"c\.txt .* holds more than the 99 tokens"):
        CorpusIndex.build(corpus, path=tmp_path / "x.idx", documents="files", shard_tokens=100)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]


BUILD_SCRIPT = """
import sys
import nextword
print("start", flush=True)
try:
    nextword.CorpusIndex.build(sys.argv[1], path=sys.argv[2], progress=False)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_stops_a_build_and_leaves_no_file(shared: Path, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    target = tmp_path / "gut.idx"
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILD_SCRIPT, str(shared / "corpora/gutenberg"), str(target)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "start"
    time.sleep(1.5)  # indexing the Gutenberg set takes far longer
    proc.send_signal(signal.SIGINT)
    line = proc.stdout.readline()
    assert line.strip() == "interrupted", line
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert list(tmp_path.iterdir()) == []


def test_empty_corpus_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(nextword.EmptyCorpusError):
        CorpusIndex.build(["", "   "], path=tmp_path / "e.idx", progress=False)


def test_batch_counts_do_not_depend_on_threads(small_index: CorpusIndex) -> None:
    phrases = ["a", "b c", "a b c", "c d", "d a", "", "zz"]
    one = small_index.count_many(phrases, threads=1)
    assert one.tolist() == [1, 2, 1, 1, 0, 10, 0]
    assert small_index.count_many(phrases, threads=2).tolist() == one.tolist()
    assert [small_index.count(p) for p in phrases] == one.tolist()


# -- the command line ----------------------------------------------------------------------


def test_cli_build_count_find_novelty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nextword.cli import main

    corpus = tmp_path / "c.txt"
    corpus.write_text("to be or not to be\nto be is to do\n")
    idx = tmp_path / "c.idx"
    assert main(["index", "build", str(corpus), "-o", str(idx), "-q"]) == 0
    assert "indexed 15 tokens in 2 documents" in capsys.readouterr().out
    assert main(["index", "count", str(idx), "to be", "zzz", "--next", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == ["3\tto be", "\t1\t</s>", "\t1\tor", "0\tzzz"]
    assert main(["index", "find", str(idx), "not to", "-w", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["1 occurrences of 'not to'; 1 shown", "doc 0:4\tor [not to] be"]
    generated = tmp_path / "g.txt"
    generated.write_text("to be or not\nbe do is\n")
    assert main(["index", "novelty", str(idx), str(generated), "--max-n", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    # unigrams: 7 of 7; bigrams: 3 of 5 ("be do", "do is" novel); trigrams: 2 of 3.
    assert out[1:4] == ["1\t7\t100.0%\t0.0%", "2\t5\t60.0%\t40.0%", "3\t3\t66.7%\t33.3%"]
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\0" * 200)
    assert main(["index", "count", str(bad), "a"]) == 1
    assert "not a nextword corpus index" in capsys.readouterr().err


def test_tokenizers_with_fixed_ids_index_by_their_ids(tmp_path: Path) -> None:
    texts = ["the cat sat on the mat", "the dog sat", "a cat ran on the mat"] * 3
    words = nextword.VocabTokenizer.learn(texts, min_count=4)  # drops "dog", "a", "ran"
    index = CorpusIndex.build(texts, path=tmp_path / "v.idx", tokenizer=words, progress=False)
    assert index.vocab.words() == words.words  # the tokenizer's ids, not ours
    counts = nextword.count_ngrams(texts, order=5, tokenizer=words, progress=False)
    assert_counts_equal_ngram_counts(index, counts)
    # The tokenizer reads every dropped word as <unk>, queries too.
    assert index.count("dog") == index.count("<unk>") == 9 and index.count("<unk> sat") == 3
    bpe = nextword.BPETokenizer.train(texts, vocab_size=280, progress=False)
    index = CorpusIndex.build(texts, path=tmp_path / "b.idx", tokenizer=bpe, progress=False)
    assert index.count("the cat") == index.count(bpe.tokenize("the cat")) == 3
    assert index.find("a cat ran", window=0)[0].match == "a cat ran"  # BPE bytes decoded

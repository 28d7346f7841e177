"""Word2vec: the core against the plain-Python reference (bit for bit), the
vectors' queries, files and errors, and the built-in evaluations."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import nextword
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nextword import _core
from nextword.embeddings import Word2Vec, WordVectors
from nextword.errors import EmptyCorpusError, ModelFormatError
from nextword.reference import word2vec as ref

SMALL = dict(dim=8, window=2, negative=3, epochs=2)


def toy_corpus(lines: int = 60) -> list[str]:
    """A tiny corpus with frequent, rare and unknown (below min_count) words."""
    rng = np.random.default_rng(5)
    animals, places, verbs = ["cat", "dog", "cow"], ["mat", "rug", "barn"], ["sat", "lay"]
    out = []
    for i in range(lines):
        a, p, v = rng.choice(animals), rng.choice(places), rng.choice(verbs)
        extra = f" rare{i}" if i % 7 == 0 else ""
        out.append(f"the {a} {v} on the {p}{extra}")
    return out


def bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32).view(np.uint32)


# --- the core against the reference ---------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    dim=st.integers(1, 19),
    sg=st.booleans(),
    alpha=st.sampled_from([0.025, 0.5, 3.0]),
)
def test_one_update_matches_the_reference(seed: int, dim: int, sg: bool, alpha: float) -> None:
    rng = np.random.default_rng(seed)
    rows = 5
    # Large values reach the saturated sigmoid beyond +-6 too.
    syn0 = rng.normal(0, 2, (rows, dim)).astype(np.float32)
    syn1 = rng.normal(0, 2, (rows, dim)).astype(np.float32)
    target = int(rng.integers(rows))
    context = [int(rng.integers(rows))] if sg else [int(x) for x in rng.integers(rows, size=3)]
    negatives = [int(x) for x in rng.integers(rows, size=4)] + [target]
    alpha32 = float(np.float32(alpha))
    got0, got1 = _core.word2vec_step(syn0, syn1, sg, (context, target, negatives), alpha32)

    want0, want1 = syn0.tolist(), syn1.tolist()
    if sg:
        ref.skip_gram_step(want0, want1, context[0], target, negatives, alpha32)
    else:
        ref.cbow_step(want0, want1, context, target, negatives, alpha32)
    assert np.array_equal(bits(got0), bits(want0))
    assert np.array_equal(bits(got1), bits(want1))


def test_noise_table_subsampling_and_initial_vectors_match_the_reference() -> None:
    counts = np.array([5000, 1200, 37, 5, 1, 0], dtype=np.uint64)
    cumulative, keep, init = _core.word2vec_rules(counts, 1e-3, 7, 42)
    assert cumulative.tolist() == ref.noise_cumulative(counts.tolist())
    assert keep.tolist() == ref.keep_probabilities(counts.tolist(), 1e-3)
    assert np.array_equal(bits(init), bits(np.ravel(ref.initial_vectors(6, 7, 42))))
    assert keep[0] < 0.5 and keep[-2] == 1.0


@pytest.mark.parametrize("sg", [True, False])
def test_one_thread_training_matches_the_reference(sg: bool) -> None:
    corpus = toy_corpus(40)
    params = dict(SMALL, min_count=2, sample=0.05, seed=9, sg=sg)
    wv = Word2Vec(threads=1, **params).fit(corpus, progress=False)  # type: ignore[arg-type]
    words, counts, vectors = ref.train([s.split() for s in corpus], **params)  # type: ignore[arg-type]
    assert wv.words == words
    assert wv.counts.tolist() == counts
    assert np.array_equal(bits(wv.vectors), bits(vectors))


def test_one_thread_is_reproducible_and_the_seed_matters() -> None:
    def fit(seed: int, threads: int = 1) -> WordVectors:
        return Word2Vec(min_count=1, seed=seed, threads=threads, **SMALL).fit(toy_corpus())

    a, b, c = fit(1), fit(1), fit(2)
    assert np.array_equal(bits(a.vectors), bits(b.vectors))
    assert not np.array_equal(a.vectors, c.vectors)
    many = fit(1, threads=2)
    assert many.words == a.words and np.isfinite(many.vectors).all()


def test_training_learns_something() -> None:
    """Words used alike end closer than words never used alike."""
    lines = []
    for i in range(400):
        lines.append(f"the {['cat', 'dog'][i % 2]} chased the {['ball', 'stick'][i % 3 % 2]}")
        lines.append(f"we ate {['bread', 'rice'][i % 2]} with {['soup', 'tea'][i % 3 % 2]}")
    wv = Word2Vec(dim=16, window=2, min_count=1, epochs=3, threads=1, sample=0).fit(lines)
    assert wv.similarity("cat", "dog") > wv.similarity("cat", "rice")
    assert wv.doesnt_match(["cat", "dog", "rice"]) == "rice"


def test_two_threads_train_soundly_and_learn() -> None:
    """Two Hogwild threads on many small chunks (so both run at once and meet on
    the rows of the frequent words): finite vectors that learn what one thread
    learns, and the same vocabulary."""
    lines = []
    for i in range(3000):
        lines.append(f"the {['cat', 'dog'][i % 2]} chased the {['ball', 'stick'][i % 3 % 2]}")
        lines.append(f"we ate {['bread', 'rice'][i % 2]} with {['soup', 'tea'][i % 3 % 2]}")
    params = dict(dim=16, window=2, min_count=1, epochs=3, sample=0)
    _core.set_chunk_bytes(2048)
    try:
        wv = Word2Vec(threads=2, **params).fit(lines)  # type: ignore[arg-type]
        one = Word2Vec(threads=1, **params).fit(lines)  # type: ignore[arg-type]
    finally:
        _core.set_chunk_bytes(0)
    assert wv.words == one.words
    assert wv.vectors.shape == one.vectors.shape and np.isfinite(wv.vectors).all()
    norms, one_norms = np.linalg.norm(wv.vectors, axis=1), np.linalg.norm(one.vectors, axis=1)
    assert (norms > one_norms / 3).all() and (norms < one_norms * 3).all()
    for w in (wv, one):
        assert w.similarity("cat", "dog") > w.similarity("cat", "rice")
        assert w.similarity("bread", "rice") > w.similarity("bread", "dog")
        assert w.doesnt_match(["cat", "dog", "rice"]) == "rice"
        assert w.most_similar("tea", k=1)[0][0] == "soup"


# --- bad input -------------------------------------------------------------------------


def test_empty_corpus_and_nothing_reaching_min_count() -> None:
    with pytest.raises(EmptyCorpusError):
        Word2Vec(**SMALL).fit(["", "  "])
    with pytest.raises(EmptyCorpusError, match="min_count=5"):
        Word2Vec(min_count=5, **SMALL).fit(["a b c", "d e"])


@pytest.mark.parametrize(
    "bad", [dict(dim=0), dict(window=0), dict(epochs=0), dict(min_count=0), dict(negative=0)]
)
def test_bad_settings(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Word2Vec(**bad)


def test_bad_learning_rates_from_the_core() -> None:
    with pytest.raises(ValueError, match="alpha"):
        Word2Vec(alpha=-1.0, min_count=1).fit(["a b"])
    with pytest.raises(ValueError, match="min_alpha"):
        Word2Vec(alpha=0.01, min_alpha=0.1, min_count=1).fit(["a b"])


def test_unknown_words_raise_key_error_naming_them() -> None:
    wv = WordVectors(["a", "b"], np.eye(2))
    for call in (
        lambda: wv["zebra"],
        lambda: wv.most_similar("zebra"),
        lambda: wv.similarity("a", "zebra"),
        lambda: wv.analogy("a", "zebra", "b"),
        lambda: wv.doesnt_match(["a", "zebra"]),
    ):
        with pytest.raises(KeyError, match="zebra"):
            call()


# --- queries ---------------------------------------------------------------------------


def example() -> WordVectors:
    return WordVectors(
        ["man", "king", "woman", "queen", "apple"],
        [[1, 0, 0, 0.1], [1, 1, 0, 0], [0, 0, 1, 0.1], [0, 1, 1, 0], [0.2, -1, 0.1, 3]],
    )


def test_most_similar_is_exact_cosine_with_ties_by_row() -> None:
    wv = example()
    unit = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    got = wv.most_similar("king", k=4)
    scores = unit @ unit[1]
    want = sorted(((float(scores[i]), -i) for i in range(5) if i != 1), reverse=True)
    assert [w for w, _ in got] == [wv.words[-i] for _, i in want]
    assert [s for _, s in got] == pytest.approx([s for s, _ in want], abs=1e-6)
    by_vector = wv.most_similar(wv["king"], k=1)
    assert by_vector[0][0] == "king" and by_vector[0][1] == pytest.approx(1.0)
    ties = WordVectors(["a", "b", "c", "d"], [[1, 0], [0, 1], [0, 1], [0, 1]])
    assert [w for w, _ in ties.most_similar("a", k=2)] == ["b", "c"]
    assert wv.most_similar("king", k=2, exclude=["queen"])[0][0] != "queen"


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogy(method: str) -> None:
    wv = example()
    best = wv.analogy("man", "king", "woman", k=2, method=method)  # type: ignore[arg-type]
    assert best[0][0] == "queen"
    assert {w for w, _ in best}.isdisjoint({"man", "king", "woman"})


def test_doesnt_match() -> None:
    assert example().doesnt_match(["man", "king", "woman", "apple"]) == "apple"


# --- files -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["v.bin", "v.txt", "v.nwvec"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    wv = Word2Vec(min_count=1, threads=1, **SMALL).fit(toy_corpus())
    wv.save(tmp_path / name)
    back = WordVectors.load(tmp_path / name)
    assert back.words == wv.words
    assert np.array_equal(bits(back.vectors), bits(wv.vectors))
    if name.endswith(".nwvec"):
        assert back.counts.tolist() == wv.counts.tolist()


def test_corrupt_files_name_the_line_or_byte(tmp_path: Path) -> None:
    text = tmp_path / "v.txt"
    cases = {
        "2 3\na 1 2 3\nb 1 2\n": "line 3",
        "3 2\na 1 2\nb 1 2\n": "truncated",
        "1 2\na 1 inf\n": "line 2: non-finite",
        "1 2\na 1 two\n": "line 2",
        "hello\n": "line 1",
    }
    for content, where in cases.items():
        text.write_text(content)
        with pytest.raises(ModelFormatError, match=where):
            WordVectors.load(text)
    wv = example()
    wv.save(tmp_path / "v.bin")
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:-9])
    with pytest.raises(ModelFormatError, match=r"byte \d+.*truncated"):
        WordVectors.load(tmp_path / "cut.bin")
    header = len(b"5 4\nman ")
    nan = data[:header] + np.float32(np.nan).tobytes() + data[header + 4 :]
    (tmp_path / "nan.bin").write_bytes(nan)
    with pytest.raises(ModelFormatError, match=f"byte {header}: .*non-finite"):
        WordVectors.load(tmp_path / "nan.bin")
    wv.save(tmp_path / "v.nwvec")
    own = bytearray((tmp_path / "v.nwvec").read_bytes())
    own[40] ^= 0xFF
    (tmp_path / "bad.nwvec").write_bytes(bytes(own))
    with pytest.raises(ModelFormatError):
        WordVectors.load(tmp_path / "bad.nwvec")
    with pytest.raises(ModelFormatError, match="non-finite"):
        WordVectors(["a"], [[np.inf]]).save(tmp_path / "inf.txt")


# --- evaluation ------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_evaluate_analogies_per_section(tmp_path: Path) -> None:
    questions = write(
        tmp_path / "q.txt",
        ": royalty\nMan King Woman Queen\nman king woman apple\nman king woman zebra\n"
        ": fruit\nking man queen woman\n",
    )
    result = example().evaluate_analogies(questions)
    assert [(s.name, s.correct, s.total) for s in result.sections] == [
        ("royalty", 1, 2),
        ("fruit", 1, 1),
    ]
    assert result.skipped == 1 and result.accuracy == pytest.approx(2 / 3)
    small = example().evaluate_analogies(questions, restrict_vocab=3)
    assert small.total == 0 and small.skipped == 4


def test_evaluate_similarity(tmp_path: Path) -> None:
    pairs = write(
        tmp_path / "p.tsv",
        "# w1\tw2\tscore\nking\tqueen\t8\nman\tapple\t1\nking\tman\t6\nman\tzebra\t3\n",
    )
    r = example().evaluate_similarity(pairs)
    assert (r.pairs, r.oov_pairs, r.oov_rate) == (3, 1, 0.25)
    assert -1 <= r.spearman <= 1
    assert nextword.embedding_eval.spearman([1, 2, 2, 3], [1, 3, 3, 4]) == pytest.approx(1.0)


def test_shared_evaluation_files_parse(shared: Path) -> None:
    eval_dir = shared / "corpora" / "eval"
    words = ["king", "queen", "man", "woman", "athens", "greece", "baghdad", "iraq", "love", "sex"]
    wv = WordVectors(words, np.random.default_rng(0).normal(size=(len(words), 8)))
    analogies = wv.evaluate_analogies(eval_dir / "questions-words.txt")
    assert analogies.total + analogies.skipped == 19544
    assert analogies.total > 0 and len(analogies.sections) == 14
    for name in ("wordsim353.tsv", "simlex999.txt"):
        sim = wv.evaluate_similarity(eval_dir / name)
        assert sim.pairs + sim.oov_pairs in (353, 999) and 0 < sim.oov_rate < 1


INTERRUPTED = """
import nextword
lines = [f"w{i % 97} w{i % 89} w{i % 83} w{i % 79} w{i % 73}" for i in range(20000)]
print("start", flush=True)
try:
    nextword.Word2Vec(dim=50, min_count=1, epochs=1000, sample=0).fit(lines, progress=False)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_stops_training() -> None:
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "start"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    # Workers check between sentences: training stops long before its 1000 epochs.
    assert proc.stdout.readline().strip() == "interrupted"
    proc.communicate(timeout=30)
    assert proc.returncode == 0

"""Word2vec files and evaluations against gensim, the outside oracle:
gensim reads the vectors we write, we read the vectors gensim writes, and our
analogy and word-pair evaluations agree with gensim's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import require_module
from nextword.embeddings import Word2Vec, WordVectors

gensim_models = require_module("gensim.models", "pip install nextword[test]")
KeyedVectors = gensim_models.KeyedVectors


def trained() -> WordVectors:
    lines = [f"w{i % 13} w{i % 7} w{i % 5} w{i % 3}" for i in range(300)]
    return Word2Vec(dim=12, window=2, min_count=1, epochs=2, threads=1).fit(lines)


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_reads_ours(tmp_path: Path, binary: bool) -> None:
    wv = trained()
    path = tmp_path / ("v.bin" if binary else "v.txt")
    wv.save(path)
    theirs = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert list(theirs.index_to_key) == wv.words
    assert np.array_equal(theirs.vectors, wv.vectors)


@pytest.mark.parametrize("binary", [True, False])
def test_we_read_gensims(tmp_path: Path, binary: bool) -> None:
    kv = KeyedVectors(vector_size=5)
    words = ["alpha", "beta", "gamma", "délta"]
    vectors = np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32)
    kv.add_vectors(words, vectors)
    path = tmp_path / ("g.bin" if binary else "g.txt")
    kv.save_word2vec_format(str(path), binary=binary)
    ours = WordVectors.load(path)
    assert ours.words == words
    assert np.array_equal(ours.vectors, vectors)


def random_vectors(words: list[str], dim: int, seed: int) -> WordVectors:
    return WordVectors(words, np.random.default_rng(seed).normal(size=(len(words), dim)))


def as_keyed(wv: WordVectors) -> object:
    kv = KeyedVectors(vector_size=wv.dim)
    kv.add_vectors(wv.words, wv.vectors)
    return kv


def test_evaluations_agree_with_gensim(shared: Path) -> None:
    eval_dir = shared / "corpora" / "eval"
    questions = eval_dir / "questions-words.txt"
    lines = questions.read_text().splitlines()
    words = sorted({w.lower() for line in lines if line[:1] != ":" for w in line.split()})[::2]
    for name in ("wordsim353.tsv", "simlex999.txt"):
        for line in (eval_dir / name).read_text().splitlines()[5::2]:
            words += [w.lower() for w in line.split("\t")[:2]]
    words = list(dict.fromkeys(words))
    wv = random_vectors(words, 24, 3)
    ours = wv.evaluate_analogies(questions, restrict_vocab=None)
    score, sections = as_keyed(wv).evaluate_word_analogies(str(questions), restrict_vocab=10**6)
    theirs = {
        s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"]))
        for s in sections
        if s["section"] != "Total accuracy"
    }
    assert {s.name: (s.correct, s.total) for s in ours.sections if s.total} == {
        k: v for k, v in theirs.items() if v[1]
    }
    assert ours.accuracy == pytest.approx(score)
    for name in ("wordsim353.tsv", "simlex999.txt"):
        pairs = eval_dir / name
        sim = wv.evaluate_similarity(pairs)
        pearson, spearman, oov_percent = as_keyed(wv).evaluate_word_pairs(str(pairs))
        assert sim.spearman == pytest.approx(spearman[0], abs=1e-6)
        assert sim.pearson == pytest.approx(pearson[0], abs=1e-6)
        assert sim.oov_rate * 100 == pytest.approx(oov_percent)

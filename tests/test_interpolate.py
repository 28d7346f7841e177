"""Mixtures of models: the mixture is the weighted sum, EM finds the weights
that maximise held-out likelihood, and the ∞-gram mixed with Kneser-Ney scores
text that the ∞-gram alone cannot (its zeros)."""

from __future__ import annotations

import math
from pathlib import Path

import nextword
import numpy as np
import pytest
from nextword import CorpusIndex, Interpolated, NGramLM
from nextword.errors import VocabularyMismatchError


@pytest.fixture(scope="module")
def ptb_models(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    en = shared / "corpora" / "en"
    root = tmp_path_factory.mktemp("mix")
    lines = (en / "ptb.valid.txt").read_text().splitlines()
    (root / "train.txt").write_text("\n".join(lines[:2500]) + "\n")
    (root / "fit.txt").write_text("\n".join(lines[2500:2650]) + "\n")
    (root / "test.txt").write_text("\n".join(lines[2650:2800]) + "\n")
    return root / "train.txt", root / "fit.txt", root / "test.txt"


def test_infini_gram_mixed_with_kneser_ney(ptb_models: tuple[Path, Path, Path]) -> None:
    train, fit, test = ptb_models
    index = CorpusIndex.build(train, path=train.with_suffix(".idx"), progress=False)
    kn = NGramLM.fit(train, order=5, progress=False)
    assert sorted(index.vocab.words()) == sorted(kn.vocab.words())
    assert index.vocab.words() != kn.vocab.words()  # other ids: the mixture maps them
    mix = Interpolated([index, kn]).fit(fit)
    assert mix.weights.sum() == pytest.approx(1.0) and (mix.weights > 0).all()
    # EM maximises the held-out likelihood, a concave function of the weights:
    # no other weighting, the pure models included, does better on that text.
    best = mix.perplexity(fit).perplexity
    for w in [(0.0, 1.0), (1.0, 0.0), (0.5, 0.5), (0.2, 0.8)]:
        other = Interpolated([index, kn], weights=w).perplexity(fit).perplexity
        assert best <= other * (1 + 1e-6), (w, best, other)
    assert math.isinf(index.perplexity(test).perplexity)  # unseen continuations: p = 0
    mixed = mix.perplexity(test).perplexity
    assert math.isfinite(mixed) and mixed < 1.5 * kn.perplexity(test).perplexity
    p = mix.next_distribution("the company")
    assert p.sum() == pytest.approx(1.0)
    want = mix.weights[0] * index.next_distribution("the company")
    kn_p = kn.next_distribution("the company")
    want += mix.weights[1] * kn_p[[kn.vocab.id(w) for w in index.vocab.words()]]
    np.testing.assert_allclose(p, want, rtol=1e-12)
    assert mix.generate(max_tokens=10, seed=1) == mix.generate(max_tokens=10, seed=1)


def test_bad_mixtures_are_refused(tmp_path: Path) -> None:
    a = CorpusIndex.build(["a b"], path=tmp_path / "a.idx", progress=False)
    b = CorpusIndex.build(["a c"], path=tmp_path / "b.idx", progress=False)
    with pytest.raises(VocabularyMismatchError, match="model 1"):
        Interpolated([a, b])
    with pytest.raises(ValueError, match="weights"):
        Interpolated([a, a], weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="2 weights"):
        Interpolated([a, a], weights=[1.0])
    with pytest.raises(ValueError):
        Interpolated([])
    same = Interpolated([a, a], weights=[3, 1])
    assert same.weights.tolist() == [0.75, 0.25]
    assert same.perplexity(["a b"]).perplexity == pytest.approx(a.perplexity(["a b"]).perplexity)
    assert isinstance(same, nextword.LanguageModel)

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


def test_mixture_scores_equal_its_distributions(ptb_models: tuple[Path, Path, Path]) -> None:
    """A mixture scores a sentence from each model's own sentence scores (fast);
    every token's probability must equal the mixed next-token distribution's
    entry, as generation sees it, and EM must find the same weights as from
    those distributions."""
    train, fit, test = ptb_models
    index = CorpusIndex.build(train, path=train.with_suffix(".idx2"), progress=False)
    kn = NGramLM.fit(train, order=3, progress=False)
    mix = Interpolated([kn, index], weights=[0.7, 0.3])
    sentence = test.read_text().splitlines()[3].split()
    ids = [mix.vocab.id(w) for w in sentence] + [mix.vocab.id("</s>")]
    slow = [mix.next_distribution(sentence[:k])[i] for k, i in enumerate(ids)]
    np.testing.assert_allclose(10 ** mix.token_logprobs(ids), slow, rtol=1e-9)
    # The weights by EM from the distributions, token by token, as a check
    # (words read as the vocabulary reads them: an unknown word is <unk>).
    lines = fit.read_text().splitlines()[:20]
    p = []
    for line in lines:
        encoded = mix.vocab.encode_corpus([line], eos=True, progress=False)[0]
        words = [mix.vocab.word(int(i)) for i in encoded]
        for k, word in enumerate(words):
            ctx = words[:k]
            p.append(
                [
                    kn.next_distribution(ctx)[kn.vocab.id(word)],
                    index.next_distribution(ctx)[index.vocab.id(word)],
                ]
            )
    p_arr = np.array(p)
    w = np.array([0.5, 0.5])
    for _ in range(1000):
        mixed = p_arr @ w
        usable = mixed > 0
        new = ((p_arr[usable] * w) / mixed[usable, None]).mean(axis=0)
        done = np.abs(new - w).max() < 1e-9
        w = new
        if done:
            break
    fitted = Interpolated([kn, index]).fit(lines, tolerance=1e-9).weights
    np.testing.assert_allclose(fitted, w / w.sum(), atol=1e-6)

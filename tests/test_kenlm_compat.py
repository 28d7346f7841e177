"""KenLM itself reads our ARPA files and agrees with our scores.

Runs when the `kenlm` module is importable (`pip install kenlm`); in CI, where it
is installed, a missing module fails instead of skipping.
"""

from __future__ import annotations

import math
from pathlib import Path

import nextword
import pytest
from conftest import require_module

kenlm = require_module("kenlm", "pip install kenlm")


@pytest.fixture(scope="module")
def models(
    shared: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[nextword.NGramLM, object]:
    golden = shared / "golden/kenlm"
    lm = nextword.NGramLM.fit(golden / "tinyshakespeare.train.txt", order=5, progress=False)
    path = tmp_path_factory.mktemp("kenlm") / "ts5.arpa"
    lm.save(path)
    return lm, kenlm.Model(str(path))


def test_kenlm_scores_our_arpa_like_we_do(shared: Path, models: tuple) -> None:
    lm, km = models
    test = shared / "golden/kenlm/tinyshakespeare.test.txt"
    sentences = [s for s in test.read_text(encoding="utf-8").split("\n") if s.strip()]
    ours = lm.score_many(test, progress=False)
    assert len(ours) == len(sentences)
    theirs = [km.score(s, bos=True, eos=True) for s in sentences]
    for a, b in zip(ours, theirs):
        assert a == pytest.approx(b, rel=1e-6, abs=1e-5)
    tokens = sum(len(s.split()) + 1 for s in sentences)
    kenlm_ppl = 10 ** (-sum(theirs) / tokens)
    assert lm.perplexity(test, progress=False).perplexity == pytest.approx(kenlm_ppl, rel=1e-7)


def test_full_scores_match_kenlm(models: tuple) -> None:
    lm, km = models
    for sentence in [
        "First Citizen: Before we proceed any further, hear me speak.",
        "zzz unknown words here",
        "to be or not to be",
    ]:
        ours = lm.full_scores(sentence)
        theirs = list(km.full_scores(sentence))
        assert len(ours) == len(theirs)
        for o, (prob, length, oov) in zip(ours, theirs):
            assert o.logprob == pytest.approx(prob, abs=1e-5)
            assert o.ngram_length == length
            assert o.oov == oov
    assert math.isfinite(lm.score("to be or not to be"))

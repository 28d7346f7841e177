"""Language models and generation: the Rust core against the reference and peers.

Run with ``pytest benches --benchmark-only`` (slow; not part of the test suite).
``python benches/report_lm.py`` prints the README's table; this file times a
smaller set, one call per round: Kneser-Ney fit (ours and the reference),
perplexity of tinyshakespeare train (ours on every core and on one thread, and
the kenlm module, one Python thread), one predict, one generation of 200 tokens.
"""

from __future__ import annotations

from pathlib import Path

import nextword
import pytest
from nextword import reference
from nextword.reference import lm as ref_lm
from nextword.reference import lm_kneser_ney as ref_kn
from nextword.reference import sample as ref_sample


@pytest.fixture(scope="module")
def ts(shared: Path) -> Path:
    return shared / "golden/kenlm/tinyshakespeare.train.txt"


@pytest.fixture(scope="module")
def ptb_model(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> nextword.NGramLM:
    text = (shared / "corpora/en/ptb.train.txt").read_text().replace("<unk>", "UNK")
    path = tmp_path_factory.mktemp("ptb") / "ptb.train.txt"
    path.write_text(text, encoding="utf-8")
    return nextword.NGramLM.fit(path, order=5, progress=False)


@pytest.mark.parametrize("order", [3, 5])
def test_kn_fit_rust(benchmark, ts: Path, order: int) -> None:
    benchmark(nextword.NGramLM.fit, ts, order=order, progress=False)


def test_kn_fit_reference(benchmark, ts: Path) -> None:
    lines = ts.read_text(encoding="utf-8").split("\n")[:5000]

    def fit() -> None:
        ref_kn.kneser_ney(reference.count_ngrams(lines, order=3), order=3)

    benchmark.pedantic(fit, rounds=3)


@pytest.mark.parametrize("threads", [0, 1])
def test_perplexity_rust(benchmark, ts: Path, threads: int) -> None:
    """threads=0 uses every core; threads=1 is the figure per thread beside kenlm's."""
    lm = nextword.NGramLM.fit(ts, order=5, progress=False)
    benchmark(lm.perplexity, ts, threads=threads, progress=False)


def test_perplexity_kenlm(benchmark, ts: Path, tmp_path: Path) -> None:
    kenlm = pytest.importorskip("kenlm")
    lm = nextword.NGramLM.fit(ts, order=5, progress=False)
    lm.save(tmp_path / "m.arpa")
    model = kenlm.Model(str(tmp_path / "m.arpa"))
    lines = [s for s in ts.read_text(encoding="utf-8").split("\n") if s.strip()]
    benchmark(lambda: sum(model.score(s) for s in lines))


def test_predict_rust(benchmark, ptb_model: nextword.NGramLM) -> None:
    benchmark(ptb_model.predict, "the stock market", k=10)


@pytest.mark.parametrize("top_p", [None, 0.9])
def test_generate_rust(benchmark, ptb_model: nextword.NGramLM, top_p: float | None) -> None:
    benchmark(ptb_model.generate_ids, "", max_tokens=200, seed=0, stop=None, top_p=top_p)


def test_generate_reference_sampler(benchmark, ptb_model: nextword.NGramLM) -> None:
    """The reference sampler over the model's dense distribution, per token."""
    words = ptb_model.vocab.words()
    params = ref_sample.SamplingParams(top_p=0.9)

    def step() -> str:
        probs = ptb_model.next_distribution("the stock").tolist()
        i = ref_sample.sample(probs, False, params, [], ref_sample.SplitMix64(0))
        return words[i if i is not None else 0]

    benchmark(step)


def test_reference_prob(benchmark) -> None:
    counts = reference.count_ngrams(["the cat sat on the mat", "the dog sat"] * 50, order=3)
    model = ref_kn.kneser_ney(counts, order=3)
    benchmark(ref_lm.prob, model, "sat", ["the", "cat"])

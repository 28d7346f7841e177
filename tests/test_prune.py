"""Pruning: count pruning byte-identical to ``lmplz --prune``, entropy pruning
(Stolcke 1998) normalised and against brute force, and the errors of both.

Golden files: ``../shared/golden/kenlm`` (lmplz's pruned tinyshakespeare model)
and ``tests/data/lmplz_prune`` (lmplz's output on shared corpora, generated with
lmplz from kpu/kenlm 4cb443e; see its README). Digests stand in for files too big
to keep. When ``lmplz`` is on PATH, more thresholds are compared with it live.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from nextword import NGramLM
from nextword.cli import main

DATA = Path(__file__).parent / "data" / "lmplz_prune"
D3 = [(0.5, 1.0, 1.5)] * 3
CASES = json.loads((DATA / "cases.json").read_text(encoding="utf-8"))


def corpus_text(shared: Path, case: dict) -> str:
    """The corpus of a golden case, as lmplz read it."""
    text = (shared / case["corpus"]).read_text(encoding="utf-8")
    if case.get("unk_to_UNK"):
        text = text.replace("<unk>", "UNK")
    if "lines" in case:
        text = "".join(text.splitlines(keepends=True)[: case["lines"]])
    return text


def arpa_bytes(lm: NGramLM, tmp_path: Path) -> bytes:
    path = tmp_path / "model.arpa"
    lm.save(path, progress=False)
    return path.read_bytes()


def fit_case(shared: Path, case: dict, tmp_path: Path) -> NGramLM:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(corpus_text(shared, case), encoding="utf-8")
    with pytest.warns() if case.get("fallback") else _no_warning():
        return NGramLM.fit(corpus, order=case["order"], prune=case["prune"], progress=False)


class _no_warning:
    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_count_pruning_is_byte_identical_to_lmplz(shared: Path, tmp_path: Path, case: dict) -> None:
    lm = fit_case(shared, case, tmp_path)
    assert lm.sizes() == case["counts"]
    ours = arpa_bytes(lm, tmp_path)
    if "file" in case:
        golden = DATA / case["file"] if "/" not in case["file"] else shared / case["file"]
        theirs = gzip.decompress(golden.read_bytes())
        assert ours == theirs
    else:
        assert hashlib.sha256(ours).hexdigest() == case["sha256"]


def test_pruned_tinyshakespeare_perplexity_is_lmplz_query(shared: Path, tmp_path: Path) -> None:
    """EXPECTED.md's pruned 5-gram: counts and query's perplexities."""
    golden = shared / "golden/kenlm"
    lm = NGramLM.fit(
        golden / "tinyshakespeare.train.txt", order=5, prune=[0, 0, 1, 2, 3], progress=False
    )
    assert lm.sizes() == [23969, 109828, 9727, 590, 27]
    ppl = lm.perplexity(golden / "tinyshakespeare.test.txt", progress=False)
    assert ppl.perplexity == pytest.approx(587.4878879740828, rel=1e-9)
    assert ppl.perplexity_excluding_oovs == pytest.approx(290.2548873080192, rel=1e-9)


def test_pruned_models_round_trip_binary_and_arpa(shared: Path, tmp_path: Path) -> None:
    case = next(c for c in CASES if c["name"] == "ptb300.o3.prune011")
    lm = fit_case(shared, case, tmp_path)
    arpa = arpa_bytes(lm, tmp_path)
    binary = tmp_path / "model.nwlm"
    lm.save(binary, progress=False)
    loaded = NGramLM.load(binary)
    assert loaded.sizes() == lm.sizes()
    assert arpa_bytes(loaded, tmp_path) == arpa
    from_arpa = NGramLM.load(tmp_path / "model.arpa")
    text = corpus_text(shared, case).splitlines()[:50]
    assert from_arpa.score_many(text) == pytest.approx(lm.score_many(text), abs=0)
    assert loaded.score_many(text) == pytest.approx(lm.score_many(text), abs=0)


def test_count_pruned_model_is_closed_and_normalised(tmp_path: Path) -> None:
    texts = [" ".join(f"w{(i * 7 + j * j) % 23}" for j in range(i % 9 + 2)) for i in range(300)]
    lm = NGramLM.fit(texts, order=4, prune=[0, 1, 2], discounts=[(0.5, 1, 1.5)] * 4)
    full = NGramLM.fit(texts, order=4, discounts=[(0.5, 1, 1.5)] * 4)
    assert sum(lm.sizes()) < sum(full.sizes())
    assert_normalised(lm, texts)


def assert_normalised(lm: NGramLM, texts: list[str]) -> None:
    """Every context of every sentence's prefixes sums to 1 over the vocabulary."""
    seen = set()
    for text in texts[:60]:
        words = text.split()
        for i in range(len(words) + 1):
            for start in range(max(0, i - lm.order + 1), i + 1):
                context = tuple(words[start:i])
                for bos in (True, False) if start == 0 else (False,):
                    if (context, bos) in seen:
                        continue
                    seen.add((context, bos))
                    total = float(lm.next_distribution(list(context), bos=bos).sum())
                    assert total == pytest.approx(1.0, abs=2e-5), (context, bos)
    assert len(seen) > 100


@pytest.mark.parametrize(
    ("prune", "message"),
    [
        ([0, 1, 1, 1], "4 thresholds given for a model of order 3"),
        ([0, -1], "threshold -1 for order 2 is negative"),
        ([1, 1, 1], "unigram threshold 1 is not 0"),
        ([0, 2, 1], "must not decrease"),
        ([], "at least one threshold"),
        ([0, 100000], "prunes every 2-gram"),
    ],
)
def test_bad_count_thresholds_say_why(prune: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NGramLM.fit(["a b c", "a b d"], order=3, prune=prune, discounts=[(0.5, 1, 1.5)] * 3)


def test_bad_prune_types_and_smoothings() -> None:
    with pytest.raises(TypeError, match="integer counts, not 1.5"):
        NGramLM.fit(["a b"], order=2, prune=[0, 1.5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="a list of counts"):
        NGramLM.fit(["a b"], order=2, prune="0 1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='applies to kneser-ney, not "witten-bell"'):
        NGramLM.fit(["a b"], order=2, smoothing="witten-bell", prune=[0, 1])


# -- entropy pruning ------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_lm() -> tuple[NGramLM, list[str]]:
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(30)]
    # Zipf-ish sentences with some structure, so that pruning has choices.
    texts = []
    for _ in range(400):
        n = int(rng.integers(2, 10))
        ids = np.minimum(rng.zipf(1.6, size=n) - 1, 29)
        texts.append(" ".join(words[(int(a) + k) % 30] for k, a in enumerate(ids)))
    return NGramLM.fit(texts, order=3, discounts=D3, progress=False), texts


def test_entropy_pruning_keeps_every_context_normalised(small_lm: tuple) -> None:
    lm, texts = small_lm
    sizes = []
    for theta in (1e-6, 1e-4, 1e-3):
        pruned = lm.prune_entropy(theta)
        assert pruned.sizes()[0] == lm.sizes()[0], "unigrams are never pruned"
        sizes.append(sum(pruned.sizes()))
        assert_normalised(pruned, texts)
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-1] < sum(lm.sizes())
    assert lm.prune_entropy(0).sizes() == lm.sizes()


def test_pruning_costs_are_the_brute_force_relative_entropy(small_lm: tuple) -> None:
    """D for a few trigrams h w: the whole vocabulary summed, bow' found by summing."""
    lm, texts = small_lm
    costs = lm.pruning_costs(3)
    # The trigrams in the model's (sorted id) order, to match the costs.
    vocab = lm.vocab
    trigrams = sorted(
        {
            tuple(vocab.id(w) for w in (["<s>"] + t.split() + ["</s>"])[i : i + 3])
            for t in texts
            for i in range(len(t.split()) + 0)
        }
    )
    assert len(costs) == lm.sizes()[2] == len(trigrams)
    checked = 0
    for j in range(0, len(trigrams), max(1, len(trigrams) // 25)):
        h = [vocab.word(i) for i in trigrams[j][:2]]
        w = trigrams[j][2]
        bos = h[0] == "<s>"
        ctx = h[1:] if bos else h
        p = lm.next_distribution(ctx, bos=bos)
        q = lm.next_distribution(h[1:], bos=False)
        held = [
            t[2] for t in trigrams if t[:2] == trigrams[j][:2] and t[2] != w
        ]  # words kept after h
        free = np.ones(len(p), dtype=bool)
        free[held] = False
        free[vocab.id("<s>")] = False
        bow = (1 - p[held].sum()) / q[free].sum()
        after = np.where(free, bow * q, p)
        keep = p > 0
        kl = float(np.sum(p[keep] * np.log10(p[keep] / after[keep])))
        ph = 1.0 if bos else lm.prob(h[0], (), bos=False)
        ph *= lm.prob(h[1], h[:1] if not bos else (), bos=bos)
        assert costs[j] == pytest.approx(ph * kl, rel=1e-3, abs=1e-10)
        checked += 1
    assert checked >= 20


def test_entropy_pruned_models_round_trip(small_lm: tuple, tmp_path: Path) -> None:
    lm, texts = small_lm
    pruned = lm.prune_entropy(1e-4)
    for name in ("p.arpa", "p.nwlm"):
        pruned.save(tmp_path / name, progress=False)
        loaded = NGramLM.load(tmp_path / name)
        assert loaded.sizes() == pruned.sizes()
        assert loaded.score_many(texts[:40]) == pytest.approx(
            pruned.score_many(texts[:40]), abs=1e-6
        )


def test_fit_prune_entropy_is_prune_entropy_after_fit(small_lm: tuple) -> None:
    lm, texts = small_lm
    fitted = NGramLM.fit(texts, order=3, discounts=D3, prune_entropy=1e-4, progress=False)
    assert fitted.sizes() == lm.prune_entropy(1e-4).sizes()


@pytest.mark.parametrize("theta", [-1e-9, float("nan"), float("inf")])
def test_bad_entropy_thresholds(small_lm: tuple, theta: float) -> None:
    lm, texts = small_lm
    with pytest.raises(ValueError, match="relative perplexity increase >= 0"):
        lm.prune_entropy(theta)
    with pytest.raises(ValueError, match="relative perplexity increase >= 0"):
        NGramLM.fit(texts, order=3, discounts=D3, prune_entropy=theta)


def test_entropy_threshold_that_prunes_everything(small_lm: tuple) -> None:
    lm, _ = small_lm
    with pytest.raises(ValueError, match="prunes every 3-gram"):
        lm.prune_entropy(1e6)
    sb = NGramLM.fit(["a b c", "a b d"], order=2, smoothing="stupid-backoff")
    with pytest.raises(ValueError, match="not a normalised backoff model"):
        sb.prune_entropy(1e-6)


# -- command line ---------------------------------------------------------------------


def test_cli_train_prune_writes_lmplz_bytes(
    shared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    golden = shared / "golden/kenlm"
    out = tmp_path / "p.arpa"
    argv = ["train", str(golden / "tinyshakespeare.train.txt"), "-n", "3", "-q"]
    assert main(argv + ["--prune", "0", "1", "1", "-o", str(out)]) == 0
    expected = gzip.decompress((golden / "tinyshakespeare.train.o3.prune011.arpa.gz").read_bytes())
    assert out.read_bytes() == expected
    small = tmp_path / "e.nwlm"
    assert main(["prune", str(out), "--entropy", "1e-7", "-o", str(small), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "3-grams:" in printed and "->" in printed
    assert sum(NGramLM.load(small).sizes()) < 23969 + 20604 + 9727
    assert main(argv + ["--prune", "1", "1", "-o", str(out)]) == 1
    assert "unigram threshold 1 is not 0" in capsys.readouterr().err
    assert main(argv + ["--prune-entropy", "-1", "-o", str(out)]) == 1
    assert "relative perplexity increase" in capsys.readouterr().err
    assert main(argv + ["--prune", "0", "1", "--memory", "1G", "-o", str(out)]) == 1
    assert "train in memory: drop --memory" in capsys.readouterr().err


# -- live against lmplz, when it is installed ------------------------------------------

LMPLZ = shutil.which("lmplz") or os.environ.get("NEXTWORD_LMPLZ")


@pytest.mark.skipif(LMPLZ is None, reason="lmplz not on PATH (an extra check)")
@pytest.mark.parametrize(
    ("order", "prune", "lines"),
    [(3, [0, 1, 1], 3000), (4, [0, 0, 2, 2], 6000), (5, [0, 1, 1, 1, 2], 8000), (2, [0, 3], 500)],
)
def test_live_lmplz(shared: Path, tmp_path: Path, order: int, prune: list[int], lines: int) -> None:
    text = (shared / "golden/kenlm/tinyshakespeare.train.txt").read_text(encoding="utf-8")
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(text.splitlines(keepends=True)[-lines:]), encoding="utf-8")
    assert LMPLZ is not None
    with corpus.open("rb") as stdin:
        theirs = subprocess.run(
            [
                LMPLZ,
                "-S",
                "100M",
                "-T",
                str(tmp_path),
                "-o",
                str(order),
                "--discount_fallback",
                "--prune",
                *map(str, prune),
            ],
            stdin=stdin,
            capture_output=True,
            check=True,
        ).stdout
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = NGramLM.fit(corpus, order=order, prune=prune, progress=False)
    assert arpa_bytes(lm, tmp_path) == theirs
    assert not math.isnan(lm.perplexity(corpus, progress=False).perplexity)

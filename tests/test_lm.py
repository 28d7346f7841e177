"""N-gram language models: ``nextword.NGramLM`` against KenLM's golden outputs and
against the pure-Python reference (``nextword.reference.lm``, ``lm_kneser_ney``).

* golden: lmplz's n-gram counts, discounts, ARPA bytes and query's perplexities;
* ARPA files: round trips, and corrupt files rejected with a ModelFormatError;
* properties (hypothesis, small corpora over a small alphabet so n-grams repeat):
  distributions sum to 1, top-k agrees with the distribution, and every
  estimator's probabilities equal the reference's;
* scoring: full_scores, score, score_many, perplexity by hand;
* a character-level Chinese model.

The "regressions" section keeps the bugs these tests found in the Rust core, since
fixed. A test marked ``xfail(strict=True, reason="BUG: ...")`` shows one still open;
it turns into a failure (XPASS) once fixed: then drop the mark.
"""

from __future__ import annotations

import doctest
import gzip
import math
import random
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Union

import nextword
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nextword import NGramLM, reference
from nextword.reference import lm as ref
from nextword.reference import lm_kneser_ney as ref_kn

# -- golden figures (../shared/golden/kenlm/EXPECTED.md) -----------------------------

TINY_SIZES = {
    3: [23969, 109828, 156000],
    5: [23969, 109828, 156000, 148612, 128375],
}
TINY_DISCOUNTS = {
    3: ["0.690415 1.04484 1.37414", "0.837933 1.17113 1.28334", "0.922061 1.27736 1.45847"],
    5: [
        "0.690415 1.04484 1.37414",
        "0.837933 1.17113 1.28334",
        "0.936575 1.2746 1.42626",
        "0.979881 1.48434 1.76773",
        "0.992624 1.81192 1.80885",
    ],
}
# order: (perplexity incl. OOVs, excl. OOVs) on tinyshakespeare.test.txt
TINY_TEST_PPL = {3: (582.916959880099, 286.7770502598952), 5: (581.644821440765, 286.2139194372911)}
TINY_TEST_OOVS, TINY_TEST_TOKENS = 2205, 21863

PTB_SIZES = [10002, 264990, 586558, 717733, 737952]
PTB_DISCOUNTS = {
    3: ["0.25656 0.82888 1.26492", "0.727802 1.09876 1.4713", "0.84696 1.22512 1.38578"],
    5: [
        "0.25656 0.82888 1.26492",
        "0.727802 1.09876 1.4713",
        "0.868879 1.25462 1.44822",
        "0.942828 1.38314 1.43173",
        "0.959671 1.3879 1.24171",
    ],
}
PTB_TOKENS = 82430


def printed(discounts: Sequence[Sequence[float]]) -> list[str]:
    """Discounts as EXPECTED.md prints them (6 significant digits)."""
    return [" ".join(f"{d:.6g}" for d in triple) for triple in discounts]


def golden(shared: Path) -> Path:
    return shared / "golden" / "kenlm"


def f32_sum(values: Sequence[float]) -> float:
    """A sum in float32, term by term, as KenLM's query sums a sentence."""
    total = np.float32(0)
    for v in values:
        total = np.float32(total + np.float32(v))
    return float(total)


@pytest.mark.parametrize("order", [3, 5])
def test_tinyshakespeare_matches_lmplz(shared: Path, order: int) -> None:
    lm = NGramLM.fit(golden(shared) / "tinyshakespeare.train.txt", order=order)
    assert lm.sizes() == TINY_SIZES[order]
    assert printed(lm.discounts) == TINY_DISCOUNTS[order]
    result = lm.perplexity(golden(shared) / "tinyshakespeare.test.txt")
    assert result.perplexity == pytest.approx(TINY_TEST_PPL[order][0], rel=1e-9)
    assert result.perplexity_excluding_oovs == pytest.approx(TINY_TEST_PPL[order][1], rel=1e-9)
    assert (result.oovs, result.tokens) == (TINY_TEST_OOVS, TINY_TEST_TOKENS)
    if order == 5:
        itself = lm.perplexity(golden(shared) / "tinyshakespeare.train.txt")
        assert itself.perplexity == pytest.approx(19.49130423137735, rel=1e-9)
        assert itself.perplexity_excluding_oovs == pytest.approx(19.49130423137735, rel=1e-9)
        assert (itself.oovs, itself.tokens) == (0, 213565)


@pytest.mark.parametrize("order", [3, 5])
def test_arpa_is_byte_identical_to_lmplz(shared: Path, tmp_path: Path, order: int) -> None:
    lm = NGramLM.fit(golden(shared) / "tinyshakespeare.train.txt", order=order)
    lm.save(tmp_path / "m.arpa")
    with gzip.open(golden(shared) / f"tinyshakespeare.train.o{order}.arpa.gz") as f:
        expected = f.read()
    assert (tmp_path / "m.arpa").read_bytes() == expected


@pytest.fixture
def ptb(shared: Path, tmp_path: Path) -> tuple[Path, Path]:
    """PTB train and test with ``<unk>`` replaced by ``UNK``, as lmplz was given them."""
    out = []
    for part in ("train", "test"):
        text = (shared / "corpora" / "en" / f"ptb.{part}.txt").read_text(encoding="utf-8")
        path = tmp_path / f"ptb.{part}.txt"
        path.write_text(text.replace("<unk>", "UNK"), encoding="utf-8")
        out.append(path)
    return out[0], out[1]


@pytest.mark.parametrize(
    ("order", "interpolate_unigrams", "expected"),
    [(3, True, 148.2814995024931), (5, True, 141.1862070921484), (5, False, 142.8899825557623)],
)
def test_ptb_matches_lmplz(
    ptb: tuple[Path, Path], order: int, interpolate_unigrams: bool, expected: float
) -> None:
    train, test = ptb
    lm = NGramLM.fit(train, order=order, interpolate_unigrams=interpolate_unigrams)
    assert lm.sizes() == PTB_SIZES[:order]
    assert printed(lm.discounts) == PTB_DISCOUNTS[order]
    result = lm.perplexity(test)
    assert result.perplexity == pytest.approx(expected, rel=1e-9)
    assert result.perplexity_excluding_oovs == pytest.approx(expected, rel=1e-9)
    assert (result.oovs, result.tokens) == (0, PTB_TOKENS)


def test_reference_kneser_ney_matches_lmplz(shared: Path) -> None:
    """The reference itself reproduces lmplz: discounts and test perplexity (order 3)."""
    text = (golden(shared) / "tinyshakespeare.train.txt").read_text(encoding="utf-8")
    model = ref_kn.kneser_ney(reference.count_ngrams([text], order=3))
    assert printed(model.discounts) == TINY_DISCOUNTS[3]
    test = (golden(shared) / "tinyshakespeare.test.txt").read_text(encoding="utf-8")
    logprob, tokens = 0.0, 0
    for sentence in reference.sentences([test]):
        probs = ref.sentence_probs(model, sentence.split())
        logprob += sum(math.log10(p) for p in probs)
        tokens += len(probs)
    assert tokens == TINY_TEST_TOKENS
    # The reference computes in double, lmplz in float32.
    assert 10 ** (-logprob / tokens) == pytest.approx(TINY_TEST_PPL[3][0], rel=1e-6)


def test_reference_discounts_keep_lmplz_quirk(ptb: tuple[Path, Path]) -> None:
    """PTB's unigram discounts need the raw count of the last unigram in suffix order."""
    counts = reference.count_ngrams([ptb[0].read_text(encoding="utf-8")], order=3)
    model = ref_kn.kneser_ney(counts)
    assert printed(model.discounts) == PTB_DISCOUNTS[3]


# -- a small deterministic corpus ------------------------------------------------------


def toy_corpus(sentences: int = 300, words: int = 200, seed: int = 1) -> list[str]:
    """Zipf-ish random sentences: frequent words repeat, rare ones give n1, n2, n3."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(words)]
    weights = [1 / (i + 1) for i in range(words)]
    return [" ".join(rng.choices(vocab, weights, k=rng.randint(1, 12))) for _ in range(sentences)]


TOY_TEST = ["w0 w1 w2", "w3 oov1 w0 w0", "oov2", "w5 w7 w1 w1 w9 w0 w0 w2"]
TOY_CONTEXTS = ["", "w0", "w1 w0", "w3 w9 w12", "oov w1", "w39 w38"]


# -- ARPA files -----------------------------------------------------------------------


@pytest.mark.parametrize("smoothing", ["kneser-ney", "witten-bell"])
@pytest.mark.parametrize("name", ["m.arpa", "m.arpa.gz"])
def test_arpa_round_trip(tmp_path: Path, smoothing: str, name: str) -> None:
    lm = fit_quietly(toy_corpus(), 3, smoothing)
    lm.save(tmp_path / name)
    if name.endswith(".gz"):
        assert (tmp_path / name).read_bytes()[:2] == b"\x1f\x8b"
    loaded = NGramLM.load(tmp_path / name)
    assert loaded.smoothing == "arpa"
    assert (loaded.order, loaded.sizes()) == (lm.order, lm.sizes())
    assert loaded.vocab.words() == lm.vocab.words()
    assert loaded.perplexity(TOY_TEST) == lm.perplexity(TOY_TEST)
    for context in TOY_CONTEXTS:
        assert loaded.predict(context, k=5) == lm.predict(context, k=5)
        assert np.array_equal(loaded.next_distribution(context), lm.next_distribution(context))
    for sentence in TOY_TEST:
        assert loaded.full_scores(sentence) == lm.full_scores(sentence)
    # Saving what was loaded writes the same file.
    loaded.save(tmp_path / ("again" + name))
    if not name.endswith(".gz"):
        assert (tmp_path / ("again" + name)).read_bytes() == (tmp_path / name).read_bytes()


@pytest.mark.parametrize("smoothing", ["add-k", "stupid-backoff"])
def test_non_arpa_models_refuse_arpa_and_save_binary(tmp_path: Path, smoothing: str) -> None:
    """ARPA cannot express add-k's uniform remainder nor stupid backoff's alpha for
    unseen contexts (they once were written silently and read back differently)."""
    lm = NGramLM.fit(toy_corpus(), order=3, smoothing=smoothing)
    with pytest.raises(ValueError, match="cannot be written as ARPA"):
        lm.save(tmp_path / "m.arpa")
    assert not (tmp_path / "m.arpa").exists()
    lm.save(tmp_path / "m.nwlm")
    loaded = NGramLM.load(tmp_path / "m.nwlm")
    for context in TOY_CONTEXTS:
        assert np.array_equal(loaded.next_distribution(context), lm.next_distribution(context))
    for sentence in TOY_TEST:
        assert loaded.full_scores(sentence) == lm.full_scores(sentence)


@pytest.fixture
def arpa_text(tmp_path: Path) -> str:
    """A small valid ARPA file, as text (order 2: unigrams with backoffs, bigrams without)."""
    lm = fit_quietly(["a b a c", "b a b", "c c a", "a b"], 2, "kneser-ney")
    lm.save(tmp_path / "good.arpa")
    return (tmp_path / "good.arpa").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


def replace_line(text: str, needle: str, new: str) -> str:
    lines = text.split("\n")
    lines[line_of(text, needle) - 1] = new
    return "\n".join(lines)


# (name, corruption, the line it is found on: a needle of the original text)
LINE_ERRORS = [
    ("bad probability", lambda t: replace_line(t, "\ta\t", "x.5\ta\t-0.1"), "\ta\t"),
    ("bad backoff", lambda t: replace_line(t, "\tb\t", "-0.5\tb\t-0.1x"), "\tb\t"),
    ("NaN backoff", lambda t: replace_line(t, "\tc\t", "-0.5\tc\tnan"), "\tc\t"),
    ("not a unigram", lambda t: replace_line(t, "\tb a", "-0.5\tb zebra"), "\tb a"),
    ("too few words", lambda t: replace_line(t, "\tc a", "-0.5\tc"), "\tc a"),
    ("too many fields", lambda t: replace_line(t, "\tc c", "-0.5\tc c\t0\t1"), "\tc c"),
    ("bad header", lambda t: t.replace("ngram 2=11", "ngram 2=eleven"), "ngram 2="),
    ("truncated mid-line", lambda t: t[: t.index("\ta c") + 2], "\ta c"),
    ("section out of order", lambda t: t.replace("\\2-grams:", "\\3-grams:"), "\\2-grams:"),
    ("no \\data\\", lambda t: t.replace("\\data\\\n", ""), "ngram 1="),
    ("overflowing probability", lambda t: replace_line(t, "\ta\t", "1e999\ta\t-0.1"), "\ta\t"),
    ("header count too big", lambda t: t.replace("ngram 2=11", "ngram 2=12"), "ngram 2="),
    ("header count too small", lambda t: t.replace("ngram 1=6", "ngram 1=5"), "ngram 1="),
]


@pytest.mark.parametrize(
    ("corrupt", "needle"), [c[1:] for c in LINE_ERRORS], ids=[c[0] for c in LINE_ERRORS]
)
def test_corrupt_arpa_names_the_line(tmp_path: Path, arpa_text: str, corrupt, needle) -> None:
    path = tmp_path / "bad.arpa"
    text = corrupt(arpa_text)
    path.write_text(text, encoding="utf-8")
    line = line_of(arpa_text, needle)
    if "\\data\\" not in text:  # that corruption removed the first line
        line -= 1
    with pytest.raises(nextword.ModelFormatError, match=rf"bad\.arpa: line {line}: "):
        NGramLM.load(path)


FILE_ERRORS = [
    ("missing \\end\\", lambda t: t.replace("\\end\\\n", ""), r"no \\end\\"),
    ("truncated at a line end", lambda t: t[: t.index("\\2-grams:")], r"no \\end\\"),
    ("duplicate n-gram", lambda t: t.replace("\tb a\n", "\ta b\n"), "duplicate 2-gram"),
    ("empty", lambda t: "", r"not an ARPA file \(no \\data\\"),
]


@pytest.mark.parametrize(
    ("corrupt", "message"), [c[1:] for c in FILE_ERRORS], ids=[c[0] for c in FILE_ERRORS]
)
def test_corrupt_arpa_raises(tmp_path: Path, arpa_text: str, corrupt, message: str) -> None:
    path = tmp_path / "bad.arpa"
    path.write_text(corrupt(arpa_text), encoding="utf-8")
    with pytest.raises(nextword.ModelFormatError, match=rf"bad\.arpa: .*{message}"):
        NGramLM.load(path)


@pytest.mark.parametrize("name", ["garbage.arpa", "garbage.arpa.gz"])
def test_binary_garbage_is_a_format_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(bytes(random.Random(0).randrange(256) for _ in range(4000)))
    with pytest.raises(nextword.ModelFormatError, match="line 1: "):
        NGramLM.load(path)


def test_truncated_gzip_arpa_is_a_format_error(tmp_path: Path, arpa_text: str) -> None:
    """Regression: this once raised a plain OSError ('incomplete deflate stream')."""
    data = gzip.compress(arpa_text.encode())
    path = tmp_path / "cut.arpa.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(nextword.ModelFormatError, match=r"cut\.arpa\.gz: line \d+: "):
        NGramLM.load(path)


def test_missing_arpa_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        NGramLM.load(tmp_path / "nope.arpa")


# -- properties -------------------------------------------------------------------------

WORDS = ("a", "b", "c", "d")
OOV = "zz"
SENTENCE = st.lists(st.sampled_from(WORDS), min_size=1, max_size=7).map(" ".join)
CORPUS = st.lists(SENTENCE, min_size=1, max_size=12)
# Contexts: seen and unseen histories, an unknown word, </s> inside a context.
CONTEXT = st.lists(st.sampled_from((*WORDS, OOV, "</s>")), max_size=4)
CONTEXTS = st.lists(st.tuples(CONTEXT, st.booleans()), min_size=1, max_size=5)

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NORMALIZED = ["mle", "add-k", "witten-bell", "kneser-ney"]
SOURCES = st.sampled_from(["lines", "one text", "counts", "higher counts"])


def source_of(lines: list[str], how: str, order: int) -> Union[list[str], nextword.NGramCounts]:
    """What to fit: the lines, one text of all of them, or their counts (of the
    model's order, or one more: fitting then takes the lower orders only)."""
    if how == "lines":
        return lines
    if how == "one text":
        return ["\n".join(lines)]
    return nextword.count_ngrams(lines, order=order + (how == "higher counts"))


def fit_quietly(
    corpus: Union[list[str], nextword.NGramCounts], order: int, smoothing: str, **options: object
) -> NGramLM:
    """Fit without the discount-fallback warnings that tiny corpora raise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return NGramLM.fit(corpus, order=order, smoothing=smoothing, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("smoothing", NORMALIZED)
@PROPERTY
@given(lines=CORPUS, how=SOURCES, order=st.integers(1, 4), data=st.data())
def test_next_distribution_sums_to_one(
    smoothing: str, lines: list[str], how: str, order: int, data: st.DataObject
) -> None:
    lm = fit_quietly(source_of(lines, how, order), order, smoothing)
    bos_id = lm.vocab["<s>"]
    for context, bos in data.draw(CONTEXTS):
        dist = lm.next_distribution(context, bos=bos)
        assert dist.shape == (len(lm.vocab),)
        assert dist[bos_id] == 0
        assert abs(dist.sum() - 1) <= 1e-6, (context, bos, dist)


@pytest.mark.parametrize("smoothing", [*NORMALIZED, "stupid-backoff"])
@PROPERTY
@given(lines=CORPUS, order=st.integers(1, 4), k=st.integers(0, 9), data=st.data())
def test_predict_is_top_k_of_next_distribution(
    smoothing: str, lines: list[str], order: int, k: int, data: st.DataObject
) -> None:
    lm = fit_quietly(lines, order, smoothing)
    for context, bos in data.draw(CONTEXTS):
        dist = lm.next_distribution(context, bos=bos)
        # Best first, ties by id; words of probability 0 are never proposed.
        ranked = sorted((i for i in range(len(dist)) if dist[i] > 0), key=lambda i: (-dist[i], i))
        expected = [(lm.vocab.word(i), float(dist[i])) for i in ranked[:k]]
        got = lm.predict(context, k=k, bos=bos)
        assert len(got) == len(expected)
        assert len({w for w, _ in got}) == len(got)
        for (word, p), (want_word, want_p) in zip(got, expected):
            assert p == pytest.approx(want_p, abs=1e-6)
            assert p == pytest.approx(dist[lm.vocab[word]], abs=1e-6)
            assert word == want_word or abs(dist[lm.vocab[word]] - want_p) <= 1e-6  # a tie


@pytest.mark.parametrize("smoothing", [*NORMALIZED, "stupid-backoff"])
@PROPERTY
@given(lines=CORPUS, order=st.integers(1, 4), data=st.data())
def test_prob_is_next_distribution_entry(
    smoothing: str, lines: list[str], order: int, data: st.DataObject
) -> None:
    lm = fit_quietly(lines, order, smoothing)
    unk = lm.vocab["<unk>"]
    for context, bos in data.draw(CONTEXTS):
        dist = lm.next_distribution(context, bos=bos)
        for word in lm.vocab.words():
            assert lm.prob(word, context, bos=bos) == pytest.approx(dist[lm.vocab[word]])
        assert lm.prob("<s>", context, bos=bos) == 0
        assert lm.prob(OOV, context, bos=bos) == pytest.approx(dist[unk])


def reference_model(
    lines: list[str], order: int, smoothing: str, **options: float
) -> ref.NGramModel:
    counts = reference.count_ngrams(lines, order=order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if smoothing == "kneser-ney":
            return ref_kn.kneser_ney(counts, **options)  # type: ignore[arg-type]
        return ref.estimate(counts, smoothing, **options)


def assert_matches_reference(
    lm: NGramLM, model: ref.NGramModel, contexts: list[tuple[list[str], bool]]
) -> None:
    assert lm.vocab.words() == model.vocab
    for context, bos in contexts:
        want = [ref.prob(model, w, context, bos) for w in model.vocab]
        got = lm.next_distribution(context, bos=bos)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=0, err_msg=f"{context} {bos}")


@pytest.mark.parametrize("smoothing", ["mle", "add-k", "witten-bell", "stupid-backoff"])
@PROPERTY
@given(
    lines=CORPUS,
    how=SOURCES,
    order=st.integers(1, 4),
    k=st.sampled_from([0.1, 0.5, 1.0, 2.0]),
    alpha=st.sampled_from([0.4, 0.7, 1.0]),
    data=st.data(),
)
def test_simple_estimators_match_reference(
    smoothing: str,
    lines: list[str],
    how: str,
    order: int,
    k: float,
    alpha: float,
    data: st.DataObject,
) -> None:
    options = {"add-k": {"k": k}, "stupid-backoff": {"alpha": alpha}}.get(smoothing, {})
    lm = fit_quietly(source_of(lines, how, order), order, smoothing, **options)
    model = reference_model(lines, order, smoothing, **options)
    assert_matches_reference(lm, model, data.draw(CONTEXTS))


@PROPERTY
@given(
    lines=CORPUS,
    how=SOURCES,
    order=st.integers(1, 4),
    interpolate_unigrams=st.booleans(),
    data=st.data(),
)
def test_kneser_ney_matches_reference(
    lines: list[str], how: str, order: int, interpolate_unigrams: bool, data: st.DataObject
) -> None:
    lm = fit_quietly(
        source_of(lines, how, order), order, "kneser-ney", interpolate_unigrams=interpolate_unigrams
    )
    model = reference_model(lines, order, "kneser-ney", interpolate_unigrams=interpolate_unigrams)
    # D_j = j - (...) in float32: an absolute error, relatively large when D_j is near 0.
    assert np.allclose(lm.discounts, model.discounts, rtol=0, atol=2e-6)
    assert_matches_reference(lm, model, data.draw(CONTEXTS))


@pytest.mark.parametrize("smoothing", ["kneser-ney", "stupid-backoff"])
def test_scores_match_reference_on_toy_corpus(smoothing: str) -> None:
    """Whole sentences, bigger vocabulary: token scores equal the reference's."""
    corpus = toy_corpus()
    lm = NGramLM.fit(corpus, order=3, smoothing=smoothing)
    model = reference_model(corpus, 3, smoothing)
    for sentence in toy_corpus(sentences=30, seed=2):
        tokens = [*sentence.split()[:3], "unknown", *sentence.split()[3:]]
        got = [10**s.logprob for s in lm.full_scores(tokens)]
        want = ref.sentence_probs(model, tokens)
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_discount_fallback_warns_with_the_order() -> None:
    # Bigrams seen once and twice, none three times: n3 = 0 at order 2 (and order 1).
    corpus = ["a b", "a b", "c d"]
    with pytest.warns(UserWarning) as records:
        lm = NGramLM.fit(corpus, order=2)
    messages = [str(r.message) for r in records]
    assert any(m.startswith("order 2:") and "n3=0" in m for m in messages), messages
    assert lm.discounts[1] == (0.5, 1.0, 1.5)
    with pytest.warns(UserWarning) as records:
        model = ref_kn.kneser_ney(reference.count_ngrams(corpus, order=2))
    assert any(str(r.message).startswith("order 2:") for r in records)
    assert model.discounts[1] == (0.5, 1.0, 1.5)
    assert_matches_reference(lm, model, [([], True), (["a"], True), (["c"], False)])


def test_given_discounts_are_used() -> None:
    corpus = ["a b", "a b", "c d", "d a b c"]
    given = [(0.3, 0.6, 0.9), (0.4, 0.8, 1.2), (0.45, 0.9, 1.35)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing estimated, nothing to fall back from
        lm = NGramLM.fit(corpus, order=3, discounts=given)
    assert np.allclose(lm.discounts, given, rtol=1e-7)
    model = ref_kn.kneser_ney(reference.count_ngrams(corpus, order=3), discounts=given)
    contexts = [([], True), (["a"], True), (["d", "a"], False), (["b", OOV], True)]
    assert_matches_reference(lm, model, contexts)
    with pytest.raises(ValueError, match="triple"):
        NGramLM.fit(corpus, order=3, discounts=[(0.5, 1.0)])


# -- orders and arguments ----------------------------------------------------------------


@pytest.mark.parametrize("order", [1, 12])
@pytest.mark.parametrize("smoothing", ["kneser-ney", "witten-bell", "add-k"])
def test_orders_1_and_12(order: int, smoothing: str) -> None:
    corpus = toy_corpus(sentences=80, words=12)
    lm = fit_quietly(corpus, order, smoothing)
    assert lm.order == order and len(lm.sizes()) == order
    result = lm.perplexity(TOY_TEST)
    assert math.isfinite(result.perplexity) and result.perplexity > 1
    assert math.isfinite(lm.score("w0 w1 w2 w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w0"))
    model = reference_model(corpus, order, smoothing)
    contexts = [(c.split(), True) for c in TOY_CONTEXTS[:5]] + [(["w1"] * 14, True)]
    assert_matches_reference(lm, model, contexts)


def test_bad_arguments() -> None:
    counts = nextword.count_ngrams(["a b c", "b c d"], order=3)
    with pytest.raises(ValueError, match="order 4"):
        NGramLM.fit(counts, order=4)
    with pytest.raises(ValueError, match="order 0"):
        NGramLM.fit(counts, order=0)
    with pytest.raises(ValueError, match="unknown smoothing"):
        NGramLM.fit(counts, smoothing="good-turing")
    unpadded = nextword.count_ngrams(["a b c", "b c d"], order=3, pad=False)
    with pytest.raises(ValueError, match="pad"):
        NGramLM.fit(unpadded, smoothing="kneser-ney")
    with pytest.raises(ValueError, match="pad"):
        ref_kn.kneser_ney(reference.count_ngrams(["a b c", "b c d"], order=3, pad=False))
    with pytest.raises(ValueError, match="k > 0"):
        NGramLM.fit(counts, smoothing="add-k", k=0)
    with pytest.raises(ValueError, match="alpha"):
        NGramLM.fit(counts, smoothing="stupid-backoff", alpha=1.5)
    with pytest.raises(ValueError):
        fit_quietly(counts, 3, "kneser-ney").predict("a", k=-1)


def test_fewer_orders_than_counted() -> None:
    """A model of order 2 from counts of order 3 is the order-2 model."""
    corpus = toy_corpus(sentences=100)
    counts = nextword.count_ngrams(corpus, order=3)
    from_counts = NGramLM.fit(counts, order=2)
    direct = NGramLM.fit(corpus, order=2)
    assert from_counts.sizes() == direct.sizes()
    assert from_counts.perplexity(TOY_TEST) == direct.perplexity(TOY_TEST)


# -- scoring ------------------------------------------------------------------------------


@pytest.fixture
def small_lm() -> NGramLM:
    return fit_quietly(["a b c", "a b d", "b c a"], 3, "kneser-ney")


def test_full_scores(small_lm: NGramLM) -> None:
    scores = small_lm.full_scores("a b zz c")
    assert [s.token for s in scores] == ["a", "b", "zz", "c", "</s>"]
    # <s> a; <s> a b; zz as <unk> (a unigram); "<unk> c" unseen; "c </s>" seen.
    assert [s.ngram_length for s in scores] == [2, 3, 1, 1, 2]
    assert [s.oov for s in scores] == [False, False, True, False, False]
    assert scores[2].logprob == small_lm.logprob("<unk>", "a b") == small_lm.logprob("zz", "a b")
    without = small_lm.full_scores("a b zz c", bos=False, eos=False)
    assert [s.token for s in without] == ["a", "b", "zz", "c"]
    assert [s.ngram_length for s in without] == [1, 2, 1, 1]
    assert small_lm.full_scores(["a", "b"]) == small_lm.full_scores("a b")


def test_score_and_base(small_lm: NGramLM) -> None:
    for sentence in ["a b c", "a b zz c", "c c c c", ""]:
        log10 = small_lm.score(sentence)
        assert log10 == f32_sum([s.logprob for s in small_lm.full_scores(sentence)])
        assert small_lm.score(sentence, base=math.e) == pytest.approx(
            log10 * math.log(10), rel=1e-12
        )
        assert small_lm.score(sentence, base=2) == pytest.approx(log10 / math.log10(2), rel=1e-12)
    assert small_lm.logprob("b", "a", base=math.e) == pytest.approx(
        small_lm.logprob("b", "a") * math.log(10), rel=1e-12
    )


def test_score_many_keeps_corpus_order() -> None:
    corpus = toy_corpus()
    lm = NGramLM.fit(corpus, order=3)
    sentences = toy_corpus(sentences=200, seed=3) + TOY_TEST
    many = lm.score_many(sentences, threads=2)
    assert len(many) == len(sentences)
    np.testing.assert_allclose(many, [lm.score(s) for s in sentences], rtol=1e-6)
    no_eos = lm.score_many(sentences, eos=False)
    np.testing.assert_allclose(no_eos, [lm.score(s, eos=False) for s in sentences], rtol=1e-6)


def test_perplexity_with_oovs_by_hand() -> None:
    lm = NGramLM.fit(toy_corpus(), order=3)
    test = toy_corpus(sentences=50, seed=4) + TOY_TEST
    logprob = oov_logprob = 0.0
    tokens = oovs = 0
    for sentence in test:
        scores = lm.full_scores(sentence)
        logprob += f32_sum([s.logprob for s in scores])
        tokens += len(scores)
        oovs += sum(s.oov for s in scores)
        oov_logprob += sum(s.logprob for s in scores if s.oov)
    result = lm.perplexity(test)
    assert (result.tokens, result.oovs, result.sentences) == (tokens, oovs, len(test))
    assert oovs == sum(w not in lm.vocab for s in test for w in s.split()) > 0
    assert result.logprob == pytest.approx(logprob, rel=1e-12)
    assert result.perplexity == pytest.approx(10 ** (-logprob / tokens), rel=1e-9)
    excluding = 10 ** (-(logprob - oov_logprob) / (tokens - oovs))
    assert result.perplexity_excluding_oovs == pytest.approx(excluding, rel=1e-9)
    assert result.perplexity > result.perplexity_excluding_oovs


# -- Chinese, character by character --------------------------------------------------------


def test_chinese_character_model(shared: Path, tmp_path: Path) -> None:
    raw = (shared / "corpora" / "zh" / "xiyouji.txt").read_bytes()
    lines = raw.split(b"\r\n")
    cut = len(lines) * 8 // 10
    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    train.write_bytes(b"\r\n".join(lines[:cut]) + b"\r\n")  # CRLF kept
    test.write_bytes(b"\r\n".join(lines[cut:]))
    lm = NGramLM.fit(train, order=3, tokenizer="char")
    assert "\r" not in lm.vocab and "\n" not in lm.vocab

    def chars(path: Path) -> list[list[str]]:
        text = path.read_text(encoding="utf-8")
        return [reference.char_tokenize(s) for s in reference.sentences([text])]

    known = {c for sentence in chars(train) for c in sentence}
    test_chars = chars(test)
    result = lm.perplexity(test)
    assert math.isfinite(result.perplexity) and result.perplexity > 1
    assert result.tokens == sum(len(s) + 1 for s in test_chars)
    assert result.oovs == sum(c not in known for s in test_chars for c in s) > 0

    top = lm.predict("孙悟", k=5)
    words = [w for w, _ in top]
    probs = [p for _, p in top]
    assert len(set(words)) == 5 and all(len(w) == 1 for w in words)
    assert all(0 < p <= 1 for p in probs) and probs == sorted(probs, reverse=True)
    assert "空" in words


# -- regressions: bugs these tests found in the Rust core, since fixed --------------------


@pytest.mark.parametrize("context", [[OOV], ["a", "</s>"]])
def test_add_k_unseen_history_is_uniform(context: list[str]) -> None:
    """A longest history held as an n-gram but never followed by a word (an unknown
    word, or one ending in </s>) is unseen: 1/|V| (it once gave p = 1 to every word)."""
    lm = NGramLM.fit(["a b a c", "b a b", "c c a"], order=2, smoothing="add-k")
    dist = lm.next_distribution(context)
    assert dist.sum() == pytest.approx(1, abs=1e-6)
    assert lm.prob("a", context) == pytest.approx(1 / (len(lm.vocab) - 1))


@pytest.mark.parametrize("context", [[OOV], ["a", "</s>"]])
def test_stupid_backoff_charges_alpha_for_unseen_history(context: list[str]) -> None:
    """Every step back costs alpha, from a history never followed by a word too
    (S(b | zz) was once S(b), not alpha S(b))."""
    corpus = ["a b a c", "b a b", "c c a"]
    lm = NGramLM.fit(corpus, order=2, smoothing="stupid-backoff", alpha=0.4)
    unigram = lm.prob("b", [], bos=False)  # c(b) / N
    assert lm.prob("b", context) == pytest.approx(0.4 * unigram, rel=1e-6)
    model = reference_model(corpus, 2, "stupid-backoff", alpha=0.4)
    assert ref.prob(model, "b", context) == pytest.approx(0.4 * unigram, rel=1e-6)


def test_add_k_never_predicts_bos() -> None:
    """add-k's top-k once ranked <s> (probability 0) when k >= |V|."""
    lm = NGramLM.fit(["a b", "b a"], order=2, smoothing="add-k")
    words = [w for w, _ in lm.predict("a", k=len(lm.vocab))]
    assert "<s>" not in words
    assert len(words) == len(lm.vocab) - 1


@pytest.mark.parametrize("smoothing", ["kneser-ney", "witten-bell", "add-k", "mle"])
def test_prob_of_bos_is_zero(smoothing: str) -> None:
    """<s> is never predicted (prob('<s>', 'a') was once 10^backoff, e.g. 0.5)."""
    lm = fit_quietly(["a b a c", "b a b", "c c a"], 2, smoothing)
    assert lm.next_distribution("a")[lm.vocab["<s>"]] == 0
    assert lm.prob("<s>", "a") == 0
    assert lm.logprob("<s>", "a") == -math.inf


@pytest.mark.parametrize("smoothing", ["mle", "add-k", "witten-bell"])
def test_unpadded_distributions_sum_to_one(smoothing: str) -> None:
    """With pad=False there is no <s> unigram: the uniform floors once assumed one
    (add-k summed to 1.154, Witten-Bell to 1.077)."""
    counts = nextword.count_ngrams(["a b a c", "b a b", "c c a"], order=2, pad=False)
    lm = NGramLM.fit(counts, smoothing=smoothing)
    for context in ([], ["a"], ["c"], [OOV]):
        assert lm.next_distribution(context, bos=False).sum() == pytest.approx(1, abs=1e-6)


# -- regressions ----------------------------------------------------------------------------
# Once headed "a bug still open" without an xfail mark; it passes, so the bug
# (an infinite OOV score leaking into perplexity_excluding_oovs) is fixed.


@pytest.mark.parametrize("smoothing", ["mle", "stupid-backoff"])
def test_perplexity_excluding_oovs_ignores_infinite_oovs(smoothing: str) -> None:
    lm = NGramLM.fit(["a b", "b a b"], order=2, smoothing=smoothing)
    test = ["a b zz", "b a b"]
    known = [s.logprob for t in test for s in lm.full_scores(t) if not s.oov]
    assert all(math.isfinite(lp) for lp in known)
    result = lm.perplexity(test)
    assert result.perplexity == math.inf
    assert result.perplexity_excluding_oovs == pytest.approx(10 ** (-sum(known) / len(known)))


# -- the reference's own examples -----------------------------------------------------------


@pytest.mark.parametrize("module", [ref, ref_kn], ids=["lm", "lm_kneser_ney"])
def test_reference_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0

"""MLE, add-k, Witten-Bell and stupid backoff against NLTK's ``nltk.lm``, an
oracle that is not ourselves.

The fixed cases are NLTK's own unit tests (``nltk/test/unit/lm/test_models.py``):
the same training text, with the words NLTK leaves out of its vocabulary (e, g)
written as ``<unk>``, and NLTK's expected values. They are ported where the two
definitions coincide; each case left out or changed says why. The two
differences that recur:

- NLTK pads every sentence with ``order - 1`` ``<s>`` and counts them as words:
  its unigram total and its vocabulary include ``<s>``. Ours (KenLM's) pads with
  one ``<s>``, which is never predicted: unigram totals and |V| leave it out.
- NLTK's Witten-Bell and Kneser-Ney end their recursion at that MLE unigram;
  ours end at a smoothed unigram (Witten-Bell interpolates with 1/|V|; our
  Kneser-Ney is lmplz's modified KN, not NLTK's single-discount KN: not here).

Beyond the fixed cases, live comparisons on random corpora where the
definitions coincide (bigram MLE on seen contexts; add-k on the longest context
at equal |V|; stupid backoff on seen bigrams).
"""

from __future__ import annotations

import math
import random
import warnings
from typing import Any

import pytest
from conftest import require_module
from nextword import NGramLM

nltk_lm = require_module("nltk.lm", "pip install nltk, or the test extra")
from nltk.lm.preprocessing import padded_everygrams  # noqa: E402

# NLTK's training text, "abcd" and "egadbe", with e and g (outside NLTK's
# vocabulary) as <unk>.
TRAIN = ["a b c d", "<unk> <unk> a d b <unk>"]
# Two sentences of new words that leave every count after c, b and "b c" alone
# and bring our |V| (<unk> </s> a b c d + 2) to NLTK's 8 (a b c d z <s> </s> <UNK>).
TRAIN_V8 = [*TRAIN, "z", "q"]


def fit(lines: list[str], order: int, smoothing: str, **options: Any) -> NGramLM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return NGramLM.fit(lines, order=order, smoothing=smoothing, progress=False, **options)


def p(model: NGramLM, word: str, context: list[str]) -> float:
    """p(word | context) with the context as given (no <s> put before it)."""
    return model.prob(word, context, bos=False)


# --- MLE (TestMleBigram, TestMleTrigram) -------------------------------------------------------


def test_mle_bigram_cases() -> None:
    lm = fit(TRAIN, 2, "mle")
    assert p(lm, "d", ["c"]) == pytest.approx(1, rel=1e-6)
    assert p(lm, "d", ["e"]) == 0  # e is <unk>: "<unk> d" unseen after a seen context
    # NLTK's unigram cases ("a" = 2/14, "y" = 3/14) count <s> in the total of 14:
    # ours leave it out (KenLM), so a = 2/12 and <unk> = 3/12.
    assert lm.prob("a", [], bos=False) != pytest.approx(2 / 14)


def test_mle_bigram_entropy_of_seen_bigrams() -> None:
    """NLTK's H = 1.0975 bits, perplexity 2.1398, over six seen bigrams."""
    lm = fit(TRAIN, 2, "mle")
    seen = [("<s>", "a"), ("a", "b"), ("b", "<unk>"), ("<unk>", "a"), ("a", "d"), ("d", "</s>")]
    bits = [-math.log2(lm.prob(w, [] if h == "<s>" else [h], bos=h == "<s>")) for h, w in seen]
    entropy = sum(bits) / len(bits)
    assert entropy == pytest.approx(1.0975, rel=1e-4)
    assert 2**entropy == pytest.approx(2.1398, rel=1e-4)


def test_mle_unseen_bigram_has_probability_zero() -> None:
    """NLTK: logscore -inf; one unseen n-gram makes the perplexity infinite."""
    lm = fit(TRAIN, 2, "mle")
    assert p(lm, "c", ["a"]) == 0
    assert lm.logprob("c", ["a"], bos=False) == -math.inf


def test_mle_trigram_cases() -> None:
    lm = fit(TRAIN, 3, "mle")
    assert p(lm, "d", ["b", "c"]) == pytest.approx(1, rel=1e-6)
    assert p(lm, "d", ["c"]) == pytest.approx(1, rel=1e-6)
    # Unigrams: NLTK's total is 18 (two <s> per sentence); ours 12. Left out.


# --- add-k: Lidstone (k = 0.1) and Laplace (k = 1) ---------------------------------------------


@pytest.mark.parametrize(
    ("order", "k", "word", "context", "expected"),
    [
        (2, 0.1, "d", ["c"], 1.1 / 1.8),  # TestLidstoneBigram
        (3, 0.1, "d", ["c"], 1.1 / 1.8),  # TestLidstoneTrigram
        (3, 0.1, "e", ["c"], 0.1 / 1.8),
        (3, 0.1, "d", ["b", "c"], 1.1 / 1.8),
        (3, 0.1, "e", ["b", "c"], 0.1 / 1.8),
        (2, 1.0, "d", ["c"], 2.0 / 9),  # TestLaplaceBigram
    ],
)
def test_add_k_on_the_longest_context(
    order: int, k: float, word: str, context: list[str], expected: float
) -> None:
    """At NLTK's |V| = 8 (TRAIN_V8). NLTK's unigram cases (2.1 / 14.8 ...) count
    <s> in the total and in |V|, and its entropy cases need c(<s> .) = 2, which
    the two sentences that bring |V| to 8 change: those are left out."""
    lm = fit(TRAIN_V8, order, "add-k", k=k)
    assert p(lm, word, context) == pytest.approx(expected, rel=1e-6)


# --- Witten-Bell (TestWittenBellInterpolatedTrigram) --------------------------------------------


def test_witten_bell_recursion() -> None:
    """NLTK's cases with its unigram 1/18 replaced by ours: the recursion
    p(w | h) = (1 - g(h)) p_ML(w | h) + g(h) p(w | h'), g(h) = T(h) / (T(h) + c(h .))
    is the same; the unigram at its end is not (NLTK: MLE counting <s>; ours:
    interpolated with 1/|V|)."""
    lm = fit(TRAIN, 3, "witten-bell")
    unigram = lm.prob("c", [], bos=False)
    assert p(lm, "c", ["b"]) == pytest.approx((1 - 0.5) * 0.5 + 0.5 * unigram, rel=1e-6)
    expected = (1 - 0.5) + 0.5 * ((1 - 0.5) * 0.5 + 0.5 * unigram)
    assert p(lm, "c", ["a", "b"]) == pytest.approx(expected, rel=1e-6)
    # "z b" was never seen: the score is that of "b" alone (NLTK issue #2332).
    assert p(lm, "c", ["z", "b"]) == pytest.approx(p(lm, "c", ["b"]), rel=1e-6)


# --- live comparisons on random corpora ---------------------------------------------------------


def random_corpus(seed: int) -> list[str]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(8)]
    return [" ".join(rng.choices(words, k=rng.randint(1, 8))) for _ in range(30)]


def nltk_model(cls: Any, lines: list[str], *args: Any) -> Any:
    sentences = [line.split() for line in lines]
    model = cls(*args, order=2)
    vocabulary = [w for s in sentences for w in ["<s>", *s, "</s>"]]
    model.fit([padded_everygrams(2, s) for s in sentences], vocabulary)
    return model


def seen_bigrams(lines: list[str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for line in lines:
        tokens = ["<s>", *line.split(), "</s>"]
        out.update(zip(tokens, tokens[1:]))
    return out


def ours(model: NGramLM, word: str, history: str) -> float:
    return model.prob(word, [] if history == "<s>" else [history], bos=history == "<s>")


@pytest.mark.parametrize("seed", range(5))
def test_mle_matches_nltk_on_seen_contexts(seed: int) -> None:
    lines = random_corpus(seed)
    lm, theirs = fit(lines, 2, "mle"), nltk_model(nltk_lm.MLE, lines)
    for h, w in sorted(seen_bigrams(lines)):
        assert ours(lm, w, h) == pytest.approx(theirs.score(w, [h]), rel=1e-6), (h, w)


@pytest.mark.parametrize("seed", range(5))
def test_stupid_backoff_matches_nltk_on_seen_bigrams(seed: int) -> None:
    """Seen bigrams score c(h w) / c(h .) in both. An unseen one is alpha times
    the unigram score in both, but NLTK's unigram counts <s>: checked as a ratio."""
    lines = random_corpus(seed)
    lm, theirs = fit(lines, 2, "stupid-backoff"), nltk_model(nltk_lm.StupidBackoff, lines)
    seen = seen_bigrams(lines)
    for h, w in sorted(seen):
        assert ours(lm, w, h) == pytest.approx(theirs.score(w, [h]), rel=1e-6), (h, w)
    words = sorted({w for _, w in seen})
    for h in ["w0", "w3"]:
        for w in words:
            if (h, w) not in seen:
                assert p(lm, w, [h]) == pytest.approx(0.4 * p(lm, w, []), rel=1e-5)
                assert theirs.score(w, [h]) == pytest.approx(0.4 * theirs.score(w), rel=1e-9)

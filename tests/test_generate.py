"""Generation: the shared sampler and the n-gram generation loop.

* ``nextword.sample`` against ``nextword.reference.sample`` draw for draw
  (hypothesis), and SplitMix64 against its published values;
* chi-square goodness of fit: exact mixture sampling (``generate_batch``)
  against ``next_distribution`` for every estimator and kind of context, and
  truncated sampling against the reference's renormalised distribution;
* the truncations (top-k, top-p, min-p, greedy) keep exactly the tokens they
  should, every one of them reachable;
* determinism: same seed, same text, through every entry point and whatever
  the thread count;
* ``stream`` explains each step with the model's own numbers; stop tokens,
  ``max_tokens=0`` and invalid parameters; the ``generate`` command.

Every random draw is seeded, so every test, the statistical ones included,
gives the same result on every run. Models are small (fitted here on a few
hundred sentences of a random Markov chain) except one of tinyshakespeare.
"""

from __future__ import annotations

import doctest
import json
import math
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nextword
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nextword import NGramLM, count_ngrams
from nextword.cli import main
from nextword.reference import sample as ref
from nextword.reference.sample import GOLDEN, MASK64, SamplingParams, SplitMix64
from nextword.sampling import Generator

ESTIMATORS = ("kneser-ney", "witten-bell", "mle", "add-k")
N_DRAWS = 100_000


# --- models ---------------------------------------------------------------------------


def markov_sentences(n: int = 300, seed: int = 7) -> list[str]:
    """Sentences of a random first-order Markov chain over 30 words (w0 .. w29).

    Each word has 10 possible successors with Zipfian weights, so contexts
    matter; 3% of tokens are rare words (r0 .. r99), so that Kneser-Ney finds
    singletons and estimates its discounts without falling back.
    """
    rnd = random.Random(seed)
    words = [f"w{i}" for i in range(30)]
    successors = {w: rnd.sample(words, 10) for w in ["<s>", *words]}
    zipf = [1 / (i + 1) for i in range(10)]
    rare = [f"r{i}" for i in range(100)]
    out = []
    for _ in range(n):
        prev = "<s>"
        sentence: list[str] = []
        while len(sentence) < 12:
            if rnd.random() < 0.03:
                word = rnd.choice(rare)
            elif prev in successors:
                word = rnd.choices(successors[prev], zipf)[0]
            else:
                word = rnd.choice(words)
            sentence.append(word)
            prev = word
            if rnd.random() < 0.15:
                break
        out.append(" ".join(sentence))
    return out


def fit(corpus: Any, order: int = 3, smoothing: str = "kneser-ney") -> NGramLM:
    """A model of ``corpus`` (texts or a path)."""
    return NGramLM.fit(corpus, order=order, smoothing=smoothing, progress=False)


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    return markov_sentences()


@pytest.fixture(scope="module")
def models(sentences: list[str]) -> dict[str, NGramLM]:
    """One order-3 model per estimator, all of the same sentences."""
    return {s: fit(sentences, smoothing=s) for s in ESTIMATORS}


@pytest.fixture(scope="module")
def lm(models: dict[str, NGramLM]) -> NGramLM:
    return models["kneser-ney"]


@pytest.fixture(scope="module")
def contexts(sentences: list[str]) -> dict[str, list[str]]:
    """A seen context (the most frequent bigram), an unseen one (two known words
    never seen together), an out-of-vocabulary word, and the sentence start."""
    bigrams = count_ngrams(sentences, order=2, progress=False)
    seen = next(
        list(gram)
        for gram, _ in bigrams.most_common(20, 2)
        if "<s>" not in gram and "</s>" not in gram
    )
    unseen = next(
        [a, b]
        for a in ("w0", "w1", "w2")
        for b in ("w0", "w1", "w2", "w3", "w4")
        if (a, b) not in bigrams
    )
    return {"seen": seen, "unseen": unseen, "oov": ["qqq"], "start": []}


@pytest.fixture(scope="module")
def shakespeare(shared: Path) -> NGramLM:
    """An order-3 Kneser-Ney model of tinyshakespeare (25,673 words)."""
    return fit(shared / "corpora" / "en" / "tinyshakespeare.txt")


SHAKESPEARE_CONTEXTS = [[], ["the"], ["I", "am"], ["my", "lord"], ["First", "Citizen:"]]


# --- helpers ----------------------------------------------------------------------------


def ranked(model: NGramLM, context: Sequence[str]) -> list[tuple[str, float]]:
    """The tokens of positive probability after ``context`` (from next_distribution),
    by descending probability, ties by lower id: the order the sampler uses."""
    d = model.next_distribution(list(context))
    ids = np.flatnonzero(d > 0)
    order = ids[np.lexsort((ids, -d[ids]))]
    words = model.vocab.words()  # once: every ``model.vocab`` copies the vocabulary
    return [(words[i], float(d[i])) for i in order]


def distribution(model: NGramLM, context: Sequence[str]) -> dict[str, float]:
    """next_distribution as {token: probability} over tokens of positive probability."""
    return dict(ranked(model, context))


def first_tokens(
    model: NGramLM, context: Sequence[str], n: int, seed: int, **params: Any
) -> Counter[str]:
    """Counts of the first generated token over ``n`` sequences of a batch."""
    rows = model.generate_batch([list(context)] * n, max_tokens=1, seed=seed, **params)
    assert all(len(r) == 1 for r in rows)
    return Counter(r[0] for r in rows)


# Chi-square critical values at alpha = 0.001, degrees of freedom 1..30.
CHI2_CRITICAL_0001 = [
    10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588,
    31.264, 32.909, 34.528, 36.123, 37.697, 39.252, 40.790, 42.312, 43.820, 45.315,
    46.797, 48.268, 49.728, 51.179, 52.620, 54.052, 55.476, 56.892, 58.301, 59.703,
]  # fmt: skip


def chi2_critical(df: int, alpha: float = 0.001) -> float:
    """The chi-square value exceeded with probability ``alpha`` at ``df`` degrees of freedom."""
    try:
        from scipy.stats import chi2  # type: ignore[import-untyped]

        return float(chi2.ppf(1.0 - alpha, df))
    except ImportError:
        pass
    assert alpha == 0.001
    if df <= len(CHI2_CRITICAL_0001):
        return CHI2_CRITICAL_0001[df - 1]
    # Wilson-Hilferty: within 0.2% of the exact value beyond 30 degrees of freedom.
    z = 3.090232306167813  # the standard normal quantile of 0.999
    return df * (1.0 - 2.0 / (9.0 * df) + z * math.sqrt(2.0 / (9.0 * df))) ** 3


def assert_fits(observed: Mapping[Any, int], expected: Mapping[Any, float], n: int) -> None:
    """Chi-square goodness of fit at alpha = 0.001; categories expected fewer
    than 5 times are pooled. A draw outside the expected support fails outright."""
    impossible = {k: c for k, c in observed.items() if expected.get(k, 0.0) <= 0.0}
    assert not impossible, f"drawn but of probability 0: {impossible}"
    assert sum(observed.values()) == n
    total = math.fsum(expected.values())
    counts = {k: n * p / total for k, p in expected.items() if p > 0.0}
    big = [k for k, e in counts.items() if e >= 5.0]
    small = [k for k in counts if counts[k] < 5.0]
    cells = [(observed.get(k, 0), counts[k]) for k in big]
    pooled = math.fsum(counts[k] for k in small)
    if pooled > 0.0:
        cells.append((sum(observed.get(k, 0) for k in small), pooled))
    stat = math.fsum((o - e) ** 2 / e for o, e in cells)
    df = len(cells) - 1
    assert df >= 1
    critical = chi2_critical(df)
    assert stat < critical, f"chi-square {stat:.1f} >= {critical:.1f} at {df} degrees of freedom"


def seed_for_first_output(output: int) -> int:
    """The seed whose SplitMix64 stream starts with ``output``.

    The output function is a bijection of the state (xor-shifts and products by
    odd constants can be undone), so any first draw can be asked for.
    """

    def unxorshift(z: int, k: int) -> int:
        x = z
        for _ in range(64 // k + 1):
            x = z ^ (x >> k)
        return x & MASK64

    z = unxorshift(output, 31)
    z = (z * pow(0x94D049BB133111EB, -1, 1 << 64)) & MASK64
    z = unxorshift(z, 27)
    z = (z * pow(0xBF58476D1CE4E5B9, -1, 1 << 64)) & MASK64
    return (unxorshift(z, 30) - GOLDEN) & MASK64


def test_seed_for_first_output_inverts_splitmix() -> None:
    for output in (0, 1, MASK64, 0xE220A8397B1DCDAF, 0x0123456789ABCDEF):
        assert SplitMix64(seed_for_first_output(output)).next_u64() == output


# --- SplitMix64 ---------------------------------------------------------------------------


def test_splitmix64_reference_values() -> None:
    rng = SplitMix64(0)
    assert rng.next_u64() == 0xE220A8397B1DCDAF
    assert rng.next_u64() == 0x6E789E6AA1B965F4
    assert rng.state == (2 * GOLDEN) & MASK64
    assert SplitMix64(0).uniform() == (0xE220A8397B1DCDAF >> 11) * 2.0**-53
    assert SplitMix64.for_sequence(10, 3).state == SplitMix64((10 + 3 * GOLDEN) & MASK64).next_u64()


def test_splitmix64_rust_values() -> None:
    """The Rust generator seeded with 0 gives the same numbers.

    Over 2**20 equal probabilities every weight and partial sum is exact, so the
    draw is floor(u * 2**20): the top 20 bits of the 64-bit output. The state
    after each draw is exposed exactly.
    """
    ones = np.ones(1 << 20)
    gen = Generator(0)
    rng = SplitMix64(0)
    outputs = [rng.next_u64() for _ in range(4)]
    assert outputs[:2] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]
    for k, output in enumerate(outputs, start=1):
        assert nextword.sample(ones, generator=gen) == output >> 44
        assert gen.state == (k * GOLDEN) & MASK64


def test_sample_batch_rows_use_sequence_generators() -> None:
    """Row i of sample_batch draws with SplitMix64.for_sequence(seed, i)."""
    rnd = random.Random(3)
    probs = np.array([[rnd.random() ** 3 for _ in range(17)] for _ in range(64)])
    params: dict[str, Any] = {"temperature": 0.8, "top_k": 9, "top_p": 0.95}
    got = nextword.sample_batch(probs, seed=99, **params)
    want = [
        ref.sample(list(row), False, SamplingParams(**params), [], SplitMix64.for_sequence(99, i))
        for i, row in enumerate(probs)
    ]
    assert got.tolist() == want


def test_reference_docstring_examples() -> None:
    result = doctest.testmod(ref, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10
    assert result.failed == 0


# --- the sampler against the reference, draw for draw ---------------------------------------

PROB = st.one_of(
    st.just(0.0),
    st.sampled_from([0.25, 0.5, 1.0]),  # ties
    st.floats(0.0, 1.0),
    st.floats(1e-12, 1e-6),
    st.floats(0.0, 100.0),
)
LOGIT = st.one_of(
    st.just(-math.inf),
    st.sampled_from([0.0, -0.0, 1.0, -3.0]),
    st.floats(-60.0, 60.0),
)


@st.composite
def sampling_cases(draw: st.DrawFn) -> tuple[list[float], bool, SamplingParams, list[int], int]:
    logits = draw(st.booleans())
    scores = draw(st.lists(LOGIT if logits else PROB, min_size=1, max_size=40))
    params = SamplingParams(
        temperature=draw(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.05, 5.0))),
        top_k=draw(st.one_of(st.none(), st.integers(1, 45))),
        top_p=draw(st.one_of(st.none(), st.just(1.0), st.floats(0.0, 1.0, exclude_min=True))),
        min_p=draw(st.one_of(st.none(), st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))),
        repetition_penalty=draw(st.one_of(st.none(), st.floats(0.1, 5.0))),
    )
    history = draw(st.lists(st.integers(0, len(scores) + 3), max_size=8))
    seed = draw(st.integers(0, MASK64))
    return scores, logits, params, history, seed


@settings(max_examples=400, deadline=None, derandomize=True)
@given(sampling_cases(), st.integers(1, 4))
def test_sample_matches_reference(
    case: tuple[list[float], bool, SamplingParams, list[int], int], draws: int
) -> None:
    scores, logits, params, history, seed = case
    gen, rng = Generator(seed), SplitMix64(seed)
    for _ in range(draws):
        want = ref.sample(scores, logits, params, history, rng)
        if want is None:
            with pytest.raises(ValueError, match="nothing to sample"):
                nextword.sample(
                    scores, logits=logits, history=history, generator=gen, **vars(params)
                )
            return
        got = nextword.sample(scores, logits=logits, history=history, generator=gen, **vars(params))
        assert got == want
        assert gen.state == rng.state


# --- chi-square: the sampler ------------------------------------------------------------------

VECTOR = [0.21, 0.16, 0.13, 0.11, 0.09, 0.09, 0.07, 0.05, 0.04, 0.02, 0.015, 0.005, 0.0]


@pytest.mark.parametrize(
    ("params", "history"),
    [
        ({"temperature": 0.7, "top_k": 8, "top_p": 0.9}, []),
        ({"temperature": 0.7, "top_p": 0.8}, []),
        ({"temperature": 1.3, "min_p": 0.1}, []),
        ({"repetition_penalty": 1.8, "top_k": 6}, [0, 2, 2]),
    ],
)
def test_sample_chi_square(params: dict[str, Any], history: list[int]) -> None:
    expected = ref.truncated_distribution(VECTOR, False, SamplingParams(**params), history)
    gen = Generator(20240601)
    observed = Counter(
        nextword.sample(VECTOR, history=history, generator=gen, **params) for _ in range(N_DRAWS)
    )
    assert_fits(observed, expected, N_DRAWS)
    rows = nextword.sample_batch(np.tile(VECTOR, (N_DRAWS, 1)), seed=5, **params)
    if not history:
        assert_fits(Counter(rows.tolist()), expected, N_DRAWS)


# --- chi-square: generation -------------------------------------------------------------------


@pytest.mark.parametrize("where", ["seen", "unseen", "oov", "start"])
@pytest.mark.parametrize("smoothing", ESTIMATORS)
def test_generate_batch_chi_square(
    models: dict[str, NGramLM], contexts: dict[str, list[str]], smoothing: str, where: str
) -> None:
    """Untruncated sampling (exact mixture sampling; add-k samples densely)
    draws from next_distribution."""
    model, context = models[smoothing], contexts[where]
    observed = first_tokens(model, context, N_DRAWS, seed=17)
    assert_fits(observed, distribution(model, context), N_DRAWS)


@pytest.mark.parametrize(
    "params",
    [
        {"temperature": 0.7},
        {"temperature": 1.6, "top_k": 12},
        {"top_k": 5},
        {"min_p": 0.1},
        {"top_k": 10, "top_p": 0.8},
        {"temperature": 0.7, "top_k": 10, "top_p": 0.9},
        {"repetition_penalty": 1.5},
        {"top_p": 1.0},
        {"top_p": 0.8},
        {"top_p": 0.3},
        {"top_p": 0.5, "min_p": 0.05},
    ],
)
def test_generate_batch_chi_square_truncated(
    lm: NGramLM, contexts: dict[str, list[str]], params: dict[str, Any]
) -> None:
    """Reshaped and truncated sampling from a model draws from the reference's
    distribution over next_distribution (the prompt is the repetition history)."""
    context = contexts["seen"]
    probs = [float(p) for p in lm.next_distribution(context)]
    history = [lm.vocab.id(w) for w in context]
    exact = ref.truncated_distribution(probs, False, SamplingParams(**params), history)
    expected = {lm.vocab.word(i): p for i, p in exact.items()}
    observed = first_tokens(lm, context, N_DRAWS, seed=23, **params)
    assert_fits(observed, expected, N_DRAWS)


# --- the truncations keep exactly what they should ---------------------------------------------


def check_top_k(model: NGramLM, context: Sequence[str], k: int, n: int, seed: int) -> None:
    """Every draw is among the k most probable tokens, and each of those that
    top-k sampling should draw at least 25 times in ``n`` draws is drawn."""
    top = ranked(model, context)[:k]
    mass = math.fsum(p for _, p in top)
    drawn = set(first_tokens(model, context, n, seed=seed, top_k=k))
    assert drawn <= {w for w, _ in top}, (context, k)
    assert drawn >= {w for w, p in top if n * p / mass >= 25}, (context, k)


def test_top_k_stays_in_the_top_k(shakespeare: NGramLM) -> None:
    for i, context in enumerate(SHAKESPEARE_CONTEXTS):
        for k in (1, 3, 8, 50):
            check_top_k(shakespeare, context, k, 4000, seed=i)


def test_top_k_small_models(models: dict[str, NGramLM], contexts: dict[str, list[str]]) -> None:
    for model in models.values():
        for context in contexts.values():
            for k in (1, 4, 20):
                check_top_k(model, context, k, 4000, seed=k)


def nucleus(model: NGramLM, context: Sequence[str], size: int) -> tuple[float, set[str]]:
    """A p whose nucleus is the first ``size`` tokens, a quarter of the way from
    the mass of ``size - 1`` tokens to that of ``size`` (far from either edge)."""
    top = ranked(model, context)
    total = math.fsum(p for _, p in top)
    before = math.fsum(p for _, p in top[: size - 1]) / total
    after = math.fsum(p for _, p in top[:size]) / total
    return before + (after - before) / 4, {w for w, _ in top[:size]}


@pytest.mark.parametrize("smoothing", ESTIMATORS)
def test_top_p_keeps_exactly_the_nucleus(
    models: dict[str, NGramLM], contexts: dict[str, list[str]], smoothing: str
) -> None:
    """Only tokens of the smallest most-probable set reaching p, and all of them.

    add-k samples densely (the generic sampler); the others draw from the exact
    mixture and reject draws outside the nucleus.
    """
    model = models[smoothing]
    for context in contexts.values():
        p, kept = nucleus(model, context, size=4)
        drawn = set(first_tokens(model, context, 20_000, seed=2, top_p=p))
        assert drawn == kept, (context, p)


def test_top_p_keeps_exactly_the_nucleus_shakespeare(shakespeare: NGramLM) -> None:
    for i, context in enumerate(SHAKESPEARE_CONTEXTS[:4]):
        p, kept = nucleus(shakespeare, context, size=3)
        drawn = set(first_tokens(shakespeare, context, 20_000, seed=i, top_p=p))
        assert drawn == kept, (context, p)


def test_top_p_of_a_flat_distribution() -> None:
    """2000 equally likely words, p = 1.5/2000: the nucleus is the first two
    (ties: lower id), drawn half and half. Top-p by rejection almost never hits
    the nucleus, so this exercises the explicit truncation it falls back to."""
    flat = NGramLM.fit([f"a x{i}" for i in range(2000)], order=2, smoothing="mle", progress=False)
    top = ranked(flat, ["a"])
    assert len(top) == 2000 and top[0][1] == top[1][1]
    p = 1.5 * top[0][1] / math.fsum(q for _, q in top)
    expected = {top[0][0]: 0.5, top[1][0]: 0.5}
    # The generic sampler (any repetition penalty takes the dense path) agrees.
    dense = first_tokens(flat, ["a"], 20_000, seed=1, top_p=p, repetition_penalty=1.0)
    assert_fits(dense, expected, 20_000)
    assert_fits(first_tokens(flat, ["a"], 20_000, seed=1, top_p=p), expected, 20_000)


def test_top_p_dense_path_keeps_exactly_the_nucleus(
    lm: NGramLM, contexts: dict[str, list[str]]
) -> None:
    """With a repetition penalty of 1 (no change, but not 'plain'), the model's
    distribution goes through the generic sampler, which keeps the whole nucleus."""
    for context in contexts.values():
        p, kept = nucleus(lm, context, size=4)
        drawn = set(first_tokens(lm, context, 20_000, seed=2, top_p=p, repetition_penalty=1.0))
        assert drawn == kept, (context, p)


@pytest.mark.parametrize("smoothing", ESTIMATORS)
def test_min_p_keeps_exactly_the_tokens_above_the_threshold(
    models: dict[str, NGramLM], contexts: dict[str, list[str]], smoothing: str
) -> None:
    model = models[smoothing]
    for context in contexts.values():
        top = ranked(model, context)
        ratios = [p / top[0][1] for _, p in top]
        # Keep the first `size` tokens: the threshold lies half way between the
        # ratio to the best of the last one kept and of the first one dropped,
        # where the two differ (probabilities tie often: MLE, add-k).
        cuts = [i for i in range(1, len(top)) if ratios[i - 1] > ratios[i]]
        size = next((i for i in cuts if i >= 4), cuts[-1] if cuts else len(top))
        min_p = (ratios[size - 1] + ratios[size]) / 2 if size < len(top) else 0.5
        kept = {w for w, _ in top[:size]}
        drawn = set(first_tokens(model, context, 20_000, seed=4, min_p=min_p))
        assert drawn == kept, (context, min_p)


def argmax(model: NGramLM, context: Sequence[str]) -> str:
    return model.vocab.word(int(np.argmax(model.next_distribution(list(context)))))


def test_temperature_zero_is_greedy(
    shakespeare: NGramLM, models: dict[str, NGramLM], contexts: dict[str, list[str]]
) -> None:
    cases = [(shakespeare, c) for c in SHAKESPEARE_CONTEXTS]
    cases += [(m, c) for m in models.values() for c in contexts.values()]
    for model, context in cases:
        drawn = first_tokens(model, context, 200, seed=9, temperature=0.0)
        assert drawn == Counter({argmax(model, context): 200}), (model, context)
    # A whole greedy text: the argmax, again and again, whatever the seed.
    text: list[str] = []
    for _ in range(12):
        text.append(argmax(shakespeare, ["my", "lord", *text]))
    for seed in (0, 1):
        ids = shakespeare.generate_ids(
            "my lord", max_tokens=12, temperature=0, seed=seed, stop=None
        )
        assert [shakespeare.vocab.word(int(i)) for i in ids] == text


# --- determinism ------------------------------------------------------------------------------

PARAMS: list[dict[str, Any]] = [
    {},
    {"top_k": 5},
    {"top_p": 0.9},
    {"min_p": 0.05},
    {"temperature": 0.7},
    {"temperature": 1.5, "top_k": 20, "top_p": 0.95},
    {"repetition_penalty": 1.3},
    {"temperature": 0.0},
]


@pytest.mark.parametrize("params", PARAMS)
def test_same_seed_same_text(shakespeare: NGramLM, params: dict[str, Any]) -> None:
    prompt, words = "I am", shakespeare.vocab.words()
    outputs = set()
    for seed in range(5):
        ids = shakespeare.generate_ids(prompt, max_tokens=25, seed=seed, **params).tolist()
        assert shakespeare.generate_ids(prompt, max_tokens=25, seed=seed, **params).tolist() == ids
        tokens = [words[i] for i in ids]
        text = shakespeare.generate(prompt, max_tokens=25, seed=seed, **params)
        assert text == shakespeare.generate(prompt, max_tokens=25, seed=seed, **params)
        assert text.split() == [t for t in tokens if t != "</s>"]
        streamed = [s.token for s in shakespeare.stream(prompt, max_tokens=25, seed=seed, **params)]
        assert streamed == tokens
        outputs.add(tuple(ids))
    # Different seeds, different texts (two may both end the sentence at once;
    # greedy has only one text).
    if params.get("temperature") == 0.0:
        assert len(outputs) == 1
    else:
        assert len(outputs) >= 4


def test_generate_batch_row_is_generate_with_the_sequence_seed(lm: NGramLM) -> None:
    prompts = ["w1", "w2 w3", "", "w4", "w1"]
    for params in PARAMS:
        rows = lm.generate_batch(prompts, max_tokens=15, seed=77, **params)
        for i, (prompt, row) in enumerate(zip(prompts, rows)):
            state = SplitMix64.for_sequence(77, i).state
            ids = lm.generate_ids(prompt, max_tokens=15, seed=state, **params)
            assert row == [lm.vocab.word(int(t)) for t in ids], (params, i)


THREADS_SCRIPT = """
import json, sys
import nextword
import numpy as np
from nextword import NGramLM

lm = NGramLM.fit(sys.argv[1], order=3, progress=False)
params = json.loads(sys.argv[2])
prompts = [["w%d" % (i % 30)] if i % 3 else [] for i in range(3000)]
out = {"batch": [lm.generate_batch(prompts, max_tokens=12, seed=31, **p) for p in params]}
rnd = np.random.default_rng(0).random((5000, 40))
out["sample_batch"] = nextword.sample_batch(rnd, seed=8, top_p=0.9).tolist()
print(json.dumps(out))
"""


def test_generate_batch_does_not_depend_on_the_thread_count(
    tmp_path: Path, sentences: list[str]
) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    params = json.dumps(PARAMS)
    outputs = []
    for threads in ("1", "2"):
        env = {**os.environ, "RAYON_NUM_THREADS": threads}
        done = subprocess.run(
            [sys.executable, "-c", THREADS_SCRIPT, str(corpus), params],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    assert len(outputs[0]["batch"]) == len(PARAMS)
    assert len({json.dumps(b) for b in outputs[0]["batch"]}) == len(PARAMS)


def test_generate_batch_rows_draw_independent_streams(sentences: list[str]) -> None:
    unigram = fit(sentences, order=1, smoothing="mle")
    rows = unigram.generate_batch([""] * 100, max_tokens=8, seed=2024, stop=None)
    shifted = [i for i in range(99) if rows[i][1:] == rows[i + 1][:-1]]
    assert shifted == []


def test_mle_never_samples_a_token_of_probability_zero(
    models: dict[str, NGramLM], sentences: list[str]
) -> None:
    mle = models["mle"]
    seed = seed_for_first_output(MASK64)  # the first uniform is 1 - 2**-53
    bigrams = count_ngrams(sentences, order=2, progress=False)
    impossible = []
    for gram, _ in bigrams.most_common(60, 2):
        context = list(gram)
        if "<s>" in context or "</s>" in context:
            continue
        ids = mle.generate_ids(context, max_tokens=1, seed=seed, bos=False)
        token = mle.vocab.word(int(ids[0]))
        if mle.prob(token, context, bos=False) == 0.0:
            impossible.append((context, token))
    assert impossible == []


# --- stream, stop, max_tokens, parameters ------------------------------------------------------


def check_steps(model: NGramLM, prompt: list[str], explain: int, **params: Any) -> int:
    """Stream from ``prompt`` and check each step against the model's own numbers."""
    context = list(prompt)
    steps = 0
    for step in model.stream(prompt, max_tokens=15, explain=explain, seed=3, **params):
        assert isinstance(step, nextword.Step)
        everything = ranked(model, context)
        dist, top = dict(everything), everything[:explain]
        assert [w for w, _ in step.candidates] == [w for w, _ in top]
        for (_, p), (_, q) in zip(step.candidates, top):
            assert p == pytest.approx(q, rel=1e-12)
        assert step.prob == pytest.approx(model.prob(step.token, context), rel=1e-9)
        assert step.prob == pytest.approx(dist[step.token], rel=1e-5)
        context.append(step.token)
        steps += 1
    return steps


def test_stream_explains_each_step(shakespeare: NGramLM, models: dict[str, NGramLM]) -> None:
    assert check_steps(shakespeare, ["I", "am"], explain=5) > 0
    assert check_steps(shakespeare, [], explain=3, top_k=10) > 0
    for model in models.values():
        assert check_steps(model, ["w1"], explain=4) > 0
        assert check_steps(model, [], explain=4, temperature=0.8) > 0


def test_stop_tokens_end_generation(lm: NGramLM) -> None:
    found = 0
    for seed in range(20):
        ids = lm.generate_ids("w1", max_tokens=60, seed=seed, stop=["w2", "w5"])
        tokens = [lm.vocab.word(int(i)) for i in ids]
        stops = [i for i, t in enumerate(tokens) if t in ("w2", "w5")]
        assert stops in ([], [len(tokens) - 1])
        if not stops:
            assert len(tokens) == 60
        found += bool(stops)
        streamed = [s.token for s in lm.stream("w1", max_tokens=60, seed=seed, stop=["w2", "w5"])]
        assert streamed == tokens
    assert found > 10
    # The default stop is the end of the sentence: kept in ids, dropped from text.
    for seed in range(20):
        ids = lm.generate_ids("w1", max_tokens=200, seed=seed)
        tokens = [lm.vocab.word(int(i)) for i in ids]
        assert "</s>" not in tokens[:-1]
        assert tokens[-1] == "</s>"
        assert lm.generate("w1", max_tokens=200, seed=seed).split() == tokens[:-1]
    # Without a stop, generation goes on past the end of sentences.
    assert len(lm.generate_ids("w1", max_tokens=200, seed=1, stop=None)) == 200


def test_max_tokens_zero_gives_nothing(lm: NGramLM) -> None:
    assert lm.generate("w1", max_tokens=0, seed=1) == ""
    assert lm.generate_ids("w1", max_tokens=0, seed=1).tolist() == []
    assert list(lm.stream("w1", max_tokens=0, seed=1)) == []
    assert lm.generate_batch(["w1", ""], max_tokens=0, seed=1) == [[], []]


INVALID = [
    {"top_p": 0.0},
    {"top_p": 1.5},
    {"top_k": 0},
    {"temperature": -0.5},
    {"temperature": math.inf},
    {"temperature": math.nan},
    {"repetition_penalty": 0.0},
    {"repetition_penalty": -1.0},
    {"min_p": -0.1},
    {"min_p": 1.5},
]


@pytest.mark.parametrize("params", INVALID)
def test_invalid_parameters_raise_value_error(lm: NGramLM, params: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        nextword.sample([0.5, 0.5], seed=1, **params)
    with pytest.raises(ValueError):
        nextword.sample_batch(np.ones((2, 2)), seed=1, **params)
    with pytest.raises(ValueError):
        lm.generate("w1", seed=1, **params)
    with pytest.raises(ValueError):
        lm.generate_ids("w1", seed=1, **params)
    with pytest.raises(ValueError):
        lm.generate_batch(["w1"], seed=1, **params)
    with pytest.raises(ValueError):
        next(lm.stream("w1", seed=1, **params))
    with pytest.raises(ValueError):
        SamplingParams(**params).validate()


def test_nothing_to_sample_raises(lm: NGramLM) -> None:
    with pytest.raises(ValueError, match="nothing to sample"):
        nextword.sample([0.0, 0.0, 0.0], seed=1)
    with pytest.raises(ValueError, match="max_tokens"):
        lm.generate_ids("w1", max_tokens=-1)


# --- the generate command --------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_path(lm: NGramLM, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("models") / "small.nwlm"
    lm.save(path)
    return str(path)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_cli_generate(model_path: str, lm: NGramLM, capsys: pytest.CaptureFixture[str]) -> None:
    # --one-sentence: the Python API stops at the first </s> by default.
    argv = ["generate", model_path, "--prompt", "w1 w2", "--seed", "0", "-n", "5", "--one-sentence"]
    out = run_cli(argv, capsys)
    assert out == run_cli(argv, capsys)
    line = out.strip()
    assert line.startswith("w1 w2")
    assert 2 < len(line.split()) <= 7
    # The saved and reloaded model generates what the fitted one does.
    assert line == f"w1 w2 {lm.generate('w1 w2', max_tokens=5, seed=0)}".strip()
    other = run_cli([*argv[:4], "--seed", "1", "-n", "5", "--one-sentence"], capsys)
    many = run_cli([*argv, "--samples", "3"], capsys).splitlines()
    assert len(many) == 3
    assert many[0] == line
    assert many[1] == other.strip()


def test_cli_generate_explain(model_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["generate", model_path, "--prompt", "w1", "--seed", "0", "-n", "5", "--explain"]
    out = run_cli(argv, capsys)
    assert out == run_cli(argv, capsys)
    assert out.startswith("prompt: 'w1'")
    assert "step 1: after" in out
    assert "█" in out  # probability bars
    assert "<-" in out  # the sampled token is marked
    plain = run_cli(["generate", model_path, "--prompt", "w1", "--seed", "0", "-n", "5"], capsys)
    assert out.strip().splitlines()[-1] == plain.strip()
    steps = [line for line in out.splitlines() if line.startswith("step ")]
    assert 1 <= len(steps) <= 5


def test_cli_generate_shakespeare(
    shakespeare: NGramLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "shakespeare.nwlm")
    shakespeare.save(path)
    argv = ["generate", path, "-p", "my lord", "--seed", "0", "-n", "8", "--top-k", "20"]
    argv.append("--one-sentence")  # the Python API stops at the first </s> by default
    out = run_cli(argv, capsys)
    assert out == run_cli(argv, capsys)
    expected = shakespeare.generate("my lord", max_tokens=8, seed=0, top_k=20)
    assert out.strip() == f"my lord {expected}".strip()

"""The LanguageModel protocol: a model that only gives its next-token
distribution gets scoring, perplexity, prediction and generation for free, and
NGramLM's fast paths agree with the generic ones."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import nextword
import numpy as np
import pytest
from nextword import DistributionModel, LanguageModel, NGramLM, Perplexity, SamplingParams, Vocab
from nextword import model as generic
from nextword.model import Text

# p(next | previous) of a toy bigram model; every context gives <unk> 0.1.
TABLE: dict[str, dict[str, float]] = {
    "<s>": {"a": 0.6, "b": 0.3, "<unk>": 0.1},
    "a": {"a": 0.1, "b": 0.5, "</s>": 0.3, "<unk>": 0.1},
    "b": {"a": 0.4, "b": 0.1, "</s>": 0.4, "<unk>": 0.1},
    "<unk>": {"a": 0.3, "b": 0.3, "</s>": 0.3, "<unk>": 0.1},
}


class Bigram(DistributionModel):
    """The fixed bigram table above, through the protocol alone."""

    vocab = Vocab(["a", "b"])
    order = 2

    def next_distribution(self, context: Text = ()) -> np.ndarray:
        tokens = self.vocab.tokenizer.tokenize(context) if isinstance(context, str) else context
        previous = tokens[-1] if tokens else "<s>"
        p = np.zeros(len(self.vocab))
        for word, q in TABLE[previous if previous in TABLE else "<unk>"].items():
            p[self.vocab.id(word)] = q
        return p


class CountingBigram(Bigram):
    """The same model carrying its own state (the last id), as a neural model
    carries a hidden state, and counting how often it is advanced."""

    def __init__(self) -> None:
        self.advanced = 0

    def initial_state(self, context: Sequence[int]) -> tuple[Any, np.ndarray]:
        last = self.vocab.word(context[-1]) if context else "<s>"
        return last, self.next_distribution([last] if context else [])

    def advance(self, state: Any, token: int) -> tuple[Any, np.ndarray]:
        self.advanced += 1
        word = self.vocab.word(token)
        return word, self.next_distribution([word])


@pytest.fixture(scope="module")
def lm() -> NGramLM:
    sentences = ["the cat sat on the mat", "the dog sat", "a cat ran on the mat", "the cat ran"]
    with warnings.catch_warnings():  # so small a corpus needs the fallback discounts
        warnings.simplefilter("ignore")
        return NGramLM.fit(sentences * 3, order=3, progress=False)


def test_models_implement_the_protocol(lm: NGramLM) -> None:
    assert isinstance(Bigram(), LanguageModel)
    assert isinstance(lm, LanguageModel)
    assert lm.order == 3 and Bigram().order == 2
    assert not isinstance(object(), LanguageModel)


def test_generic_perplexity_is_the_hand_computation() -> None:
    model = Bigram()
    # a b </s> | b </s> | a c </s> with c out of the vocabulary (scored as <unk>).
    probs = [0.6, 0.5, 0.4, 0.3, 0.4, 0.6, 0.1, 0.3]
    result = model.perplexity(["a b", "b", "a c"])
    total = sum(math.log10(p) for p in probs)
    assert result.tokens == 8 and result.sentences == 3 and result.oovs == 1
    assert result.logprob == pytest.approx(total)
    assert result.perplexity == pytest.approx(10 ** (-total / 8))
    inside = total - math.log10(0.1)
    assert result.perplexity_excluding_oovs == pytest.approx(10 ** (-inside / 7))
    assert result.cross_entropy == pytest.approx(-total * math.log(10) / 8)
    assert 2**result.bits_per_token == pytest.approx(result.perplexity)
    assert model.score("a b") == pytest.approx(math.log10(0.6 * 0.5 * 0.4))
    assert model.score("a b", base=math.e) == pytest.approx(math.log(0.6 * 0.5 * 0.4))
    assert [s.logprob for s in model.full_scores("b a")] == pytest.approx(
        [math.log10(0.3), math.log10(0.4), math.log10(0.3)]
    )
    assert model.logprob("b", "a") == pytest.approx(math.log10(0.5))


def test_generic_predict_generate_and_stream() -> None:
    model = Bigram()
    assert model.predict("a", k=2) == [("b", 0.5), ("</s>", 0.3)]
    assert model.predict(k=1) == [("a", 0.6)]
    text = model.generate(max_tokens=20, seed=7)
    assert text == model.generate(max_tokens=20, seed=7)
    assert len({model.generate(max_tokens=20, seed=s) for s in range(10)}) > 3
    ids = model.generate_ids("a", max_tokens=30, seed=3, stop=None).tolist()
    assert len(ids) == 30
    steps = list(model.stream("a", max_tokens=30, seed=3, stop=None, explain=2))
    assert [model.vocab.id(s.token) for s in steps] == ids
    previous = "a"
    for step in steps:
        row = TABLE.get(previous, TABLE["<unk>"])  # after </s>, as after an unknown word
        assert step.prob == row[step.token]
        ranked = sorted(row.items(), key=lambda kv: (-kv[1], model.vocab.id(kv[0])))
        best = ranked[:2]  # ties: lower id first
        assert [w for w, _ in step.candidates] == [w for w, _ in best]
        previous = step.token
    greedy = model.generate_ids(max_tokens=4, temperature=0, stop=None).tolist()
    # The argmax, ties to the lower id (</s> is id 2, a is 3).
    assert [model.vocab.word(i) for i in greedy] == ["a", "b", "</s>", "</s>"]


def test_a_model_state_is_carried_not_replayed() -> None:
    plain, counting = Bigram(), CountingBigram()
    ids = counting.generate_ids("b", max_tokens=25, seed=11, stop=None)
    assert ids.tolist() == plain.generate_ids("b", max_tokens=25, seed=11, stop=None).tolist()
    # Advanced past every token but the last (nothing asks for what follows it).
    assert counting.advanced == 24
    assert list(counting.stream("b", max_tokens=0, seed=1)) == []


def test_a_model_error_surfaces_as_raised() -> None:
    class Broken(Bigram):
        def advance(self, state: Any, token: int) -> tuple[Any, np.ndarray]:
            raise KeyError("hidden state lost")

    class Negative(Bigram):
        def next_distribution(self, context: Text = ()) -> np.ndarray:
            return super().next_distribution(context) - 0.2

    with pytest.raises(KeyError, match="hidden state lost"):
        Broken().generate_ids(max_tokens=5, seed=1, stop=None)
    with pytest.raises(ValueError, match="index"):
        Negative().generate(max_tokens=5, seed=1)


def test_ngram_generic_path_equals_its_fast_path(lm: NGramLM) -> None:
    corpus = ["the cat sat on the mat", "a dog ran", "the cat sat on a zebra"]
    fast = lm.perplexity(corpus, progress=False)
    slow = generic.perplexity(lm, corpus)
    assert isinstance(slow, Perplexity)
    assert (slow.tokens, slow.oovs, slow.sentences) == (fast.tokens, fast.oovs, fast.sentences)
    assert slow.logprob == pytest.approx(fast.logprob, rel=1e-5)
    assert slow.perplexity == pytest.approx(fast.perplexity, rel=1e-5)
    assert slow.perplexity_excluding_oovs == pytest.approx(fast.perplexity_excluding_oovs, rel=1e-5)
    for sentence in corpus:
        assert generic.score(lm, sentence) == pytest.approx(lm.score(sentence), rel=1e-5)
        mine = [s.logprob for s in generic.full_scores(lm, sentence)]
        assert mine == pytest.approx([s.logprob for s in lm.full_scores(sentence)], rel=1e-5)
    mine, fast_top = generic.predict(lm, "the", k=3), lm.predict("the", k=3)
    assert [w for w, _ in mine] == [w for w, _ in fast_top]
    assert [p for _, p in mine] == pytest.approx([p for _, p in fast_top])
    assert generic.logprob(lm, "cat", "the") == pytest.approx(lm.logprob("cat", "the"))


def test_ngram_generation_mixes_steps_and_the_rest(lm: NGramLM) -> None:
    expected = lm.generate_ids("the", max_tokens=12, seed=5, stop=None).tolist()
    gen = lm.generation("the", max_tokens=12, seed=5, stop=None, explain=3)
    first = [lm.vocab.id(next(gen).token) for _ in range(4)]
    assert first + gen.ids().tolist() == expected
    assert list(gen) == []


def test_params_object_or_keywords(lm: NGramLM) -> None:
    params = SamplingParams(temperature=0.8, top_k=3)
    by_object = lm.generate("the", max_tokens=10, seed=2, params=params)
    assert by_object == lm.generate("the", max_tokens=10, seed=2, temperature=0.8, top_k=3)
    rows = lm.generate_batch(["the", "a"], max_tokens=5, seed=4, params=params)
    assert rows == lm.generate_batch(["the", "a"], max_tokens=5, seed=4, temperature=0.8, top_k=3)
    steps = [s.token for s in lm.stream("the", max_tokens=10, seed=2, params=params)]
    assert " ".join(t for t in steps if t != "</s>") == by_object
    model = Bigram()
    assert model.generate(seed=1, params=params) == model.generate(seed=1, temperature=0.8, top_k=3)
    with pytest.raises(TypeError, match="not both"):
        lm.generate("the", params=params, top_k=2)
    assert nextword.sample([0.2, 0.8], params=SamplingParams(temperature=0)) == 1


@pytest.mark.parametrize("base", [1, 1.0, 0, -2.0, math.inf, math.nan])
def test_a_logarithm_base_must_be_positive_finite_and_not_one(lm: NGramLM, base: float) -> None:
    with pytest.raises(ValueError, match="base"):
        lm.logprob("cat", "the", base=base)
    with pytest.raises(ValueError, match="base"):
        lm.score("the cat", base=base)
    with pytest.raises(ValueError, match="base"):
        Bigram().logprob("a", base=base)
    with pytest.raises(ValueError, match="base"):
        Bigram().score("a", base=base)


def test_valid_bases(lm: NGramLM) -> None:
    lp10 = lm.logprob("cat", "the")
    assert lm.logprob("cat", "the", base=2) == pytest.approx(lp10 * math.log2(10))
    assert lm.logprob("cat", "the", base=0.5) == pytest.approx(-lp10 * math.log2(10))


class PrefixOnly:
    """The toy bigram as a bare next-token model (no state to carry): the
    generic functions ask it once per prefix."""

    vocab = Bigram.vocab
    order = 2

    def __init__(self) -> None:
        self.asked = 0

    def next_distribution(self, context: Text = ()) -> np.ndarray:
        self.asked += 1
        return Bigram().next_distribution(context)


def test_scores_carry_the_state_and_equal_the_prefix_path() -> None:
    corpus = ["a b", "b", "a c", "b b a a"]
    bare, counting = PrefixOnly(), CountingBigram()
    for sentence in corpus:
        by_prefix = generic.full_scores(bare, sentence)
        carried = counting.full_scores(sentence)
        assert carried == Bigram().full_scores(sentence)
        assert [s.token for s in carried] == [s.token for s in by_prefix]
        assert [s.ngram_length for s in carried] == [s.ngram_length for s in by_prefix]
        assert [s.oov for s in carried] == [s.oov for s in by_prefix]
        assert [s.logprob for s in carried] == pytest.approx([s.logprob for s in by_prefix])
    # One advance per token but the last of each sentence, not one replay per prefix.
    assert counting.advanced == sum(len(s.split()) for s in corpus)
    assert bare.asked == sum(len(s.split()) + 1 for s in corpus)
    assert generic.perplexity(bare, corpus) == CountingBigram().perplexity(corpus)

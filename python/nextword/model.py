"""The protocol every language model implements, and what they share.

:class:`LanguageModel` is what an n-gram model, a neural model, an index or a
mixture answers: the next token's distribution, log-probabilities, perplexity,
the most probable next words, generated text. Its results are
:class:`Perplexity`, :class:`TokenScore` and :class:`Step`.

A new model subclasses :class:`DistributionModel` and implements ``vocab`` and
``next_distribution`` (and, to carry a hidden state or a cache through
generation, ``initial_state`` and ``advance``); scoring, perplexity, prediction
and generation then come for free. Generation is one loop for every model
(:class:`Generation`, in Rust) over the one seeded sampler: the same seed
gives the same text.

>>> import numpy as np
>>> from nextword import Vocab
>>> class Uniform(DistributionModel):
...     vocab = Vocab(["a", "b"])
...     def next_distribution(self, context=()):
...         p = np.zeros(len(self.vocab))
...         p[[self.vocab.id("a"), self.vocab.id("b"), self.vocab.id("</s>")]] = 1 / 3
...         return p
>>> round(Uniform().perplexity(["a b"]).perplexity, 6)
3.0
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Protocol, Union, runtime_checkable

import numpy as np
import numpy.typing as npt

from nextword import _core
from nextword.corpus import CorpusLike
from nextword.sampling import MASK64, SamplingParams, random_seed, resolve_params
from nextword.vocab import Vocab

Text = Union[str, Sequence[str]]
Probabilities = npt.NDArray[np.float64]
LN10 = math.log(10.0)


@dataclass(frozen=True)
class Perplexity:
    """What KenLM's ``query`` summary reports, for one corpus, and the same
    figure as cross-entropy, so that every model's results print in one table.

    ``tokens`` counts every word plus one ``</s>`` per sentence; ``oovs`` the
    out-of-vocabulary words among them; ``logprob`` is the total log10 probability.
    """

    perplexity: float
    perplexity_excluding_oovs: float
    oovs: int
    tokens: int
    sentences: int
    logprob: float

    @classmethod
    def from_sums(
        cls, logprob: float, known_logprob: float, tokens: int, oovs: int, sentences: int
    ) -> Perplexity:
        """From summed log10 probabilities: of every token (``logprob``) and of
        the in-vocabulary ones (``known_logprob``). No token raises ValueError."""
        if tokens == 0:
            raise ValueError("no tokens to score")
        return cls(
            10.0 ** (-logprob / tokens),
            10.0 ** (-known_logprob / (tokens - oovs)) if tokens > oovs else math.nan,
            oovs,
            tokens,
            sentences,
            logprob,
        )

    @property
    def cross_entropy(self) -> float:
        """Mean negative log-probability per token, in nats (OOVs included)."""
        return -self.logprob * LN10 / self.tokens if self.tokens else math.nan

    @property
    def bits_per_token(self) -> float:
        """Cross-entropy in bits per token: log2 of the perplexity."""
        return self.cross_entropy / math.log(2.0)

    def __str__(self) -> str:
        return (
            f"Perplexity including OOVs:\t{self.perplexity}\n"
            f"Perplexity excluding OOVs:\t{self.perplexity_excluding_oovs}\n"
            f"OOVs:\t{self.oovs}\n"
            f"Tokens:\t{self.tokens}"
        )


@dataclass(frozen=True)
class Step:
    """One round of the word-guessing game: the chosen token, its probability
    under the (untruncated) model, and the top candidates with theirs."""

    token: str
    prob: float
    candidates: list[tuple[str, float]]


@dataclass(frozen=True)
class TokenScore:
    """One token of ``full_scores``: log10 p, the length of the context the
    model used plus one (the n-gram length), and whether it is out of the vocabulary."""

    token: str
    logprob: float
    ngram_length: int
    oov: bool


def rebase(log10_value: float, base: float) -> float:
    """A log10 value in another ``base`` (positive, finite and not 1).

    >>> rebase(2.0, 100.0)
    1.0
    """
    if not (isinstance(base, (int, float)) and math.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"a logarithm base must be positive, finite and not 1, not {base!r}")
    if base == 10.0:
        return log10_value
    return log10_value * LN10 / math.log(base)


@runtime_checkable
class LanguageModel(Protocol):
    """What every language model answers (see the module docs)."""

    @property
    def vocab(self) -> Vocab:
        """The vocabulary: ids of ``next_distribution`` and its tokenizer."""
        ...

    @property
    def order(self) -> Optional[int]:
        """How many tokens a prediction reads, the next one included (None: unbounded)."""
        ...

    def next_distribution(self, context: Text = ()) -> Probabilities:
        """p(w | context) for every vocabulary id; the context starts a sentence."""
        ...

    def logprob(self, word: str, context: Text = ()) -> float:
        """log10 p(word | context) (another base with ``base=``)."""
        ...

    def score(self, sentence: Text) -> float:
        """log10 probability of a sentence, ``</s>`` included."""
        ...

    def full_scores(self, sentence: Text) -> list[TokenScore]:
        """Per-token scores of a sentence, ``</s>`` included."""
        ...

    def perplexity(self, corpus: CorpusLike) -> Perplexity:
        """Perplexity of a corpus, one sentence per line."""
        ...

    def predict(self, context: Text = (), k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most probable next words with their probabilities, best first."""
        ...

    def generate(self, prompt: Text = (), max_tokens: int = 50) -> str:
        """Text generated after ``prompt``."""
        ...

    def stream(self, prompt: Text = (), max_tokens: int = 50) -> Iterator[Step]:
        """The steps of :meth:`generate`, each explained."""
        ...


class NextTokenModel(Protocol):
    """The least a model needs for the generic functions below."""

    @property
    def vocab(self) -> Vocab: ...

    def next_distribution(self, context: Text = ()) -> Probabilities: ...


# -- generic implementations: any model with a next-token distribution ----------------


def tokens_of(model: NextTokenModel, text: Text) -> list[str]:
    """Text split by the model's tokenizer; a sequence is taken as tokens."""
    return model.vocab.tokenizer.tokenize(text) if isinstance(text, str) else list(text)


def logprob(model: NextTokenModel, word: str, context: Text = (), base: float = 10.0) -> float:
    """log p(word | context) from the model's distribution (an OOV word is ``<unk>``)."""
    p = float(model.next_distribution(tokens_of(model, context))[model.vocab.id(word)])
    return rebase(math.log10(p) if p > 0 else -math.inf, base)


def token_logprobs(model: NextTokenModel, ids: Sequence[int]) -> npt.NDArray[np.float64]:
    """log10 p of each of ``ids`` (a sentence, ``</s>`` included if wanted),
    each given the sentence start and the ids before it.

    A :class:`DistributionModel` answers with its own
    :meth:`~DistributionModel.token_logprobs` (a state carried from token to
    token, or a neural model's one forward pass); any other model is asked
    ``next_distribution`` once per prefix, an out-of-vocabulary word read as ``<unk>``.
    """
    if isinstance(model, DistributionModel):
        return model.token_logprobs(ids)
    words = [model.vocab.word(i) for i in ids]
    probs = [model.next_distribution(words[:i])[token] for i, token in enumerate(ids)]
    return log10_of(np.asarray(probs, dtype=np.float64))


def log10_of(probs: Probabilities) -> npt.NDArray[np.float64]:
    """log10 of probabilities, -inf for 0 (without a warning)."""
    with np.errstate(divide="ignore"):
        result: npt.NDArray[np.float64] = np.log10(probs)
    return result


def full_scores(model: NextTokenModel, sentence: Text, eos: bool = True) -> list[TokenScore]:
    """Per-token log10 probabilities of a sentence, each given the tokens
    before it (see :func:`token_logprobs`)."""
    tokens = tokens_of(model, sentence) + (["</s>"] if eos else [])
    logps = token_logprobs(model, [model.vocab.id(t) for t in tokens])
    order = getattr(model, "order", None)
    return [
        # The n-gram length: the context used, <s> included, plus the token.
        TokenScore(
            t, float(lp), i + 2 if order is None else min(i + 2, order), t not in model.vocab
        )
        for i, (t, lp) in enumerate(zip(tokens, logps))
    ]


def score(model: NextTokenModel, sentence: Text, eos: bool = True, base: float = 10.0) -> float:
    """log probability of a sentence (``</s>`` included when ``eos``)."""
    return rebase(math.fsum(s.logprob for s in full_scores(model, sentence, eos)), base)


def perplexity(model: NextTokenModel, corpus: CorpusLike, **corpus_options: Any) -> Perplexity:
    """Perplexity of a corpus, sentence by sentence through :func:`token_logprobs`
    (the corpus is read and encoded by the core; OOVs are scored as ``<unk>``
    and reported as KenLM's ``query`` does)."""
    ids, offsets = model.vocab.encode_corpus(corpus, eos=True, progress=False, **corpus_options)
    total = inside = 0.0  # inside: the in-vocabulary tokens (finite when an OOV is -inf)
    oovs = 0
    unk = model.vocab.id("<unk>")
    for start, end in zip(offsets[:-1], offsets[1:]):
        sentence = ids[int(start) : int(end)]
        logps = token_logprobs(model, sentence.tolist())
        known = sentence != unk
        total += math.fsum(logps)
        inside += math.fsum(logps[known])
        oovs += len(sentence) - int(known.sum())
    return Perplexity.from_sums(total, inside, len(ids), oovs, len(offsets) - 1)


def predict(model: NextTokenModel, context: Text = (), k: int = 10) -> list[tuple[str, float]]:
    """The ``k`` most probable next words, best first, ties by lower id."""
    if k < 0:
        raise ValueError(f"k must be >= 0, not {k}")
    p = model.next_distribution(tokens_of(model, context))
    ids = np.flatnonzero(p > 0)
    best = ids[np.lexsort((ids, -p[ids]))][:k]
    return [(model.vocab.word(int(i)), float(p[i])) for i in best]


# -- generation: one loop for every model ------------------------------------------------


class Generation(Iterator[Step]):
    """A generation in progress: the model's state, the random state and the
    history, held by the core's one generation loop. Iterate for explained
    steps, or take every remaining id at once with :meth:`ids`; both draw the
    same tokens for the same seed."""

    def __init__(self, core: _core.Generation, vocab: Vocab, explain: int = 5) -> None:
        self._core = core
        self.vocab = vocab
        self.explain = explain

    def __next__(self) -> Step:
        step = self._core.next_step(self.explain)
        if step is None:
            raise StopIteration
        token, prob, candidates = step
        word = self.vocab.word
        return Step(word(token), prob, [(word(i), p) for i, p in candidates])

    def ids(self) -> npt.NDArray[np.uint32]:
        """Every id left to generate (the loop runs in Rust, without the GIL)."""
        return self._core.rest()

    def text(self) -> str:
        """Every token left, decoded; a final ``</s>`` is dropped."""
        ids = self.ids()
        if len(ids) and int(ids[-1]) == self.vocab.id("</s>"):
            ids = ids[:-1]
        return self.vocab.decode(ids) if len(ids) else ""


def stop_words(stop: Union[str, Sequence[str], None]) -> list[str]:
    """The stop tokens as a list (one token, several, or none)."""
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else list(stop)


def warn_unknown_prompt(prompt: Sequence[str], vocab: Vocab) -> None:
    """Warn when every token of a non-empty prompt is outside the vocabulary:
    the model then continues from nothing it knows, as if after ``<unk>``."""
    specials = ("<s>", "</s>", "<unk>")
    words = [t for t in prompt if t not in specials]
    if words and not any(t in vocab for t in words):
        shown = " ".join(words[:8]) + (" ..." if len(words) > 8 else "")
        warnings.warn(
            f"no word of the prompt {shown!r} is in the model's vocabulary, so the text "
            "generated does not follow from it",
            UnknownPromptWarning,
            stacklevel=4,
        )


class UnknownPromptWarning(UserWarning):
    """A prompt made only of words the model has never seen."""


class Generative(ABC):
    """``generate``, ``generate_ids`` and ``stream``, all through one
    :class:`Generation`, which the model makes in :meth:`generation`."""

    @property
    @abstractmethod
    def vocab(self) -> Vocab:
        """The vocabulary."""

    @abstractmethod
    def _start(
        self,
        prompt: list[str],
        bos: bool,
        params: SamplingParams,
        stop: list[str],
        max_tokens: int,
        rng_state: int,
    ) -> _core.Generation:
        """The core's generation loop over this model, after ``prompt`` tokens."""

    def generation(
        self,
        prompt: Text = (),
        max_tokens: int = 50,
        params: Optional[SamplingParams] = None,
        seed: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = ("</s>",),
        bos: bool = True,
        explain: int = 5,
    ) -> Generation:
        """Start generating after ``prompt`` (see :meth:`generate`); iterate
        for explained steps or call ``ids()`` / ``text()``."""
        if max_tokens < 0:
            raise ValueError(f"max_tokens must be >= 0, not {max_tokens}")
        if explain < 0:
            raise ValueError(f"explain must be >= 0, not {explain}")
        prompt = self.vocab.tokenizer.tokenize(prompt) if isinstance(prompt, str) else prompt
        warn_unknown_prompt(prompt, self.vocab)
        state = (random_seed() if seed is None else seed) & MASK64
        sp = params or SamplingParams()
        core = self._start(list(prompt), bos, sp, stop_words(stop), max_tokens, state)
        return Generation(core, self.vocab, explain)

    def generate_ids(
        self,
        prompt: Text = (),
        max_tokens: int = 50,
        temperature: float = 1.0,
        top_k: Optional[int] = None,
        top_p: Optional[float] = None,
        min_p: Optional[float] = None,
        repetition_penalty: Optional[float] = None,
        seed: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = ("</s>",),
        bos: bool = True,
        params: Optional[SamplingParams] = None,
    ) -> npt.NDArray[np.uint32]:
        """Generate token ids after ``prompt`` (not repeated), up to ``max_tokens``,
        stopping after a token of ``stop`` (kept). See :meth:`generate`."""
        sp = resolve_params(params, temperature, top_k, top_p, min_p, repetition_penalty)
        return self.generation(prompt, max_tokens, sp, seed, stop, bos).ids()

    def generate(
        self,
        prompt: Text = (),
        max_tokens: int = 50,
        temperature: float = 1.0,
        top_k: Optional[int] = None,
        top_p: Optional[float] = None,
        min_p: Optional[float] = None,
        repetition_penalty: Optional[float] = None,
        seed: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = ("</s>",),
        bos: bool = True,
        params: Optional[SamplingParams] = None,
    ) -> str:
        """Generate text after ``prompt``: the word-guessing game, played ``max_tokens`` times.

        ``temperature`` (0 = greedy), ``top_k``, ``top_p``, ``min_p`` and
        ``repetition_penalty`` shape each choice (see :mod:`nextword.sampling`;
        or pass them as one ``params=SamplingParams(...)``). The same ``seed``
        gives the same text everywhere. The returned text is the continuation
        only; a final ``</s>`` is dropped.
        """
        sp = resolve_params(params, temperature, top_k, top_p, min_p, repetition_penalty)
        return self.generation(prompt, max_tokens, sp, seed, stop, bos).text()

    def stream(
        self,
        prompt: Text = (),
        max_tokens: int = 50,
        temperature: float = 1.0,
        top_k: Optional[int] = None,
        top_p: Optional[float] = None,
        min_p: Optional[float] = None,
        repetition_penalty: Optional[float] = None,
        seed: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = ("</s>",),
        bos: bool = True,
        explain: int = 5,
        params: Optional[SamplingParams] = None,
    ) -> Iterator[Step]:
        """Play the game step by step: yield each chosen token with the top
        ``explain`` candidates and their probabilities. Same seed, same steps
        as :meth:`generate`."""
        sp = resolve_params(params, temperature, top_k, top_p, min_p, repetition_penalty)
        return self.generation(prompt, max_tokens, sp, seed, stop, bos, explain)


class DistributionModel(Generative):
    """Base of a model defined by its next-token distribution.

    Implement ``vocab`` and :meth:`next_distribution`; ``order`` says how many
    tokens a prediction reads (None: all of them). Generation carries a state
    from token to token: by default the context ids, replayed through
    :meth:`next_distribution` at every step. A neural model overrides
    :meth:`initial_state` and :meth:`advance` to carry its hidden state or
    cache instead, so that each step costs one token of work.
    """

    order: Optional[int] = None

    @abstractmethod
    def next_distribution(self, context: Text = ()) -> Probabilities:
        """p(w | context) for every vocabulary id; ``context`` starts a sentence."""

    def initial_state(self, context: Sequence[int]) -> tuple[Any, Probabilities]:
        """The state after ``context`` (ids) and the next token's distribution."""
        return self._after(list(context))

    def advance(self, state: Any, token: int) -> tuple[Any, Probabilities]:
        """The state after one more ``token`` and the distribution that follows it."""
        return self._after([*state, token])

    def token_logprobs(self, ids: Sequence[int]) -> npt.NDArray[np.float64]:
        """log10 p of each of ``ids`` given the sentence start and the ids before
        it, the state carried through :meth:`initial_state` and :meth:`advance`
        (one step per token, as in generation; a model that can score a whole
        sentence at once overrides this)."""
        probs = np.empty(len(ids))
        if len(ids):
            state, dist = self.initial_state([])
            for i, token in enumerate(ids):
                probs[i] = dist[token]
                if i + 1 < len(ids):
                    state, dist = self.advance(state, token)
        return log10_of(probs)

    def _after(self, ids: list[int]) -> tuple[list[int], Probabilities]:
        if self.order is not None:
            # Only the last order - 1 ids matter (and then the sentence start does not).
            ids = ids[len(ids) - self.order + 1 :] if len(ids) >= self.order else ids
        words = [self.vocab.word(i) for i in ids]
        probs = np.ascontiguousarray(self.next_distribution(words), dtype=np.float64)
        if probs.shape != (len(self.vocab),):
            raise ValueError(
                f"next_distribution gave shape {probs.shape}, not ({len(self.vocab)},)"
            )
        return ids, probs

    def _start(
        self,
        prompt: list[str],
        bos: bool,
        params: SamplingParams,
        stop: list[str],
        max_tokens: int,
        rng_state: int,
    ) -> _core.Generation:
        # The prompt always starts a sentence here: ``next_distribution`` says so.
        ids = [self.vocab.id(t) for t in prompt]
        stop_ids = [self.vocab.id(w) for w in stop]
        return _core.Generation.over(self, ids, params, stop_ids, max_tokens, rng_state)

    def logprob(self, word: str, context: Text = (), base: float = 10.0) -> float:
        """log p(word | context): log10 by default."""
        return logprob(self, word, context, base)

    def full_scores(self, sentence: Text, eos: bool = True) -> list[TokenScore]:
        """Per-token scores of a sentence."""
        return full_scores(self, sentence, eos)

    def score(self, sentence: Text, eos: bool = True, base: float = 10.0) -> float:
        """log probability of a sentence (log10 by default)."""
        return score(self, sentence, eos, base)

    def perplexity(self, corpus: CorpusLike, **corpus_options: Any) -> Perplexity:
        """Perplexity of a corpus."""
        return perplexity(self, corpus, **corpus_options)

    def predict(self, context: Text = (), k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most probable next words."""
        return predict(self, context, k)


__all__ = [
    "DistributionModel",
    "Generation",
    "Generative",
    "LanguageModel",
    "NextTokenModel",
    "Perplexity",
    "Step",
    "TokenScore",
    "UnknownPromptWarning",
    "full_scores",
    "logprob",
    "perplexity",
    "predict",
    "rebase",
    "score",
    "token_logprobs",
]

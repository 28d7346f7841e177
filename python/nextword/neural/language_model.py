"""What every neural language model shares: scoring, perplexity, prediction and
generation on top of a forward pass, and the loss the training loop minimises.

A model subclasses :class:`NeuralLanguageModel` and provides ``forward`` (ids
``[B, T]`` and a state -> logits ``[B, T, V]``, the next state and a cache),
``backward`` (given ``d loss / d logits``) and ``start_state``. The sentence
start ``<s>`` is fed first and never predicted: its logit is masked, so the
next-token distribution covers the same outcomes as an n-gram model's and
perplexities are comparable on the same token stream.

Generation advances the model one token at a time through
:meth:`~NeuralLanguageModel.initial_state` and
:meth:`~NeuralLanguageModel.advance` (the protocol's names): a recurrent model
carries its hidden state, a Transformer its key/value cache.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Optional, TypeVar, Union

import numpy as np
import numpy.typing as npt

from nextword.corpus import CorpusLike
from nextword.lm import Perplexity, Step, TokenScore
from nextword.neural.cross_entropy import log_softmax, softmax_cross_entropy
from nextword.neural.module import Array, IntArray, Module
from nextword.sampling import Generator, random_seed, sample
from nextword.tokenizers import TokenizerLike
from nextword.vocab import Vocab

if TYPE_CHECKING:
    from nextword.neural.training import TrainingConfig

Text = Union[str, Sequence[str]]
Probabilities = npt.NDArray[np.float64]
UNK, BOS, EOS = 0, 1, 2
LN10 = math.log(10.0)
Model = TypeVar("Model", bound="NeuralLanguageModel")


class NeuralLanguageModel(Module):
    """Base of the neural models (see the module docs)."""

    #: Training feeds contiguous streams and carries the state across batches.
    stateful_training: bool = False
    #: The longest input the model reads at once in training (None: any).
    block_size: Optional[int] = None
    #: What the last :meth:`fit` reported (a ``TrainingHistory``).
    history: Any = None

    def __init__(self, vocab: Vocab, config: dict[str, Any]) -> None:
        super().__init__()
        self._vocab = vocab
        self.config = config  # the constructor's keyword arguments, saved in checkpoints

    @property
    def vocab(self) -> Vocab:
        """The vocabulary: ids of :meth:`next_distribution` and its tokenizer."""
        return self._vocab

    @property
    def order(self) -> Optional[int]:
        """How many tokens a prediction reads, the next one included (None: unbounded)."""
        return None

    # -- what a model implements ---------------------------------------------------------

    def start_state(self, batch: int) -> Any:
        """The state before the first input of ``batch`` sequences."""
        raise NotImplementedError

    def window_state(self, stream: IntArray, starts: IntArray) -> Any:
        """The state for training windows of ``stream`` starting at ``starts``
        (random-window training; None: the model needs none)."""
        return None

    def forward(
        self, ids: IntArray, state: Any, rng: Optional[np.random.Generator] = None
    ) -> tuple[Array, Any, Any]:
        """Logits ``[B, T, V]`` for ids ``[B, T]``, the next state, and a cache
        for :meth:`backward`. ``rng`` given means training (dropout on)."""
        raise NotImplementedError

    def backward(self, dlogits: Array, cache: Any) -> None:
        """Add every parameter's gradient, given ``d loss / d logits``."""
        raise NotImplementedError

    # -- training ------------------------------------------------------------------------

    def loss(
        self,
        inputs: IntArray,
        targets: IntArray,
        state: Any,
        rng: Optional[np.random.Generator] = None,
        gradients: bool = True,
    ) -> tuple[float, Any]:
        """Mean cross-entropy (nats) of ``targets`` after ``inputs``, and the next state.

        With ``gradients``, the parameters' gradients are set (not accumulated).
        Targets equal to ``<s>`` (after a ``</s>`` in a stream) are not counted.
        """
        logits, state, cache = self.forward(inputs, state, rng)
        logits[..., BOS] = -np.inf
        loss, dlogits = softmax_cross_entropy(logits, targets, (targets != BOS).astype(np.int8))
        if gradients:
            self.zero_grad()
            self.backward(dlogits, cache)
        return loss, state

    # -- inference -----------------------------------------------------------------------

    def _ids(self, text: Text) -> list[int]:
        tokens = self.vocab.tokenizer.tokenize(text) if isinstance(text, str) else text
        return [self.vocab.id(t) for t in tokens]

    def _probabilities(self, logits: Array) -> Probabilities:
        z = logits.astype(np.float64)
        z[BOS] = -np.inf
        e = np.exp(z - z.max())
        result: Probabilities = e / e.sum()
        return result

    def initial_state(self, context: Sequence[int]) -> tuple[Any, Probabilities]:
        """The state after ``<s>`` and the ``context`` ids, and the next token's distribution.

        >>> from nextword.neural import LSTMLanguageModel
        >>> model = LSTMLanguageModel(Vocab(["a", "b"]), hidden_dim=8, embed_dim=8)
        >>> state, p = model.initial_state([3])
        >>> round(float(p.sum()), 6), float(p[1])
        (1.0, 0.0)
        """
        ids = np.array([[BOS, *context]], dtype=np.int64)
        logits, state, _ = self.forward(ids, self.start_state(1))
        return state, self._probabilities(logits[0, -1])

    def advance(self, state: Any, token: int) -> tuple[Any, Probabilities]:
        """The state after one more ``token`` and the distribution that follows it."""
        logits, state, _ = self.forward(np.array([[token]], dtype=np.int64), state)
        return state, self._probabilities(logits[0, -1])

    def next_distribution(self, context: Text = ()) -> Probabilities:
        """p(w | context) for every vocabulary id; the context starts a sentence."""
        return self.initial_state(self._ids(context))[1]

    def sentence_logprobs(self, ids: Sequence[int]) -> npt.NDArray[np.float64]:
        """Natural-log probabilities of each of ``ids`` and of a final ``</s>``,
        each given ``<s>`` and the ids before it (one forward pass)."""
        inputs = np.array([[BOS, *ids]], dtype=np.int64)
        logits, _, _ = self.forward(inputs, self.start_state(1))
        z = logits[0].astype(np.float64)
        z[:, BOS] = -np.inf
        logp = log_softmax(z)
        result: npt.NDArray[np.float64] = logp[np.arange(len(ids) + 1), [*ids, EOS]]
        return result

    def logprob(self, word: str, context: Text = (), base: float = 10.0) -> float:
        """log p(word | context), log10 by default (an unknown word is ``<unk>``)."""
        p = float(self.next_distribution(context)[self.vocab.id(word)])
        return (math.log(p) if p > 0 else -math.inf) / math.log(base)

    def full_scores(self, sentence: Text) -> list[TokenScore]:
        """Per-token log10 scores of a sentence, ``</s>`` included."""
        tokens = self.vocab.tokenizer.tokenize(sentence) if isinstance(sentence, str) else sentence
        ids = [self.vocab.id(t) for t in tokens]
        logp = self.sentence_logprobs(ids) / LN10
        order = self.order
        return [
            TokenScore(t, float(lp), i + 2 if order is None else min(i + 2, order), i == UNK)
            for (t, i, lp) in zip([*tokens, "</s>"], [*ids, EOS], logp)
        ]

    def score(self, sentence: Text) -> float:
        """log10 probability of a sentence, ``</s>`` included."""
        return float(self.sentence_logprobs(self._ids(sentence)).sum() / LN10)

    def perplexity(self, corpus: CorpusLike, **corpus_options: Any) -> Perplexity:
        """Perplexity of a corpus, one sentence per line, as KenLM's ``query`` reports it.

        Each sentence starts afresh after ``<s>`` (as for an n-gram model).
        """
        ids, offsets = self.vocab.encode_corpus(corpus, progress=False, **corpus_options)
        total = oov_total = 0.0
        oovs = 0
        for start, end in zip(offsets[:-1], offsets[1:]):
            sentence = ids[int(start) : int(end)]
            logp = self.sentence_logprobs(sentence.tolist()) / LN10
            total += float(logp.sum())
            unknown = np.flatnonzero(sentence == UNK)
            oovs += len(unknown)
            oov_total += float(logp[unknown].sum())
        sentences = len(offsets) - 1
        tokens = len(ids) + sentences
        if sentences == 0:
            raise ValueError("no sentence to score")
        inside = total - oov_total
        return Perplexity(
            10.0 ** (-total / tokens),
            10.0 ** (-inside / (tokens - oovs)) if tokens > oovs else math.nan,
            oovs,
            tokens,
            sentences,
            total,
        )

    def predict(self, context: Text = (), k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most probable next words, best first (ties: lower id first)."""
        if k < 0:
            raise ValueError(f"k must be >= 0, not {k}")
        p = self.next_distribution(context)
        best = np.lexsort((np.arange(len(p)), -p))[:k]
        return [(self.vocab.word(int(i)), float(p[i])) for i in best if p[i] > 0]

    def stream(
        self,
        prompt: Text = (),
        max_tokens: int = 50,
        temperature: float = 1.0,
        top_k: Optional[int] = None,
        top_p: Optional[float] = None,
        seed: Optional[int] = None,
        stop: Sequence[str] = ("</s>",),
        explain: int = 5,
    ) -> Iterator[Step]:
        """Generate token by token after ``prompt``, yielding each choice with the
        top ``explain`` candidates. Each step advances the state by one token.

        >>> from nextword.neural import LSTMLanguageModel
        >>> model = LSTMLanguageModel(Vocab(["a", "b"]), hidden_dim=8, embed_dim=8)
        >>> steps = list(model.stream(max_tokens=3, seed=1))
        >>> len(steps) <= 3
        True
        """
        if max_tokens < 0:
            raise ValueError(f"max_tokens must be >= 0, not {max_tokens}")
        generator = Generator(random_seed() if seed is None else seed)
        stop_ids = {self.vocab.id(w) for w in stop}
        state, probs = self.initial_state(self._ids(prompt))
        for n in range(max_tokens):
            token = sample(
                probs, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator
            )
            best = np.lexsort((np.arange(len(probs)), -probs))[:explain]
            candidates = [(self.vocab.word(int(i)), float(probs[i])) for i in best]
            yield Step(self.vocab.word(token), float(probs[token]), candidates)
            if token in stop_ids or n + 1 == max_tokens:
                return
            state, probs = self.advance(state, token)

    def generate(
        self,
        prompt: Text = (),
        max_tokens: int = 50,
        temperature: float = 1.0,
        top_k: Optional[int] = None,
        top_p: Optional[float] = None,
        seed: Optional[int] = None,
        stop: Sequence[str] = ("</s>",),
    ) -> str:
        """Text generated after ``prompt`` (the continuation only; a final ``</s>`` dropped).

        The same ``seed`` gives the same text (the project's seeded sampler).
        """
        steps = self.stream(prompt, max_tokens, temperature, top_k, top_p, seed, stop, 0)
        tokens = [s.token for s in steps]
        if tokens and tokens[-1] == "</s>":
            tokens.pop()
        return self.vocab.decode([self.vocab.id(t) for t in tokens]) if tokens else ""

    # -- training and files --------------------------------------------------------------

    @classmethod
    def fit(
        cls: type[Model],
        corpus: CorpusLike,
        tokenizer: TokenizerLike = None,
        *,
        training: Optional[TrainingConfig] = None,
        valid: Optional[CorpusLike] = None,
        checkpoint: Optional[str] = None,
        progress: Optional[bool] = None,
        min_count: int = 1,
        max_size: Optional[int] = None,
        **model_options: Any,
    ) -> Model:
        """Build a vocabulary from ``corpus``, make a model and train it.

        ``model_options`` go to the constructor, ``training`` holds the training
        loop's settings (see :func:`~nextword.neural.train`); the run's history
        is left in ``model.history``.

        >>> from nextword.neural import LSTMLanguageModel, TrainingConfig
        >>> lm = LSTMLanguageModel.fit(["a b a b"] * 20, training=TrainingConfig(steps=5),
        ...                            hidden_dim=8, embed_dim=8, progress=False)
        >>> len(lm.history.losses)
        5
        """
        from nextword.neural.training import train

        vocab = Vocab.from_corpus(
            corpus, tokenizer=tokenizer, min_count=min_count, max_size=max_size, progress=False
        )
        model = cls(vocab, **model_options)
        model.history = train(
            model, corpus, training, valid=valid, checkpoint=checkpoint, progress=progress
        )
        return model

    def save(self, path: str) -> None:
        """Write weights, configuration and vocabulary to ``path`` (see
        :mod:`nextword.neural.checkpoint`)."""
        from nextword.neural.checkpoint import save_checkpoint

        save_checkpoint(path, self)

    @staticmethod
    def load(path: str) -> NeuralLanguageModel:
        """Read a model written by :meth:`save` or by training (any neural class)."""
        from nextword.neural.checkpoint import load_checkpoint

        return load_checkpoint(path).model


__all__ = ["BOS", "EOS", "UNK", "NeuralLanguageModel", "Probabilities", "Text"]

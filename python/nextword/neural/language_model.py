"""What every neural language model shares: the protocol's
:class:`~nextword.model.DistributionModel` on top of a forward pass, and the
loss the training loop minimises.

A model subclasses :class:`NeuralLanguageModel` and provides ``forward`` (ids
``[B, T]`` and a state -> logits ``[B, T, V]``, the next state and a cache),
``backward`` (given ``d loss / d logits``) and ``start_state``. The sentence
start ``<s>`` is fed first and never predicted: its logit is masked, so the
next-token distribution covers the same outcomes as an n-gram model's and
perplexities are comparable on the same token stream.

Generation is the protocol's one loop (in Rust, with the one seeded sampler):
it advances the model one token at a time through
:meth:`~NeuralLanguageModel.initial_state` and
:meth:`~NeuralLanguageModel.advance`, a recurrent model carrying its hidden
state, a Transformer its key/value cache. Scoring a sentence is one forward
pass (:meth:`~NeuralLanguageModel.token_logprobs`); logprob, score,
full_scores, perplexity and predict come from the base.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional, TypeVar

import numpy as np
import numpy.typing as npt

from nextword.corpus import CorpusLike
from nextword.model import DistributionModel, Perplexity, Probabilities, Text
from nextword.neural.cross_entropy import log_softmax, softmax_cross_entropy
from nextword.neural.module import Array, IntArray, Module
from nextword.tokenizers import TokenizerLike
from nextword.vocab import Vocab

if TYPE_CHECKING:
    from nextword.embeddings import WordVectors
    from nextword.neural.training import TrainingConfig

UNK, BOS, EOS = 0, 1, 2
LN10 = math.log(10.0)
Model = TypeVar("Model", bound="NeuralLanguageModel")


class NeuralLanguageModel(DistributionModel, Module):
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

    # -- what a model implements ---------------------------------------------------------

    def start_state(self, batch: int) -> Any:
        """The state before the first input of ``batch`` sequences."""
        raise NotImplementedError

    def sentence_state(self, batch: int) -> Any:
        """The state ``batch`` sentences start from when scored or generated one
        by one (before their ``<s>``): :meth:`start_state` unless a model says
        otherwise."""
        return self.start_state(batch)

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
        loss, dlogits = softmax_cross_entropy(
            logits, targets, (targets != BOS).astype(np.int8), inplace=True
        )
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
        logits, state, _ = self.forward(ids, self.sentence_state(1))
        return state, self._probabilities(logits[0, -1])

    def advance(self, state: Any, token: int) -> tuple[Any, Probabilities]:
        """The state after one more ``token`` and the distribution that follows it."""
        logits, state, _ = self.forward(np.array([[token]], dtype=np.int64), state)
        return state, self._probabilities(logits[0, -1])

    def next_distribution(self, context: Text = ()) -> Probabilities:
        """p(w | context) for every vocabulary id; the context starts a sentence."""
        return self.initial_state(self._ids(context))[1]

    def token_logprobs(self, ids: Sequence[int]) -> npt.NDArray[np.float64]:
        """log10 p of each of ``ids`` given ``<s>`` and the ids before it, all
        from one forward pass (the sentence's ``</s>`` is the caller's to include)."""
        if not len(ids):
            return np.empty(0)
        inputs = np.array([[BOS, *ids[:-1]]], dtype=np.int64)
        logits, _, _ = self.forward(inputs, self.sentence_state(1))
        z = logits[0].astype(np.float64)
        z[:, BOS] = -np.inf
        result: npt.NDArray[np.float64] = log_softmax(z)[np.arange(len(ids)), ids] / LN10
        return result

    def perplexity(self, corpus: CorpusLike, **corpus_options: Any) -> Perplexity:
        """Perplexity of a corpus, each sentence from ``<s>``, scored in padded
        batches (see :mod:`nextword.neural.scoring`); the protocol's figures.

        >>> from nextword.neural import LSTMLanguageModel
        >>> lm = LSTMLanguageModel(Vocab(["a", "b"]), embed_dim=4, hidden_dim=4)
        >>> lm.perplexity(["a b", "b a a"]).tokens
        7
        """
        from nextword.neural.scoring import perplexity

        corpus_options.pop("threads", None)  # the numpy forward pass picks its own
        return perplexity(self, corpus, **corpus_options)

    def score_sentences(
        self, corpus: CorpusLike, **corpus_options: Any
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        """Per-sentence ``(log10 p, tokens, oovs)`` of a corpus, as
        :meth:`nextword.NGramLM.score_sentences`, batched."""
        from nextword.neural.scoring import score_sentences

        corpus_options.pop("threads", None)
        corpus_options.pop("progress", None)
        return score_sentences(self, corpus, **corpus_options)

    def annotate_jsonl(self, paths: Any, output: Any = None, **options: Any) -> int:
        """Copy JSONL records adding their perplexity, as :meth:`nextword.NGramLM.annotate_jsonl`
        (see :func:`nextword.neural.scoring.annotate_jsonl`)."""
        from nextword.neural.scoring import annotate_jsonl

        options.pop("threads", None)
        options.pop("progress", None)
        return annotate_jsonl(self, paths, output, **options)

    # -- initialisation from word2vec ------------------------------------------------

    def from_word_vectors(self, vectors: WordVectors) -> int:
        """Start the token embeddings from word2vec ``vectors``: the row of each
        vocabulary word found in ``vectors`` is copied (as it is, unscaled), the
        others keep their random initialisation; returns the number copied. The
        dimensions must match (:class:`~nextword.errors.TrainingError` naming both). With
        tied weights the output projection starts from them too.

        >>> import numpy as np
        >>> from nextword import WordVectors
        >>> from nextword.neural import LSTMLanguageModel
        >>> lm = LSTMLanguageModel(Vocab(["a", "b"]), embed_dim=2, hidden_dim=4)
        >>> lm.from_word_vectors(WordVectors(["b", "z"], np.ones((2, 2))))
        1
        """
        from nextword.errors import TrainingError
        from nextword.neural.embedding import Embedding

        table = self.children.get("embed", self.children.get("wte"))
        if not isinstance(table, Embedding):
            raise TrainingError(f"{type(self).__name__} has no token embedding to initialise")
        dim = table.weight.shape[1]
        if vectors.dim != dim:
            raise TrainingError(
                f"word vectors of dimension {vectors.dim} cannot start embeddings of "
                f"dimension {dim}: train the vectors with dim={dim} or change the model's width"
            )
        words = self.vocab.words()
        found = [(i, vectors.vocab[w]) for i, w in enumerate(words) if w in vectors.vocab]
        if found:
            rows, sources = map(np.array, zip(*found))
            table.copy_rows(rows, vectors.vectors[sources].astype(table.weight.dtype))
        return len(found)

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
        word_vectors: Optional[WordVectors] = None,
        **model_options: Any,
    ) -> Model:
        """Build a vocabulary from ``corpus``, make a model and train it.

        ``model_options`` go to the constructor, ``word_vectors`` (optional) start
        the embeddings (:meth:`from_word_vectors`), ``training`` holds the training
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
        if word_vectors is not None:
            model.from_word_vectors(word_vectors)
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

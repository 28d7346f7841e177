"""Mixtures of language models: :class:`Interpolated`, with weights fitted by EM.

``p(w | h) = sum_i lambda_i p_i(w | h)`` for any models on the protocol
(n-gram, neural, the ∞-gram of a :class:`~nextword.CorpusIndex`). The weights
that maximise the likelihood of held-out text are found by expectation
maximisation: each token's posterior share of every model, averaged, is the
next weight (the likelihood never decreases from one step to the next).

>>> import numpy as np
>>> from nextword import Vocab
>>> from nextword.model import DistributionModel
>>> class Fixed(DistributionModel):
...     vocab = Vocab(["a", "b"])
...     def __init__(self, p): self.p = np.array(p)
...     def next_distribution(self, context=()): return self.p
>>> good, bad = Fixed([0, 0, 0, 0.5, 0.5]), Fixed([0, 0, 0.8, 0.1, 0.1])
>>> mix = Interpolated([good, bad], weights=[0.5, 0.5])
>>> float(mix.next_distribution()[2])  # </s>: only the second model gives it
0.4
>>> mix.fit(["a b a"]).weights.round(4).tolist()  # the likelihood's maximum: 1.1 / 1.6
[0.6875, 0.3125]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np
import numpy.typing as npt

from nextword.corpus import CorpusLike
from nextword.errors import VocabularyMismatchError
from nextword.model import (
    DistributionModel,
    NextTokenModel,
    Probabilities,
    Text,
    log10_of,
    token_logprobs,
)
from nextword.vocab import Vocab


class Interpolated(DistributionModel):
    """A linear mixture of models sharing one set of words (their ids may
    differ: each model's distribution is mapped onto the first model's ids).

    ``weights`` default to equal; they must be non-negative and are
    normalised to sum to 1. :meth:`fit` sets them by EM on held-out text.
    """

    def __init__(
        self, models: Sequence[NextTokenModel], weights: Optional[Sequence[float]] = None
    ) -> None:
        if not models:
            raise ValueError("an interpolation needs at least one model")
        self.models = list(models)
        self._vocab = self.models[0].vocab
        words = self._vocab.words()
        self._maps: list[Optional[npt.NDArray[np.intp]]] = []
        for i, m in enumerate(self.models):
            other = m.vocab.words()
            if other == words:
                self._maps.append(None)
                continue
            if sorted(other) != sorted(words):
                raise VocabularyMismatchError(
                    f"model {i} has another set of words than model 0 "
                    f"({len(other)} and {len(words)} words)"
                )
            self._maps.append(np.array([m.vocab.id(w) for w in words], dtype=np.intp))
        self.weights = self._check(weights if weights is not None else [1.0] * len(self.models))
        orders = [getattr(m, "order", None) for m in self.models]
        self.order = None if None in orders else max(o for o in orders if o is not None)

    def _check(self, weights: Sequence[float]) -> npt.NDArray[np.float64]:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(self.models),):
            raise ValueError(f"{len(self.models)} models need {len(self.models)} weights")
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"weights must be finite, >= 0 and not all 0, not {list(weights)}")
        result: npt.NDArray[np.float64] = w / w.sum()
        return result

    @property
    def vocab(self) -> Vocab:
        """The first model's vocabulary."""
        return self._vocab

    def _components(self, context: Text) -> npt.NDArray[np.float64]:
        """Each model's distribution after ``context`` in model 0's ids: [models, vocab]."""
        rows = []
        for m, mapping in zip(self.models, self._maps):
            p = np.asarray(m.next_distribution(context), dtype=np.float64)
            rows.append(p if mapping is None else p[mapping])
        return np.stack(rows)

    def next_distribution(self, context: Text = ()) -> Probabilities:
        """The weighted sum of the models' distributions."""
        result: Probabilities = self.weights @ self._components(context)
        return result

    def _token_probs(self, ids: Sequence[int]) -> npt.NDArray[np.float64]:
        """p of each of ``ids`` (model 0's ids, a sentence) under each model,
        each given the sentence start and the ids before it: [tokens, models].
        Each model scores the sentence its own way (a carried state, a neural
        model's one forward pass), not a whole distribution per prefix."""
        columns = []
        for m, mapping in zip(self.models, self._maps):
            own = list(ids) if mapping is None else [int(mapping[i]) for i in ids]
            columns.append(10.0 ** token_logprobs(m, own))
        return np.stack(columns, axis=1)  # the constructor refuses an empty mixture

    def token_logprobs(self, ids: Sequence[int]) -> npt.NDArray[np.float64]:
        """log10 of the mixture's p of each of ``ids`` given the ids before it:
        the weighted sum of each model's own sentence scores."""
        return log10_of(self._token_probs(ids) @ self.weights)

    def fit(
        self,
        heldout: CorpusLike,
        iterations: int = 1000,
        tolerance: float = 1e-7,
        **corpus_options: Any,
    ) -> Interpolated:
        """Set the weights by EM on held-out text (one sentence per line, ``</s>``
        included); stops when no weight moves more than ``tolerance``. Returns self."""
        ids, offsets = self.vocab.encode_corpus(heldout, eos=True, progress=False, **corpus_options)
        probs = [
            self._token_probs(ids[int(start) : int(end)].tolist())
            for start, end in zip(offsets[:-1], offsets[1:])
        ]
        p = np.concatenate(probs) if probs else np.empty((0, len(self.models)))
        if not len(p):
            raise ValueError("no held-out tokens to fit the weights on")
        w = self.weights.copy()
        for _ in range(iterations):
            mixed = p @ w
            usable = mixed > 0  # a token no model can give: no information on the weights
            if not usable.any():
                break
            share = (p[usable] * w) / mixed[usable, None]
            new = share.mean(axis=0)
            moved = float(np.abs(new - w).max())
            w = new
            if moved < tolerance:
                break
        self.weights = self._check(w)
        return self


__all__ = ["Interpolated"]

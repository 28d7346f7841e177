"""N-gram language models: :class:`NGramLM`.

Fit from counts or a corpus with Kneser-Ney (as KenLM's ``lmplz``), MLE,
add-k, Witten-Bell or stupid backoff; score text, compute perplexity as KenLM's
``query`` does, and ask for the next word.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from nextword import _core
from nextword.corpus import CorpusLike, as_corpus
from nextword.counts import MAX_ORDER, NGramCounts
from nextword.sampling import Generator, SamplingParams, random_seed
from nextword.sampling import check as check_sampling
from nextword.tokenizers import Tokenizer, TokenizerLike, as_tokenizer
from nextword.vocab import Vocab

Text = Union[str, Sequence[str]]
SMOOTHINGS = ("kneser-ney", "mle", "add-k", "witten-bell", "stupid-backoff")
LN10 = math.log(10.0)
BINARY_MAGIC = b"NWLMBIN\0"


@dataclass(frozen=True)
class Perplexity:
    """What KenLM's ``query`` summary reports, for one corpus.

    ``tokens`` counts every word plus one ``</s>`` per sentence; ``oovs`` the
    out-of-vocabulary words among them.
    """

    perplexity: float
    perplexity_excluding_oovs: float
    oovs: int
    tokens: int
    sentences: int
    logprob: float

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
    """One token of :meth:`NGramLM.full_scores`."""

    token: str
    logprob: float
    ngram_length: int
    oov: bool


class NGramLM:
    """An n-gram language model.

    >>> lm = NGramLM.fit(["the cat sat", "the cat ran", "a dog sat"], order=2)
    >>> lm.predict("the", k=1)
    [('cat', 0.5...)]
    >>> round(lm.prob("cat", "the"), 3)
    0.5...
    """

    def __init__(self, core: _core.NGramLM) -> None:
        self._core = core
        self._vocab: Optional[Vocab] = None
        self.tokenizer: Tokenizer = Tokenizer.from_spec(core.vocab.tokenizer)

    @classmethod
    def _fitted(cls, core: _core.NGramLM) -> NGramLM:
        """A freshly estimated model: its estimation warnings are raised now."""
        for message in core.warnings:
            warnings.warn(message, stacklevel=3)
        return cls(core)

    @property
    def warnings(self) -> list[str]:
        """What estimation warned about (discount fallbacks), kept with the model."""
        return list(self._core.warnings)

    # -- building -------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        corpus_or_counts: Union[NGramCounts, CorpusLike],
        order: Optional[int] = None,
        smoothing: str = "kneser-ney",
        tokenizer: TokenizerLike = None,
        k: float = 1.0,
        alpha: float = 0.4,
        interpolate_unigrams: bool = True,
        discounts: Optional[Sequence[Sequence[float]]] = None,
        threads: int = 0,
        progress: Optional[bool] = None,
        **corpus_options: Any,
    ) -> NGramLM:
        """Fit a model of ``order`` to counts or to a corpus.

        ``smoothing``: ``"kneser-ney"`` (interpolated modified Kneser-Ney,
        reproducing KenLM's lmplz; ``interpolate_unigrams=False`` is lmplz's
        ``--interpolate_unigrams 0``; ``discounts`` sets D1, D2, D3+ per order; where
        discounts cannot be estimated it falls back to 0.5, 1, 1.5 with a warning),
        ``"mle"``, ``"add-k"`` (``k``; Laplace is ``k=1``), ``"witten-bell"`` or
        ``"stupid-backoff"`` (``alpha``; scores, not probabilities).
        """
        triples: Optional[list[tuple[float, float, float]]] = None
        if discounts is not None:
            if any(len(d) != 3 for d in discounts):
                raise ValueError("discounts: one (D1, D2, D3+) triple per order")
            triples = [(float(d[0]), float(d[1]), float(d[2])) for d in discounts]
        if isinstance(corpus_or_counts, NGramCounts):
            counts = corpus_or_counts
            core = _core.NGramLM.fit(
                counts._core,
                counts.order if order is None else order,
                smoothing,
                k,
                alpha,
                interpolate_unigrams,
                triples,
            )
            return cls._fitted(core)
        order = 3 if order is None else order
        if threads < 0:
            raise ValueError(f"threads must be >= 0 (0 = every core), not {threads}")
        if not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
            raise ValueError(f"order must be an int in 1..{MAX_ORDER}, not {order!r}")
        c = as_corpus(corpus_or_counts, **corpus_options)
        core = _core.NGramLM.fit_corpus(
            c.core_args(),
            order=order,
            tokenizer=as_tokenizer(tokenizer).spec,
            threads=threads,
            progress=progress,
            smoothing=smoothing,
            k=k,
            alpha=alpha,
            interpolate_unigrams=interpolate_unigrams,
            discounts=triples,
        )
        return cls._fitted(core)

    # -- files ----------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: Union[str, os.PathLike[str]],
        tokenizer: TokenizerLike = None,
        verify: Optional[bool] = None,
    ) -> NGramLM:
        """Open a model file: the binary format (memory-mapped, opens in
        milliseconds and is shared between processes) or ARPA (``.arpa``,
        ``.arpa.gz``, ``.arpa.zst``), told apart by their first bytes.

        Both formats remember the tokenizer the model was trained with (an ARPA
        file in a ``# nextword tokenizer:`` comment that KenLM skips; files
        without one, KenLM's among them, mean the whitespace tokenizer). A
        ``tokenizer`` given here replaces it, with a warning when it differs.
        ``verify`` checks the checksum of every array of a binary model
        (default: for files under 1 GiB).

        ARPA files from other tools are read by KenLM's rules: n-grams whose
        suffix was pruned (SRILM) are reached through blank entries, a file
        without ``<unk>`` scores unknown words at log10 p = -100 (with a
        warning), and an n-gram without its context is refused. A malformed
        file raises :class:`~nextword.ModelFormatError` naming the line.
        """
        from nextword.tokenizers import as_tokenizer

        p = os.fspath(path)
        spec = None if tokenizer is None else as_tokenizer(tokenizer).spec
        with open(p, "rb") as f:
            head = f.read(8)
        if head == BINARY_MAGIC:
            if verify is None:
                verify = os.path.getsize(p) < (1 << 30)
            core, notes = _core.NGramLM.load_binary(p, verify, spec)
        else:
            core, notes = _core.NGramLM.load_arpa(p, spec)
        for message in notes:
            warnings.warn(message, stacklevel=2)
        return cls(core)

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Write the model: ARPA when the name ends in ``.arpa`` (``.arpa.gz``
        compresses), else the binary format (``.nwlm``). Written atomically."""
        p = os.fspath(path)
        name = os.path.basename(p).lower()
        if name.endswith((".arpa", ".arpa.gz", ".lm", ".lm.gz")):
            self._core.save_arpa(p)
        else:
            self._core.save_binary(p)

    # -- facts ----------------------------------------------------------------------
    @property
    def order(self) -> int:
        """The order N."""
        return self._core.order

    @property
    def smoothing(self) -> str:
        """The estimator's name (``arpa`` for a loaded file)."""
        return self._core.smoothing

    @property
    def vocab(self) -> Vocab:
        """The vocabulary (built once, then cached)."""
        if self._vocab is None:
            self._vocab = Vocab._wrap(self._core.vocab)
        return self._vocab

    @property
    def discounts(self) -> list[tuple[float, float, float]]:
        """Kneser-Ney discounts (D1, D2, D3+) per order (empty for other models)."""
        return [tuple(d) for d in self._core.discounts]  # type: ignore[misc]

    def sizes(self) -> list[int]:
        """Number of n-grams of each order."""
        return self._core.sizes()

    def __repr__(self) -> str:
        return f"NGramLM(order={self.order}, smoothing={self.smoothing!r}, sizes={self.sizes()})"

    # -- scoring --------------------------------------------------------------------
    def _tokens(self, text: Text) -> list[str]:
        return self.tokenizer.tokenize(text) if isinstance(text, str) else list(text)

    def logprob(self, word: str, context: Text = (), bos: bool = True, base: float = 10.0) -> float:
        """log p(word | context): log10 by default, natural log with ``base=math.e``.

        ``context`` is the start of a sentence (text or tokens); ``bos`` puts
        ``<s>`` before it.
        """
        lp, _, _ = self._core.logprob(word, self._tokens(context), bos)
        return _rebase(lp, base)

    def prob(self, word: str, context: Text = (), bos: bool = True) -> float:
        """p(word | context)."""
        return float(10.0 ** self.logprob(word, context, bos))

    def score(
        self, sentence: Text, bos: bool = True, eos: bool = True, base: float = 10.0
    ) -> float:
        """log probability of a sentence (log10 like KenLM; ``</s>`` included when ``eos``)."""
        total = np.float32(0.0)
        for lp, _, _ in self._core.full_scores(self._tokens(sentence), bos, eos):
            total = np.float32(total + np.float32(lp))
        return _rebase(float(total), base)

    def full_scores(self, sentence: Text, bos: bool = True, eos: bool = True) -> list[TokenScore]:
        """Per-token scores: log10 p, the length of the n-gram used, and the OOV flag."""
        tokens = self._tokens(sentence)
        scores = self._core.full_scores(tokens, bos, eos)
        names = tokens + (["</s>"] if eos else [])
        return [TokenScore(t, lp, n, oov) for t, (lp, n, oov) in zip(names, scores)]

    def perplexity(
        self,
        corpus: CorpusLike,
        threads: int = 0,
        progress: Optional[bool] = None,
        **corpus_options: Any,
    ) -> Perplexity:
        """Perplexity of a corpus (in parallel), as KenLM's ``query`` reports it."""
        c = as_corpus(corpus, **corpus_options)
        d = self._core.evaluate(c.core_args(), threads=threads, progress=progress)
        tokens, oovs = int(d["tokens"]), int(d["oovs"])
        if tokens == 0:
            raise ValueError("no tokens to score")
        inc = 10.0 ** (-d["logprob"] / tokens)
        # KenLM subtracts the OOVs' log-probabilities from the total; when one is
        # -inf (MLE, stupid backoff) the in-vocabulary sum is used instead.
        iv = d["logprob"] - d["oov_logprob"] if math.isfinite(d["oov_logprob"]) else d["iv_logprob"]
        exc = 10.0 ** (-iv / (tokens - oovs)) if tokens > oovs else float("nan")
        return Perplexity(inc, exc, oovs, tokens, int(d["sentences"]), float(d["logprob"]))

    def score_many(
        self,
        corpus: CorpusLike,
        bos: bool = True,
        eos: bool = True,
        threads: int = 0,
        progress: Optional[bool] = None,
        **corpus_options: Any,
    ) -> npt.NDArray[np.float64]:
        """log10 probability of every sentence of a corpus, in parallel, in corpus order."""
        return self.score_sentences(corpus, bos, eos, threads, progress, **corpus_options)[0]

    def score_sentences(
        self,
        corpus: CorpusLike,
        bos: bool = True,
        eos: bool = True,
        threads: int = 0,
        progress: Optional[bool] = None,
        **corpus_options: Any,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        """Per-sentence ``(log10 p, tokens, oovs)`` arrays of a corpus, in corpus order."""
        c = as_corpus(corpus, **corpus_options)
        return self._core.score_sentences(
            c.core_args(), bos=bos, eos=eos, threads=threads, progress=progress
        )

    def annotate_jsonl(
        self,
        paths: Union[str, os.PathLike[str], Sequence[Union[str, os.PathLike[str]]]],
        output: Union[str, os.PathLike[str], None] = None,
        text_field: str = "text",
        out_field: str = "perplexity",
        errors: str = "strict",
        threads: int = 0,
        progress: Optional[bool] = None,
    ) -> int:
        """Copy JSONL records adding their perplexity (to ``output``, or stdout).

        Each record's ``text_field`` is scored line by line as sentences; the
        perplexity of the whole text (OOVs included) goes into ``out_field``.
        Records keep their key order and their order. Returns the number written.
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        import sys

        sys.stdout.flush()
        return self._core.annotate_jsonl(
            [os.fspath(p) for p in paths],
            None if output is None else os.fspath(output),
            text_field,
            out_field,
            errors,
            threads,
            progress,
        )

    # -- the next word --------------------------------------------------------------
    def predict(self, context: Text = (), k: int = 10, bos: bool = True) -> list[tuple[str, float]]:
        """The ``k`` most probable next words with their probabilities, best first.

        Exact for interpolated models: candidates come from each order's
        successor lists in probability order, never from scoring the whole vocabulary.
        """
        if k < 0:
            raise ValueError(f"k must be >= 0, not {k}")
        return [(w, 10.0**lp) for w, lp in self._core.predict(self._tokens(context), k, bos)]

    # -- generation -----------------------------------------------------------------
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
    ) -> npt.NDArray[np.uint32]:
        """Generate token ids after ``prompt`` (not repeated), up to ``max_tokens``,
        stopping after a token of ``stop`` (kept). See :meth:`generate`."""
        check_sampling(temperature, top_k, top_p, min_p, repetition_penalty, max_tokens)
        state = random_seed() if seed is None else seed
        ids, _ = self._core.generate(
            self._tokens(prompt),
            bos,
            max_tokens,
            _stop_tokens(stop),
            state & 0xFFFF_FFFF_FFFF_FFFF,
            temperature,
            top_k,
            top_p,
            min_p,
            repetition_penalty,
        )
        return np.asarray(ids, dtype=np.uint32)

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
    ) -> str:
        """Generate text after ``prompt``: the word-guessing game, played ``max_tokens`` times.

        ``temperature`` (0 = greedy), ``top_k``, ``top_p``, ``min_p`` and
        ``repetition_penalty`` shape each choice (see :mod:`nextword.sampling`);
        untruncated and truncated sampling are exact over the model's true
        distribution. The same ``seed`` gives the same text everywhere. The
        returned text is the continuation only; a final ``</s>`` is dropped.

        >>> lm = NGramLM.fit(["a b c", "a b d"], order=2)
        >>> lm.generate("a", temperature=0, seed=1)
        'b c'
        """
        ids = self.generate_ids(
            prompt,
            max_tokens,
            temperature,
            top_k,
            top_p,
            min_p,
            repetition_penalty,
            seed,
            stop,
            bos,
        )
        tokens = self._core.tokens_of([int(i) for i in ids])
        if tokens and tokens[-1] == "</s>":
            tokens = tokens[:-1]
        return self.vocab.decode([self.vocab.id(t) for t in tokens]) if tokens else ""

    def generate_batch(
        self,
        prompts: Sequence[Text],
        max_tokens: int = 50,
        seed: int = 0,
        stop: Union[str, Sequence[str], None] = ("</s>",),
        bos: bool = True,
        **params: Optional[float],
    ) -> list[list[str]]:
        """Generate for many prompts in parallel; prompt ``i`` uses sequence ``i``
        of ``seed`` (same output whatever the thread count). Returns tokens."""
        sp = SamplingParams(**params)  # type: ignore[arg-type]
        check_sampling(**sp.as_kwargs(), max_tokens=max_tokens)  # type: ignore[arg-type]
        out = self._core.generate_batch(
            [self._tokens(p) for p in prompts],
            bos,
            max_tokens,
            _stop_tokens(stop),
            seed & 0xFFFF_FFFF_FFFF_FFFF,
            sp.temperature,
            sp.top_k,
            sp.top_p,
            sp.min_p,
            sp.repetition_penalty,
        )
        return [self._core.tokens_of(ids) for ids in out]

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
    ) -> Iterator[Step]:
        """Play the game step by step: yield each chosen token with the top
        ``explain`` candidates and their probabilities. Same seed, same steps
        as :meth:`generate`."""
        check_sampling(temperature, top_k, top_p, min_p, repetition_penalty, max_tokens)
        tokens = self._tokens(prompt)
        gen = Generator(random_seed() if seed is None else seed)
        stops = set(_stop_tokens(stop))
        for _ in range(max_tokens):
            result = self._core.step(
                tokens,
                bos,
                gen.state & 0xFFFF_FFFF_FFFF_FFFF,
                explain,
                temperature,
                top_k,
                top_p,
                min_p,
                repetition_penalty,
            )
            if result is None:
                return
            token, lp, gen.state, cands = result
            yield Step(token, 10.0**lp, [(w, 10.0**c) for w, c in cands])
            tokens.append(token)
            if token in stops:
                return

    def next_distribution(self, context: Text = (), bos: bool = True) -> npt.NDArray[np.float64]:
        """p(w | context) for every vocabulary id (index with ``lm.vocab``); ``<s>`` is 0."""
        return np.power(10.0, self._core.next_logprobs(self._tokens(context), bos))


def _stop_tokens(stop: Union[str, Sequence[str], None]) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else list(stop)


def _rebase(log10_value: float, base: float) -> float:
    if base == 10.0:
        return log10_value
    return log10_value * LN10 / math.log(base)


__all__ = ["NGramLM", "Perplexity", "SMOOTHINGS", "Step", "TokenScore"]

"""N-gram language models: :class:`NGramLM`.

Fit from counts or a corpus with Kneser-Ney (as KenLM's ``lmplz``), MLE,
add-k, Witten-Bell or stupid backoff; score text, compute perplexity as KenLM's
``query`` does, and ask for the next word.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from nextword import _core
from nextword.corpus import Corpus, CorpusLike, as_corpus
from nextword.counts import MAX_ORDER, NGramCounts
from nextword.model import Generative, Perplexity, Step, Text, TokenScore, rebase, stop_words
from nextword.sampling import MASK64, SamplingParams, resolve_params
from nextword.tokenizers import Tokenizer, TokenizerLike, as_tokenizer
from nextword.vocab import Vocab

SMOOTHINGS = ("kneser-ney", "mle", "add-k", "witten-bell", "stupid-backoff")


class NGramLM(Generative):
    """An n-gram language model; it implements :class:`~nextword.model.LanguageModel`
    with fast paths in Rust.

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
        prune: Optional[Sequence[int]] = None,
        prune_entropy: Optional[float] = None,
        threads: int = 0,
        progress: Optional[bool] = None,
        client: Any = None,
        **corpus_options: Any,
    ) -> NGramLM:
        """Fit a model of ``order`` to counts or to a corpus.

        ``smoothing``: ``"kneser-ney"`` (interpolated modified Kneser-Ney,
        reproducing KenLM's lmplz; ``interpolate_unigrams=False`` is lmplz's
        ``--interpolate_unigrams 0``; ``discounts`` sets D1, D2, D3+ per order; where
        discounts cannot be estimated it falls back to 0.5, 1, 1.5 with a warning),
        ``"mle"``, ``"add-k"`` (``k``; Laplace is ``k=1``), ``"witten-bell"`` or
        ``"stupid-backoff"`` (``alpha``; scores, not probabilities).

        ``prune``: count pruning thresholds for Kneser-Ney, as ``lmplz --prune``
        (the ARPA file is byte-identical to lmplz's): one per order starting
        with the unigrams' 0, non-decreasing, the last repeated for higher
        orders; n-grams of order k >= 2 occurring at most ``prune[k-1]`` times in
        the corpus are removed, their mass going to the backoff.
        ``prune_entropy``: after estimation, remove the n-grams whose removal
        raises perplexity by less than this fraction (Stolcke 1998, SRILM's
        ``ngram -prune``; see :meth:`prune_entropy`).

        >>> lm = NGramLM.fit(["a b c", "a b d", "a b c"], order=3, prune=[0, 1],
        ...                  discounts=[(0.5, 1, 1.5)] * 3)
        >>> lm.sizes()  # the bigrams and trigrams seen once are gone
        [7, 4, 3]

        ``client``: a Dask ``distributed.Client``; the corpus's files are then
        counted on the cluster (:func:`nextword.distributed.count_ngrams`) and
        the model estimated here from the merged counts: the same model.
        """
        triples: Optional[list[tuple[float, float, float]]] = None
        if discounts is not None:
            if any(len(d) != 3 for d in discounts):
                raise ValueError("discounts: one (D1, D2, D3+) triple per order")
            triples = [(float(d[0]), float(d[1]), float(d[2])) for d in discounts]
        thresholds = _prune_thresholds(prune)
        if prune_entropy is not None and not isinstance(prune_entropy, (int, float)):
            raise TypeError(f"prune_entropy: a number, not {prune_entropy!r}")
        estimator = {
            "prune": thresholds,
            "prune_entropy": None if prune_entropy is None else float(prune_entropy),
            "smoothing": smoothing,
            "k": k,
            "alpha": alpha,
            "interpolate_unigrams": interpolate_unigrams,
            "discounts": triples,
        }
        if isinstance(corpus_or_counts, NGramCounts):
            counts = corpus_or_counts
            n = counts.order if order is None else order
            return cls._fitted(_core.NGramLM.fit(counts._core, n, estimator))
        order = 3 if order is None else order
        if client is not None:
            from nextword import distributed

            c = as_corpus(corpus_or_counts, **corpus_options)
            if c.texts is not None:
                raise ValueError("client=: the cluster counts files; pass paths, not texts")
            options = c.core_args()
            for key in ("paths", "texts"):
                options.pop(key)
            counts = distributed.count_ngrams(
                c.paths, order, client=client, tokenizer=tokenizer, **options
            )
            return cls._fitted(_core.NGramLM.fit(counts._core, order, estimator))
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
            estimator=estimator,
        )
        return cls._fitted(core)

    def prune_entropy(self, threshold: float) -> NGramLM:
        """A copy of this model pruned by relative entropy (Stolcke 1998), as
        SRILM's ``ngram -prune threshold``.

        For each n-gram ``h w`` of order >= 2, from the highest order down, it
        computes ``D = p(h) sum_v p(v|h) log10(p(v|h) / p'(v|h))``, the relative
        entropy between the model and the model without ``h w`` (``w`` then
        backs off with the backoff weight of ``h`` recomputed so that ``h``'s
        distribution sums to 1; ``p(h)`` is the model's probability of the
        words of ``h``). ``h w`` is removed when ``10**D - 1``, the relative
        perplexity increase it costs, is below ``threshold``; within an order
        every n-gram is judged against the model before that order was pruned.
        Unigrams, contexts of kept n-grams, and (beyond SRILM, to keep the model
        suffix-closed) suffixes of kept n-grams are kept. The model stays
        normalised. A threshold that empties an order raises ``ValueError``.

        >>> lm = NGramLM.fit(["the cat sat", "the cat ran", "a dog sat"] * 3, order=3,
        ...                  discounts=[(0.5, 1, 1.5)] * 3)
        >>> small = lm.prune_entropy(0.05)
        >>> sum(small.sizes()) < sum(lm.sizes())
        True
        """
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise TypeError(f"prune_entropy: a number, not {threshold!r}")
        core, _removed = self._core.prune_entropy(float(threshold))
        return NGramLM(core)

    def pruning_costs(self, order: int) -> npt.NDArray[np.float64]:
        """Stolcke's relative entropy (log10) of removing each n-gram of ``order``
        (>= 2) alone, in the model's order of that level (sorted by word ids): what
        :meth:`prune_entropy` compares with ``log10(1 + threshold)``."""
        return self._core.pruning_costs(order)

    # -- files ----------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: Union[str, os.PathLike[str]],
        tokenizer: TokenizerLike = None,
        verify: Optional[bool] = None,
        progress: Optional[bool] = None,
    ) -> NGramLM:
        """Open a model file: the binary format (memory-mapped, opens in
        milliseconds and is shared between processes) or ARPA (``.arpa``,
        ``.arpa.gz``, ``.arpa.zst``), told apart by their first bytes.
        Reading an ARPA file shows a progress bar (``progress=None``: when
        stderr is a terminal) and stops on Ctrl-C.

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
        spec = None if tokenizer is None else as_tokenizer(tokenizer).spec
        core, notes = _core.NGramLM.load(os.fspath(path), spec, verify, progress)
        for message in notes:
            warnings.warn(message, stacklevel=2)
        return cls(core)

    def save(
        self,
        path: Union[str, os.PathLike[str]],
        progress: Optional[bool] = None,
        layout: Optional[str] = None,
        quantize: Optional[int] = None,
    ) -> None:
        """Write the model: ARPA when the name ends in ``.arpa`` (``.arpa.gz``
        compresses), else the binary format (``.nwlm``). Written atomically
        (to a temporary name, renamed at the end), with a progress bar
        (``progress=None``: when stderr is a terminal); Ctrl-C stops it and
        leaves no file behind.

        A binary model has one of two layouts, both memory-mapped:
        ``layout="hash"`` (the default, the fastest to score with: the trie
        below with the probabilities and backoffs in a hash table per order,
        which scoring probes by n-gram hash as KenLM's probing model does;
        about half the ARPA text) or ``layout="trie"`` (a sorted trie of
        bit-packed ids and pointers, about half the hash layout), whose
        probabilities and backoffs can be quantized to ``quantize`` bits (1 to
        16; KenLM's ``-q 8 -b 8`` is ``quantize=8``). An unquantized trie
        answers every query exactly as the hash layout does.

        >>> lm.save("model.nwlm", layout="trie", quantize=8)  # doctest: +SKIP
        """
        if quantize is not None and (
            isinstance(quantize, bool) or not isinstance(quantize, int) or not 1 <= quantize <= 16
        ):
            raise ValueError(f"quantize must be a number of bits in 1..=16, not {quantize!r}")
        if layout is not None and layout not in ("hash", "trie"):
            raise ValueError(f'layout must be "hash" or "trie", not {layout!r}')
        self._core.save(os.fspath(path), progress=progress, layout=layout, quantize=quantize)

    # -- facts ----------------------------------------------------------------------
    @property
    def order(self) -> int:
        """The order N."""
        return self._core.order

    @property
    def layout(self) -> str:
        """How the model holds its n-grams: ``"hash"`` (fitted, read from ARPA
        or a hash-layout file) or ``"trie"`` (read from a trie file)."""
        return self._core.layout

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
        """Text split by the tokenizer; a sequence is taken as tokens."""
        return self.tokenizer.tokenize(text) if isinstance(text, str) else list(text)

    def logprob(self, word: str, context: Text = (), bos: bool = True, base: float = 10.0) -> float:
        """log p(word | context): log10 by default, natural log with ``base=math.e``.

        ``context`` is the start of a sentence (text or tokens); ``bos`` puts
        ``<s>`` before it.
        """
        lp, _, _ = self._core.logprob(word, self._tokens(context), bos)
        return rebase(lp, base)

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
        return rebase(float(total), base)

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
        return Perplexity(
            d["perplexity"],
            d["perplexity_excluding_oovs"],
            int(d["oovs"]),
            int(d["tokens"]),
            int(d["sentences"]),
            d["logprob"],
        )

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
        c = Corpus(
            paths=[os.fspath(p) for p in paths],
            errors=errors,  # type: ignore[arg-type]
            format="jsonl",
            text_field=text_field,
        )
        out = None if output is None else os.fspath(output)
        return self._core.annotate_jsonl(c.core_args(), out, out_field, threads, progress)

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
    def _start(
        self,
        prompt: list[str],
        bos: bool,
        params: SamplingParams,
        stop: list[str],
        max_tokens: int,
        rng_state: int,
    ) -> _core.Generation:
        # The n-gram decoder: exact streamed sampling (see rust/core/src/lm/generate.rs).
        bounds = {"bos": bos, "stop": stop, "max_tokens": max_tokens}
        return self._core.generation(prompt, bounds, params, rng_state)

    def generate_batch(
        self,
        prompts: Sequence[Text],
        max_tokens: int = 50,
        seed: int = 0,
        stop: Union[str, Sequence[str], None] = ("</s>",),
        bos: bool = True,
        params: Optional[SamplingParams] = None,
        **sampling: Any,
    ) -> list[list[str]]:
        """Generate for many prompts in parallel; prompt ``i`` uses sequence ``i``
        of ``seed`` (same output whatever the thread count). Returns tokens.
        Sampling as :meth:`generate` (keywords, or ``params=SamplingParams(...)``)."""
        sp = resolve_params(params, **sampling)
        if max_tokens < 0:
            raise ValueError(f"max_tokens must be >= 0, not {max_tokens}")
        bounds = {"bos": bos, "stop": stop_words(stop), "max_tokens": max_tokens}
        out = self._core.generate_batch(
            [self._tokens(p) for p in prompts], bounds, sp, seed & MASK64
        )
        return [self._core.tokens_of(ids) for ids in out]

    def next_distribution(self, context: Text = (), bos: bool = True) -> npt.NDArray[np.float64]:
        """p(w | context) for every vocabulary id (index with ``lm.vocab``); ``<s>`` is 0."""
        logprobs = self._core.next_logprobs(self._tokens(context), bos)
        # No valid model has log10 p > 0; capping keeps a corrupt file's values finite.
        return np.power(10.0, np.minimum(logprobs, 0.0))


__all__ = ["NGramLM", "Perplexity", "SMOOTHINGS", "Step", "TokenScore"]


def _prune_thresholds(prune: Optional[Sequence[int]]) -> Optional[list[int]]:
    """``prune=`` as a list of ints (the core checks the values)."""
    if prune is None:
        return None
    if isinstance(prune, (str, bytes)) or not isinstance(prune, Sequence):
        raise TypeError(f"prune: a list of counts per order (e.g. [0, 1, 1]), not {prune!r}")
    for t in prune:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
            raise TypeError(f"prune: thresholds are integer counts, not {t!r}")
    return [int(t) for t in prune]

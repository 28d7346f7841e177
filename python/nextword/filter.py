"""Cleaning training text: perplexity filtering (CCNet) and deduplication.

CCNet, RedPajama and datatrove score every document with a KenLM model and
keep the low-perplexity part; Lee et al. (2022) remove repeated text. The
work runs in Rust (``rust/core/src/filter``), in parallel and streaming:
documents are written in input order as they are scored, so memory does not
grow with the corpus, and every output is written atomically.

>>> import nextword
>>> lm = nextword.NGramLM.fit(["the cat sat on the mat"] * 3, order=2)
>>> s = nextword.filter_corpus(lm, "web.jsonl", "clean.jsonl")  # doctest: +SKIP
>>> print(s.format())  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Union

from nextword import _core
from nextword.corpus import CorpusLike, as_corpus
from nextword.lm import NGramLM
from nextword.tokenizers import TokenizerLike

PathLike = Union[str, "os.PathLike[str]"]
Unit = Literal["line", "record", "file"]

#: CCNet's buckets: head, middle and tail at the 30th and 60th percentiles.
CCNET_PERCENTILES = (30.0, 60.0)
CCNET_BUCKETS = ("head", "middle", "tail")
#: The name of the bucket of documents below the minimum length.
SHORT = "short"


@dataclass(frozen=True)
class BucketCount:
    """Documents, words (whitespace-separated tokens the model scored, without
    ``</s>``) and tokens (words plus one ``</s>`` per line) in one bucket."""

    documents: int
    words: int
    tokens: int


def _read_lines(read: dict[str, int]) -> list[str]:
    """The non-zero counts of bad input, one phrase each."""
    names = {
        "replaced_utf8": "lines with invalid UTF-8 replaced",
        "skipped_utf8": "lines with invalid UTF-8 skipped",
        "skipped_json": "lines that are not JSON objects skipped",
        "skipped_field": "records without the text field skipped",
        "blank_records": "blank JSONL lines skipped",
    }
    return [f"{read[k]:,} {v}" for k, v in names.items() if read.get(k)]


@dataclass(frozen=True)
class FilterSummary:
    """What :func:`filter_corpus` did: per bucket (``short`` last), what was
    kept, the cutoffs used (and the percentiles and sample they came from),
    unknown words, bad input by the ``errors=`` policy, and the time taken."""

    buckets: dict[str, BucketCount]
    kept: BucketCount
    cutoffs: list[float]
    percentiles: Optional[list[float]]
    sample_documents: int
    oov_words: int
    read: dict[str, int]
    seconds: float
    output: str

    @property
    def documents(self) -> int:
        """Documents read."""
        return sum(b.documents for b in self.buckets.values())

    @property
    def words(self) -> int:
        """Words read."""
        return sum(b.words for b in self.buckets.values())

    def format(self) -> str:
        """The summary as the CLI prints it."""
        lines = [f"{'bucket':<10} {'documents':>12} {'words':>14} {'share of words':>15}"]
        total = max(self.words, 1)
        for name, b in self.buckets.items():
            lines.append(f"{name:<10} {b.documents:>12,} {b.words:>14,} {b.words / total:>15.1%}")
        how = (
            f"percentiles {', '.join(f'{p:g}' for p in self.percentiles)} of "
            f"{self.sample_documents:,} sampled documents"
            if self.percentiles is not None
            else "given"
        )
        cut = ", ".join(f"{c:.2f}" for c in self.cutoffs)
        lines.append(f"perplexity cutoffs: {cut} ({how})")
        lines.append(
            f"kept {self.kept.documents:,} of {self.documents:,} documents, "
            f"{self.kept.words:,} of {self.words:,} words -> {self.output} "
            f"in {self.seconds:.2f} s; {self.oov_words:,} unknown words"
        )
        lines.extend(_read_lines(self.read))
        return "\n".join(lines)


def _model(model: Union[NGramLM, PathLike], tokenizer: TokenizerLike) -> NGramLM:
    if isinstance(model, NGramLM):
        if tokenizer is not None:
            raise TypeError("pass tokenizer= when loading a model from a file, not with a model")
        return model
    return NGramLM.load(model, tokenizer=tokenizer)


def filter_corpus(
    model: Union[NGramLM, PathLike],
    corpus: CorpusLike,
    output: PathLike,
    *,
    threshold: Optional[float] = None,
    percentiles: Optional[tuple[float, ...]] = None,
    cutoffs: Optional[tuple[float, ...]] = None,
    buckets: Optional[tuple[str, ...]] = None,
    keep: Optional[tuple[str, ...]] = None,
    sample: int = 10_000,
    unit: Optional[Unit] = None,
    min_words: int = 1,
    short: Literal["drop", "mark"] = "drop",
    field: str = "perplexity",
    bucket_field: str = "bucket",
    jsonl: bool = False,
    tokenizer: TokenizerLike = None,
    threads: int = 0,
    progress: Optional[bool] = None,
    **reading: Any,
) -> FilterSummary:
    """Score every document of ``corpus`` with ``model`` (an :class:`NGramLM` or
    a model file) and write the kept ones to ``output``, in input order.

    A document is a JSONL record (its text field; the default for ``.jsonl``
    input), a line (text input) or a whole file (``unit="file"``: the output
    is then one JSONL record per file: ``path``, ``words``, perplexity, bucket).
    Its perplexity is per token over all its lines, each scored as a sentence
    with ``</s>`` counted (CCNet's length normalisation; KenLM's ``query``).

    Choose the buckets one way:

    - ``threshold=T``: buckets ``keep`` (perplexity <= T) and ``drop``; only
      ``keep`` is written;
    - ``cutoffs=(c1, c2, ...)``: given cutoffs, buckets ``buckets``;
    - ``percentiles=(30, 60)`` (the default, as CCNet): cutoffs at those
      percentiles of the first ``sample`` documents, buckets
      ``head``/``middle``/``tail``.

    ``keep`` names the buckets written (default: all but ``drop``). JSONL
    records get ``field`` (the perplexity) and ``bucket_field``; every other
    field is kept in its place. Text input is written as the kept lines, or as
    JSONL records ``{"text": ...}`` with both fields when ``jsonl=True``.
    Documents under ``min_words`` words are in bucket ``short``: dropped, or
    written with that bucket when ``short="mark"``.

    Bad input follows the corpus ``errors=`` policy (counted in the summary);
    an input without documents raises :class:`~nextword.EmptyCorpusError`;
    a threshold below 1 or a model that knows none of the words raises
    ``ValueError``.

    >>> s = filter_corpus("m.nwlm", "web.jsonl", "out.jsonl", threshold=1000)  # doctest: +SKIP
    >>> s.buckets["keep"].documents  # doctest: +SKIP
    """
    start = time.perf_counter()
    lm = _model(model, tokenizer)
    c = as_corpus(corpus, **reading)
    if sum(x is not None for x in (threshold, percentiles, cutoffs)) > 1:
        raise ValueError("give one of threshold=, percentiles= and cutoffs=")
    if short not in ("drop", "mark"):
        raise ValueError(f"short must be 'drop' or 'mark', not {short!r}")
    if min_words < 0 or sample < 1:
        raise ValueError("min_words must be >= 0 and sample >= 1")
    sampled = 0
    used_percentiles: Optional[list[float]] = None
    names: tuple[str, ...]
    if threshold is not None:
        cuts = [float(threshold)]
        names = ("keep", "drop")
        keep = keep or ("keep",)
    elif cutoffs is not None:
        cuts = [float(x) for x in cutoffs]
        names = buckets or tuple(f"b{i}" for i in range(len(cuts) + 1))
    else:
        used_percentiles = [float(p) for p in (percentiles or CCNET_PERCENTILES)]
        names = buckets or (
            CCNET_BUCKETS
            if len(used_percentiles) == 2
            else tuple(f"b{i}" for i in range(len(used_percentiles) + 1))
        )
        ppl, _, _ = _core.document_perplexities(
            lm._core, c.core_args(), unit, min_words, sample, threads, progress
        )
        sampled = len(ppl)
        cuts = _core.percentile_cutoffs(list(map(float, ppl)), used_percentiles)
        # Equal cutoffs (a sample of identical documents) cannot split anything.
        for i in range(1, len(cuts)):
            if cuts[i] <= cuts[i - 1]:
                cuts[i] = float(cuts[i - 1]) * (1 + 1e-12)
    names = tuple(names)
    keep = tuple(keep) if keep is not None else tuple(n for n in names if n != "drop")
    unknown = set(keep) - set(names) - {SHORT}
    if unknown:
        raise ValueError(f"keep names unknown buckets {sorted(unknown)}; the buckets: {names}")
    options = {
        "unit": unit,
        "cutoffs": cuts,
        "names": list(names),
        "keep": [n in keep for n in names],
        "min_words": min_words,
        "keep_short": short == "mark" or SHORT in keep,
        "field": field,
        "bucket_field": bucket_field,
        "lines_as_jsonl": jsonl,
    }
    d = _core.filter_by_perplexity(
        lm._core, c.core_args(), os.fspath(output), options, threads, progress
    )
    counts = [BucketCount(*b) for b in d["buckets"]]
    return FilterSummary(
        buckets=dict(zip([*names, SHORT], counts)),
        kept=BucketCount(*d["kept"]),
        cutoffs=list(cuts),
        percentiles=used_percentiles,
        sample_documents=sampled,
        oov_words=d["oov_words"],
        read=dict(d["read"]),
        seconds=time.perf_counter() - start,
        output=os.fspath(output),
    )


@dataclass(frozen=True)
class DedupSummary:
    """What :func:`dedup_exact` did (words by KenLM's whitespace split)."""

    documents: int
    lines: int
    words: int
    duplicate_documents: int
    duplicate_lines: int
    duplicate_words: int
    distinct: int
    read: dict[str, int]
    seconds: float
    lengths: Any = field(default=None, repr=False)

    def format(self) -> str:
        """One paragraph, as the CLI prints it."""
        share = self.duplicate_words / max(self.words, 1)
        by_line = (
            f" and {self.duplicate_lines:,} of {self.lines:,} lines"
            if self.duplicate_lines or self.lines != self.documents
            else ""
        )
        lines = [
            f"exact: {self.duplicate_documents:,} of {self.documents:,} documents{by_line} "
            "repeated; "
            f"{self.duplicate_words:,} of {self.words:,} words ({share:.1%}) removed; "
            f"{self.distinct:,} distinct texts; {self.seconds:.2f} s"
        ]
        return "\n".join(lines + _read_lines(self.read))


def dedup_exact(
    corpus: CorpusLike,
    output: Optional[PathLike] = None,
    *,
    unit: Literal["documents", "lines"] = "documents",
    mark: bool = False,
    lengths: bool = False,
    threads: int = 0,
    progress: Optional[bool] = None,
    **reading: Any,
) -> DedupSummary:
    """Remove every document (``unit="documents"``) or every line of a
    document's text (``unit="lines"``, as CCNet) whose normal form was seen
    before in the corpus: the first occurrence stays. Texts are compared
    after lowercasing, digits to 0, punctuation dropped and spaces collapsed;
    a blank text is never a duplicate. ``mark=True`` (JSONL only) writes
    ``"duplicate": true`` (or ``"duplicate_lines": [i, ...]``) instead.
    ``output=None`` only counts. Memory holds one 128-bit hash per distinct
    text. ``lengths=True`` also returns the words of every document.

    >>> s = dedup_exact(["a b", "A, b!", "c"])
    >>> s.duplicate_documents, s.duplicate_words
    (1, 2)
    """
    start = time.perf_counter()
    c = as_corpus(corpus, **reading)
    out = None if output is None else os.fspath(output)
    d = _core.dedup_exact(c.core_args(), out, unit, mark, lengths, threads, progress)
    return DedupSummary(
        documents=d["documents"],
        lines=d["lines"],
        words=d["words"],
        duplicate_documents=d["duplicate_documents"],
        duplicate_lines=d["duplicate_lines"],
        duplicate_words=d["duplicate_words"],
        distinct=d["distinct"],
        read=dict(d["read"]),
        seconds=time.perf_counter() - start,
        lengths=d["lengths"] if lengths else None,
    )


@dataclass(frozen=True)
class SpanSummary:
    """What :func:`dedup_spans` did (words by KenLM's whitespace split)."""

    documents: int
    words: int
    duplicate_words: int
    spans: int
    emptied_documents: int
    min_tokens: int
    read: dict[str, int]
    seconds: float

    def format(self) -> str:
        """One paragraph, as the CLI prints it."""
        share = self.duplicate_words / max(self.words, 1)
        return "\n".join(
            [
                f"spans of >= {self.min_tokens} tokens: {self.spans:,} repeats, "
                f"{self.duplicate_words:,} of {self.words:,} words ({share:.1%}) removed; "
                f"{self.emptied_documents:,} documents left empty and dropped; "
                f"{self.seconds:.2f} s"
            ]
            + _read_lines(self.read)
        )


def dedup_spans(
    corpus: CorpusLike,
    output: PathLike,
    *,
    min_tokens: int = 50,
    mark: bool = False,
    threads: int = 0,
    progress: Optional[bool] = None,
    **reading: Any,
) -> SpanSummary:
    """Remove every run of at least ``min_tokens`` whitespace tokens that
    occurred earlier in the corpus (Lee et al. 2022's ExactSubstr, with 50
    tokens by default), found with a suffix array (:class:`CorpusIndex`,
    built in a temporary file beside ``output``). The first occurrence stays;
    matches do not cross lines. A document left without words is dropped.
    ``mark=True`` (JSONL only) writes ``"duplicate_spans": [[start, end], ...]``
    (character offsets in the text) instead.
    """
    start = time.perf_counter()
    c = as_corpus(corpus, **reading)
    d = _core.dedup_spans(c.core_args(), os.fspath(output), min_tokens, mark, threads, progress)
    return SpanSummary(
        documents=d["documents"],
        words=d["words"],
        duplicate_words=d["duplicate_words"],
        spans=d["spans"],
        emptied_documents=d["emptied_documents"],
        min_tokens=min_tokens,
        read=dict(d["read"]),
        seconds=time.perf_counter() - start,
    )


__all__ = [
    "CCNET_BUCKETS",
    "CCNET_PERCENTILES",
    "BucketCount",
    "DedupSummary",
    "FilterSummary",
    "SpanSummary",
    "dedup_exact",
    "dedup_spans",
    "filter_corpus",
]

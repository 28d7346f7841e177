"""Naming a corpus: paths, directories, globs, compressed files, JSONL, texts.

Rust reads the files itself (in chunks, in parallel); Python only passes paths.
In-memory texts are for small data and tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]
Errors = Literal["strict", "replace", "skip"]
Format = Literal["auto", "text", "jsonl"]


@dataclass(frozen=True)
class Corpus:
    """A corpus: files and/or texts, and how to read them.

    ``paths`` are files, directories (read recursively, sorted, hidden files
    skipped) or glob patterns; plain text, ``.gz`` and ``.zst`` are detected by
    their first bytes; ``.jsonl``/``.ndjson`` (optionally compressed) are JSONL
    and the sentence text is read from ``text_field``. One line is one sentence;
    as in KenLM's ``lmplz``, only ``\\n`` ends a line (``\\r\\n`` works: its ``\\r``
    belongs to the line end), and a lone ``\\r`` stays in the line as whitespace.
    A blank line (empty or only NUL, tab, ``\\r`` and space) is a sentence of
    no words, ``<s> </s>`` once padded, as ``lmplz`` counts it and KenLM's
    ``query`` scores it; ``skip_blank=True`` drops such lines instead. Invalid
    UTF-8 raises :class:`~nextword.CorpusError` naming file, line and byte
    (``errors="strict"``), or is replaced by U+FFFD (``"replace"``) or its line
    skipped (``"skip"``); both are counted in the ``bad_lines`` statistic.

    >>> Corpus(paths=["data/*.txt.gz"], errors="replace")  # doctest: +SKIP
    >>> Corpus(texts=["the cat sat", "the dog ran"])
    Corpus(paths=[], texts=['the cat sat', 'the dog ran'], ...)
    """

    paths: list[str] = field(default_factory=list)
    texts: Optional[list[str]] = None
    errors: Errors = "strict"
    skip_blank: bool = False
    format: Format = "auto"
    text_field: str = "text"

    def __repr__(self) -> str:
        texts = None if self.texts is None else self.texts[:3]
        more = "" if self.texts is None or len(self.texts) <= 3 else f" +{len(self.texts) - 3}"
        return f"Corpus(paths={self.paths!r}, texts={texts!r}{more}, ...)"

    def core_args(self) -> dict[str, Any]:
        """The keyword arguments the compiled core takes for a corpus."""
        return {
            "paths": list(self.paths),
            "texts": self.texts,
            "errors": self.errors,
            "skip_blank": self.skip_blank,
            "format": self.format,
            "text_field": self.text_field,
        }


CorpusLike = Union[Corpus, PathLike, Iterable[PathLike]]


def as_corpus(corpus: CorpusLike, **options: Any) -> Corpus:
    """Turn what a user passes into a :class:`Corpus`.

    - a :class:`Corpus`: used as is (``options`` must then be empty);
    - a ``str`` or ``os.PathLike``: one path, directory or glob;
    - an iterable of ``os.PathLike`` (``pathlib.Path``): several paths;
    - any other iterable of ``str`` (a list of sentences, a generator): texts.

    A plain list of ``str`` is read as *texts*, not paths; pass ``Path`` objects
    or a :class:`Corpus` to name several files.

    >>> as_corpus(["to be or not to be"]).texts
    ['to be or not to be']
    """
    options = {k: v for k, v in options.items() if v is not None}
    if isinstance(corpus, Corpus):
        if options:
            raise TypeError("pass reading options to Corpus(...), not beside it")
        return corpus
    if isinstance(corpus, (str, os.PathLike)):
        return Corpus(paths=[os.fspath(corpus)], **options)
    if isinstance(corpus, (bytes, bytearray)):
        raise TypeError("a corpus is a path, a list of paths or an iterable of str, not bytes")
    items = list(corpus)
    if all(isinstance(i, os.PathLike) for i in items) and items:
        return Corpus(paths=[os.fspath(i) for i in items], **options)
    texts: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(
                f"corpus item {i} is {type(item).__name__}: an iterable corpus holds "
                "either texts (str) or paths (os.PathLike), not a mix"
            )
        texts.append(item)
    return Corpus(texts=texts, **options)


__all__ = ["Corpus", "CorpusLike", "as_corpus"]

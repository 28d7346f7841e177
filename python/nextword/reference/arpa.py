"""Reading an ARPA file and scoring with it, the textbook way.

An ARPA file lists, for each n-gram it holds, log10 p(w | h) and, for n-grams
that serve as histories, a log10 backoff weight. Its meaning is recursive::

    log p(w | h) = logprob[h w]                      if h w is listed
                 = backoff[h] + log p(w | h')        otherwise (h' = h without its first word)

with ``backoff[h] = 0`` for a history not listed. This module applies the
definition literally, so it needs none of the machinery a fast reader needs:
files whose n-grams are not suffix-closed (SRILM prunes ``b c`` and keeps
``a b c``) just work. The Rust core gets the same numbers by inserting blank
n-grams for the missing suffixes, as KenLM does (``rust/core/src/lm/arpa_gaps.rs``).

The rules for files from other tools, as KenLM's:

* lines before ``\\data\\`` are blank or comments (``#``);
* a file without ``<unk>`` scores unknown words at log10 p = -100;
* an n-gram whose history is not listed (``x y z`` without ``x y``, unless
  ``x y`` is the suffix of a longer listed n-gram) is an error naming its line.

KenLM reports as the n-gram length of a score the longest suffix of ``h w``
that it holds, and it holds the suffixes of every listed n-gram (its blanks);
:func:`arpa_lengths` reports the same.

Example:
    >>> lines = ["\\\\data\\\\", "ngram 1=3", "\\\\1-grams:", "-1 <unk>", "-0.5 a", "-0.5 </s>"]
    >>> model = read_arpa([*lines, "\\\\end\\\\"])
    >>> arpa_scores(model, ["a", "zzz"], bos=False, eos=True)
    [-0.5, -1.0, -0.5]
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from .count import BOS, EOS

NGram = tuple[str, ...]
UNK = "<unk>"
UNKNOWN_MISSING_LOGPROB = -100.0  # KenLM's default for a file without <unk>
TOKENIZER_NOTE = "# nextword tokenizer: "


@dataclass
class ArpaModel:
    """The n-grams of an ARPA file: log10 probabilities and backoffs."""

    order: int
    logprob: dict[NGram, float]
    backoff: dict[NGram, float]
    tokenizer: str = "whitespace"

    def held(self) -> set[NGram]:
        """Every listed n-gram and every suffix of one (what KenLM can match)."""
        out: set[NGram] = set()
        for ngram in self.logprob:
            for start in range(len(ngram)):
                out.add(ngram[start:])
        return out


def _number(field: str, line: int) -> float:
    value = float(field)  # accepts "-inf" and "-Infinity"
    if value != value or value == float("inf"):
        raise ValueError(f"line {line}: {field!r} is no log-probability")
    return value


def read_arpa(lines: Iterable[str]) -> ArpaModel:
    """Parse ARPA text (an iterable of lines) by the rules in the module docs."""
    declared: list[int] = []
    logprob: dict[NGram, float] = {}
    backoff: dict[NGram, float] = {}
    lines_of: dict[NGram, int] = {}
    tokenizer = "whitespace"
    section = -1  # -1 before \data\, 0 in the header, n in \n-grams:
    ended = False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if section == -1:
            if line == "\\data\\":
                section = 0
            elif line.startswith(TOKENIZER_NOTE):
                tokenizer = line[len(TOKENIZER_NOTE) :].strip()
            elif not line.startswith("#"):
                raise ValueError(f"line {number}: not an ARPA file")
            continue
        if line == "\\end\\":
            ended = True
            break
        if line.startswith("\\") and line.endswith("-grams:"):
            section = int(line[1:-7])
            continue
        if section == 0:
            declared.append(int(line.split("=", 1)[1]))
            continue
        fields = line.split()
        words = tuple(fields[1 : 1 + section])
        if len(words) != section:
            raise ValueError(f"line {number}: expected {section} words")
        logprob[words] = _number(fields[0], number)
        backoff[words] = _number(fields[1 + section], number) if len(fields) > 1 + section else 0.0
        lines_of[words] = number
    if not ended:
        raise ValueError("truncated ARPA file: no \\end\\")
    model = ArpaModel(len(declared), logprob, backoff, tokenizer)
    if (UNK,) not in logprob:
        logprob[(UNK,)] = UNKNOWN_MISSING_LOGPROB
        backoff[(UNK,)] = 0.0
    held = model.held()
    for ngram, number in lines_of.items():
        if len(ngram) > 1 and ngram[:-1] not in held:
            raise ValueError(
                f"line {number}: the {len(ngram)}-gram {' '.join(ngram)!r} has no history "
                f"{' '.join(ngram[:-1])!r}"
            )
    return model


def load_arpa(path: Union[str, Path]) -> ArpaModel:
    """Read an ARPA file (plain or ``.gz``)."""
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt", encoding="utf-8") as f:
        return read_arpa(f)


def arpa_logprob(model: ArpaModel, word: str, history: Sequence[str]) -> float:
    """log10 p(word | history) by the recursive definition (unknown words are <unk>)."""
    h = tuple(history)[max(0, len(history) - (model.order - 1)) :]
    if h + (word,) in model.logprob:
        return model.logprob[h + (word,)]
    if not h:
        return float("-inf")  # <s>, or </s> in a file without it
    return model.backoff.get(h, 0.0) + arpa_logprob(model, word, h[1:])


def _known(model: ArpaModel, tokens: Sequence[str], bos: bool, eos: bool) -> list[str]:
    words = [t if (t,) in model.logprob else UNK for t in tokens]
    return ([BOS] if bos else []) + words + ([EOS] if eos else [])


def arpa_scores(
    model: ArpaModel, tokens: Sequence[str], bos: bool = True, eos: bool = True
) -> list[float]:
    """log10 p of each token (and ``</s>`` when ``eos``) given the ones before it."""
    seq = _known(model, tokens, bos, eos)
    first = 1 if bos else 0
    return [arpa_logprob(model, seq[i], seq[:i]) for i in range(first, len(seq))]


def arpa_lengths(
    model: ArpaModel, tokens: Sequence[str], bos: bool = True, eos: bool = True
) -> list[int]:
    """The n-gram length KenLM reports for each token: the longest suffix of
    history + word that the model holds (see :meth:`ArpaModel.held`)."""
    held = model.held()
    seq = _known(model, tokens, bos, eos)
    first = 1 if bos else 0
    out = []
    for i in range(first, len(seq)):
        length = 0
        for n in range(1, min(model.order, i + 1) + 1):
            if tuple(seq[i + 1 - n : i + 1]) not in held:
                break
            length = n
        out.append(length)
    return out

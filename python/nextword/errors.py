"""The exceptions nextword raises.

Every error of nextword's own derives from :class:`NextwordError` and from the
built-in exception a Python user would expect, so ``except ValueError`` keeps
working::

    try:
        nextword.count_ngrams(Path("latin1.txt"))
    except nextword.CorpusError as e:
        print(e.source, e.line, e.byte)
"""

from __future__ import annotations

from typing import Optional


class NextwordError(Exception):
    """Base class of nextword's errors."""


class CorpusError(NextwordError, ValueError):
    """Bad input in a corpus: invalid UTF-8, bad JSON, a missing JSONL field.

    ``source``, ``line`` (1-based) and ``byte`` (0-based offset in the
    decompressed stream) say where, when known.
    """

    source: Optional[str] = None
    line: Optional[int] = None
    byte: Optional[int] = None


class EmptyCorpusError(CorpusError):
    """The corpus holds no sentence."""


class NoFilesError(CorpusError, FileNotFoundError):
    """A directory or glob pattern matched no file."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ModelFormatError(NextwordError, ValueError):
    """A saved file (counts, vocabulary, model) is corrupt, truncated or foreign."""


class TrainingError(NextwordError, ValueError):
    """Training cannot start or go on: a bad setting (a learning rate <= 0, ...)."""


class TrainingDivergedError(TrainingError):
    """The loss became NaN or infinite; training stopped before applying that step.

    ``step`` is the step that failed; ``checkpoint`` the last good checkpoint
    written (None when training wrote none).
    """

    step: Optional[int] = None
    checkpoint: Optional[str] = None


class VocabularyMismatchError(NextwordError, ValueError):
    """A model, checkpoint or id array was made with another vocabulary."""


__all__ = [
    "CorpusError",
    "EmptyCorpusError",
    "ModelFormatError",
    "NextwordError",
    "NoFilesError",
    "TrainingDivergedError",
    "TrainingError",
    "VocabularyMismatchError",
]

"""Training within a memory budget: a corpus to an ARPA file, streamed through disk.

:func:`train_arpa` runs the core's memory-bounded Kneser-Ney pipeline (the
stages of ``lmplz``: counts spilled as sorted runs, adjusted counts,
discounts, initial probabilities and interpolation each streaming over sorted
files). The file is byte-identical to ``NGramLM.fit(...).save(path)``, which
holds every n-gram in memory; use this when that does not fit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Optional, Union

from nextword import _core
from nextword.corpus import CorpusLike, as_corpus
from nextword.counts import MAX_ORDER
from nextword.tokenizers import TokenizerLike, as_tokenizer

#: The default budget, as lmplz's ``-S 80%``.
DEFAULT_MEMORY = "80%"


def memory_bytes(memory: Union[int, str]) -> int:
    """Bytes of a budget given as a number of bytes or as text: ``"2G"``,
    ``"512M"``, ``"1.5GB"``, ``"80%"`` (of physical memory)."""
    if isinstance(memory, bool) or not isinstance(memory, (int, str)):
        raise TypeError(f"memory must be bytes (int) or a size such as '2G', not {memory!r}")
    if isinstance(memory, int):
        if memory <= 0:
            raise ValueError(f"memory must be positive, not {memory}")
        return memory
    return int(_core.parse_memory(memory))


def train_arpa(
    corpus: CorpusLike,
    path: Union[str, os.PathLike[str]],
    order: int = 5,
    tokenizer: TokenizerLike = None,
    memory: Union[int, str] = DEFAULT_MEMORY,
    temp_dir: Optional[Union[str, os.PathLike[str]]] = None,
    interpolate_unigrams: bool = True,
    discounts: Optional[Sequence[Sequence[float]]] = None,
    threads: int = 0,
    progress: Optional[bool] = None,
    **corpus_options: Any,
) -> dict[str, Any]:
    """Count ``corpus``, estimate interpolated modified Kneser-Ney of ``order``
    (as lmplz) and write it as ARPA to ``path``, holding about ``memory`` bytes
    of tables and sort buffers (``"2G"``, ``"80%"`` of physical memory, ...).

    Temporary files (sorted runs, front-coded) go to a fresh directory in
    ``temp_dir`` (the system's temporary directory by default) and are removed
    on success, on error and on Ctrl-C. The output is written atomically: an
    interrupted or failed run leaves no file at ``path``. A full disk raises
    :class:`OSError` naming the temporary directory.

    Returns a report: ``sizes`` (n-grams per order), ``discounts``,
    ``warnings`` (discount fallbacks), ``tokens``, ``sentences`` and
    ``temp_bytes`` (compressed bytes written to temporary files).
    """
    if not isinstance(order, int) or not 2 <= order <= MAX_ORDER:
        raise ValueError(f"order must be an int in 2..{MAX_ORDER}, not {order!r}")
    if threads < 0:
        raise ValueError(f"threads must be >= 0 (0 = every core), not {threads}")
    triples: Optional[list[tuple[float, float, float]]] = None
    if discounts is not None:
        if any(len(d) != 3 for d in discounts):
            raise ValueError("discounts: one (D1, D2, D3+) triple per order")
        triples = [(float(d[0]), float(d[1]), float(d[2])) for d in discounts]
    c = as_corpus(corpus, **corpus_options)
    report: dict[str, Any] = _core.train_arpa(
        c.core_args(),
        os.fspath(path),
        order,
        as_tokenizer(tokenizer).spec,
        memory_bytes(memory),
        temp_dir=None if temp_dir is None else os.fspath(temp_dir),
        interpolate_unigrams=interpolate_unigrams,
        discounts=triples,
        threads=threads,
        progress=progress,
    )
    return report

"""Scoring many sentences with a neural model in few forward passes.

The protocol's generic scoring (:func:`nextword.model.perplexity`) runs one
forward pass per sentence. Here sentences are sorted by length and scored in
padded batches of about ``batch_tokens`` tokens each: one forward pass, one
log-softmax and one gather per batch. Padding sits after each sentence's end,
where no model looks (recurrent and MLP models read left to right, the
Transformer is causal), so the figures equal the sentence-by-sentence ones. A
Transformer scores sentences longer than its block size one by one, through
its key/value cache, as :meth:`~NeuralLanguageModel.token_logprobs` does.

>>> from nextword import Vocab
>>> from nextword.neural import LSTMLanguageModel
>>> lm = LSTMLanguageModel(Vocab(["a", "b"]), embed_dim=4, hidden_dim=4)
>>> logprob, tokens, oovs = score_sentences(lm, ["a b", "b c a"])
>>> tokens.tolist(), oovs.tolist()
([3, 4], [0, 1])
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import IO, Any, Union

import numpy as np
import numpy.typing as npt

from nextword.corpus import CorpusLike
from nextword.errors import CorpusError
from nextword.model import Perplexity
from nextword.neural.language_model import BOS, LN10, NeuralLanguageModel

Float64Array = npt.NDArray[np.float64]


def sentence_logprobs(
    model: NeuralLanguageModel, sentences: Sequence[npt.NDArray[Any]], batch_tokens: int = 4096
) -> list[Float64Array]:
    """log10 p of every token of every sentence (ids, ``</s>`` included, no ``<s>``),
    each given ``<s>`` and the tokens before it; in the order given."""
    if batch_tokens < 1:
        raise ValueError(f"batch_tokens must be >= 1, not {batch_tokens}")
    result: list[Float64Array] = [np.empty(0)] * len(sentences)
    window = model.block_size
    batch: list[int] = []
    for i in sorted(range(len(sentences)), key=lambda i: len(sentences[i])):
        n = len(sentences[i])
        if n == 0:
            continue
        if window is not None and n > window:
            result[i] = model.token_logprobs(sentences[i].tolist())
            continue
        if batch and (len(batch) + 1) * n > batch_tokens:
            _score_batch(model, sentences, batch, result)
            batch = []
        batch.append(i)
    if batch:
        _score_batch(model, sentences, batch, result)
    return result


def _score_batch(
    model: NeuralLanguageModel,
    sentences: Sequence[npt.NDArray[Any]],
    batch: list[int],
    result: list[Float64Array],
) -> None:
    """Score the sentences ``batch`` (indices; the last is the longest) in one pass."""
    width = len(sentences[batch[-1]])
    inputs = np.full((len(batch), width), BOS, dtype=np.int64)
    targets = np.zeros((len(batch), width), dtype=np.int64)
    for row, i in enumerate(batch):
        ids = np.asarray(sentences[i], dtype=np.int64)
        inputs[row, 1 : len(ids)] = ids[:-1]
        targets[row, : len(ids)] = ids
    # A windowed model (the Transformer) reads whole windows without a state.
    state = None if model.block_size is not None else model.sentence_state(len(batch))
    logits, _, _ = model.forward(inputs, state)
    logits[..., BOS] = -np.inf
    top = logits.max(axis=-1, keepdims=True)
    logits -= top
    picked = np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0].astype(np.float64)
    np.exp(logits, out=logits)
    norm = np.log(logits.sum(axis=-1, dtype=np.float64))
    logp = (picked - norm) / LN10
    for row, i in enumerate(batch):
        result[i] = logp[row, : len(sentences[i])]


def _encoded(model: NeuralLanguageModel, corpus: CorpusLike, **corpus_options: Any) -> list[Any]:
    ids, offsets = model.vocab.encode_corpus(corpus, eos=True, progress=False, **corpus_options)
    return [ids[int(a) : int(b)] for a, b in zip(offsets[:-1], offsets[1:])]


def score_sentences(
    model: NeuralLanguageModel, corpus: CorpusLike, batch_tokens: int = 4096, **corpus_options: Any
) -> tuple[Float64Array, npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Per-sentence ``(log10 p, tokens, oovs)`` arrays of a corpus, in corpus order,
    as :meth:`nextword.NGramLM.score_sentences` (``</s>`` counted, ``<s>`` not)."""
    sentences = _encoded(model, corpus, **corpus_options)
    scores = sentence_logprobs(model, sentences, batch_tokens)
    unk = model.vocab.id("<unk>")
    return (
        np.array([math.fsum(s) for s in scores], dtype=np.float64),
        np.array([len(s) for s in sentences], dtype=np.uint64),
        np.array([int((s == unk).sum()) for s in sentences], dtype=np.uint64),
    )


def perplexity(
    model: NeuralLanguageModel, corpus: CorpusLike, batch_tokens: int = 4096, **corpus_options: Any
) -> Perplexity:
    """Perplexity of a corpus (sentence by sentence, each from ``<s>``), batched;
    the same figures as :func:`nextword.model.perplexity`."""
    sentences = _encoded(model, corpus, **corpus_options)
    scores = sentence_logprobs(model, sentences, batch_tokens)
    unk = model.vocab.id("<unk>")
    total = math.fsum(math.fsum(s) for s in scores)
    inside = math.fsum(math.fsum(s[ids != unk]) for s, ids in zip(scores, sentences))
    tokens = sum(len(s) for s in sentences)
    oovs = sum(int((s == unk).sum()) for s in sentences)
    return Perplexity.from_sums(total, inside, tokens, oovs, len(sentences))


def _records(paths: Sequence[str], text_field: str, skip: bool) -> Iterator[dict[str, Any]]:
    """The JSONL records of ``paths``; a bad one raises CorpusError naming its line
    (or is left out with ``skip``)."""
    for path in paths:
        with open(path, "rb") as f:
            byte = 0
            for number, raw in enumerate(f, 1):
                offset, byte = byte, byte + len(raw)
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                    if not isinstance(record, dict):
                        raise ValueError("not a JSON object")
                except ValueError as e:
                    if skip:
                        continue
                    raise _bad_record(path, number, offset, f"invalid JSON object: {e}") from None
                if not isinstance(record.get(text_field), str):
                    if skip:
                        continue
                    message = f"no string field {text_field!r} in this record"
                    raise _bad_record(path, number, offset, message)
                yield record


def _bad_record(path: str, line: int, byte: int, message: str) -> CorpusError:
    error = CorpusError(f"{path}: line {line}: {message}")
    error.source, error.line, error.byte = path, line, byte
    return error


def annotate_jsonl(
    model: NeuralLanguageModel,
    paths: Union[str, os.PathLike[str], Sequence[Union[str, os.PathLike[str]]]],
    output: Union[str, os.PathLike[str], None] = None,
    text_field: str = "text",
    out_field: str = "perplexity",
    errors: str = "strict",
    records_per_batch: int = 256,
) -> int:
    """Copy JSONL records adding the perplexity of their ``text_field`` (each
    line a sentence, OOVs included; NaN, written ``null``, for a text of no
    token), as :meth:`nextword.NGramLM.annotate_jsonl`; the output file is
    written to a temporary name and renamed into place. Returns the records written."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    names = [os.fspath(p) for p in paths]
    if output is None:
        return _annotate(model, names, sys.stdout, text_field, out_field, errors, records_per_batch)
    target = os.fspath(output)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(target)), suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            n = _annotate(model, names, out, text_field, out_field, errors, records_per_batch)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return n


def _annotate(
    model: NeuralLanguageModel,
    paths: Sequence[str],
    out: IO[str],
    text_field: str,
    out_field: str,
    errors: str,
    records_per_batch: int,
) -> int:
    written = 0
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        texts = [r[text_field] for r in pending]
        groups = [_encoded(model, [t]) if t.strip() else [] for t in texts]
        flat = [s for g in groups for s in g]
        scores = iter(sentence_logprobs(model, flat))
        for record, group in zip(pending, groups):
            tokens = sum(len(s) for s in group)
            total = math.fsum(math.fsum(next(scores)) for _ in group)
            ppl = 10.0 ** (-total / tokens) if tokens else math.nan
            record[out_field] = ppl if math.isfinite(ppl) else None
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        pending.clear()

    for record in _records(paths, text_field, skip=errors == "skip"):
        pending.append(record)
        written += 1
        if len(pending) >= records_per_batch:
            flush()
    flush()
    out.flush()
    return written


__all__ = ["annotate_jsonl", "perplexity", "score_sentences", "sentence_logprobs"]

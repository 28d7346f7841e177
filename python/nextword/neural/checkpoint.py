"""Checkpoints: a neural model, its vocabulary and (optionally) its training state
in one ``.npz`` file, without pickle.

Arrays are stored by name: ``param/<name>`` (weights), ``adam_m/<name>`` and
``adam_v/<name>`` (optimizer moments), ``carry/<i>`` (a recurrent model's state
carried between batches), and ``meta``, UTF-8 JSON holding the format name and
version, the model class and its configuration, the vocabulary's words and
tokenizer spec, and the training progress (step, random state, history).
``checksum`` is the SHA-256 of every other array (name, dtype, shape, bytes),
so a damaged file is refused rather than half-read. Files are loaded with
``allow_pickle=False`` and written to a temporary file renamed into place.

>>> import tempfile, os
>>> from nextword import Vocab
>>> from nextword.neural import MLPLanguageModel
>>> lm = MLPLanguageModel(Vocab(["a", "b"]), order=2, embed_dim=2, hidden_dim=4)
>>> path = os.path.join(tempfile.mkdtemp(), "lm.npz")
>>> save_checkpoint(path, lm)
>>> again = load_checkpoint(path).model
>>> bool((again.next_distribution(["a"]) == lm.next_distribution(["a"])).all())
True
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from nextword.errors import ModelFormatError
from nextword.neural.language_model import NeuralLanguageModel
from nextword.neural.mlp import MLPLanguageModel
from nextword.neural.module import Array
from nextword.neural.recurrent import LSTMLanguageModel, RNNLanguageModel
from nextword.neural.transformer import TransformerLanguageModel
from nextword.vocab import Vocab

FORMAT = "nextword-neural"
VERSION = 1
MODEL_CLASSES: dict[str, type[NeuralLanguageModel]] = {
    c.__name__: c
    for c in (MLPLanguageModel, RNNLanguageModel, LSTMLanguageModel, TransformerLanguageModel)
}


@dataclass
class Checkpoint:
    """What a checkpoint file holds: the model and, if saved by training, the
    optimizer's moments, the carried state and the training progress (JSON)."""

    model: NeuralLanguageModel
    optimizer: Optional[dict[str, dict[str, Array]]] = None
    carry: Optional[list[Array]] = None
    training: Optional[dict[str, Any]] = None


def _checksum(arrays: dict[str, np.ndarray[Any, Any]]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_checkpoint(
    path: str,
    model: NeuralLanguageModel,
    optimizer: Optional[dict[str, dict[str, Array]]] = None,
    carry: Optional[list[Array]] = None,
    training: Optional[dict[str, Any]] = None,
) -> None:
    """Write ``model`` (and training state) to ``path`` atomically (see the module docs).

    ``optimizer`` maps ``"adam_m"``/``"adam_v"`` to moments by parameter name
    (and ``"best"`` to the best weights seen in validation, if any).
    """
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "class": type(model).__name__,
        "config": model.config,
        "vocab": model.vocab.words(),
        "tokenizer": model.vocab.tokenizer.spec,
        "training": training,
    }
    arrays: dict[str, np.ndarray[Any, Any]] = {
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    }
    arrays.update({f"param/{k}": v for k, v in model.parameters().items()})
    for kind, moments in (optimizer or {}).items():
        arrays.update({f"{kind}/{k}": v for k, v in moments.items()})
    arrays.update({f"carry/{i}": a for i, a in enumerate(carry or [])})
    arrays["checksum"] = np.frombuffer(_checksum(arrays).encode(), dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _read_arrays(path: str) -> dict[str, np.ndarray[Any, Any]]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise ModelFormatError(f"{path}: not a readable checkpoint ({e})") from e


def is_checkpoint(path: str) -> bool:
    """Whether ``path`` holds a zip archive, as a checkpoint does (its first
    bytes, not its name: n-gram models are ARPA text or ``NWLMBIN`` binaries).
    :func:`load_checkpoint` then checks the rest."""
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def load_checkpoint(path: str) -> Checkpoint:
    """Read a file written by :func:`save_checkpoint`.

    Raises :class:`~nextword.ModelFormatError` when the file is truncated,
    corrupt (checksum), of another format or version, or inconsistent.
    """
    arrays = _read_arrays(path)
    if "checksum" not in arrays or "meta" not in arrays:
        raise ModelFormatError(f"{path}: not a nextword neural checkpoint")
    stored = arrays.pop("checksum").tobytes().decode("ascii", "replace")
    if stored != _checksum(arrays):
        raise ModelFormatError(f"{path}: checksum mismatch (the file is corrupt)")
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode())
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ModelFormatError(
                f"{path}: format {meta.get('format')!r} version {meta.get('version')!r}, "
                f"expected {FORMAT!r} version {VERSION}"
            )
        cls = MODEL_CLASSES[meta["class"]]
        model = cls(Vocab(meta["vocab"], meta["tokenizer"]), **meta["config"])
        groups: dict[str, dict[str, Array]] = {}
        for name, a in arrays.items():
            kind, _, key = name.partition("/")
            groups.setdefault(kind, {})[key] = a
        model.load_parameters(groups.get("param", {}))
    except ModelFormatError:
        raise
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as e:
        raise ModelFormatError(f"{path}: inconsistent checkpoint ({e!r})") from e
    optimizer: Optional[dict[str, dict[str, Array]]]
    optimizer = {k: v for k, v in groups.items() if k not in ("param", "carry")} or None
    carry_group = groups.get("carry", {})
    carry = [carry_group[str(i)] for i in range(len(carry_group))] if carry_group else None
    return Checkpoint(model, optimizer, carry, meta.get("training"))


__all__ = ["MODEL_CLASSES", "Checkpoint", "is_checkpoint", "load_checkpoint", "save_checkpoint"]

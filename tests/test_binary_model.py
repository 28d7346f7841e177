"""The binary model format (.nwlm): round trips, and corrupt files never crash."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import numpy as np
import pytest
from nextword import ModelFormatError, NGramLM

SENTENCES = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog met on the mat",
    "the mat was red and the log was brown",
] * 5
SMOOTHINGS = ["kneser-ney", "mle", "add-k", "witten-bell", "stupid-backoff"]


def fit(smoothing: str) -> NGramLM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny data: KN discount fallback
        return NGramLM.fit(SENTENCES, order=3, smoothing=smoothing)


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
def test_round_trip_answers_the_same(tmp_path: Path, smoothing: str) -> None:
    lm = fit(smoothing)
    path = tmp_path / "m.nwlm"
    lm.save(path)
    loaded = NGramLM.load(path)
    assert loaded.smoothing == lm.smoothing and loaded.sizes() == lm.sizes()
    assert loaded.discounts == lm.discounts
    for context in ["", "the", "the cat", "zebra"]:
        np.testing.assert_array_equal(
            loaded.next_distribution(context), lm.next_distribution(context)
        )
        assert loaded.predict(context, k=5) == lm.predict(context, k=5)
    text = ["the cat sat on the log", "a zebra"]
    assert loaded.perplexity(text) == lm.perplexity(text)
    assert loaded.generate("the", seed=3) == lm.generate("the", seed=3)


@pytest.fixture(scope="module", params=["hash", "trie"])
def model_bytes(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> bytes:
    """A model file in each layout: every corruption test runs on both."""
    path = tmp_path_factory.mktemp("nwlm") / "m.nwlm"
    fit("kneser-ney").save(path, layout=request.param)
    return path.read_bytes()


def arrays_start(data: bytes) -> int:
    """Where the arrays begin: after the 24-byte head, the metadata and its CRC."""
    meta_len = int.from_bytes(data[16:24], "little")
    return (24 + meta_len + 4 + 7) // 8 * 8


def exercise(lm: NGramLM) -> None:
    """Every kind of query; results may be wrong for a corrupt file, but must come back."""
    for context in ["", "the", "the cat", "zebra cat"]:
        lm.predict(context, k=5)
        lm.next_distribution(context)
        lm.generate(context, max_tokens=5, seed=1)
        lm.generate(context, max_tokens=5, seed=1, top_p=0.9)
    lm.perplexity(["the cat sat on the mat", "a zebra"])
    lm.full_scores("the dog sat")


@pytest.mark.parametrize("cut", [0, 1, 7, 8, 12, 23, 24, 60, 200, -1000, -100, -9, -1])
def test_truncated_file_is_a_format_error(tmp_path: Path, model_bytes: bytes, cut: int) -> None:
    path = tmp_path / "t.nwlm"
    path.write_bytes(model_bytes[:cut])
    with pytest.raises(ModelFormatError):
        NGramLM.load(path)


def test_wrong_magic_version_and_garbage(tmp_path: Path, model_bytes: bytes) -> None:
    path = tmp_path / "x.nwlm"
    path.write_bytes(b"NWLMBIN\0" + (99).to_bytes(4, "little") + model_bytes[12:])
    with pytest.raises(ModelFormatError, match="version 99"):
        NGramLM.load(path)
    path.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(5000)))
    with pytest.raises(ModelFormatError):
        NGramLM.load(path)
    path.write_bytes(b"")
    with pytest.raises(ModelFormatError):
        NGramLM.load(path)


def test_flipped_metadata_byte_is_caught_by_the_checksum(
    tmp_path: Path, model_bytes: bytes
) -> None:
    path = tmp_path / "x.nwlm"
    for offset in (30, 60, 100):
        data = bytearray(model_bytes)
        data[offset] ^= 0x40
        path.write_bytes(bytes(data))
        with pytest.raises(ModelFormatError):
            NGramLM.load(path, verify=False)


def test_flipped_array_bytes_are_caught_when_verifying(tmp_path: Path, model_bytes: bytes) -> None:
    path = tmp_path / "x.nwlm"
    rng = random.Random(7)
    start = arrays_start(model_bytes)
    original = fit("kneser-ney")
    caught = 0
    for _ in range(20):
        data = bytearray(model_bytes)
        data[rng.randrange(start, len(data))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))
        try:
            lm = NGramLM.load(path, verify=True)
        except ModelFormatError as e:
            assert "checksum" in str(e) or "corrupt" in str(e)
            caught += 1
            continue
        # Only the alignment padding between arrays is outside the checksums:
        # a flip there changes nothing.
        for context in ["", "the", "the cat"]:
            assert lm.predict(context, k=5) == original.predict(context, k=5)
    assert caught >= 15


def test_corrupt_arrays_never_crash_queries(tmp_path: Path, model_bytes: bytes) -> None:
    """Without verification a corrupt array may give wrong numbers, never a crash."""
    path = tmp_path / "x.nwlm"
    rng = random.Random(11)
    start = arrays_start(model_bytes)
    for trial in range(60):
        data = bytearray(model_bytes)
        for _ in range(1 + trial % 8):
            data[rng.randrange(start, len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
        lm = NGramLM.load(path, verify=False)
        exercise(lm)

"""The trie layout of binary models (``save(layout="trie", quantize=q)``):
exact answers equal to the hash layout's, quantization, and bad input."""

from __future__ import annotations

import random
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from nextword import ModelFormatError, NGramLM
from test_binary_model import arrays_start

SENTENCES = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog met on the mat",
    "the mat was red and the log was brown",
] * 5
SMOOTHINGS = ["kneser-ney", "mle", "add-k", "witten-bell", "stupid-backoff"]
CONTEXTS = ["", "the", "the cat", "zebra", "on the", "a dog met on the", "</s>"]


def fit(smoothing: str, order: int = 3) -> NGramLM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny data: KN discount fallback
        return NGramLM.fit(SENTENCES, order=order, smoothing=smoothing)


def assert_same_answers(a: NGramLM, b: NGramLM, texts: list[str], contexts: list[str]) -> None:
    """Every protocol query, compared bit for bit."""
    assert a.sizes() == b.sizes() and a.order == b.order
    for context in contexts:
        np.testing.assert_array_equal(a.next_distribution(context), b.next_distribution(context))
        assert a.predict(context, k=7) == b.predict(context, k=7)
        assert a.predict(context, k=0) == b.predict(context, k=0)
        for word in ["the", "cat", "zebra", "</s>"]:
            assert a.logprob(word, context) == b.logprob(word, context)
        for sampling in [{}, {"top_p": 0.9}, {"top_k": 3}, {"temperature": 0.7}, {"min_p": 0.1}]:
            assert a.generate(context, max_tokens=12, seed=5, **sampling) == b.generate(
                context, max_tokens=12, seed=5, **sampling
            )
    for text in texts[:50]:
        assert a.full_scores(text) == b.full_scores(text)
        assert a.score(text) == b.score(text)
    assert a.perplexity(texts) == b.perplexity(texts)
    np.testing.assert_array_equal(a.score_many(texts), b.score_many(texts))
    assert a.generate_batch(contexts, max_tokens=8, seed=2) == b.generate_batch(
        contexts, max_tokens=8, seed=2
    )


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
def test_unquantized_trie_answers_as_the_hash_layout(tmp_path: Path, smoothing: str) -> None:
    lm = fit(smoothing)
    lm.save(tmp_path / "h.nwlm")
    lm.save(tmp_path / "t.nwlm", layout="trie")
    hashed, trie = NGramLM.load(tmp_path / "h.nwlm"), NGramLM.load(tmp_path / "t.nwlm")
    assert (lm.layout, hashed.layout, trie.layout) == ("hash", "hash", "trie")
    assert trie.smoothing == lm.smoothing and trie.discounts == lm.discounts
    texts = SENTENCES[:4] + ["a zebra sat on the red log", ""]
    assert_same_answers(lm, trie, texts, CONTEXTS)
    assert_same_answers(hashed, trie, texts, CONTEXTS)


def test_golden_kenlm_model_trie_equals_hash(tmp_path: Path, shared: Path) -> None:
    """lmplz's 5-gram of tinyshakespeare: every query the same in both layouts,
    and the ARPA written back from the trie is the same file."""
    golden = shared / "golden" / "kenlm"
    lm = NGramLM.load(golden / "tinyshakespeare.train.o5.arpa.gz")
    lm.save(tmp_path / "t.nwlm", layout="trie")
    trie = NGramLM.load(tmp_path / "t.nwlm")
    test = (golden / "tinyshakespeare.test.txt").read_text(encoding="utf-8").splitlines()
    contexts = CONTEXTS + [" ".join(line.split()[:k]) for line in test[:40] for k in (1, 2, 4)]
    assert_same_answers(lm, trie, test, contexts)
    assert trie.perplexity(golden / "tinyshakespeare.test.txt") == lm.perplexity(
        golden / "tinyshakespeare.test.txt"
    )
    lm.save(tmp_path / "a.arpa")
    trie.save(tmp_path / "b.arpa")
    assert (tmp_path / "a.arpa").read_bytes() == (tmp_path / "b.arpa").read_bytes()
    # A trie file saved again in either layout keeps its answers.
    trie.save(tmp_path / "h.nwlm", layout="hash")
    assert_same_answers(NGramLM.load(tmp_path / "h.nwlm"), trie, test[:20], CONTEXTS)
    # The hash layout is the trie with its values moved into hash tables:
    # larger than the trie, and under 60% of the ARPA text (KenLM's probing
    # binary is about 53% of it).
    size = {name: (tmp_path / name).stat().st_size for name in ("t.nwlm", "h.nwlm", "a.arpa")}
    assert size["t.nwlm"] < size["h.nwlm"] < 0.6 * size["a.arpa"]


def test_quantized_trie_is_smaller_and_close(tmp_path: Path, shared: Path) -> None:
    golden = shared / "golden" / "kenlm"
    lm = NGramLM.load(golden / "tinyshakespeare.train.o3.arpa.gz")
    sizes = {}
    for q in (None, 16, 8, 4):
        path = tmp_path / f"q{q}.nwlm"
        lm.save(path, layout="trie", quantize=q)
        sizes[q] = path.stat().st_size
    # (16 bits carry 2^16-entry tables per order: smaller only on big models.)
    assert sizes[None] > sizes[8] > sizes[4]
    test = golden / "tinyshakespeare.test.txt"
    exact = lm.perplexity(test).perplexity
    q8 = NGramLM.load(tmp_path / "q8.nwlm")
    q4 = NGramLM.load(tmp_path / "q4.nwlm")
    assert q8.layout == "trie"
    change8 = abs(q8.perplexity(test).perplexity / exact - 1)
    change4 = abs(q4.perplexity(test).perplexity / exact - 1)
    assert 0 < change8 < 0.02 and change8 < change4
    # Unigrams stay exact (as in KenLM).
    assert q8.logprob("the", "", bos=False) == lm.logprob("the", "", bos=False)
    # Distributions stay normalised to rounding, top-k and sampling still work.
    total = float(np.sum(q8.next_distribution("the")))
    assert abs(total - 1) < 0.05
    assert len(q8.predict("the", k=5)) == 5
    assert q8.generate("the", max_tokens=5, seed=1, top_p=0.9)


@pytest.mark.parametrize("bits", [0, 17, -1, 100, 2.5, True])
def test_quantization_width_outside_1_to_16_is_refused(tmp_path: Path, bits: object) -> None:
    with pytest.raises(ValueError, match="quantize"):
        fit("kneser-ney").save(tmp_path / "m.nwlm", layout="trie", quantize=bits)  # type: ignore[arg-type]
    assert not (tmp_path / "m.nwlm").exists()


def test_bad_layout_choices_are_refused(tmp_path: Path) -> None:
    lm = fit("kneser-ney")
    with pytest.raises(ValueError, match="layout"):
        lm.save(tmp_path / "m.nwlm", layout="btree")
    with pytest.raises(ValueError, match="trie"):
        lm.save(tmp_path / "m.nwlm", layout="hash", quantize=8)
    with pytest.raises(ValueError, match="ARPA"):
        lm.save(tmp_path / "m.arpa", layout="trie")


@pytest.fixture(scope="module")
def trie_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("trie") / "m.nwlm"
    fit("kneser-ney", order=4).save(path, layout="trie")
    return path.read_bytes()


def exercise(lm: NGramLM) -> None:
    """Every kind of query; a corrupt file may give wrong numbers, never a crash."""
    for context in ["", "the", "the cat", "zebra cat", "a dog met on"]:
        lm.predict(context, k=5)
        lm.next_distribution(context)
        lm.generate(context, max_tokens=5, seed=1)
        lm.generate(context, max_tokens=5, seed=1, top_p=0.9)
        lm.generate(context, max_tokens=5, seed=1, top_k=2)
    lm.perplexity(["the cat sat on the mat", "a zebra"])
    lm.full_scores("the dog sat on the log")


def corrupt_copies(clean: bytes, trials: int, seed: int, path: Path) -> Iterator[NGramLM]:
    """The model of ``clean`` with 1 to 10 random bytes of its arrays changed,
    written to ``path`` and opened unverified, ``trials`` times."""
    rng = random.Random(seed)
    start = arrays_start(clean)
    for trial in range(trials):
        data = bytearray(clean)
        for _ in range(1 + trial % 10):
            data[rng.randrange(start, len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
        yield NGramLM.load(path, verify=False)


def test_corrupt_trie_pointers_never_crash_queries(tmp_path: Path, trie_bytes: bytes) -> None:
    """Unverified, corrupt pointers, ids and codes give clamped reads, not crashes."""
    for lm in corrupt_copies(trie_bytes, 80, 5, tmp_path / "x.nwlm"):
        exercise(lm)
        lm.save(tmp_path / "again.nwlm")  # decoding a corrupt trie stays safe too


LONG_RANGES = [f"w0 w{i * 7 % 250} w{i % 5} w{i * 13 % 256}" for i in range(900)]


def test_stored_rankings_answer_as_the_hash_layout(tmp_path: Path) -> None:
    """Contexts with hundreds of successors (the trie stores their ranking)."""
    lm = NGramLM.fit(LONG_RANGES, order=3)
    lm.save(tmp_path / "h.nwlm")
    lm.save(tmp_path / "t.nwlm", layout="trie")
    hash_lm, trie = NGramLM.load(tmp_path / "h.nwlm"), NGramLM.load(tmp_path / "t.nwlm")
    contexts = ["", "w0", "w0 w3", "w3", "w0 w14 w2", "w1 w2"]
    assert_same_answers(hash_lm, trie, LONG_RANGES[:20], contexts)
    assert len(trie.predict("w0", k=300)) > 200
    assert trie.predict("w0", k=300) == hash_lm.predict("w0", k=300)


def test_corrupt_stored_rankings_never_crash_queries(tmp_path: Path) -> None:
    good = tmp_path / "t.nwlm"
    NGramLM.fit(LONG_RANGES, order=3).save(good, layout="trie")
    for trial, lm in enumerate(corrupt_copies(good.read_bytes(), 40, 7, tmp_path / "x.nwlm")):
        for context in ["", "w0", "w0 w3", "w7"]:
            lm.predict(context, k=50)
            lm.generate(context, max_tokens=5, seed=trial, top_p=0.9)
            lm.generate(context, max_tokens=5, seed=trial)


def test_unknown_old_version_says_to_resave(tmp_path: Path, trie_bytes: bytes) -> None:
    path = tmp_path / "old.nwlm"
    path.write_bytes(trie_bytes[:8] + (4).to_bytes(4, "little") + trie_bytes[12:])
    with pytest.raises(ModelFormatError, match="re-save"):
        NGramLM.load(path)


def test_cli_train_and_convert_with_layouts(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    run = [sys.executable, "-m", "nextword"]
    trie = tmp_path / "t.nwlm"
    subprocess.run(
        [*run, "train", str(corpus), "-n", "3", "-o", str(trie), "--layout", "trie", "-q"],
        check=True,
        capture_output=True,
    )
    assert NGramLM.load(trie).layout == "trie"
    q8 = tmp_path / "q8.nwlm"
    out = subprocess.run(
        [*run, "convert", str(trie), str(q8), "--quantize", "8", "-q"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "bytes" in out.stdout and NGramLM.load(q8).layout == "trie"
    bad = subprocess.run(
        [*run, "convert", str(trie), str(tmp_path / "z.nwlm"), "--quantize", "0"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "quantize" in bad.stderr
    assert not (tmp_path / "z.nwlm").exists()

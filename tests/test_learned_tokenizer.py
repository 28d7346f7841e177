"""A learned tokenizer (VocabTokenizer) through counting, saving and loading.

Its fixed ids go straight to counting; counts, vocabularies and models carry its
word list (an ARPA model in a ``.tokenizer`` sidecar), and read back identical.
"""

from __future__ import annotations

from pathlib import Path

import nextword
import pytest
from nextword import NGramCounts, NGramLM, VocabTokenizer, count_ngrams

# The corpus is tiny: Kneser-Ney falls back to default discounts, with a warning.
pytestmark = pytest.mark.filterwarnings("ignore:order .*discount:UserWarning")

TEXTS = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog",
    "the cat saw a bird",
    "zebra",
]


@pytest.fixture()
def tok() -> VocabTokenizer:
    return VocabTokenizer.learn(TEXTS, min_count=2)


def test_learned_list_and_fixed_ids(tok: VocabTokenizer) -> None:
    assert tok.words[:3] == ["<unk>", "<s>", "</s>"]
    assert set(tok.words[3:]) == {"the", "cat", "sat", "on", "a", "dog"}
    assert tok.words[3] == "the"  # the most frequent word
    assert tok.tokenize("the zebra sat") == ["the", "<unk>", "sat"]
    assert tok.encode_ids("the zebra sat") == [3, 0, tok.words.index("sat")]
    assert tok.kind == "vocab"
    assert nextword.Tokenizer.from_spec(tok.spec) == tok
    assert VocabTokenizer(tok.words[3:]) == tok
    with pytest.raises(ValueError):
        VocabTokenizer.learn(TEXTS, min_count=0)


def test_id_counts_equal_string_counts(tok: VocabTokenizer) -> None:
    by_ids = count_ngrams(TEXTS, order=3, tokenizer=tok)
    assert by_ids.vocab.words() == tok.words
    mapped = [" ".join(tok.tokenize(t)) for t in TEXTS]
    by_strings = count_ngrams(mapped, order=3)
    assert dict(by_ids.items()) == dict(by_strings.items())
    assert by_ids.tokenizer == tok


def test_counts_file_round_trips(tok: VocabTokenizer, tmp_path: Path) -> None:
    counts = count_ngrams(TEXTS, order=2, tokenizer=tok)
    counts.save(tmp_path / "c.nwcounts")
    back = NGramCounts.load(tmp_path / "c.nwcounts")
    assert isinstance(back.tokenizer, VocabTokenizer)
    assert back.tokenizer == tok
    assert dict(back.items()) == dict(counts.items())


@pytest.mark.parametrize("suffix", [".nwlm", ".arpa"])
def test_model_saves_loads_and_scores_identically(
    tok: VocabTokenizer, tmp_path: Path, suffix: str
) -> None:
    lm = NGramLM.fit(count_ngrams(TEXTS, order=3, tokenizer=tok))
    path = tmp_path / f"m{suffix}"
    lm.save(path)
    sidecar = Path(f"{path}.tokenizer")
    assert sidecar.exists() == (suffix == ".arpa")
    back = NGramLM.load(path)
    assert back.tokenizer == tok
    for text in ["the cat sat on the mat", "a zebra saw the dog"]:
        assert back.score(text) == pytest.approx(lm.score(text), abs=1e-5)
    if suffix == ".arpa":
        assert path.read_text().startswith("# nextword tokenizer: vocab\n")
        data = bytearray(sidecar.read_bytes())
        data[-6] ^= 0xFF
        sidecar.write_bytes(bytes(data))
        with pytest.raises(nextword.ModelFormatError, match="checksum"):
            NGramLM.load(path)


def test_fit_from_corpus_with_learned_tokenizer(tok: VocabTokenizer) -> None:
    lm = NGramLM.fit(TEXTS, order=2, tokenizer=tok)
    assert lm.tokenizer == tok
    assert lm.vocab.words() == tok.words


def test_plain_whitespace_arpa_has_no_comment_or_sidecar(tmp_path: Path) -> None:
    lm = NGramLM.fit(TEXTS, order=2)
    path = tmp_path / "m.arpa"
    lm.save(path)
    assert path.read_text().startswith("\\data\\")
    assert not Path(f"{path}.tokenizer").exists()

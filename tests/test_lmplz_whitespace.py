"""The ``whitespace`` tokenizer and the line rules are exactly KenLM ``lmplz``'s.

``lmplz`` separates words at NUL, tab, line feed, carriage return and space and
at nothing else, and ends lines at ``\\n`` only. The expected values below are
what ``lmplz -o 2 --discount_fallback`` (kpu/kenlm) reported for the same input:
the n-grams of its ARPA file, and its ``Unigram tokens T types V`` line, where T
counts the words (no ``<s>`` or ``</s>``) and V every type including ``<unk>``,
``<s>`` and ``</s>``.
"""

from __future__ import annotations

from pathlib import Path

import nextword
import pytest

# Four lines with whitespace that lmplz does not split on (no-break space U+00A0,
# ideographic space U+3000, thin space U+2009, vertical tab, form feed) and a
# lone carriage return, which lmplz splits on but which does not end its line.
LINES = b"a\xc2\xa0b c\n\xe3\x80\x80x y\xe2\x80\x89z\nd\re f\n\x0bg\x0ch i\n"

# The unigrams of lmplz's ARPA file (it lists <unk> although never seen).
LMPLZ_UNIGRAMS = {
    "<unk>",
    "<s>",
    "</s>",
    "a\u00a0b",
    "c",
    "\u3000x",
    "y\u2009z",
    "d",
    "e",
    "f",
    "\x0bg\x0ch",
    "i",
}
# The bigrams of lmplz's ARPA file: "d e" is one, so "d\re f" is one sentence.
LMPLZ_BIGRAMS = {
    ("<s>", "a\u00a0b"),
    ("a\u00a0b", "c"),
    ("c", "</s>"),
    ("<s>", "\u3000x"),
    ("\u3000x", "y\u2009z"),
    ("y\u2009z", "</s>"),
    ("<s>", "d"),
    ("d", "e"),
    ("e", "f"),
    ("f", "</s>"),
    ("<s>", "\x0bg\x0ch"),
    ("\x0bg\x0ch", "i"),
    ("i", "</s>"),
}
LMPLZ_TOKENS, LMPLZ_TYPES = 9, 12


@pytest.fixture
def odd_whitespace(tmp_path: Path) -> Path:
    path = tmp_path / "odd-whitespace.txt"
    path.write_bytes(LINES)
    return path


def test_counts_match_lmplz(odd_whitespace: Path) -> None:
    counts = nextword.count_ngrams(odd_whitespace, order=2, progress=False)
    unigrams = dict(counts.items(1))
    bigrams = dict(counts.items(2))
    # nextword lists only the unigrams it saw; lmplz adds the unseen <unk>.
    assert set(unigrams) | {("<unk>",)} == {(w,) for w in LMPLZ_UNIGRAMS}
    assert set(bigrams) == LMPLZ_BIGRAMS
    # Every word once, one <s> and one </s> per line; every bigram once.
    words = LMPLZ_UNIGRAMS - {"<unk>", "<s>", "</s>"}
    assert unigrams == {**{(w,): 1 for w in words}, ("<s>",): 4, ("</s>",): 4}
    assert set(bigrams.values()) == {1}
    assert counts.sentences == 4 and counts.stats["lines"] == 4
    assert counts.tokens == LMPLZ_TOKENS
    assert len(counts.vocab) == LMPLZ_TYPES


def test_unicode_whitespace_tokenizer_splits_more(odd_whitespace: Path) -> None:
    counts = nextword.count_ngrams(
        odd_whitespace, order=2, tokenizer="unicode-whitespace", progress=False
    )
    assert counts.tokenizer == nextword.UnicodeWhitespaceTokenizer()
    words = {w for (w,) in dict(counts.items(1))} - {"<s>", "</s>"}
    assert words == set("abcdefghixyz")
    assert counts["d", "e"] == 1  # a lone "\r" ends no line for this tokenizer either


def test_saved_whitespace_spec_reads_as_the_lmplz_split() -> None:
    assert nextword.tokenizers.as_tokenizer("whitespace") == nextword.WhitespaceTokenizer()
    assert nextword.WhitespaceTokenizer().tokenize("a\u00a0b\x00c\td\re f") == [
        "a\u00a0b",
        "c",
        "d",
        "e",
        "f",
    ]

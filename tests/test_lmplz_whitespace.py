"""The ``whitespace`` tokenizer and the line rules are exactly KenLM ``lmplz``'s.

``lmplz`` separates words at NUL, tab, line feed, carriage return and space and
at nothing else, and ends lines at ``\\n`` only. The expected values below are
what ``lmplz -o 2 --discount_fallback`` (kpu/kenlm) reported for the same input:
the n-grams of its ARPA file, and its ``Unigram tokens T types V`` line, where T
counts the words (no ``<s>`` or ``</s>``) and V every type including ``<unk>``,
``<s>`` and ``</s>``.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import nextword
import pytest
from nextword.reference import KENLM_SEPARATORS, WHITESPACE

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


def test_blank_lines_and_nul_like_lmplz(tmp_path: Path) -> None:
    # lmplz on "a b", "", " \t\r", "c<NUL>d": tokens 4, types 7, and the
    # bigrams below; it keeps blank lines as "<s> </s>", as skip_blank=False does.
    path = tmp_path / "blank.txt"
    path.write_bytes(b"a b\n\n \t\r\nc\x00d\n")
    counts = nextword.count_ngrams(path, order=2, skip_blank=False, progress=False)
    assert set(dict(counts.items(2))) == {
        ("<s>", "</s>"),
        ("b", "</s>"),
        ("d", "</s>"),
        ("<s>", "a"),
        ("a", "b"),
        ("<s>", "c"),
        ("c", "d"),
    }
    assert counts["<s>", "</s>"] == 2
    assert (counts.tokens, len(counts.vocab)) == (4, 7)
    skipped = nextword.count_ngrams(path, order=2, progress=False)
    assert ("<s>", "</s>") not in skipped
    assert skipped.stats["blank_lines"] == 2


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


# --- Gutenberg -----------------------------------------------------------------
#
# Over all of corpora/gutenberg/*.txt.gz (20 files, each ending in a newline, so
# counting them one by one is counting their concatenation) lmplz reports
# "Unigram tokens 54742628 types 1097622", and count_ngrams(order=1) with the
# whitespace tokenizer gives the same: counts.tokens == 54,742,628 (words, no
# <s> or </s>, like lmplz's figure) and len(counts.vocab) == 1,097,622 (every
# type with <unk>, <s> and </s>, like lmplz's). Splitting on Unicode whitespace
# instead gives 54,742,848 tokens and 1,097,559 types. Counting all of it takes
# about a minute on two shared cores, so the test counts only the lines where
# the two splits can differ: those holding a character that is a separator for
# one of them only, or a lone "\r" (there are none). lmplz over exactly those
# 281 lines: "Unigram tokens 2841 types 1361" and 2682 bigrams.

# Characters that one split separates at and the other does not (NUL, VT, FF,
# U+0085, no-break space, U+2000..U+200A, U+3000, ...).
SPLITS_DIFFER = re.compile(
    "[" + "".join(re.escape(c) for c in sorted(WHITESPACE ^ KENLM_SEPARATORS)) + "]"
)
LONE_CR = re.compile("\r(?!\n)")


def lines_where_splits_differ(text: str) -> list[str]:
    """The lines of ``text`` (with their line ends) that hold a character of
    ``SPLITS_DIFFER`` or a lone carriage return."""
    patterns = [SPLITS_DIFFER]
    if text.count("\r") != text.count("\r\n"):
        patterns.append(LONE_CR)
    starts = {text.rfind("\n", 0, m.start()) + 1 for p in patterns for m in p.finditer(text)}
    lines = []
    for start in sorted(starts):
        end = text.find("\n", start)
        lines.append(text[start : len(text) if end == -1 else end + 1])
    return lines


def test_gutenberg_figures_match_lmplz(shared: Path, tmp_path: Path) -> None:
    files = sorted((shared / "corpora/gutenberg").glob("*.txt.gz"))
    assert len(files) == 20
    odd: list[str] = []
    for file in files:
        with gzip.open(file) as f:
            odd += lines_where_splits_differ(f.read().decode("utf-8"))
    assert len(odd) == 281
    path = tmp_path / "odd.txt"
    path.write_text("".join(odd), encoding="utf-8", newline="")
    counts = nextword.count_ngrams(path, order=2, progress=False)
    assert (counts.tokens, len(counts.vocab)) == (2841, 1361)
    assert counts.num_unique(2) == 2682
    assert counts.sentences == 281
    # The 220 tokens by which the Unicode split overcounts the whole corpus
    # (54,742,848 - 54,742,628) all come from these lines.
    unicode = nextword.count_ngrams(path, order=1, tokenizer="unicode-whitespace", progress=False)
    assert unicode.tokens - counts.tokens == 54_742_848 - 54_742_628

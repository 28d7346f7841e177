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
from conftest import require_module
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
    # bigrams below; it keeps blank lines as "<s> </s>", as nextword does by default.
    path = tmp_path / "blank.txt"
    path.write_bytes(b"a b\n\n \t\r\nc\x00d\n")
    counts = nextword.count_ngrams(path, order=2, progress=False)
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
    assert counts.sentences == 4
    skipped = nextword.count_ngrams(path, order=2, skip_blank=True, progress=False)
    assert ("<s>", "</s>") not in skipped
    assert skipped.stats["blank_lines"] == 2
    assert skipped.sentences == 2


# lmplz -o 3 --discount_fallback on "a b", "", "c d" (its ARPA file, whole):
# the blank line is the sentence "<s> </s>", which changes every probability.
LMPLZ_BLANK_ARPA = """\\data\\
ngram 1=7
ngram 2=7
ngram 3=4

\\1-grams:
-1.0791812\t<unk>\t0
0\t<s>\t-0.30103
-0.5263393\t</s>\t0
-0.81033593\ta\t-0.30103
-0.81033593\tb\t-0.30103
-0.81033593\tc\t-0.30103
-0.81033593\td\t-0.30103

\\2-grams:
-0.5010334\t<s> </s>\t0
-0.18788277\tb </s>\t0
-0.18788277\td </s>\t0
-0.6125254\t<s> a\t-0.30103
-0.23853755\ta b\t-0.30103
-0.6125254\t<s> c\t-0.30103
-0.23853755\tc d\t-0.30103

\\3-grams:
-0.0838595\ta b </s>
-0.0838595\tc d </s>
-0.10309342\t<s> a b
-0.10309342\t<s> c d

\\end\\
"""


def test_kneser_ney_over_blank_lines_writes_lmplz_file(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(b"a b\n\nc d\n")
    lm = nextword.NGramLM.fit(path, order=3, progress=False)
    lm.save(tmp_path / "blank.arpa")
    assert (tmp_path / "blank.arpa").read_text(encoding="utf-8") == LMPLZ_BLANK_ARPA
    # A model that drops blank lines is a different model.
    dropped = nextword.NGramLM.fit(path, order=3, skip_blank=True, progress=False)
    dropped.save(tmp_path / "dropped.arpa")
    assert (tmp_path / "dropped.arpa").read_text(encoding="utf-8") != LMPLZ_BLANK_ARPA


def test_blank_lines_are_scored_like_kenlm_query(tmp_path: Path) -> None:
    kenlm = require_module("kenlm", "pip install kenlm")
    path = tmp_path / "blank.txt"
    path.write_bytes(b"a b\n\nc d\n")
    arpa = tmp_path / "blank.arpa"
    arpa.write_text(LMPLZ_BLANK_ARPA, encoding="utf-8")
    lm = nextword.NGramLM.load(arpa)
    held_out = tmp_path / "held_out.txt"
    held_out.write_bytes(b"a d\n\n  \nb c a\n")
    ours = lm.perplexity(held_out)
    model = kenlm.Model(str(arpa))
    lines = ["a d", "", "  ", "b c a"]
    logprob = sum(model.score(line) for line in lines)
    tokens = sum(len(line.split()) + 1 for line in lines)
    assert ours.sentences == 4 and ours.tokens == tokens
    assert ours.logprob == pytest.approx(logprob, abs=1e-4)
    assert ours.perplexity == pytest.approx(10 ** (-logprob / tokens), rel=1e-5)
    assert lm.perplexity(held_out, skip_blank=True).sentences == 2


# lmplz -o 3 --discount_fallback on the file b"a b a\nb b\n\na c", whose last
# line has no newline (its ARPA file, whole): lm/builder/corpus_count.cc counts
# that line's words but appends no </s>, so neither "c </s>" nor "a c </s>"
# is in it.
LMPLZ_UNENDED_ARPA = """\\data\\
ngram 1=6
ngram 2=9
ngram 3=6

\\1-grams:
-0.85158014\t<unk>\t0
0\t<s>\t-0.30103
-0.85158014\t</s>\t0
-0.44013768\ta\t-0.30103
-0.85158014\tb\t-0.30103
-0.6679358\tc\t0

\\2-grams:
-0.70914125\t<s> </s>\t0
-0.6251838\ta </s>\t0
-0.6251838\tb </s>\t0
-0.36503786\t<s> a\t-0.30103
-0.4582359\tb a\t-0.30103
-0.70914125\t<s> b\t-0.30103
-0.6251838\ta b\t-0.30103
-0.6251838\tb b\t-0.30103
-0.56213206\ta c\t0

\\3-grams:
-0.2086473\tb a </s>
-0.2086473\tb b </s>
-0.1712924\ta b a
-0.43354067\t<s> a b
-0.2086473\t<s> b b
-0.41224748\t<s> a c

\\end\\
"""


@pytest.mark.parametrize("tail", [b"", b" \t", b"\r", b" \r"])
def test_last_line_without_newline_gets_no_end_of_sentence(tmp_path: Path, tail: bytes) -> None:
    # A blank last line without a newline adds nothing (lmplz's rule too),
    # and trailing whitespace or CR does not end the line.
    path = tmp_path / "unended.txt"
    path.write_bytes(b"a b a\nb b\n\na c" + tail)
    counts = nextword.count_ngrams(path, order=3, progress=False)
    assert ("c", "</s>") not in counts and counts["a", "c"] == 1
    assert counts.sentences == 4 and counts.tokens == 7
    lm = nextword.NGramLM.fit(path, order=3, progress=False)
    lm.save(tmp_path / "fit.arpa")
    assert (tmp_path / "fit.arpa").read_text(encoding="utf-8") == LMPLZ_UNENDED_ARPA
    # The streaming trainer (lmplz's pipeline, through disk) reads the same way.
    nextword.train_arpa(path, tmp_path / "streamed.arpa", order=3, memory="64M")
    assert (tmp_path / "streamed.arpa").read_text(encoding="utf-8") == LMPLZ_UNENDED_ARPA
    # With the newline, the last sentence ends as any other; a blank line
    # after it without a newline adds nothing.
    for end in (b"\n", b"\n \t"):
        path.write_bytes(b"a b a\nb b\n\na c" + end)
        counts = nextword.count_ngrams(path, order=3, progress=False)
        assert counts["a", "c", "</s>"] == 1 and counts.sentences == 4


# lmplz -o 3 --discount_fallback on b"c\nb c" (no newline at the end): "b c"
# ends the file and is the context of nothing, yet lmplz's interpolation hands
# out the gammas of the contexts in suffix order to every n-gram not ending in
# </s> (lm/builder/interpolate.cc), so "b c" takes the gamma of "<s> b" and
# "<s> b", the context of "<s> b c", finds the stream empty: backoff 0.
LMPLZ_ORPHAN_ARPA = """\\data\\
ngram 1=5
ngram 2=4
ngram 3=2

\\1-grams:
-0.90309\t<unk>\t0
0\t<s>\t-0.30103
-0.60206\t</s>\t0
-0.42596874\tc\t-0.30103
-0.60206\tb\t-0.30103

\\2-grams:
-0.20412\tc </s>\t0
-0.35902193\t<s> c\t-0.30103
-0.1627273\tb c\t-0.30103
-0.42596874\t<s> b\t0

\\3-grams:
-0.090176634\t<s> c </s>
-0.073786214\t<s> b c

\\end\\
"""


def test_backoffs_after_a_last_line_without_newline_are_lmplzs(tmp_path: Path) -> None:
    path = tmp_path / "orphan.txt"
    path.write_bytes(b"c\nb c")
    lm = nextword.NGramLM.fit(path, order=3, progress=False)
    lm.save(tmp_path / "fit.arpa")
    assert (tmp_path / "fit.arpa").read_text(encoding="utf-8") == LMPLZ_ORPHAN_ARPA
    nextword.train_arpa(path, tmp_path / "streamed.arpa", order=3, memory="64M")
    assert (tmp_path / "streamed.arpa").read_text(encoding="utf-8") == LMPLZ_ORPHAN_ARPA
    # With the newline every n-gram below the top order is a context, and each
    # keeps its own gamma.
    path.write_bytes(b"c\nb c\n")
    lm = nextword.NGramLM.fit(path, order=3, progress=False)
    lm.save(tmp_path / "ended.arpa")
    ended = (tmp_path / "ended.arpa").read_text(encoding="utf-8")
    assert "\tb c\t-0.30103\n" in ended and "\t<s> b\t-0.30103\n" in ended


def test_last_line_without_newline_is_scored_like_kenlm_query(tmp_path: Path) -> None:
    # query scores the words of a last line without a newline and no </s>
    # ("If people don't have a newline after their last query, this won't add
    # a </s>", lm/ngram_query.hh); it counts those words in its token total.
    kenlm = require_module("kenlm", "pip install kenlm")
    arpa = tmp_path / "blank.arpa"
    arpa.write_text(LMPLZ_BLANK_ARPA, encoding="utf-8")
    lm = nextword.NGramLM.load(arpa)
    model = kenlm.Model(str(arpa))
    held_out = tmp_path / "held_out.txt"
    held_out.write_bytes(b"a d\n\nb c a")
    ours = lm.perplexity(held_out)
    logprob = model.score("a d") + model.score("") + model.score("b c a", eos=False)
    assert (ours.sentences, ours.tokens) == (3, 2 + 1 + 1 + 3)
    assert ours.logprob == pytest.approx(logprob, abs=1e-4)
    held_out.write_bytes(b"a d\n\nb c a\n  ")
    assert (lm.perplexity(held_out).sentences, lm.perplexity(held_out).tokens) == (3, 8)


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

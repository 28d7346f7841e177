"""The Rust core against the pure-Python reference on random text (hypothesis).

Text is drawn from the reference's ALPHABET_RANGES (Latin, Greek, Cyrillic,
Hebrew, Arabic, punctuation, CJK, kana, Hangul, emoji with ZWJ and skin tones,
regional indicators) plus every kind of whitespace (NUL, VT, FF, no-break and
ideographic spaces, and lone carriage returns inside lines, which are whitespace
and not line ends) and both line ends, so tokens and counts must agree exactly.
"""

from __future__ import annotations

from collections import Counter

import nextword
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nextword import reference

# A few characters with special roles, drawn often so that rules fire.
SPECIAL = list(" \t\r\0\u00a0\u3000\u2009\u2028\x0b\x0c'.,:;\"-_@#$%&!?()[]{}0123456789") + [
    "\u200d",  # ZWJ
    "\ufe0f",  # variation selector
    "\u0301",  # combining acute
    "\U0001f3fd",  # skin tone
    "\U0001f1eb",  # regional indicator F
    "\U0001f1f7",  # regional indicator R
    "\U0001f469",  # woman
    "\u30fc",  # katakana prolonged sound mark
    "\x1c",  # not White_Space in Rust (Python's str.split would split here)
]
ALPHABET = st.one_of(
    st.sampled_from(SPECIAL),
    st.one_of(*(st.integers(lo, hi) for lo, hi in reference.ALPHABET_RANGES)).map(chr),
).filter(lambda c: c != "\n" and not 0xD800 <= ord(c) <= 0xDFFF)

LINE = st.text(alphabet=ALPHABET, max_size=40)
LINE_END = st.sampled_from(["\n", "\r\n"])  # a lone "\r" is whitespace, drawn in LINE


@st.composite
def texts(draw: st.DrawFn) -> list[str]:
    """A few texts, each made of lines with mixed line ends, maybe unterminated."""
    out = []
    for _ in range(draw(st.integers(1, 4))):
        lines = draw(st.lists(LINE, min_size=1, max_size=6))
        ends = [draw(LINE_END) for _ in lines]
        text = "".join(line + end for line, end in zip(lines, ends))
        if draw(st.booleans()):
            text = text[: -len(ends[-1])]
        out.append(text)
    return out


TOKENIZERS = [
    (nextword.WhitespaceTokenizer(), reference.whitespace_tokenize),
    (nextword.UnicodeWhitespaceTokenizer(), reference.unicode_whitespace_tokenize),
    (nextword.WordTokenizer(), reference.word_tokenize),
    (
        nextword.WordTokenizer(lowercase=True, normalize="NFKC"),
        lambda s: reference.word_tokenize(s, lowercase=True, normalize="NFKC"),
    ),
    (
        nextword.WordTokenizer(normalize="NFC"),
        lambda s: reference.word_tokenize(s, normalize="NFC"),
    ),
    (nextword.CharTokenizer(), reference.char_tokenize),
    (nextword.CharTokenizer(keep_whitespace=True), lambda s: reference.char_tokenize(s, True)),
]
IDS = [
    "whitespace",
    "unicode-whitespace",
    "word",
    "word-lower-nfkc",
    "word-nfc",
    "char",
    "char-keep-ws",
]

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(("rust", "ref"), TOKENIZERS, ids=IDS)
@FAST
@given(line=LINE)
def test_tokens_match_reference(rust: nextword.Tokenizer, ref, line: str) -> None:
    assert rust.tokenize(line) == ref(line)


@pytest.mark.parametrize(("rust", "ref"), TOKENIZERS, ids=IDS)
@FAST
@given(corpus=texts(), order=st.integers(1, 4), pad=st.booleans(), skip_blank=st.booleans())
def test_counts_match_reference(
    rust: nextword.Tokenizer, ref, corpus: list[str], order: int, pad: bool, skip_blank: bool
) -> None:
    expected = reference.count_ngrams(
        corpus, order=order, tokenize=ref, pad=pad, skip_blank=skip_blank
    )
    if not any(expected[0].values()) and not list(reference.sentences(corpus, skip_blank)):
        with pytest.raises(nextword.EmptyCorpusError):
            nextword.count_ngrams(
                corpus, order=order, tokenizer=rust, pad=pad, skip_blank=skip_blank
            )
        return
    counts = nextword.count_ngrams(
        corpus, order=order, tokenizer=rust, pad=pad, skip_blank=skip_blank, threads=2
    )
    for n in range(1, order + 1):
        assert Counter(dict(counts.items(n))) == expected[n - 1], f"order {n}"
    assert counts.sentences == len(list(reference.sentences(corpus, skip_blank)))


@settings(max_examples=100, deadline=None)
@given(corpus=texts())
def test_line_splitting_matches_reference(corpus: list[str]) -> None:
    sentences = list(reference.sentences(corpus, skip_blank=False))
    if not sentences:
        return
    vocab = nextword.Vocab([], tokenizer=nextword.CharTokenizer(keep_whitespace=True))
    ids, offsets = vocab.encode_corpus(corpus, skip_blank=False)
    assert len(offsets) == len(sentences) + 1
    # Every character but "\r" (whitespace that is never a token) is one token.
    assert [int(offsets[i + 1] - offsets[i]) for i in range(len(sentences))] == [
        len(s) - s.count("\r") for s in sentences
    ]

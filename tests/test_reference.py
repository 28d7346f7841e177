"""Tests of nextword.reference, the pure-Python oracle, against hand-written values.

These tests need nothing but the standard library and pytest: the Rust extension
is not imported here.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from nextword.reference import (
    ALPHABET_RANGES,
    CJK_SPLIT_RANGES,
    KENLM_SEPARATORS,
    WHITESPACE,
    CharTokenizer,
    UnicodeWhitespaceTokenizer,
    WhitespaceTokenizer,
    WordTokenizer,
    char_tokenize,
    count_ngrams,
    count_of_counts,
    is_blank,
    is_extended_pictographic,
    sentences,
    split_lines,
    split_word_bounds,
    unicode_whitespace_tokenize,
    whitespace_tokenize,
    word_break_property,
    word_tokenize,
)
from nextword.reference._word_break_table import (
    EXTENDED_PICTOGRAPHIC_RANGES,
    WORD_BREAK_RANGES,
)

ZWJ = "\u200d"

# --- corpus -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("a", ["a"]),
        ("a\n", ["a"]),
        ("a\nb", ["a", "b"]),
        ("a\r\nb\r\n", ["a", "b"]),
        # Only "\n" ends a line (as in lmplz); a lone "\r" stays in its line...
        ("a\rb", ["a\rb"]),
        ("a\r\rb", ["a\r\rb"]),
        ("a\r\r\nb", ["a\r", "b"]),
        # ... except at the very end of the text, where it ends the line as "\r\n" would.
        ("a\r", ["a"]),
        ("a\n\r", ["a", ""]),
        ("\n", [""]),
        ("\n\n", ["", ""]),
        ("\r\n\r\n", ["", ""]),
        (" \n ", [" ", " "]),
        # Nothing else ends lines: not U+2028, U+2029, U+0085, VT, FF, FS.
        ("a\u2028b\u2029c\x85d\x0be\x0cf\x1cg", ["a\u2028b\u2029c\x85d\x0be\x0cf\x1cg"]),
    ],
)
def test_split_lines(text: str, lines: list[str]) -> None:
    assert split_lines(text) == lines


def test_whitespace_is_unicode_white_space() -> None:
    expected = {chr(cp) for cp in [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680]}
    expected |= {chr(cp) for cp in range(0x2000, 0x200B)}
    expected |= {"\u2028", "\u2029", "\u202f", "\u205f", "\u3000"}
    assert expected == WHITESPACE
    assert len(WHITESPACE) == 25
    # Python's isspace() also accepts the ASCII separators; Unicode does not.
    assert "\x1c".isspace()
    assert "\x1c" not in WHITESPACE
    # Zero-width space and word joiner are not whitespace.
    assert "\u200b" not in WHITESPACE
    assert "\u2060" not in WHITESPACE


@pytest.mark.parametrize(
    ("line", "blank"),
    [
        ("", True),
        (" ", True),
        ("\t \r\0", True),
        # Other whitespace holds a word for lmplz: not blank.
        ("\t \u3000\u00a0\u2003", False),
        ("\x0b\x0c", False),
        ("\u200b", False),
        ("\x1c\x1d\x1e\x1f", False),
        (" a ", False),
    ],
)
def test_is_blank(line: str, blank: bool) -> None:
    assert is_blank(line) is blank


def test_sentences() -> None:
    texts = ["first line\r\n\r\n  \nsecond line", "", "third\n"]
    assert list(sentences(texts, skip_blank=True)) == ["first line", "second line", "third"]
    assert list(sentences(texts)) == [
        "first line",
        "",
        "  ",
        "second line",
        "third",
    ]
    # A generator is fine: sentences streams.
    assert list(sentences(t for t in ["a\nb"])) == ["a", "b"]


# --- whitespace and character tokenizers --------------------------------------


def test_kenlm_separators() -> None:
    assert frozenset("\0\t\n\r ") == KENLM_SEPARATORS


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        ("", []),
        ("   ", []),
        ("the cat", ["the", "cat"]),
        ("  the\t\tcat  ", ["the", "cat"]),
        ("a\rb\0c", ["a", "b", "c"]),
        # lmplz splits at NUL, tab, LF, CR and space only.
        ("a\u3000b\u00a0c\u2009d\x85e", ["a\u3000b\u00a0c\u2009d\x85e"]),
        ("\x0bg\x0ch i", ["\x0bg\x0ch", "i"]),
        ("Don't panic!", ["Don't", "panic!"]),
        ("a\x1cb", ["a\x1cb"]),  # not a split point, unlike str.split()
        ("a\u200bb", ["a\u200bb"]),
    ],
)
def test_whitespace_tokenize(line: str, tokens: list[str]) -> None:
    assert whitespace_tokenize(line) == tokens
    assert WhitespaceTokenizer().tokenize(line) == tokens


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        ("", []),
        ("  the\t\tcat\r ", ["the", "cat"]),
        ("a\u3000b\u00a0c\u2009d\x85e\x0bf\x0cg", ["a", "b", "c", "d", "e", "f", "g"]),
        ("a\x1cb\0c", ["a\x1cb\0c"]),  # neither is White_Space
        ("a\u200bb", ["a\u200bb"]),
    ],
)
def test_unicode_whitespace_tokenize(line: str, tokens: list[str]) -> None:
    assert unicode_whitespace_tokenize(line) == tokens
    assert UnicodeWhitespaceTokenizer().tokenize(line) == tokens


def test_tokenizer_objects_are_frozen_values() -> None:
    """Tokenizer objects are immutable values: equal (and hashing alike) when
    their options are, with the documented defaults, and not assignable."""
    import dataclasses

    for make in (WhitespaceTokenizer, UnicodeWhitespaceTokenizer, CharTokenizer, WordTokenizer):
        tokenizer = make()
        assert tokenizer == make() and hash(tokenizer) == hash(make())
        with pytest.raises(dataclasses.FrozenInstanceError):
            tokenizer.option = 1  # type: ignore[attr-defined]
    assert CharTokenizer() == CharTokenizer(keep_whitespace=False)
    assert WordTokenizer() == WordTokenizer(lowercase=False, normalize=None)
    with pytest.raises(ValueError, match=r"^normalize must be None, 'NFC' or 'NFKC', not 'NFD'$"):
        WordTokenizer(normalize="NFD").tokenize("a")  # type: ignore[arg-type]


def test_char_tokenize() -> None:
    assert char_tokenize("猫 の\tcat") == ["猫", "の", "c", "a", "t"]
    assert char_tokenize("a b", keep_whitespace=True) == ["a", " ", "b"]
    # Code points, not graphemes: the accent is a token of its own.
    assert char_tokenize("e\u0301") == ["e", "\u0301"]
    assert char_tokenize("👍🏽") == ["👍", "🏽"]
    assert CharTokenizer().tokenize("a\u3000b") == ["a", "b"]
    assert CharTokenizer(keep_whitespace=True).tokenize("a\u3000b") == ["a", "\u3000", "b"]
    # A lone "\r" in a line is whitespace, and never a token, even when whitespace is kept.
    assert char_tokenize("a\rb") == ["a", "b"]
    assert char_tokenize("a\r b\n", keep_whitespace=True) == ["a", " ", "b"]


# --- Unicode properties -------------------------------------------------------


@pytest.mark.parametrize(
    ("ch", "value"),
    [
        ("a", "ALetter"),
        ("Z", "ALetter"),
        ("é", "ALetter"),
        ("ß", "ALetter"),
        ("Ω", "ALetter"),
        ("ж", "ALetter"),
        ("ب", "ALetter"),
        ("א", "Hebrew_Letter"),
        ("7", "Numeric"),
        ("٣", "Numeric"),
        ("１", "Numeric"),
        ("'", "Single_Quote"),
        ('"', "Double_Quote"),
        (".", "MidNumLet"),
        ("\u2019", "MidNumLet"),
        (":", "MidLetter"),
        ("\u00b7", "MidLetter"),
        (",", "MidNum"),
        (";", "MidNum"),
        ("_", "ExtendNumLet"),
        ("\u202f", "ExtendNumLet"),
        (" ", "WSegSpace"),
        ("\u3000", "WSegSpace"),
        ("\u2007", "Other"),  # figure space: no-break, so not WSegSpace
        ("\u00a0", "Other"),
        ("\t", "Other"),
        ("\r", "CR"),
        ("\n", "LF"),
        ("\x0b", "Newline"),
        ("\x85", "Newline"),
        ("\u2028", "Newline"),
        ("\u0301", "Extend"),
        ("\u200c", "Extend"),
        ("\ufe0f", "Extend"),
        ("\U0001f3fd", "Extend"),
        ("\u200d", "ZWJ"),
        ("\u00ad", "Format"),
        ("\u2060", "Format"),
        ("\u200b", "Other"),
        ("カ", "Katakana"),
        ("ー", "Katakana"),
        ("ｶ", "Katakana"),
        ("\u30fb", "Other"),
        ("あ", "Other"),
        ("漢", "Other"),
        ("\U00020000", "Other"),
        ("한", "ALetter"),
        ("\U0001f1eb", "Regional_Indicator"),
        ("\U0001f431", "Other"),
        ("!", "Other"),
        ("$", "Other"),
        # Outside the alphabet: approximated from the general category.
        ("\u0915", "ALetter"),  # Devanagari KA (Lo)
        ("\u0966", "Numeric"),  # Devanagari digit zero (Nd)
        ("\u093f", "Extend"),  # Devanagari vowel sign I (Mc)
        ("\u2122", "Other"),  # trade mark sign (So)
    ],
)
def test_word_break_property(ch: str, value: str) -> None:
    assert word_break_property(ch) == value


def test_extended_pictographic() -> None:
    for ch in "©®‼⁉〰〽🐱👨🚀🤖🫠❤☀":
        assert is_extended_pictographic(ch), ch
    for ch in "a1 #*\u200d\ufe0f\U0001f3fb\U0001f1eb漢":
        assert not is_extended_pictographic(ch), ch


def _check_ranges(ranges: list[tuple[int, int]]) -> None:
    for first, last in ranges:
        assert first <= last
    for (_, last), (first, _) in zip(ranges, ranges[1:]):
        assert last < first  # sorted, disjoint


def test_tables_are_sorted_and_inside_the_alphabet() -> None:
    _check_ranges(list(ALPHABET_RANGES))
    _check_ranges([(first, last) for first, last, _ in WORD_BREAK_RANGES])
    _check_ranges(list(EXTENDED_PICTOGRAPHIC_RANGES))
    _check_ranges(sorted(CJK_SPLIT_RANGES))
    for first, last, _ in WORD_BREAK_RANGES:
        for cp in (first, last):
            assert any(lo <= cp <= hi for lo, hi in ALPHABET_RANGES), hex(cp)


def test_the_table_decides_up_to_the_last_code_point_of_each_range() -> None:
    """Both ends of every alphabet range are read from the table, not guessed
    from the general category (mutmut: ``cp <= last`` as ``cp < last`` survived;
    at U+05EA, U+30FF, U+1F1FF and others the guess differs from the table)."""
    for first, last in ALPHABET_RANGES:
        for cp in (first, last):
            table = [v for lo, hi, v in WORD_BREAK_RANGES if lo <= cp <= hi]
            assert word_break_property(chr(cp)) == (table[0] if table else "Other"), hex(cp)
    assert word_break_property("\u05ea") == "Hebrew_Letter"
    assert word_break_property("\U0001f1ff") == "Regional_Indicator"


# --- word boundaries (UAX #29) ------------------------------------------------


# Hand-written UAX #29 cases: the reference's pieces. test_word_boundaries.py
# runs them against the Rust WordTokenizer too.
UAX29_CASES = [
    ("", []),
    ("Hello world", ["Hello", " ", "world"]),
    ("can't", ["can't"]),
    ("can\u2019t", ["can\u2019t"]),
    ("'quoted'", ["'", "quoted", "'"]),
    ("rock'n'roll", ["rock'n'roll"]),
    ("3.14", ["3.14"]),
    ("1,000,000", ["1,000,000"]),
    ("3.", ["3", "."]),
    ("e.g.", ["e.g", "."]),
    ("a..b", ["a", ".", ".", "b"]),
    ("a.1", ["a", ".", "1"]),
    ("1.a", ["1", ".", "a"]),
    ("A4 4A", ["A4", " ", "4A"]),
    ("2:30", ["2", ":", "30"]),  # ":" is MidLetter, not MidNum
    ("foo:bar", ["foo:bar"]),
    ("snake_case _x_ 1_000", ["snake_case", " ", "_x_", " ", "1_000"]),
    ("a  b", ["a", "  ", "b"]),  # WB3d: a run of spaces is one piece
    ("a\t\tb", ["a", "\t", "\t", "b"]),  # tabs are not WSegSpace
    ("a \u0301 b", ["a", " \u0301", " ", "b"]),  # WB4 beats WB3d
    ("a\r\nb", ["a", "\r\n", "b"]),
    ("a\n\rb", ["a", "\n", "\r", "b"]),
    ("\u0301\u0301a", ["\u0301\u0301", "a"]),  # marks at the start stay together
    ("\n\u0301a", ["\n", "\u0301", "a"]),  # WB4 does not apply after a newline
    ("cafe\u0301s", ["cafe\u0301s"]),
    ("a\u00adb", ["a\u00adb"]),  # soft hyphen is Format: ignored
    ("a\u200bb", ["a", "\u200b", "b"]),  # zero-width space is Other
    ('\u05d0"\u05d1', ['\u05d0"\u05d1']),  # WB7b, WB7c
    ('\u05d0"', ["\u05d0", '"']),
    ("\u05d0'", ["\u05d0'"]),  # WB7a
    ("カタカナ", ["カタカナ"]),  # WB13
    ("ひらがな", ["ひ", "ら", "が", "な"]),
    ("漢字", ["漢", "字"]),
    ("한국어", ["한국어"]),  # Hangul syllables are ALetter
    ("\U0001f1eb\U0001f1f7\U0001f1e9", ["\U0001f1eb\U0001f1f7", "\U0001f1e9"]),
    (
        "a\U0001f1e6" + ZWJ + "\U0001f1e7\U0001f1e8b",
        ["a", "\U0001f1e6\u200d\U0001f1e7", "\U0001f1e8", "b"],
    ),
    ("\U0001f468" + ZWJ + "\U0001f469" + ZWJ + "\U0001f467", ["👨‍👩‍👧"]),
    ("\U0001f476\U0001f3ff\U0001f476", ["\U0001f476\U0001f3ff", "\U0001f476"]),
    ("a" + ZWJ + "\U0001f6d1", ["a\u200d\U0001f6d1"]),  # WB3c after a letter
    ("\U0001f431\U0001f436", ["\U0001f431", "\U0001f436"]),  # no ZWJ: two pieces
    (" " + ZWJ + "\U0001f431", [" \u200d\U0001f431"]),
    ("\U0001f431" + ZWJ + "a", ["\U0001f431\u200d", "a"]),
    # unicode-segmentation keeps a pending "'" (or "." or '"') when a ZWJ and an
    # emoji follow it: one piece, where plain UAX #29 would cut before the "'".
    ("a'" + ZWJ + "\U0001f431b", ["a'\u200d\U0001f431", "b"]),
    ("1." + ZWJ + "\U0001f431", ["1.\u200d\U0001f431"]),
    ('\u05d0"' + ZWJ + "\U0001f431", ['\u05d0"\u200d\U0001f431']),
    ("a'\U0001f431", ["a", "'", "\U0001f431"]),
]


@pytest.mark.parametrize(("text", "pieces"), UAX29_CASES)
def test_split_word_bounds(text: str, pieces: list[str]) -> None:
    assert split_word_bounds(text) == pieces


def _random_text(rng: random.Random, length: int) -> str:
    interesting = "aZé1٣.,:;'\"_ \u3000\t\r\n\u0301\u200d\ufe0f\u00ad\u05d0カあ漢한🐱🇫🇷🏽!"
    chars = []
    for _ in range(length):
        if rng.random() < 0.7:
            chars.append(rng.choice(interesting))
        else:
            first, last = rng.choice(ALPHABET_RANGES)
            chars.append(chr(rng.randint(first, last)))
    return "".join(chars)


def test_split_word_bounds_invariants() -> None:
    rng = random.Random(20240529)
    for _ in range(2000):
        text = _random_text(rng, rng.randint(0, 20))
        pieces = split_word_bounds(text)
        assert "".join(pieces) == text
        assert all(pieces)
        # Boundaries are local: cutting at a boundary and segmenting both halves
        # gives the same pieces, except across the look-ahead rules (WB6, WB12),
        # so only test cuts before newlines, which are always boundaries.
        for i, ch in enumerate(text):
            if ch in "\r\n" and i > 0 and text[i - 1] != "\r":
                assert split_word_bounds(text[:i]) + split_word_bounds(text[i:]) == pieces


# --- word tokenizer -----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        ("", []),
        ("  \u3000 ", []),
        ("I can't believe it's here.", ["I", "can't", "believe", "it's", "here", "."]),
        ("They'll say \u201cno\u201d!", ["They'll", "say", "\u201c", "no", "\u201d", "!"]),
        ("Pi is 3.14159, not 3,14.", ["Pi", "is", "3.14159", ",", "not", "3,14", "."]),
        ("$1,000.50 (approx.)", ["$", "1,000.50", "(", "approx", ".", ")"]),
        (
            "see https://example.com/a_b?q=1 now",
            ["see", "https", ":", "/", "/", "example.com", "/", "a_b", "?", "q", "=", "1", "now"],
        ),
        ("mail me@example.org", ["mail", "me", "@", "example.org"]),
        ("family 👨‍👩‍👧‍👦 here", ["family", "👨‍👩‍👧‍👦", "here"]),
        ("I ❤️ you 👍🏽", ["I", "❤️", "you", "👍🏽"]),
        ("🇯🇵🇺🇸", ["🇯🇵", "🇺🇸"]),
        ("🇫🇷🇩", ["🇫🇷", "🇩"]),
        ("私はカタカナと漢字", ["私", "は", "カ", "タ", "カ", "ナ", "と", "漢", "字"]),
        ("東京タワーに行く。", ["東", "京", "タ", "ワ", "ー", "に", "行", "く", "。"]),
        ("ｶﾀｶﾅ", ["ｶ", "ﾀ", "ｶ", "ﾅ"]),
        ("한국어 문장입니다.", ["한", "국", "어", "문", "장", "입", "니", "다", "."]),
        (
            "我爱北京，你呢？「好」",
            ["我", "爱", "北", "京", "，", "你", "呢", "？", "「", "好", "」"],
        ),
        ("iPhone用のアプリ", ["iPhone", "用", "の", "ア", "プ", "リ"]),
        ("Ｅｘｃｅｌ２０２４", ["Ｅｘｃｅｌ２０２４"]),
        ("cafe\u0301 nai\u0308ve", ["cafe\u0301", "nai\u0308ve"]),
        ("\u0301x", ["\u0301", "x"]),
        ('שלום צה"ל', ["שלום", 'צה"ל']),
        ("Ωμέγα καλημέρα;", ["Ωμέγα", "καλημέρα", ";"]),
        ("a\u00a0b\u2003c", ["a", "b", "c"]),  # no-break space, em space
        ("a\u200bb", ["a", "\u200b", "b"]),
        ("a \u0301", ["a", " \u0301"]),  # a space carrying an accent is not blank
        ("line\r\nbreak", ["line", "break"]),
        ("lone\rcr\r", ["lone", "cr"]),
    ],
)
def test_word_tokenize(line: str, tokens: list[str]) -> None:
    assert word_tokenize(line) == tokens
    assert WordTokenizer().tokenize(line) == tokens


def test_word_tokenize_cjk_split_inside_a_piece() -> None:
    # A combining mark glues to the ideograph (WB4); the CJK split separates them.
    assert split_word_bounds("漢\u0301") == ["漢\u0301"]
    assert word_tokenize("漢\u0301") == ["漢", "\u0301"]
    # Katakana joined by "_" (WB13a/b) is one piece, then split per character.
    assert split_word_bounds("カ_カ") == ["カ_カ"]
    assert word_tokenize("カ_カ") == ["カ", "_", "カ"]
    assert word_tokenize("ア\u3099") == ["ア", "\u3099"]


def test_word_tokenize_normalize() -> None:
    fullwidth = "ＡＢＣ１２３ ｈｅｌｌｏ"
    assert word_tokenize(fullwidth) == ["ＡＢＣ１２３", "ｈｅｌｌｏ"]
    assert word_tokenize(fullwidth, normalize="NFKC") == ["ABC123", "hello"]
    assert word_tokenize(fullwidth, normalize="NFC") == ["ＡＢＣ１２３", "ｈｅｌｌｏ"]
    assert word_tokenize("cafe\u0301", normalize="NFC") == ["caf\u00e9"]
    # "½" becomes "1⁄2", and U+2044 FRACTION SLASH is MidNum: one number (WB11/12).
    assert word_tokenize("ﬁne ½", normalize="NFKC") == ["fine", "1\u20442"]
    assert word_tokenize("ｶﾞ", normalize="NFKC") == ["ガ"]
    with pytest.raises(ValueError, match="normalize"):
        word_tokenize("x", normalize="NFD")  # type: ignore[arg-type]


def test_word_tokenize_lowercase() -> None:
    assert word_tokenize("The CAT", lowercase=True) == ["the", "cat"]
    # Final sigma: a capital sigma at the end of a word lowercases to "ς".
    assert word_tokenize("ΟΔΟΣ ΣΑΣ.", lowercase=True) == ["οδος", "σας", "."]
    assert word_tokenize("ΟΔΟΣ", lowercase=True)[0][-1] == "\u03c2"
    assert word_tokenize("Σ", lowercase=True) == ["σ"]
    assert word_tokenize("İstanbul", lowercase=True) == ["i\u0307stanbul"]
    assert word_tokenize("ＡＢＣ", lowercase=True, normalize="NFKC") == ["abc"]
    tokenizer = WordTokenizer(lowercase=True, normalize="NFKC")
    assert tokenizer.tokenize("Ｈｉ THERE") == ["hi", "there"]


# --- n-gram counting ----------------------------------------------------------


def test_count_ngrams_padded() -> None:
    unigrams, bigrams, trigrams = count_ngrams(["the cat sat\nthe cat ran\n"], order=3)
    assert unigrams == Counter(
        {("<s>",): 2, ("the",): 2, ("cat",): 2, ("sat",): 1, ("ran",): 1, ("</s>",): 2}
    )
    assert bigrams == Counter(
        {
            ("<s>", "the"): 2,
            ("the", "cat"): 2,
            ("cat", "sat"): 1,
            ("cat", "ran"): 1,
            ("sat", "</s>"): 1,
            ("ran", "</s>"): 1,
        }
    )
    assert trigrams == Counter(
        {
            ("<s>", "the", "cat"): 2,
            ("the", "cat", "sat"): 1,
            ("the", "cat", "ran"): 1,
            ("cat", "sat", "</s>"): 1,
            ("cat", "ran", "</s>"): 1,
        }
    )


def test_count_ngrams_unpadded_and_short_sentences() -> None:
    unigrams, bigrams, trigrams = count_ngrams(["a b a", "c"], order=3, pad=False)
    assert unigrams == Counter({("a",): 2, ("b",): 1, ("c",): 1})
    assert bigrams == Counter({("a", "b"): 1, ("b", "a"): 1})
    assert trigrams == Counter({("a", "b", "a"): 1})
    # A one-token sentence padded has three tokens: no 4-gram.
    counts = count_ngrams(["x"], order=4)
    assert counts[2] == Counter({("<s>", "x", "</s>"): 1})
    assert counts[3] == Counter()


def test_count_ngrams_blank_lines() -> None:
    text = "a\n\n \nb\n"
    assert count_ngrams([text], order=1, skip_blank=True)[0] == Counter(
        {("<s>",): 2, ("a",): 1, ("b",): 1, ("</s>",): 2}
    )
    # Kept blank lines (the default, as lmplz) are empty padded sentences.
    unigrams, bigrams = count_ngrams([text], order=2)
    assert unigrams == Counter({("<s>",): 4, ("a",): 1, ("b",): 1, ("</s>",): 4})
    assert bigrams[("<s>", "</s>")] == 2
    # Without padding a blank line has no tokens and counts nothing.
    assert count_ngrams([text], order=1, pad=False, skip_blank=False)[0] == Counter(
        {("a",): 1, ("b",): 1}
    )


def test_count_ngrams_texts_are_separate_and_crlf() -> None:
    counts = count_ngrams(["a b", "c d\r\ne"], order=2, pad=False)
    assert ("b", "c") not in counts[1]
    assert counts[0] == Counter({("a",): 1, ("b",): 1, ("c",): 1, ("d",): 1, ("e",): 1})


def test_count_ngrams_with_other_tokenizers() -> None:
    counts = count_ngrams(["Don't stop!"], order=2, tokenize=word_tokenize)
    assert counts[1] == Counter(
        {("<s>", "Don't"): 1, ("Don't", "stop"): 1, ("stop", "!"): 1, ("!", "</s>"): 1}
    )
    chars = count_ngrams(["abab"], order=2, tokenize=CharTokenizer().tokenize, pad=False)
    assert chars[1] == Counter({("a", "b"): 2, ("b", "a"): 1})
    lower = WordTokenizer(lowercase=True).tokenize
    assert count_ngrams(["The the THE"], order=1, tokenize=lower, pad=False)[0] == Counter(
        {("the",): 3}
    )


def test_count_ngrams_order_must_be_positive() -> None:
    with pytest.raises(ValueError, match="order"):
        count_ngrams(["a"], order=0)


def test_count_ngrams_totals() -> None:
    rng = random.Random(7)
    words = ["a", "b", "c", "d"]
    lines = [" ".join(rng.choices(words, k=rng.randint(0, 8))) for _ in range(50)]
    counts = count_ngrams(["\n".join(lines) + "\n"], order=3, skip_blank=False)
    for k, counter in enumerate(counts, start=1):
        expected = sum(max(len(line.split()) + 2 - k + 1, 0) for line in lines)
        assert sum(counter.values()) == expected


def test_count_of_counts() -> None:
    unigrams = count_ngrams(["a b a c a b"], order=1, pad=False)[0]
    assert count_of_counts(unigrams) == {1: 1, 2: 1, 3: 1}
    assert list(count_of_counts(Counter({("x",): 5, ("y",): 1, ("z",): 1}))) == [1, 5]
    assert count_of_counts(Counter()) == {}
    assert unigrams.most_common(1) == [(("a",), 3)]

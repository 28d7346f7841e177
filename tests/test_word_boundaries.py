"""Word boundaries (UAX #29) checked against Unicode's own test cases, and the
hand-written cases run against the Rust ``WordTokenizer`` as well as the reference.

Unicode publishes ``WordBreakTest.txt``: strings with their word boundaries.
The ``unicode-segmentation`` crate (the Rust core's dependency) carries them as
``TEST_WORD`` in ``tests/testdata/mod.rs``, read here from Cargo's registry.

The reference's ``split_word_bounds`` must give exactly those pieces. The
tokenizer applies the project's documented departures on top (README,
``reference/tokenize.py``): pieces made only of whitespace are dropped, and
every CJK character (``CJK_SPLIT_RANGES``) is a token of its own. Punctuation
needs no departure: UAX #29 already puts each punctuation mark apart (WB999).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import pytest
from conftest import skip_unless_ci
from nextword import WordTokenizer
from nextword.reference import (
    ALPHABET_RANGES,
    CJK_SPLIT_RANGES,
    WHITESPACE,
    split_word_bounds,
    word_tokenize,
)
from test_reference import UAX29_CASES


def departures(pieces: list[str]) -> list[str]:
    """The word tokenizer's tokens from UAX #29 pieces: whitespace pieces
    dropped, CJK characters split off one by one."""
    tokens: list[str] = []
    for piece in pieces:
        if all(ch in WHITESPACE for ch in piece):
            continue
        run = ""
        for ch in piece:
            if any(a <= ord(ch) <= b for a, b in CJK_SPLIT_RANGES):
                tokens += [run, ch] if run else [ch]
                run = ""
            else:
                run += ch
        if run:
            tokens.append(run)
    return tokens


def test_departures_as_documented() -> None:
    assert departures(["can't", " ", "stop", "!"]) == ["can't", "stop", "!"]
    assert departures(["カタカナ", "\u3000", "x漢y"]) == ["カ", "タ", "カ", "ナ", "x", "漢", "y"]


def test_word_tokenize_splits_cjk_up_to_each_range_edge() -> None:
    """Each CJK range's first and last code point is split off a combining mark
    (UAX #29 keeps the two in one piece, WB4), the code points just outside are
    not, in the reference and in Rust alike (the two tables agree to the edge)."""

    def inside(cp: int) -> bool:
        return any(a <= cp <= b for a, b in CJK_SPLIT_RANGES)

    rust = WordTokenizer()
    for first, last in CJK_SPLIT_RANGES:
        for cp in (first - 1, first, last, last + 1):
            text = chr(cp) + "\u0301"
            expected = [chr(cp), "\u0301"] if inside(cp) else [text]
            assert word_tokenize(text) == expected, hex(cp)
            assert rust.tokenize(text) == expected, hex(cp)


def test_word_tokenize_splits_cjk_inside_one_piece() -> None:
    """Hangul syllables are letters to UAX #29, so ``a한b`` is one piece; the
    CJK split cuts it into three, the text before and after each CJK
    character kept whole (after a CJK character the run starts empty again)."""
    cases = {
        "a한b": ["a", "한", "b"],
        "ab한한cd": ["ab", "한", "한", "cd"],
        "1한2": ["1", "한", "2"],
    }
    for text, tokens in cases.items():
        assert split_word_bounds(text) == [text]
        assert word_tokenize(text) == tokens
        assert WordTokenizer().tokenize(text) == tokens


@pytest.mark.parametrize(("text", "pieces"), UAX29_CASES)
def test_rust_word_tokenizer_on_the_hand_written_cases(text: str, pieces: list[str]) -> None:
    assert WordTokenizer().tokenize(text) == departures(pieces)


# --- Unicode's WordBreakTest.txt, as the unicode-segmentation crate carries it ---------------

STRING = re.compile(r'"((?:[^"\\]|\\.)*)"|([()\[\]])')
ESCAPE = re.compile(r"\\(u\{([0-9a-fA-F]+)\}|.)")


def rust_string(body: str) -> str:
    simple = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "\\": "\\", '"': '"', "'": "'"}
    return ESCAPE.sub(lambda m: chr(int(m[2], 16)) if m[2] else simple[m[1]], body)


def parse_test_word(source: str) -> list[tuple[str, list[str]]]:
    """The (string, pieces) pairs of ``TEST_WORD: &[(&str, &[&str])] = &[...];``."""
    start = source.index("TEST_WORD")
    body = source[source.index("= &[", start) + 4 : source.index("];", start)]
    cases: list[tuple[str, list[str]]] = []
    strings: list[str] = []
    for m in STRING.finditer(body):
        if m[1] is not None:
            strings.append(rust_string(m[1]))
        elif m[2] == ")":
            cases.append((strings[0], strings[1:]))
        elif m[2] == "(":
            strings = []
    return cases


@lru_cache(maxsize=1)
def word_break_test() -> list[tuple[str, list[str]]]:
    cargo = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    found = sorted(
        cargo.glob("registry/src/*/unicode-segmentation-1.*/tests/testdata/mod.rs"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.parent.name)],
    )
    if not found:
        skip_unless_ci(f"no unicode-segmentation test data under {cargo}; run cargo build")
    return parse_test_word(found[-1].read_text(encoding="utf-8"))


def test_the_parser_reads_the_cases() -> None:
    src = (
        'TEST_WORD: &[(&str, &[&str])] = &[("\\u{d}\\u{a}", &["\\u{d}\\u{a}"]),'
        ' ("a\\"b", &["a", "\\"b"])];'
    )
    assert parse_test_word(src) == [("\r\n", ["\r\n"]), ('a"b', ["a", '"b'])]


def in_alphabet(text: str) -> bool:
    return all(any(a <= ord(ch) <= b for a, b in ALPHABET_RANGES) for ch in text)


def test_reference_matches_word_break_test() -> None:
    """The reference's Word_Break table is exact inside ``ALPHABET_RANGES`` and
    approximated from the general category outside it (documented in
    ``word_break_property``): the cases with a character outside (U+24C2, an
    ALetter of category So; U+06DD and U+070F, Numeric in Unicode 17 but Cf)
    are left out, and they are few."""
    cases = word_break_test()
    inside = [(s, want) for s, want in cases if in_alphabet(s)]
    assert len(cases) > 1000 and len(inside) > 0.9 * len(cases)
    wrong = [(s, want, got) for s, want in inside if (got := split_word_bounds(s)) != want]
    assert not wrong, f"{len(wrong)} of {len(inside)} differ, first: {wrong[:3]}"


def test_rust_word_tokenizer_matches_word_break_test() -> None:
    tokenizer = WordTokenizer()
    cases = word_break_test()
    wrong = [
        (s, departures(want), got)
        for s, want in cases
        if (got := tokenizer.tokenize(s)) != departures(want)
    ]
    assert not wrong, f"{len(wrong)} of {len(cases)} differ, first: {wrong[:3]}"

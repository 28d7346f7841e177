"""Reference tokenizers: how a line of text becomes a list of tokens.

Four tokenizers, from the simplest to the most careful:

* ``whitespace_tokenize`` splits exactly where KenLM's ``lmplz`` does: at NUL,
  tab, line feed, carriage return and space, and nowhere else;
* ``unicode_whitespace_tokenize`` splits at every Unicode whitespace character;
* ``char_tokenize`` makes every character (code point) a token;
* ``word_tokenize`` finds words with the Unicode word-boundary rules (UAX #29,
  "Unicode Text Segmentation"), then cuts Chinese, Japanese and Korean text
  into single characters, since those scripts do not put spaces between words.

Example:
    >>> whitespace_tokenize("Don't panic!")
    ["Don't", 'panic!']
    >>> whitespace_tokenize("no-break\\u00a0space")
    ['no-break\\xa0space']
    >>> unicode_whitespace_tokenize("no-break\\u00a0space")
    ['no-break', 'space']
    >>> word_tokenize("Don't panic!")
    ["Don't", 'panic', '!']
    >>> char_tokenize("猫 cat")
    ['猫', 'c', 'a', 't']
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal, Optional

from .corpus import KENLM_SEPARATORS, WHITESPACE
from .word_bounds import split_word_bounds

__all__ = [
    "CJK_SPLIT_RANGES",
    "CharTokenizer",
    "UnicodeWhitespaceTokenizer",
    "WhitespaceTokenizer",
    "WordTokenizer",
    "char_tokenize",
    "unicode_whitespace_tokenize",
    "whitespace_tokenize",
    "word_tokenize",
]

Normalization = Optional[Literal["NFC", "NFKC"]]

# Characters that word_tokenize always makes tokens of their own (inclusive ranges).
CJK_SPLIT_RANGES: tuple[tuple[int, int], ...] = (
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0xFF66, 0xFF9F),  # Halfwidth Katakana
    (0xAC00, 0xD7AF),  # Hangul Syllables
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x2FA1F),  # CJK Extensions B-F and Compatibility Supplement
    (0x30000, 0x323AF),  # CJK Extensions G and H
)


# --- 1. Whitespace and characters -------------------------------------------


def _split_at(line: str, separators: frozenset[str]) -> list[str]:
    """Split ``line`` at runs of ``separators``; never return empty tokens."""
    tokens: list[str] = []
    current: list[str] = []  # characters of the token being read
    for ch in line:
        if ch in separators:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        tokens.append("".join(current))
    return tokens


def whitespace_tokenize(line: str) -> list[str]:
    """Split ``line`` where KenLM's ``lmplz`` does; never return empty tokens.

    The separators are ``corpus.KENLM_SEPARATORS``: NUL, tab, line feed, carriage
    return and space. Nothing else separates words, so a no-break space, an
    ideographic space, a vertical tab or a form feed stays inside its token.

    Example:
        >>> whitespace_tokenize("  the\\tcat\\rsat\\u3000down ")
        ['the', 'cat', 'sat\\u3000down']
    """
    return _split_at(line, KENLM_SEPARATORS)


def unicode_whitespace_tokenize(line: str) -> list[str]:
    """Split ``line`` on runs of Unicode whitespace; never return empty tokens.

    Whitespace is ``corpus.WHITESPACE`` (Unicode ``White_Space``), so a tab, a
    no-break space or an ideographic space separate tokens too.

    Example:
        >>> unicode_whitespace_tokenize("  the\\tcat\\u3000sat ")
        ['the', 'cat', 'sat']
    """
    return _split_at(line, WHITESPACE)


def char_tokenize(line: str, keep_whitespace: bool = False) -> list[str]:
    """Make one token of every code point of ``line``.

    Whitespace characters are dropped unless ``keep_whitespace`` is true; ``"\\r"``
    and ``"\\n"`` are dropped always, since they belong to line ends (a lone
    ``"\\r"`` in a line is whitespace, never text). A letter followed by a
    combining accent gives two tokens: tokens are code points, not what a reader
    sees as one character.

    Example:
        >>> char_tokenize("a b")
        ['a', 'b']
        >>> char_tokenize("a b\\r", keep_whitespace=True)
        ['a', ' ', 'b']
    """
    return [ch for ch in line if ch not in WHITESPACE or (keep_whitespace and ch not in "\r\n")]


# --- 2. Word tokenizer ----------------------------------------------------------


def _is_cjk_split(ch: str) -> bool:
    cp = ord(ch)
    return any(first <= cp <= last for first, last in CJK_SPLIT_RANGES)


def _split_cjk(piece: str) -> list[str]:
    """Give every CJK character of ``piece`` its own token; keep the rest whole."""
    tokens: list[str] = []
    run = ""  # the characters since the last CJK character
    for ch in piece:
        if _is_cjk_split(ch):
            if run:
                tokens.append(run)
                run = ""
            tokens.append(ch)
        else:
            run += ch
    if run:
        tokens.append(run)
    return tokens


def word_tokenize(line: str, lowercase: bool = False, normalize: Normalization = None) -> list[str]:
    """Cut ``line`` into words and punctuation with the Unicode word rules.

    1. If ``normalize`` is ``"NFC"`` or ``"NFKC"``, normalize the line first.
    2. Cut it at word boundaries (``split_word_bounds``).
    3. Drop the pieces made only of whitespace.
    4. Make every CJK character (``CJK_SPLIT_RANGES``) a token of its own.
    5. If ``lowercase``, lowercase every token.

    Example:
        >>> word_tokenize("Ｔｈｅ 3.14 CATS'", lowercase=True, normalize="NFKC")
        ['the', '3.14', 'cats', "'"]
        >>> word_tokenize("東京タワーに行く")
        ['東', '京', 'タ', 'ワ', 'ー', 'に', '行', 'く']
    """
    if normalize is not None:
        if normalize not in ("NFC", "NFKC"):
            raise ValueError(f"normalize must be None, 'NFC' or 'NFKC', not {normalize!r}")
        line = unicodedata.normalize(normalize, line)
    tokens: list[str] = []
    for piece in split_word_bounds(line):
        if all(ch in WHITESPACE for ch in piece):
            continue
        tokens.extend(_split_cjk(piece))
    if lowercase:
        tokens = [token.lower() for token in tokens]
    return tokens


# --- 3. Tokenizer objects -------------------------------------------------------


@dataclass(frozen=True)
class WhitespaceTokenizer:
    """Tokenizer object for ``whitespace_tokenize``.

    Example:
        >>> WhitespaceTokenizer().tokenize("a  b")
        ['a', 'b']
    """

    def tokenize(self, line: str) -> list[str]:
        """Split ``line`` where ``lmplz`` does (see ``whitespace_tokenize``)."""
        return whitespace_tokenize(line)


@dataclass(frozen=True)
class UnicodeWhitespaceTokenizer:
    """Tokenizer object for ``unicode_whitespace_tokenize``.

    Example:
        >>> UnicodeWhitespaceTokenizer().tokenize("a\\u00a0b")
        ['a', 'b']
    """

    def tokenize(self, line: str) -> list[str]:
        """Split ``line`` on Unicode whitespace (see ``unicode_whitespace_tokenize``)."""
        return unicode_whitespace_tokenize(line)


@dataclass(frozen=True)
class WordTokenizer:
    """Tokenizer object for ``word_tokenize``, with its options fixed.

    Example:
        >>> WordTokenizer(lowercase=True).tokenize("Hello, World")
        ['hello', ',', 'world']
    """

    lowercase: bool = False
    normalize: Normalization = None

    def tokenize(self, line: str) -> list[str]:
        """Cut ``line`` into words (see ``word_tokenize``)."""
        return word_tokenize(line, lowercase=self.lowercase, normalize=self.normalize)


@dataclass(frozen=True)
class CharTokenizer:
    """Tokenizer object for ``char_tokenize``.

    Example:
        >>> CharTokenizer(keep_whitespace=True).tokenize("a b")
        ['a', ' ', 'b']
    """

    keep_whitespace: bool = False

    def tokenize(self, line: str) -> list[str]:
        """Cut ``line`` into code points (see ``char_tokenize``)."""
        return char_tokenize(line, keep_whitespace=self.keep_whitespace)

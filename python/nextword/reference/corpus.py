"""Reference corpus reading: from raw text to sentences, one line at a time.

A corpus is a sequence of texts. Each text is cut into lines, and each line is
one sentence: the convention of KenLM's ``lmplz`` and of most n-gram tools.

A few small definitions matter everywhere in ``nextword`` and live here:

* a line ends at ``"\\n"`` and at nothing else, as in ``lmplz``; a ``"\\r"``
  right before it (or right at the end of the text) belongs to the line end, so
  CRLF text reads as lines, and any other ``"\\r"`` stays in its line, where
  every tokenizer treats it as whitespace;
* ``KENLM_SEPARATORS`` are the five characters that separate words for
  ``lmplz`` and for the ``whitespace`` tokenizer: NUL, tab, line feed, carriage
  return and space;
* ``WHITESPACE`` is the Unicode ``White_Space`` property, the set of characters
  that Rust's ``char::is_whitespace`` accepts (the ``unicode-whitespace``
  tokenizer's separators).

Example:
    >>> list(sentences(["the cat\\r\\n\\nsat\\n"]))
    ['the cat', '', 'sat']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

# What separates words for KenLM's lmplz, and nothing else: a no-break space, a
# vertical tab or a form feed is part of a word.
KENLM_SEPARATORS: frozenset[str] = frozenset("\0\t\n\r ")

# The Unicode White_Space property, written out so that nobody has to guess.
# Python's str.isspace() and str.split() also treat U+001C..U+001F (the ASCII
# "information separators") as spaces; Unicode and Rust do not, and neither do we.
WHITESPACE: frozenset[str] = frozenset(
    [
        "\u0009",  # CHARACTER TABULATION
        "\u000a",  # LINE FEED
        "\u000b",  # LINE TABULATION
        "\u000c",  # FORM FEED
        "\u000d",  # CARRIAGE RETURN
        "\u0020",  # SPACE
        "\u0085",  # NEXT LINE
        "\u00a0",  # NO-BREAK SPACE
        "\u1680",  # OGHAM SPACE MARK
        "\u2000",  # EN QUAD
        "\u2001",  # EM QUAD
        "\u2002",  # EN SPACE
        "\u2003",  # EM SPACE
        "\u2004",  # THREE-PER-EM SPACE
        "\u2005",  # FOUR-PER-EM SPACE
        "\u2006",  # SIX-PER-EM SPACE
        "\u2007",  # FIGURE SPACE
        "\u2008",  # PUNCTUATION SPACE
        "\u2009",  # THIN SPACE
        "\u200a",  # HAIR SPACE
        "\u2028",  # LINE SEPARATOR
        "\u2029",  # PARAGRAPH SEPARATOR
        "\u202f",  # NARROW NO-BREAK SPACE
        "\u205f",  # MEDIUM MATHEMATICAL SPACE
        "\u3000",  # IDEOGRAPHIC SPACE
    ]
)


def split_lines(text: str) -> list[str]:
    """Cut ``text`` into lines, without their line terminators.

    A line ends at ``"\\n"``. A ``"\\r"`` just before a ``"\\n"``, or at the very
    end of ``text``, belongs to the line end (CRLF); a lone ``"\\r"`` anywhere
    else stays in its line. Unlike ``str.splitlines()``, nothing else ends a line
    (not U+2028, U+0085, ``\\x0b``, ``\\x0c``, ...). A last line without a
    terminator still counts, but a terminator at the very end does not start an
    extra empty line.

    Example:
        >>> split_lines("one\\r\\ntwo\\rthree\\n\\nfour")
        ['one', 'two\\rthree', '', 'four']
        >>> split_lines("ends with a newline\\n")
        ['ends with a newline']
        >>> split_lines("")
        []
    """
    lines: list[str] = []
    start = 0  # where the current line begins
    while start < len(text):
        end = text.find("\n", start)
        if end == -1:  # a last line without terminator
            end = len(text)
        line = text[start:end]
        # The "\r" of a CRLF (or of a CR at the end of the text) is no part of the line.
        if line.endswith("\r"):
            line = line[:-1]
        lines.append(line)
        start = end + 1
    return lines


def is_blank(line: str) -> bool:
    """Tell whether ``line`` is empty or made only of ``KENLM_SEPARATORS``.

    A blank line is one where ``whitespace_tokenize`` finds no token. A line of
    other whitespace (a no-break space, an ideographic space, ...) is not blank:
    it holds a word for ``lmplz``.

    Example:
        >>> is_blank(" \\t\\r")
        True
        >>> is_blank(" a ")
        False
        >>> is_blank("\\u3000")  # a word for lmplz, not a blank line
        False
    """
    return all(ch in KENLM_SEPARATORS for ch in line)


def sentences(texts: Iterable[str], skip_blank: bool = False) -> Iterator[str]:
    """Yield the sentences of a corpus: every line of every text, in order.

    A blank line (see ``is_blank``) is a sentence of no words, as lmplz counts
    it; blank lines are dropped when ``skip_blank`` is true. Texts are
    independent: a line never runs on from one text into the next.

    Example:
        >>> list(sentences(["a b\\n\\n", "c"]))
        ['a b', '', 'c']
        >>> list(sentences(["a b\\n\\n", "c"], skip_blank=True))
        ['a b', 'c']
    """
    for text in texts:
        for line in split_lines(text):
            if skip_blank and is_blank(line):
                continue
            yield line

"""Word boundaries: the Unicode word-segmentation rules of UAX #29.

UAX #29 ("Unicode Text Segmentation") gives every character a ``Word_Break``
class (letter, digit, quote, space, ...) and a list of rules, WB1 to WB999, that
say for each gap between two characters whether a word boundary falls there. The
rules are tried in order and the first one that applies decides. This module
follows the Rust crate ``unicode-segmentation`` exactly, including its one
departure from the letter of the standard (see ``_is_word_boundary``).

Example:
    >>> split_word_bounds("can't stop")
    ["can't", ' ', 'stop']
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right

from ._word_break_table import (
    ALPHABET_RANGES,
    EXTENDED_PICTOGRAPHIC_RANGES,
    WORD_BREAK_RANGES,
)

__all__ = [
    "ALPHABET_RANGES",
    "is_extended_pictographic",
    "split_word_bounds",
    "word_break_property",
]

# --- 1. The Word_Break and Extended_Pictographic properties ------------------

# Sorted starts of the ranges, so that bisect can find the range of a code point.
_WORD_BREAK_STARTS = [first for first, _, _ in WORD_BREAK_RANGES]
_PICTOGRAPHIC_STARTS = [first for first, _ in EXTENDED_PICTOGRAPHIC_RANGES]
_ALPHABET_STARTS = [first for first, _ in ALPHABET_RANGES]


def _in_alphabet(cp: int) -> bool:
    index = bisect_right(_ALPHABET_STARTS, cp) - 1
    return index >= 0 and cp <= ALPHABET_RANGES[index][1]


def word_break_property(ch: str) -> str:
    """Return the Unicode ``Word_Break`` property of the character ``ch``.

    Exact inside ``ALPHABET_RANGES``, where it is read from a table (Unicode 17,
    as in ``unicode-segmentation`` 1.13). Elsewhere it is approximated from the
    general category that this Python's ``unicodedata`` gives: letters are
    ``ALetter``, ``Nd`` is ``Numeric``, marks are ``Extend``, ``Cf`` is
    ``Format``, ``Pc`` is ``ExtendNumLet``, ``Zs`` is ``WSegSpace``, and
    everything else is ``Other``. (The approximation is wrong, for instance,
    for Thai, Lao or Khmer letters and for ideographs outside the alphabet:
    UAX #29 makes them ``Other``, not ``ALetter``.)

    Example:
        >>> word_break_property("a"), word_break_property("'"), word_break_property("7")
        ('ALetter', 'Single_Quote', 'Numeric')
        >>> word_break_property("猫")  # Han ideographs have no word-break class
        'Other'
    """
    cp = ord(ch)
    if _in_alphabet(cp):
        index = bisect_right(_WORD_BREAK_STARTS, cp) - 1
        if index >= 0:
            first, last, value = WORD_BREAK_RANGES[index]
            if first <= cp <= last:
                return value
        return "Other"
    category = unicodedata.category(ch)
    if category[0] == "L":
        return "ALetter"
    if category == "Nd":
        return "Numeric"
    if category in ("Mn", "Me", "Mc"):
        return "Extend"
    if category == "Cf":
        return "Format"
    if category == "Pc":
        return "ExtendNumLet"
    if category == "Zs":
        return "WSegSpace"
    return "Other"


def is_extended_pictographic(ch: str) -> bool:
    """Tell whether ``ch`` has the ``Extended_Pictographic`` property (emoji).

    Example:
        >>> is_extended_pictographic("🐱"), is_extended_pictographic("a")
        (True, False)
    """
    cp = ord(ch)
    index = bisect_right(_PICTOGRAPHIC_STARTS, cp) - 1
    return index >= 0 and cp <= EXTENDED_PICTOGRAPHIC_RANGES[index][1]


# --- 2. The rules ------------------------------------------------------------

# Format, Extend and ZWJ (accents, joiners, variation selectors, skin tones) are
# "ignorable": rule WB4 glues them to the character before them.
_IGNORABLE = frozenset(["Extend", "Format", "ZWJ"])
_NEWLINE = frozenset(["CR", "LF", "Newline"])
_AHLETTER = frozenset(["ALetter", "Hebrew_Letter"])
_MIDLETTER_OR_Q = frozenset(["MidLetter", "MidNumLet", "Single_Quote"])
_MIDNUM_OR_Q = frozenset(["MidNum", "MidNumLet", "Single_Quote"])
_EXTENDABLE = frozenset(["ALetter", "Hebrew_Letter", "Numeric", "Katakana"])


def split_word_bounds(text: str) -> list[str]:
    """Cut ``text`` at every Unicode word boundary; return all the pieces.

    This is the segmentation of UAX #29, with the same output as the Rust crate
    ``unicode-segmentation``'s ``split_word_bounds()``: joining the pieces gives
    ``text`` back, and spaces and punctuation are pieces too.

    Example:
        >>> split_word_bounds("I can't pay $3.14, e.g. now.")
        ['I', ' ', "can't", ' ', 'pay', ' ', '$', '3.14', ',', ' ', 'e.g', '.', ' ', 'now', '.']
    """
    props = [word_break_property(ch) for ch in text]
    pictographic = [is_extended_pictographic(ch) for ch in text]
    pieces: list[str] = []
    start = 0
    # Position i is the gap between text[i - 1] and text[i]; the gaps before the
    # first and after the last character are always boundaries (WB1, WB2).
    for i in range(1, len(text)):
        if _is_word_boundary(props, pictographic, i):
            pieces.append(text[start:i])
            start = i
    if text:
        pieces.append(text[start:])
    return pieces


def _owner(props: list[str], j: int) -> int:
    """Index of the character that position j belongs to once WB4 is applied.

    WB4 attaches Extend/Format/ZWJ characters to the character before them,
    except at the start of the text and after a newline, where the first of them
    stands for itself.
    """
    while props[j] in _IGNORABLE and j > 0 and props[j - 1] not in _NEWLINE:
        j -= 1
    return j


def _next_non_ignorable(props: list[str], k: int) -> int:
    """Index of the first character at or after k that is not ignorable."""
    while k < len(props) and props[k] in _IGNORABLE:
        k += 1
    return k


def _is_word_boundary(props: list[str], pictographic: list[bool], i: int) -> bool:
    """Decide whether there is a word boundary between text[i - 1] and text[i].

    The rules are tried in the order of UAX #29; the first one that applies
    decides. ``×`` in a rule name's comment means "no break", ``÷`` "break".
    """
    before, after = props[i - 1], props[i]
    if before == "CR" and after == "LF":  # WB3: CR × LF
        return False
    if before in _NEWLINE or after in _NEWLINE:  # WB3a, WB3b: ÷ around newlines
        return True
    if before == "ZWJ" and pictographic[i]:  # WB3c: ZWJ × emoji
        return False
    if before == "WSegSpace" and after == "WSegSpace":  # WB3d: spaces stay together
        return False
    if after in _IGNORABLE:  # WB4: X × (Extend | Format | ZWJ)
        return False

    # From here on the rules look through ignorable characters, as WB4 says:
    # `left` is the character whose run ends at i - 1, `right` is text[i], and
    # `left2`/`right2` are their non-ignorable neighbours further out.
    n = len(props)
    left_at = _owner(props, i - 1)
    left, right = props[left_at], after
    left2 = props[_owner(props, left_at - 1)] if left_at > 0 else "sot"
    right2_at = _next_non_ignorable(props, i + 1)
    right2 = props[right2_at] if right2_at < n else "eot"

    # unicode-segmentation decides WB6, WB7b and WB12 in one left-to-right
    # pass; when the look-ahead past the middle character finds a ZWJ followed by
    # an emoji, WB3c wins and the middle character stays with the word before it
    # ("a'" + ZWJ + "🐱" is one piece). Plain UAX #29 would break before the "'".
    emoji_after = right2_at < n and pictographic[right2_at] and props[right2_at - 1] == "ZWJ"

    if left in _AHLETTER and right in _AHLETTER:  # WB5: letters stay together
        return False
    if left in _AHLETTER and right in _MIDLETTER_OR_Q:  # WB6: "can" × "'t"
        if right2 in _AHLETTER or emoji_after:
            return False
    if left in _MIDLETTER_OR_Q and left2 in _AHLETTER and right in _AHLETTER:
        return False  # WB7: "can'" × "t"
    if left == "Hebrew_Letter" and right == "Single_Quote":  # WB7a
        return False
    if left == "Hebrew_Letter" and right == "Double_Quote":  # WB7b
        if right2 == "Hebrew_Letter" or emoji_after:
            return False
    if left == "Double_Quote" and left2 == "Hebrew_Letter" and right == "Hebrew_Letter":
        return False  # WB7c
    if left == "Numeric" and right == "Numeric":  # WB8: digits stay together
        return False
    if left in _AHLETTER and right == "Numeric":  # WB9: "A" × "4"
        return False
    if left == "Numeric" and right in _AHLETTER:  # WB10: "3" × "a"
        return False
    if left in _MIDNUM_OR_Q and left2 == "Numeric" and right == "Numeric":
        return False  # WB11: "3." × "14"
    if left == "Numeric" and right in _MIDNUM_OR_Q:  # WB12: "3" × ".14"
        if right2 == "Numeric" or emoji_after:
            return False
    if left == "Katakana" and right == "Katakana":  # WB13: katakana runs
        return False
    if right == "ExtendNumLet" and (left in _EXTENDABLE or left == "ExtendNumLet"):
        return False  # WB13a: "snake" × "_"
    if left == "ExtendNumLet" and right in _EXTENDABLE:  # WB13b: "_" × "case"
        return False
    if left == "Regional_Indicator" and right == "Regional_Indicator":
        # WB15, WB16: flags are pairs of regional indicators; break between two
        # indicators only when an even number of them comes before.
        count = 0
        j = left_at
        while props[j] == "Regional_Indicator":
            count += 1
            if j == 0:
                break
            j = _owner(props, j - 1)
        if count % 2 == 1:
            return False
    return True  # WB999: break everywhere else

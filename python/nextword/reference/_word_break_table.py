"""Unicode data for word segmentation, written out by hand as code-point ranges.

Python's ``unicodedata`` knows general categories but not the two properties that
the word-boundary rules of UAX #29 need:

* ``Word_Break`` (from ``WordBreakProperty.txt``), and
* ``Extended_Pictographic`` (from ``emoji-data.txt``).

This module lists them as sorted, inclusive ``(first, last, value)`` ranges. The
values follow the Unicode data that the Rust crate ``unicode-segmentation`` is
generated from. ``Word_Break`` is listed only for the characters of
``ALPHABET_RANGES``; ``tokenize.word_break_property`` approximates the rest from
the general category. ``Extended_Pictographic`` is listed in full (it is short),
so emoji sequences such as ``👩‍❤️‍👨`` stay together even outside the alphabet.

Example:
    >>> WORD_BREAK_RANGES[0]
    (10, 10, 'LF')
"""

from __future__ import annotations

Range = tuple[int, int]
ValueRange = tuple[int, int, str]

# The characters over which the reference word tokenizer is exact, i.e. where
# every Word_Break value below is the real one. Property-based tests of the Rust
# core draw their characters from here.
ALPHABET_RANGES: tuple[Range, ...] = (
    (0x0000, 0x007F),  # ASCII
    # Latin-1 Supplement, except U+00B8 CEDILLA: Other in Unicode 15.1, ALetter
    # in Unicode 17; we could not confirm which one Unicode 16 says.
    (0x0080, 0x00B7),
    (0x00B9, 0x00FF),
    (0x0100, 0x024F),  # Latin Extended-A and -B
    (0x0300, 0x036F),  # Combining Diacritical Marks
    (0x0370, 0x03FF),  # Greek and Coptic
    (0x0400, 0x04FF),  # Cyrillic
    (0x05D0, 0x05EA),  # Hebrew letters
    (0x0620, 0x064A),  # Arabic letters
    (0x0660, 0x0669),  # Arabic-Indic digits
    (0x06F0, 0x06F9),  # Extended Arabic-Indic digits
    (0x2000, 0x206F),  # General Punctuation (spaces, ZWJ, quotes, ...)
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul Syllables
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFE00, 0xFE0F),  # Variation Selectors (FE0F asks for emoji style)
    (0xFF01, 0xFF5E),  # Fullwidth ASCII variants
    (0xFF66, 0xFF9F),  # Halfwidth Katakana
    (0x1F1E6, 0x1F1FF),  # Regional indicators (flags)
    # Emoji, including the skin tones 1F3FB-1F3FF. The arrows 1F8B0-1F8BB and
    # 1F8C0-1F8C1 are left out: some were assigned in Unicode 16 and we could not
    # confirm whether they kept Extended_Pictographic there.
    (0x1F300, 0x1F8AF),
    (0x1F8BC, 0x1F8BF),
    (0x1F8C2, 0x1FAFF),
    (0x20000, 0x2FA1F),  # CJK Extensions B-F, Compatibility Supplement
    (0x30000, 0x323AF),  # CJK Extensions G-H
)

# Word_Break values inside ALPHABET_RANGES. A character of the alphabet that is
# not listed here is "Other" (Han ideographs and Hiragana, for instance, are
# Other: UAX #29 leaves them to dictionary-based segmenters).
WORD_BREAK_RANGES: tuple[ValueRange, ...] = (
    (0x000A, 0x000A, "LF"),
    (0x000B, 0x000C, "Newline"),
    (0x000D, 0x000D, "CR"),
    (0x0020, 0x0020, "WSegSpace"),
    (0x0022, 0x0022, "Double_Quote"),
    (0x0027, 0x0027, "Single_Quote"),
    (0x002C, 0x002C, "MidNum"),  # ,
    (0x002E, 0x002E, "MidNumLet"),  # .
    (0x0030, 0x0039, "Numeric"),
    (0x003A, 0x003A, "MidLetter"),  # :
    (0x003B, 0x003B, "MidNum"),  # ;
    (0x0041, 0x005A, "ALetter"),
    (0x005F, 0x005F, "ExtendNumLet"),  # _
    (0x0061, 0x007A, "ALetter"),
    (0x0085, 0x0085, "Newline"),
    (0x00AA, 0x00AA, "ALetter"),
    (0x00AD, 0x00AD, "Format"),  # soft hyphen
    (0x00B5, 0x00B5, "ALetter"),
    (0x00B7, 0x00B7, "MidLetter"),  # middle dot
    (0x00BA, 0x00BA, "ALetter"),
    (0x00C0, 0x00D6, "ALetter"),
    (0x00D8, 0x00F6, "ALetter"),
    (0x00F8, 0x024F, "ALetter"),
    (0x0300, 0x036F, "Extend"),
    (0x0370, 0x0374, "ALetter"),
    (0x0376, 0x0377, "ALetter"),
    (0x037A, 0x037D, "ALetter"),
    (0x037E, 0x037E, "MidNum"),  # Greek question mark
    (0x037F, 0x037F, "ALetter"),
    (0x0386, 0x0386, "ALetter"),
    (0x0387, 0x0387, "MidLetter"),  # Greek ano teleia
    (0x0388, 0x038A, "ALetter"),
    (0x038C, 0x038C, "ALetter"),
    (0x038E, 0x03A1, "ALetter"),
    (0x03A3, 0x03F5, "ALetter"),
    (0x03F7, 0x0481, "ALetter"),
    (0x0483, 0x0489, "Extend"),
    (0x048A, 0x04FF, "ALetter"),
    (0x05D0, 0x05EA, "Hebrew_Letter"),
    (0x0620, 0x064A, "ALetter"),
    (0x0660, 0x0669, "Numeric"),
    (0x06F0, 0x06F9, "Numeric"),
    (0x2000, 0x2006, "WSegSpace"),  # 2007 FIGURE SPACE is a no-break space: Other
    (0x2008, 0x200A, "WSegSpace"),
    (0x200C, 0x200C, "Extend"),  # ZWNJ (200B ZERO WIDTH SPACE is Other)
    (0x200D, 0x200D, "ZWJ"),
    (0x200E, 0x200F, "Format"),
    (0x2018, 0x2019, "MidNumLet"),  # curly single quotes
    (0x2024, 0x2024, "MidNumLet"),  # one dot leader
    (0x2027, 0x2027, "MidLetter"),  # hyphenation point
    (0x2028, 0x2029, "Newline"),
    (0x202A, 0x202E, "Format"),
    (0x202F, 0x202F, "ExtendNumLet"),  # narrow no-break space
    (0x203F, 0x2040, "ExtendNumLet"),
    (0x2044, 0x2044, "MidNum"),  # fraction slash
    (0x2054, 0x2054, "ExtendNumLet"),
    (0x205F, 0x205F, "WSegSpace"),
    (0x2060, 0x2064, "Format"),
    (0x2066, 0x206F, "Format"),
    (0x3000, 0x3000, "WSegSpace"),  # ideographic space
    (0x3005, 0x3005, "ALetter"),  # 々
    (0x302A, 0x302F, "Extend"),
    (0x3031, 0x3035, "Katakana"),
    (0x303B, 0x303C, "ALetter"),
    (0x3099, 0x309A, "Extend"),  # combining voiced sound marks
    (0x309B, 0x309C, "Katakana"),
    (0x30A0, 0x30FA, "Katakana"),  # 30FB KATAKANA MIDDLE DOT is Other
    (0x30FC, 0x30FF, "Katakana"),
    (0x31F0, 0x31FF, "Katakana"),
    (0xAC00, 0xD7A3, "ALetter"),  # Hangul syllables are letters
    (0xFE00, 0xFE0F, "Extend"),
    (0xFF07, 0xFF07, "MidNumLet"),
    (0xFF0C, 0xFF0C, "MidNum"),
    (0xFF0E, 0xFF0E, "MidNumLet"),
    (0xFF10, 0xFF19, "Numeric"),
    (0xFF1A, 0xFF1A, "MidLetter"),
    (0xFF1B, 0xFF1B, "MidNum"),
    (0xFF21, 0xFF3A, "ALetter"),
    (0xFF3F, 0xFF3F, "ExtendNumLet"),
    (0xFF41, 0xFF5A, "ALetter"),
    (0xFF66, 0xFF9D, "Katakana"),
    (0xFF9E, 0xFF9F, "Extend"),
    (0x1F1E6, 0x1F1FF, "Regional_Indicator"),
    (0x1F3FB, 0x1F3FF, "Extend"),  # emoji skin-tone modifiers
)

# Extended_Pictographic, for every code point (emoji-data.txt; unassigned code
# points in the emoji blocks are included on purpose, so that future emoji
# already behave as emoji).
EXTENDED_PICTOGRAPHIC_RANGES: tuple[Range, ...] = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x2605),
    (0x2607, 0x2612),
    (0x2614, 0x2685),
    (0x2690, 0x2705),
    (0x2708, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271D, 0x271D),
    (0x2721, 0x2721),
    (0x2728, 0x2728),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2763, 0x2767),
    (0x2795, 0x2797),
    (0x27A1, 0x27A1),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)

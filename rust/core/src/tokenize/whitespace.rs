//! Whitespace tokenizers: tokens are the maximal runs of non-separators.
//!
//! Two splits, two tokenizers:
//!
//! - [`for_each_token`] (spec `whitespace`) is KenLM's: `lmplz` separates words
//!   at exactly five bytes, NUL, tab, line feed, carriage return and space
//!   ([`is_kenlm_separator`]), and at nothing else. A no-break space, an
//!   ideographic space, a thin space, a vertical tab or a form feed is part of
//!   a word. Counts made with it match `lmplz`'s.
//! - [`for_each_unicode_token`] (spec `unicode-whitespace`) separates words at
//!   every Unicode White_Space character (`char::is_whitespace`).

use super::registry::{self, Kind};
use super::Tokenizer;

/// The registry entry of KenLM's split (record kind `whitespace`, no payload).
pub const KIND: Kind = Kind {
    name: "whitespace",
    version: 1,
    decode: |_, payload| registry::no_payload(payload, Tokenizer::Whitespace),
};

/// The registry entry of the Unicode split (record kind `unicode-whitespace`, no payload).
pub const UNICODE_KIND: Kind = Kind {
    name: "unicode-whitespace",
    version: 1,
    decode: |_, payload| registry::no_payload(payload, Tokenizer::UnicodeWhitespace),
};

/// Whether `byte` separates words for KenLM's `lmplz`: NUL, `\t`, `\n`, `\r` or
/// space. No other byte does (not even vertical tab or form feed).
#[inline]
pub fn is_kenlm_separator(byte: u8) -> bool {
    matches!(byte, b'\0' | b'\t' | b'\n' | b'\r' | b' ')
}

/// Call `f` on every run of bytes that are not [`is_kenlm_separator`] (KenLM's split).
#[inline]
pub fn for_each_token(text: &str, mut f: impl FnMut(&str)) {
    // The separators are ASCII, and ASCII bytes never occur inside a multi-byte
    // UTF-8 sequence, so scanning bytes cuts only at char boundaries and needs
    // no decoding.
    let bytes = text.as_bytes();
    let mut start = 0;
    // Cut at byte `i` if it is a separator, giving `f` the token before it.
    let mut cut = |i: usize| {
        if is_kenlm_separator(bytes[i]) {
            if start < i {
                // SAFETY: `start` is 0 or just past an ASCII separator, `i` at
                // one: char boundaries within `text`.
                f(unsafe { text.get_unchecked(start..i) });
            }
            start = i + 1;
        }
    };
    let mut at = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
            _mm_set1_epi8,
        };
        // Sixteen bytes at a time: every separator is at most a space (0x20),
        // so one comparison finds the candidates (in text, nearly all of them
        // spaces), and `cut` checks each exactly. SSE2 is part of x86_64.
        while at + 16 <= bytes.len() {
            // SAFETY: 16 bytes from `at` lie within `bytes`; SSE2 is always there.
            let mut low = unsafe {
                let v = _mm_loadu_si128(bytes.as_ptr().add(at) as *const __m128i);
                let space = _mm_set1_epi8(0x20);
                _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, space), v)) as u32
            };
            while low != 0 {
                cut(at + low.trailing_zeros() as usize);
                low &= low - 1;
            }
            at += 16;
        }
    }
    (at..bytes.len()).for_each(&mut cut);
    if start < bytes.len() {
        f(&text[start..]);
    }
}

/// Call `f` on every run of characters that are not Unicode White_Space
/// (`char::is_whitespace`). ASCII text, the common case, takes a faster path.
#[inline]
pub fn for_each_unicode_token(text: &str, mut f: impl FnMut(&str)) {
    if text.is_ascii() {
        // Every ASCII whitespace byte is one char, so byte splitting is exact.
        for token in text
            .split(|c: char| c.is_ascii_whitespace() || c == '\x0b')
            .filter(|t| !t.is_empty())
        {
            f(token);
        }
    } else {
        for token in text.split(char::is_whitespace).filter(|t| !t.is_empty()) {
            f(token);
        }
    }
}

#[cfg(test)]
mod tests {
    fn tokens(s: &str) -> Vec<String> {
        let mut v = Vec::new();
        super::for_each_token(s, |t| v.push(t.to_string()));
        v
    }

    fn unicode_tokens(s: &str) -> Vec<String> {
        let mut v = Vec::new();
        super::for_each_unicode_token(s, |t| v.push(t.to_string()));
        v
    }

    #[test]
    fn splits_on_kenlm_separators_only() {
        assert_eq!(tokens(" a\tb\rc\0d  e\n"), ["a", "b", "c", "d", "e"]);
        assert_eq!(
            tokens("a\u{a0}b c\u{3000}d\u{2009}e\x0bf\x0cg\x1ch"),
            ["a\u{a0}b", "c\u{3000}d\u{2009}e\x0bf\x0cg\x1ch"]
        );
        assert_eq!(tokens("\u{3000}x é"), ["\u{3000}x", "é"]);
        assert!(tokens(" \t\r\0 ").is_empty());
    }

    /// Against a plain split, on strings long enough for the 16-byte blocks:
    /// every separator, the other control bytes below 0x20 (candidates that
    /// are not separators), multi-byte characters, at every offset.
    #[test]
    fn block_scan_agrees_with_a_plain_split() {
        let pieces = [
            " ", "\t", "\n", "\r", "\0", "\x0b", "\x0c", "\x1f", "\x01", "a", "bc", "def", "é",
            "\u{3000}", "\u{a0}", "x y", "  ", "!",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..200 {
            let mut s = String::new();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            let want: Vec<String> = s
                .split(|c: char| c.is_ascii() && super::is_kenlm_separator(c as u8))
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            assert_eq!(tokens(&s), want, "{s:?}");
        }
    }

    #[test]
    fn unicode_splits_on_white_space() {
        assert_eq!(
            unicode_tokens("  a\tb\x0bc\u{a0}d\u{3000}e\rf "),
            ["a", "b", "c", "d", "e", "f"]
        );
        assert_eq!(unicode_tokens("a\x1cb\0c"), ["a\x1cb\0c"]);
        assert!(unicode_tokens(" \t ").is_empty());
    }
}

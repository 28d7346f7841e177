//! The normal form texts are compared in for exact deduplication, and its hash.
//!
//! As CCNet's paragraph deduplication: two texts are duplicates when they
//! differ only in case, digits, punctuation and spacing. The normal form is
//! lowercase, every digit (any numeric character) becomes `0`, every character that is
//! neither alphanumeric nor whitespace is dropped, and runs of whitespace
//! become one space (none at either end). Accents are kept (CCNet strips
//! them; "résumé" and "resume" stay apart here). A text whose normal form is
//! empty (blank, or only punctuation) has no hash: it is never a duplicate.

use std::hash::BuildHasher;

/// Two independent 64-bit hashes of fixed seeds: a 128-bit key, so that two
/// distinct texts share one with probability about n^2 / 2^129 (nil for any
/// corpus), and the same text has the same key in every run and process.
pub fn hash128(bytes: &[u8]) -> u128 {
    let a = foldhash::quality::FixedState::with_seed(0x6e65_7874_776f_7264).hash_one(bytes);
    let b = foldhash::quality::FixedState::with_seed(0x6465_6475_705f_3132).hash_one(bytes);
    ((a as u128) << 64) | b as u128
}

/// Flag of [`ASCII_FLAGS`]: NUL, tab, line feed, carriage return, space,
/// which separate words for KenLM.
const SEPARATOR: u8 = 1;
/// Flag of [`ASCII_FLAGS`]: Unicode White_Space, a space in the normal form
/// (the separators, vertical tab and form feed).
const SPACE: u8 = 2;

/// The flags of every ASCII byte, computed at compile time.
const ASCII_FLAGS: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            b'\0' | b'\t' | b'\n' | b'\r' | b' ' => SEPARATOR | SPACE,
            0x0b | 0x0c => SPACE,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// What every ASCII byte becomes in the normal form: a letter its
/// lowercase, a digit `0`, anything else 0 (dropped or a space).
const ASCII_KEEP: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = match c {
            b'0'..=b'9' => b'0',
            b'A'..=b'Z' => c + 32,
            b'a'..=b'z' => c,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// Write the normal form of `text` into `out` (cleared first) and return
/// the number of its words by KenLM's split
/// ([`crate::tokenize::whitespace::for_each_token`]): one pass over the
/// bytes does both, since deduplication needs both for every line.
///
/// ASCII bytes take a branch-free step (table loads, conditional adds: the
/// word and space boundaries of prose are too frequent to predict), writing
/// into `out` sized beforehand (the normal form of ASCII text is never
/// longer than the text); a multi-byte character is decoded and classed.
pub fn normalize_count(text: &str, out: &mut Vec<u8>) -> u64 {
    let bytes = text.as_bytes();
    out.clear();
    out.resize(bytes.len() + 2, 0);
    let (mut len, mut words, mut in_word, mut space) = (0usize, 0u64, false, false);
    let mut i = 0;
    while i < bytes.len() {
        // A run of ASCII bytes, into a slice borrowed once (so that the
        // vector's pointer is not reloaded at every byte).
        let dst = out.as_mut_slice();
        while let Some(&b) = bytes.get(i).filter(|b| b.is_ascii()) {
            i += 1;
            let (flags, keep) = (ASCII_FLAGS[b as usize], ASCII_KEEP[b as usize]);
            let sep = flags & SEPARATOR != 0;
            words += (!sep & !in_word) as u64;
            in_word = !sep;
            let kept = keep != 0;
            dst[len] = b' ';
            len += (kept & space & (len > 0)) as usize;
            dst[len] = keep;
            len += kept as usize;
            space = (space | (flags & SPACE != 0)) & !kept;
        }
        if i >= bytes.len() {
            break;
        }
        // A multi-byte character (`i` is at a character boundary: ASCII
        // bytes never occur inside a multi-byte sequence).
        let c = text[i..].chars().next().unwrap_or('\u{fffd}');
        i += c.len_utf8();
        words += !in_word as u64;
        in_word = true;
        if c.is_whitespace() {
            space = true;
            continue;
        }
        let numeric = c.is_numeric();
        if !(numeric || c.is_alphanumeric()) {
            continue;
        }
        // Room for a space and a lowercase form (at most 3 chars), and
        // still for the rest of the text.
        if out.len() < len + 16 + (bytes.len() - i) {
            out.resize(len + 16 + (bytes.len() - i), 0);
        }
        if space && len > 0 {
            out[len] = b' ';
            len += 1;
        }
        space = false;
        if numeric {
            out[len] = b'0';
            len += 1;
        } else {
            for l in c.to_lowercase() {
                len += l.encode_utf8(&mut out[len..]).len();
            }
        }
    }
    out.truncate(len);
    words
}

/// Write the normal form of `text` into `out` (cleared first).
pub fn normalize_into(text: &str, out: &mut Vec<u8>) {
    normalize_count(text, out);
}

/// The hash of the normal form of `text` (None when it is empty), using
/// `buf` as scratch space.
pub fn text_hash(text: &str, buf: &mut Vec<u8>) -> Option<u128> {
    normalize_into(text, buf);
    (!buf.is_empty()).then(|| hash128(buf))
}

/// The hash of the normal form of `text` (None when it is empty) and the
/// number of its words by KenLM's split, in one pass, using `buf` as scratch.
pub fn text_hash_words(text: &str, buf: &mut Vec<u8>) -> (Option<u128>, u64) {
    let words = normalize_count(text, buf);
    ((!buf.is_empty()).then(|| hash128(buf)), words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut out = Vec::new();
        normalize_into(s, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn case_digits_punctuation_and_spacing_vanish() {
        assert_eq!(norm("  Hello,  World!! 1984 "), "hello world 0000");
        assert_eq!(norm("hello world 2001"), norm("HELLO\tworld. 1066"));
        assert_eq!(norm("Ünïcode — ÉTÉ"), "ünïcode été");
        assert_eq!(norm("..."), "");
        let mut buf = Vec::new();
        assert_eq!(text_hash(" ! ", &mut buf), None);
        assert_eq!(text_hash("A b", &mut buf), text_hash("a, B", &mut buf));
        assert_ne!(text_hash("a b", &mut buf), text_hash("a c", &mut buf));
        // A vertical tab is whitespace in ASCII text as in any other.
        assert_eq!(norm("a\x0bb"), "a b");
        assert_eq!(norm("é\x0bb"), "é b");
    }

    #[test]
    fn words_are_counted_by_kenlms_split() {
        let mut buf = Vec::new();
        for text in [
            "",
            "  a b\tc ",
            "no\u{a0}break, x\x0by \0 z",
            "Ünïcode — ÉTÉ 1984!",
            "\r\n...\n",
        ] {
            let words = crate::filter::exact::count_words(text);
            assert_eq!(normalize_count(text, &mut buf), words, "{text:?}");
        }
    }
}

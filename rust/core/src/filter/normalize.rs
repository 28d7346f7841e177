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

/// Write the normal form of `text` into `out` (cleared first).
pub fn normalize_into(text: &str, out: &mut Vec<u8>) {
    out.clear();
    let mut space = false;
    let push_space = |out: &mut Vec<u8>, space: &mut bool| {
        if *space && !out.is_empty() {
            out.push(b' ');
        }
        *space = false;
    };
    if text.is_ascii() {
        // The common case, one byte at a time without decoding.
        for &b in text.as_bytes() {
            if b.is_ascii_alphanumeric() {
                push_space(out, &mut space);
                out.push(if b.is_ascii_digit() {
                    b'0'
                } else {
                    b.to_ascii_lowercase()
                });
            } else if b.is_ascii_whitespace() || b == 0 {
                space = true;
            }
        }
        return;
    }
    let mut buf = [0u8; 4];
    for c in text.chars() {
        if c.is_whitespace() || c == '\0' {
            space = true;
        } else if c.is_numeric() {
            push_space(out, &mut space);
            out.push(b'0');
        } else if c.is_alphanumeric() {
            push_space(out, &mut space);
            for l in c.to_lowercase() {
                out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

/// The hash of the normal form of `text` (None when it is empty), using
/// `buf` as scratch space.
pub fn text_hash(text: &str, buf: &mut Vec<u8>) -> Option<u128> {
    normalize_into(text, buf);
    (!buf.is_empty()).then(|| hash128(buf))
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
    }
}

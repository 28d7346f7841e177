//! Word tokenizer: Unicode word boundaries (UAX #29), punctuation as separate
//! tokens, and one token per CJK ideograph, kana or Hangul syllable.
//!
//! Steps, in this order (the reference in `nextword.reference.tokenize` follows
//! the same): optional NFC/NFKC normalisation of the line; UAX #29 word
//! segmentation; segments made only of whitespace dropped; inside a segment,
//! each character of [`is_cjk_split`] becomes its own token (UAX #29 keeps
//! Katakana and Hangul runs together; text without spaces wants characters);
//! optional lowercasing of each token.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use super::registry::Kind;
use super::Tokenizer;

/// The registry entry (record kind `word`, payload: [`WordOptions::to_bytes`]).
pub const KIND: Kind = Kind {
    name: "word",
    version: 1,
    decode: |_, payload| WordOptions::from_bytes(payload).map(Tokenizer::Word),
};

/// Unicode normalisation applied before segmenting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Normalization {
    /// None (the default).
    #[default]
    None,
    /// Canonical composition.
    Nfc,
    /// Compatibility composition (folds fullwidth forms, ligatures, ...).
    Nfkc,
}

/// Options of the word tokenizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WordOptions {
    /// Lowercase every token (full Unicode lowercasing).
    pub lowercase: bool,
    /// Normalisation applied to the line first.
    pub normalize: Normalization,
}

impl WordOptions {
    /// The record payload: lowercase (0/1), normalisation (0 none, 1 NFC, 2 NFKC).
    pub fn to_bytes(&self) -> Vec<u8> {
        let normalize = match self.normalize {
            Normalization::None => 0,
            Normalization::Nfc => 1,
            Normalization::Nfkc => 2,
        };
        vec![self.lowercase as u8, normalize]
    }

    /// Inverse of [`WordOptions::to_bytes`].
    pub fn from_bytes(payload: &[u8]) -> Result<Self, String> {
        let normalize = match payload {
            [0 | 1, 0] => Normalization::None,
            [0 | 1, 1] => Normalization::Nfc,
            [0 | 1, 2] => Normalization::Nfkc,
            _ => return Err(format!("bad word tokenizer options {payload:?}")),
        };
        Ok(Self {
            lowercase: payload[0] == 1,
            normalize,
        })
    }
}

/// Whether `c` is split into its own token: Hiragana, Katakana, Hangul
/// syllables and Han ideographs (the ranges are listed in the reference too).
#[inline]
pub fn is_cjk_split(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x309F
        | 0x30A0..=0x30FF
        | 0x31F0..=0x31FF
        | 0xFF66..=0xFF9F
        | 0xAC00..=0xD7AF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0x20000..=0x2FA1F
        | 0x30000..=0x323AF)
}

fn emit(token: &str, lowercase: bool, f: &mut impl FnMut(&str)) {
    if lowercase && token.chars().any(|c| c.is_uppercase() || !c.is_ascii()) {
        f(&token.to_lowercase());
    } else {
        f(token);
    }
}

/// Call `f` on every word token of `text`.
pub fn for_each_token(text: &str, options: &WordOptions, mut f: impl FnMut(&str)) {
    let text: Cow<str> = match options.normalize {
        Normalization::None => Cow::Borrowed(text),
        Normalization::Nfc => Cow::Owned(text.nfc().collect()),
        Normalization::Nfkc => Cow::Owned(text.nfkc().collect()),
    };
    for segment in text.split_word_bounds() {
        if segment.chars().all(char::is_whitespace) {
            continue;
        }
        if !segment.chars().any(is_cjk_split) {
            emit(segment, options.lowercase, &mut f);
            continue;
        }
        let mut run_start = 0;
        for (i, c) in segment.char_indices() {
            if is_cjk_split(c) {
                if run_start < i {
                    emit(&segment[run_start..i], options.lowercase, &mut f);
                }
                let end = i + c.len_utf8();
                emit(&segment[i..end], options.lowercase, &mut f);
                run_start = end;
            }
        }
        if run_start < segment.len() {
            emit(&segment[run_start..], options.lowercase, &mut f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str, options: WordOptions) -> Vec<String> {
        let mut v = Vec::new();
        for_each_token(s, &options, |t| v.push(t.to_string()));
        v
    }

    #[test]
    fn words_and_punctuation() {
        let o = WordOptions::default();
        assert_eq!(
            tokens("Don't stop, it's 3.14!", o),
            ["Don't", "stop", ",", "it's", "3.14", "!"]
        );
    }

    #[test]
    fn cjk_one_token_per_character() {
        let o = WordOptions::default();
        assert_eq!(
            tokens("西游记。カタカナ", o),
            ["西", "游", "记", "。", "カ", "タ", "カ", "ナ"]
        );
        assert_eq!(tokens("한국어 abc", o), ["한", "국", "어", "abc"]);
    }

    #[test]
    fn lowercase_and_nfkc() {
        let o = WordOptions {
            lowercase: true,
            normalize: Normalization::Nfkc,
        };
        assert_eq!(tokens("ＡＢＣ Ωmega", o), ["abc", "ωmega"]);
    }
}

//! Tokenizers and the vocabulary.
//!
//! A [`Tokenizer`] turns one sentence into tokens (string slices where it can,
//! so the common path allocates nothing); a [`Vocab`] maps tokens to `u32` ids
//! with `<unk>` = 0, `<s>` = 1, `</s>` = 2.

pub mod char;
pub mod vocab;
pub mod whitespace;
pub mod word;

pub use vocab::{Vocab, BOS, BOS_ID, EOS, EOS_ID, UNK, UNK_ID};
pub use word::{Normalization, WordOptions};

use crate::{Error, Result};

/// Whether a line is blank: empty or made only of the bytes that separate
/// words for KenLM ([`whitespace::is_kenlm_separator`]: NUL, tab, `\n`, `\r`,
/// space), so that the `whitespace` tokenizer finds no token in it. A line of
/// other whitespace (no-break space, ideographic space, ...) is not blank: it
/// holds a word for `lmplz`, and skipping it would lose that word.
pub fn is_blank(line: &str) -> bool {
    line.bytes().all(whitespace::is_kenlm_separator)
}

/// A tokenizer, chosen at run time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Tokenizer {
    /// KenLM's split (spec `whitespace`): words are separated by NUL, tab, line
    /// feed, carriage return and space, and by nothing else. Saved files that
    /// name `whitespace` (before this rule was exact they split on Unicode
    /// White_Space) are read with this split.
    #[default]
    Whitespace,
    /// Split on runs of Unicode White_Space (spec `unicode-whitespace`): no-break
    /// space, ideographic space, vertical tab, form feed, ... separate words too.
    UnicodeWhitespace,
    /// Unicode word boundaries (UAX #29), punctuation apart, CJK per character.
    Word(WordOptions),
    /// One token per Unicode scalar value.
    Char {
        /// Keep whitespace characters as tokens (default: drop them).
        keep_whitespace: bool,
    },
}

impl Tokenizer {
    /// Parse a tokenizer name: `whitespace`, `unicode-whitespace`, `word` or
    /// `char`, with default options.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "whitespace" | "ws" => Ok(Self::Whitespace),
            "unicode-whitespace" => Ok(Self::UnicodeWhitespace),
            "word" => Ok(Self::Word(WordOptions::default())),
            "char" | "character" => Ok(Self::Char {
                keep_whitespace: false,
            }),
            other => Err(Error::InvalidArgument(format!(
                "unknown tokenizer {other:?}: use 'whitespace', 'unicode-whitespace', 'word' or 'char'"
            ))),
        }
    }

    /// Call `f` on every token of `text`, in order.
    #[inline]
    pub fn for_each_token(&self, text: &str, f: impl FnMut(&str)) {
        match self {
            Self::Whitespace => whitespace::for_each_token(text, f),
            Self::UnicodeWhitespace => whitespace::for_each_unicode_token(text, f),
            Self::Word(options) => word::for_each_token(text, options, f),
            Self::Char { keep_whitespace } => char::for_each_token(text, *keep_whitespace, f),
        }
    }

    /// The tokens of `text` as owned strings.
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_token(text, |t| out.push(t.to_string()));
        out
    }

    /// The string that joins tokens back into text in `decode`.
    pub fn joiner(&self) -> &'static str {
        match self {
            Self::Char { .. } => "",
            _ => " ",
        }
    }

    /// A short, stable description used in saved files: `whitespace`,
    /// `unicode-whitespace`, `word[:lower][:nfc|:nfkc]`, `char[:keep-ws]`.
    pub fn spec(&self) -> String {
        match self {
            Self::Whitespace => "whitespace".into(),
            Self::UnicodeWhitespace => "unicode-whitespace".into(),
            Self::Word(o) => {
                let mut s = String::from("word");
                if o.lowercase {
                    s.push_str(":lower");
                }
                match o.normalize {
                    Normalization::None => {}
                    Normalization::Nfc => s.push_str(":nfc"),
                    Normalization::Nfkc => s.push_str(":nfkc"),
                }
                s
            }
            Self::Char { keep_whitespace } => {
                if *keep_whitespace {
                    "char:keep-ws".into()
                } else {
                    "char".into()
                }
            }
        }
    }

    /// Inverse of [`Tokenizer::spec`].
    pub fn from_spec(spec: &str) -> Result<Self> {
        let mut parts = spec.split(':');
        let mut tok = Self::from_name(parts.next().unwrap_or(""))?;
        for flag in parts {
            match (&mut tok, flag) {
                (Self::Word(o), "lower") => o.lowercase = true,
                (Self::Word(o), "nfc") => o.normalize = Normalization::Nfc,
                (Self::Word(o), "nfkc") => o.normalize = Normalization::Nfkc,
                (Self::Char { keep_whitespace }, "keep-ws") => *keep_whitespace = true,
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "bad tokenizer spec {spec:?}"
                    )))
                }
            }
        }
        Ok(tok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_round_trips() {
        for spec in [
            "whitespace",
            "unicode-whitespace",
            "word",
            "word:lower:nfkc",
            "char",
            "char:keep-ws",
        ] {
            assert_eq!(Tokenizer::from_spec(spec).unwrap().spec(), spec);
        }
        assert!(Tokenizer::from_spec("bpe").is_err());
        assert!(Tokenizer::from_spec("unicode-whitespace:lower").is_err());
    }
}

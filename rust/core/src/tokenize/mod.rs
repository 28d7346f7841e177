//! Tokenizers and the vocabulary.
//!
//! A [`Tokenizer`] turns one sentence into tokens (string slices where it can,
//! so the common path allocates nothing); a [`Vocab`] maps tokens to `u32` ids
//! with `<unk>` = 0, `<s>` = 1, `</s>` = 2.
//!
//! A tokenizer is saved as a [`TokenizerRecord`] (kind, version, payload) and
//! read back through the [`registry`]. The built-in split rules are variants
//! of [`Tokenizer`], so the hot loops of counting inline them; a learned
//! tokenizer implements [`LearnedTokenizer`] in its own module and is held as
//! [`Tokenizer::Learned`], called once per sentence.

pub mod bpe;
pub mod char;
pub mod learned;
pub mod record;
pub mod registry;
pub mod vocab;
pub mod vocab_tokenizer;
pub mod whitespace;
pub mod word;
pub mod word_ids;

pub use bpe::BpeTokenizer;
pub use learned::LearnedTokenizer;
pub use record::TokenizerRecord;
pub use vocab::{Vocab, BOS, BOS_ID, EOS, EOS_ID, UNK, UNK_ID};
pub use vocab_tokenizer::VocabTokenizer;
pub use word::{Normalization, WordOptions};

use std::sync::Arc;

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
#[derive(Debug, Clone, Default)]
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
    /// A tokenizer learned from data, defined by its record's payload.
    Learned(Arc<dyn LearnedTokenizer>),
}

impl PartialEq for Tokenizer {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Learned(a), Self::Learned(b)) => {
                Arc::ptr_eq(a, b) || self.to_record() == other.to_record()
            }
            (Self::Learned(_), _) | (_, Self::Learned(_)) => false,
            _ => self.spec() == other.spec(),
        }
    }
}

impl Eq for Tokenizer {}

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
            Self::Learned(t) => {
                let mut f = f;
                t.for_each_token(text, &mut f)
            }
        }
    }

    /// The id -> token table when the tokenizer fixes its own ids
    /// (`<unk>`, `<s>`, `</s>` first); None when counting assigns them.
    pub fn fixed_vocab(&self) -> Option<&[String]> {
        match self {
            Self::Learned(t) => t.fixed_vocab(),
            _ => None,
        }
    }

    /// Append the ids of `text`'s tokens to `out` when the tokenizer has a
    /// [`Tokenizer::fixed_vocab`] (returns true); else do nothing and return false.
    #[inline]
    pub fn encode_ids(&self, text: &str, out: &mut Vec<u32>) -> bool {
        match self {
            Self::Learned(t) => t.encode_ids(text, out),
            _ => false,
        }
    }

    /// The saved form: kind name, kind version, payload.
    pub fn to_record(&self) -> TokenizerRecord {
        let (kind, payload) = match self {
            Self::Whitespace => (whitespace::KIND.name, Vec::new()),
            Self::UnicodeWhitespace => (whitespace::UNICODE_KIND.name, Vec::new()),
            Self::Word(o) => (word::KIND.name, o.to_bytes()),
            Self::Char { keep_whitespace } => (char::KIND.name, vec![*keep_whitespace as u8]),
            Self::Learned(t) => {
                return TokenizerRecord {
                    kind: t.kind().to_string(),
                    version: t.version(),
                    payload: t.payload(),
                }
            }
        };
        TokenizerRecord {
            kind: kind.to_string(),
            version: 1,
            payload,
        }
    }

    /// Inverse of [`Tokenizer::to_record`]; an unknown kind or a newer
    /// version is an error naming them.
    pub fn from_record(record: &TokenizerRecord) -> Result<Self> {
        registry::decode(record).map_err(Error::InvalidArgument)
    }

    /// The kind name (`whitespace`, `word`, `vocab`, ...), short enough for
    /// messages and the ARPA comment.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Whitespace => whitespace::KIND.name,
            Self::UnicodeWhitespace => whitespace::UNICODE_KIND.name,
            Self::Word(_) => word::KIND.name,
            Self::Char { .. } => char::KIND.name,
            Self::Learned(t) => t.kind(),
        }
    }

    /// Whether saving the tokenizer needs its payload (a learned tokenizer),
    /// not only the spec string.
    pub fn has_payload(&self) -> bool {
        matches!(self, Self::Learned(_))
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
            Self::Learned(t) => t.joiner(),
            _ => " ",
        }
    }

    /// Join tokens back into text: with [`Tokenizer::joiner`], or as a
    /// learned tokenizer says (BPE tokens join into their bytes).
    pub fn join_tokens(&self, tokens: &[&str]) -> String {
        match self {
            Self::Learned(t) => t.join_tokens(tokens),
            _ => tokens.join(self.joiner()),
        }
    }

    /// A stable description, as saved files of earlier versions held it:
    /// `whitespace`, `unicode-whitespace`, `word[:lower][:nfc|:nfkc]`,
    /// `char[:keep-ws]`; a learned tokenizer's is its whole record as
    /// `KIND@VERSION:HEX-PAYLOAD` (so string interfaces can carry it).
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
            Self::Learned(_) => {
                let record = self.to_record();
                let mut s = format!("{}@{}:", record.kind, record.version);
                for b in record.payload {
                    s.push_str(&format!("{b:02x}"));
                }
                s
            }
        }
    }

    /// Inverse of [`Tokenizer::spec`].
    pub fn from_spec(spec: &str) -> Result<Self> {
        if let Some((head, hex)) = spec.split_once(':') {
            if let Some((kind, version)) = head.split_once('@') {
                return Self::from_record(&record_of_spec(kind, version, hex).ok_or_else(
                    || Error::InvalidArgument(format!("bad tokenizer record spec {head:?}...")),
                )?);
            }
        }
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

fn record_of_spec(kind: &str, version: &str, hex: &str) -> Option<TokenizerRecord> {
    let payload = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(TokenizerRecord {
        kind: kind.to_string(),
        version: version.parse().ok()?,
        payload,
    })
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
            let tok = Tokenizer::from_spec(spec).unwrap();
            assert_eq!(tok.spec(), spec);
            assert_eq!(Tokenizer::from_record(&tok.to_record()).unwrap(), tok);
        }
        assert!(Tokenizer::from_spec("bpe").is_err());
        assert!(Tokenizer::from_spec("unicode-whitespace:lower").is_err());
    }
}

#[cfg(test)]
mod record_tests {
    use super::*;

    #[test]
    fn unknown_kind_and_newer_version_are_named() {
        let mut record = Tokenizer::Whitespace.to_record();
        record.version = 2;
        let e = Tokenizer::from_record(&record).unwrap_err().to_string();
        assert!(e.contains("\"whitespace\" version 2"), "{e}");
        record.kind = "sentencepiece".into();
        let e = Tokenizer::from_record(&record).unwrap_err().to_string();
        assert!(
            e.contains("unknown tokenizer kind \"sentencepiece\""),
            "{e}"
        );
        assert!(Tokenizer::from_spec("bpe@1:0g").is_err());
    }

    #[test]
    fn builtin_payloads_are_tiny_and_checked() {
        let word = Tokenizer::from_spec("word:lower:nfc").unwrap();
        assert_eq!(word.to_record().payload, [1, 1]);
        let mut record = word.to_record();
        record.payload = vec![1, 7];
        assert!(Tokenizer::from_record(&record).is_err());
        record = Tokenizer::Whitespace.to_record();
        record.payload = vec![0];
        assert!(Tokenizer::from_record(&record).is_err());
    }
}

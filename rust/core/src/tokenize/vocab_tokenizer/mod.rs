//! The word-list tokenizer (record kind `vocab`): KenLM's whitespace split,
//! then every word outside a fixed list becomes `<unk>`. Its ids are fixed by
//! the list (`<unk>` = 0, `<s>` = 1, `</s>` = 2, then the words), so counting
//! feeds them straight to the tables without interning strings.
//!
//! The list is learned from a corpus ([`trainer`]) or given; it is the record's
//! payload, so counts, vocabularies and models made with it carry it.

pub mod trainer;

use std::path::Path;
use std::sync::Arc;

use super::learned::LearnedTokenizer;
use super::registry::Kind;
use super::{whitespace, Tokenizer, Vocab, UNK, UNK_ID};
use crate::binfmt::{Reader, Writer};

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "vocab",
    version: 1,
    decode: |_, payload| VocabTokenizer::from_payload(payload).map(VocabTokenizer::into_tokenizer),
};

/// Whitespace split onto a fixed word list; unknown words are `<unk>`.
#[derive(Debug, Clone)]
pub struct VocabTokenizer {
    // A `Vocab` of the whitespace tokenizer holds the list and its index.
    vocab: Vocab,
}

impl VocabTokenizer {
    /// A tokenizer of `<unk>`, `<s>`, `</s>` and then `words` (duplicates and
    /// specials ignored), in that id order.
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Self {
        Self {
            vocab: Vocab::from_words(words, Tokenizer::Whitespace),
        }
    }

    /// As a [`Tokenizer`].
    pub fn into_tokenizer(self) -> Tokenizer {
        Tokenizer::Learned(Arc::new(self))
    }

    /// The words, in id order (specials first).
    pub fn words(&self) -> &[String] {
        self.vocab.words()
    }

    fn from_payload(payload: &[u8]) -> Result<Self, String> {
        let mut r = Reader::new(payload, Path::new("<vocab tokenizer>"));
        let read = |r: &mut Reader<'_>| -> crate::Result<Self> {
            let n = r.len(8)?;
            let mut words = Vec::with_capacity(n);
            for _ in 0..n {
                words.push(r.str()?);
            }
            r.finish()?;
            let tok = Self::new(&words);
            if tok.words() != words.as_slice() {
                return Err(
                    r.error("word list does not start with <unk>, <s>, </s> or holds a duplicate")
                );
            }
            Ok(tok)
        };
        read(&mut r).map_err(|e| e.to_string())
    }
}

impl LearnedTokenizer for VocabTokenizer {
    fn kind(&self) -> &'static str {
        KIND.name
    }

    fn version(&self) -> u32 {
        KIND.version
    }

    fn payload(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u64(self.words().len() as u64);
        for word in self.words() {
            w.str(word);
        }
        w.into_bytes()
    }

    fn for_each_token(&self, text: &str, f: &mut dyn FnMut(&str)) {
        whitespace::for_each_token(text, |t| {
            f(if self.vocab.get(t).is_some() { t } else { UNK })
        });
    }

    fn fixed_vocab(&self) -> Option<&[String]> {
        Some(self.words())
    }

    fn encode_ids(&self, text: &str, out: &mut Vec<u32>) -> bool {
        whitespace::for_each_token(text, |t| {
            out.push(self.vocab.get(t).unwrap_or(UNK_ID));
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::registry;
    use super::*;

    #[test]
    fn ids_are_fixed_by_the_list() {
        let tok = VocabTokenizer::new(["the", "cat", "the", "<s>"]).into_tokenizer();
        assert_eq!(
            tok.fixed_vocab().unwrap(),
            ["<unk>", "<s>", "</s>", "the", "cat"]
        );
        let mut ids = Vec::new();
        assert!(tok.encode_ids("the dog\tcat", &mut ids));
        assert_eq!(ids, [3, 0, 4]);
        assert_eq!(tok.tokenize("the dog cat"), ["the", "<unk>", "cat"]);
    }

    #[test]
    fn record_round_trips_and_rejects_bad_lists() {
        let tok = VocabTokenizer::new(["a", "b"]).into_tokenizer();
        let record = tok.to_record();
        assert_eq!(record.kind, "vocab");
        let back = registry::decode(&record).unwrap();
        assert_eq!(back, tok);
        assert_eq!(Tokenizer::from_spec(&tok.spec()).unwrap(), tok);
        let mut w = Writer::new();
        w.u64(2);
        w.str("a");
        w.str("b");
        let bad = super::super::TokenizerRecord {
            payload: w.into_bytes(),
            ..record
        };
        assert!(registry::decode(&bad).unwrap_err().contains("<unk>"));
    }
}

//! Byte-level BPE (record kind `bpe`): text is cut into pre-tokens by a regex
//! (GPT-2's by default), each pre-token's UTF-8 bytes are merged by the learned
//! merges, and special tokens are matched whole. Its ids are its own (bytes
//! 0..=255 first when trained here, then merges in order, then specials),
//! numbered as HF tokenizers and tiktoken number them.
//!
//! As a tokenizer of n-gram counts and models it has fixed ids shifted by
//! three: `<unk>`, `<s>`, `</s>` take 0, 1, 2 and BPE id `i` is `i + 3`. The
//! token strings there are GPT-2's byte-level text ([`byte_level`]), which
//! holds no whitespace, so ARPA files can carry them; joining them back gives
//! the original bytes ([`LearnedTokenizer::join_tokens`]).
//!
//! [`model`] encodes and decodes, [`trainer`] learns merges from a corpus,
//! [`serialization`] reads and writes HF `tokenizer.json` and tiktoken rank files.

pub mod byte_level;
pub mod model;
pub mod pretokenize;
pub mod scanner;
pub mod serialization;
pub mod trainer;

use std::path::Path;
use std::sync::Arc;

use hashbrown::HashMap;
use rayon::prelude::*;

pub use model::BpeModel;
pub use pretokenize::{Piece, PreTokenizer};

use super::learned::LearnedTokenizer;
use super::registry::Kind;
use super::{Tokenizer, BOS, EOS, UNK};
use crate::binfmt::{Reader, Writer};
use crate::{Error, Result};

/// The registry entry.
pub const KIND: Kind = Kind {
    name: "bpe",
    version: 1,
    decode: |_, payload| BpeTokenizer::from_payload(payload).map(BpeTokenizer::into_tokenizer),
};

/// The offset of BPE ids in n-gram vocabularies (after `<unk>`, `<s>`, `</s>`).
pub const NGRAM_OFFSET: u32 = 3;

/// A byte-level BPE tokenizer: pre-tokenizer, merges, special tokens.
#[derive(Debug, Clone)]
pub struct BpeTokenizer {
    model: BpeModel,
    pre: PreTokenizer,
    // The n-gram vocabulary: <unk>, <s>, </s>, then each id's token string.
    words: Vec<String>,
    // Token string -> BPE id, to join n-gram tokens back into bytes.
    by_word: HashMap<String, u32>,
}

impl BpeTokenizer {
    /// A tokenizer of `model`, cutting text with `pattern` (a preset name
    /// `gpt2`, `cl100k`, `o200k`, or a regex).
    pub fn new(model: BpeModel, pattern: &str) -> Result<Self> {
        let specials: Vec<String> = model.specials().iter().map(|(s, _)| s.clone()).collect();
        let pre = PreTokenizer::new(pattern, &specials).map_err(Error::InvalidArgument)?;
        let mut words: Vec<String> = vec![UNK.into(), BOS.into(), EOS.into()];
        let mut by_word = HashMap::with_capacity(model.len());
        for id in 0..model.len() as u32 {
            let bytes = model.token(id).unwrap_or_default();
            let mut word = if model.is_special(id) {
                String::from_utf8_lossy(bytes).into_owned()
            } else {
                byte_level::encode(bytes)
            };
            // A special token spelled like another token or like <unk>, <s>,
            // </s> gets NULs appended (no byte-level string holds a NUL), so
            // the n-gram vocabulary stays one string per id.
            while by_word.contains_key(&word) || [UNK, BOS, EOS].contains(&word.as_str()) {
                word.push('\0');
            }
            by_word.insert(word.clone(), id);
            words.push(word);
        }
        Ok(Self {
            model,
            pre,
            words,
            by_word,
        })
    }

    /// As a [`Tokenizer`].
    pub fn into_tokenizer(self) -> Tokenizer {
        Tokenizer::Learned(Arc::new(self))
    }

    /// The merges, bytes and specials.
    pub fn model(&self) -> &BpeModel {
        &self.model
    }

    /// The pre-tokenizer's regex.
    pub fn pattern(&self) -> &str {
        self.pre.pattern()
    }

    /// The number of ids.
    pub fn vocab_size(&self) -> usize {
        self.model.len()
    }

    /// The token string of BPE id `id` as n-gram vocabularies hold it.
    pub fn token_string(&self, id: u32) -> Option<&str> {
        self.words
            .get(id as usize + NGRAM_OFFSET as usize)
            .map(String::as_str)
    }

    /// Append the BPE ids of `text` to `out`.
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) {
        self.pre.for_each_piece(text, |piece| match piece {
            Piece::Text(t) => self.model.encode_piece(t.as_bytes(), out),
            Piece::Special(s) => {
                if let Some(&(_, id)) = self.model.specials().iter().find(|(t, _)| t == s) {
                    out.push(id);
                }
            }
        });
    }

    /// The BPE ids of `text`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_into(text, &mut out);
        out
    }

    /// The BPE ids of each text, in parallel (rayon), in input order.
    pub fn encode_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Vec<u32>> {
        texts.par_iter().map(|t| self.encode(t.as_ref())).collect()
    }

    /// The bytes of `ids`; an id out of range is an error naming it.
    pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.model.decode_into(ids, &mut out).map_err(|id| {
            Error::InvalidArgument(format!(
                "id {id} out of range for a BPE of {} tokens",
                self.model.len()
            ))
        })?;
        Ok(out)
    }

    /// The text of `ids` (bytes that do not form UTF-8, as a sequence cut
    /// inside a character, become U+FFFD). `decode(encode(s)) == s`.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        let bytes = self.decode_bytes(ids)?;
        Ok(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// The BPE tokenizer of a spec string (`bpe@1:HEX`, as
    /// [`Tokenizer::spec`] writes it); another kind is an error naming it.
    pub fn from_spec(spec: &str) -> Result<Self> {
        let record = Tokenizer::from_spec(spec)?.to_record();
        if record.kind != KIND.name {
            return Err(Error::InvalidArgument(format!(
                "tokenizer {:?} is not a BPE tokenizer",
                record.kind
            )));
        }
        Self::from_payload(&record.payload).map_err(Error::InvalidArgument)
    }

    fn from_payload(payload: &[u8]) -> std::result::Result<Self, String> {
        let mut r = Reader::new(payload, Path::new("<bpe tokenizer>"));
        let read = |r: &mut Reader<'_>| -> Result<Self> {
            let pattern = r.str()?.to_string();
            let n = r.len(9)?;
            let mut tokens = Vec::with_capacity(n);
            let mut specials = Vec::new();
            for id in 0..n {
                if r.u8()? == 1 {
                    specials.push(id as u32);
                }
                tokens.push(r.bytes()?.to_vec());
            }
            let m = r.len(8)?;
            let flat = r.u32s(2 * m)?;
            r.finish()?;
            let merges = flat.chunks_exact(2).map(|p| (p[0], p[1])).collect();
            let model = BpeModel::new(tokens, &specials, merges).map_err(|e| r.error(e))?;
            Self::new(model, &pattern)
        };
        read(&mut r).map_err(|e| e.to_string())
    }
}

impl LearnedTokenizer for BpeTokenizer {
    fn kind(&self) -> &'static str {
        KIND.name
    }

    fn version(&self) -> u32 {
        KIND.version
    }

    fn payload(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(self.pre.pattern());
        w.u64(self.model.len() as u64);
        for id in 0..self.model.len() as u32 {
            w.u8(self.model.is_special(id) as u8);
            w.bytes(self.model.token(id).unwrap_or_default());
        }
        w.u64(self.model.merges().len() as u64);
        let flat: Vec<u32> = self
            .model
            .merges()
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .collect();
        w.u32s(&flat);
        w.into_bytes()
    }

    fn for_each_token(&self, text: &str, f: &mut dyn FnMut(&str)) {
        for id in self.encode(text) {
            f(&self.words[(id + NGRAM_OFFSET) as usize]);
        }
    }

    fn joiner(&self) -> &'static str {
        ""
    }

    fn join_tokens(&self, tokens: &[&str]) -> String {
        let mut bytes = Vec::new();
        for t in tokens {
            match self.by_word.get(*t).and_then(|&id| self.model.token(id)) {
                Some(b) => bytes.extend_from_slice(b),
                None => bytes.extend_from_slice(t.as_bytes()),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn fixed_vocab(&self) -> Option<&[String]> {
        Some(&self.words)
    }

    fn encode_ids(&self, text: &str, out: &mut Vec<u32>) -> bool {
        let start = out.len();
        self.encode_into(text, out);
        for id in &mut out[start..] {
            *id += NGRAM_OFFSET;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::registry;
    use super::*;

    fn small() -> BpeTokenizer {
        let mut tokens: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        tokens.push(b"he".to_vec());
        tokens.push(b" he".to_vec());
        tokens.push(b"<|end|>".to_vec());
        let model = BpeModel::new(tokens, &[258], vec![(104, 101), (32, 256)]).unwrap();
        BpeTokenizer::new(model, "gpt2").unwrap()
    }

    #[test]
    fn encodes_decodes_and_matches_specials() {
        let tok = small();
        let ids = tok.encode("he he<|end|>é");
        assert_eq!(ids, [256, 257, 258, 0xC3, 0xA9]);
        assert_eq!(tok.decode(&ids).unwrap(), "he he<|end|>é");
        assert_eq!(tok.decode(&[0xC3]).unwrap(), "\u{fffd}");
        assert!(tok.decode(&[259]).unwrap_err().to_string().contains("259"));
        for s in ["👩‍👩‍👧‍👦 家族", "", "\n\n  \t", "a\u{0}b"] {
            assert_eq!(tok.decode(&tok.encode(s)).unwrap(), s);
        }
    }

    #[test]
    fn ngram_view_shifts_ids_and_joins_back() {
        let t = small().into_tokenizer();
        let mut ids = Vec::new();
        assert!(t.encode_ids("he he", &mut ids));
        assert_eq!(ids, [259, 260]);
        let words = t.fixed_vocab().unwrap();
        assert_eq!(&words[..3], ["<unk>", "<s>", "</s>"]);
        assert_eq!(words[260], "\u{120}he");
        let tokens = t.tokenize("he hé");
        let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        assert_eq!(t.join_tokens(&refs), "he hé");
    }

    #[test]
    fn record_round_trips() {
        let t = small().into_tokenizer();
        let record = t.to_record();
        assert_eq!(record.kind, "bpe");
        assert_eq!(registry::decode(&record).unwrap(), t);
        assert_eq!(Tokenizer::from_spec(&t.spec()).unwrap(), t);
        let back = BpeTokenizer::from_spec(&t.spec()).unwrap().into_tokenizer();
        assert_eq!(back, t);
        assert!(BpeTokenizer::from_spec("word").is_err());
        let mut bad = record.clone();
        bad.payload.truncate(bad.payload.len() - 3);
        assert!(registry::decode(&bad).is_err());
    }
}

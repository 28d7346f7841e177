//! The registry of tokenizer kinds: kind name -> decoder of its record.
//!
//! Plugging a tokenizer in is one line in [`KINDS`]; every file format reads
//! tokenizers through [`decode`].

use super::record::TokenizerRecord;
use super::{bpe, char, vocab_tokenizer, whitespace, word, Tokenizer};

/// Rebuilds a tokenizer from its record's payload (the version is already checked).
pub type Decoder = fn(version: u32, payload: &[u8]) -> Result<Tokenizer, String>;

/// One tokenizer kind.
pub struct Kind {
    /// The name saved in records.
    pub name: &'static str,
    /// The newest payload version this code reads (and writes).
    pub version: u32,
    /// The decoder.
    pub decode: Decoder,
}

/// Every kind this build knows.
pub const KINDS: &[Kind] = &[
    whitespace::KIND,
    whitespace::UNICODE_KIND,
    word::KIND,
    char::KIND,
    vocab_tokenizer::KIND,
    bpe::KIND,
];

/// The tokenizer of `record`. An unknown kind or a version newer than this
/// build reads gives a message naming them.
pub fn decode(record: &TokenizerRecord) -> Result<Tokenizer, String> {
    let kind = KINDS
        .iter()
        .find(|k| k.name == record.kind)
        .ok_or_else(|| {
            let known: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
            format!(
                "unknown tokenizer kind {:?} (this nextword knows {}); a newer nextword may read it",
                record.kind,
                known.join(", ")
            )
        })?;
    if record.version == 0 || record.version > kind.version {
        return Err(format!(
            "tokenizer {:?} version {}: this nextword reads versions 1 to {}",
            record.kind, record.version, kind.version
        ));
    }
    (kind.decode)(record.version, &record.payload)
        .map_err(|e| format!("tokenizer {:?}: {e}", record.kind))
}

/// A decoder for kinds whose record is only their name (empty payload).
pub fn no_payload(payload: &[u8], tokenizer: Tokenizer) -> Result<Tokenizer, String> {
    if payload.is_empty() {
        Ok(tokenizer)
    } else {
        Err(format!("{} unexpected payload bytes", payload.len()))
    }
}

/// The flag bytes of a built-in kind's payload, checked to be `len` bytes of 0 or 1.
pub fn flags<const N: usize>(payload: &[u8]) -> Result<[bool; N], String> {
    let bytes: [u8; N] = payload
        .try_into()
        .map_err(|_| format!("payload of {} bytes, expected {N}", payload.len()))?;
    if bytes.iter().any(|&b| b > 1) {
        return Err("payload flag is neither 0 nor 1".into());
    }
    Ok(bytes.map(|b| b == 1))
}

//! The trait a tokenizer implements when it is more than a name: learned from
//! data (a word list, BPE merges), so its identity is a payload saved with it.
//!
//! A new tokenizer kind is a new module (a folder, as `vocab_tokenizer/`) that
//! implements [`LearnedTokenizer`] and adds one [`super::registry::Kind`] line
//! to the registry; nothing else matches on kinds. The built-in split rules
//! (whitespace, word, char) stay variants of [`super::Tokenizer`] so their hot
//! loops are inlined; a learned tokenizer is called through this trait once
//! per sentence.

use std::fmt::Debug;

/// A tokenizer whose identity is a (kind, version, payload) record.
pub trait LearnedTokenizer: Debug + Send + Sync {
    /// The kind name the registry knows its decoder by (e.g. `vocab`).
    fn kind(&self) -> &'static str;

    /// The version of the payload layout this code writes.
    fn version(&self) -> u32;

    /// Everything that defines this tokenizer, as bytes (read back by the
    /// kind's decoder in the registry).
    fn payload(&self) -> Vec<u8>;

    /// Call `f` on every token of `text`, in order.
    fn for_each_token(&self, text: &str, f: &mut dyn FnMut(&str));

    /// The string that joins tokens back into text.
    fn joiner(&self) -> &'static str {
        " "
    }

    /// Join tokens (as [`LearnedTokenizer::for_each_token`] gives them) back
    /// into text; by default with [`LearnedTokenizer::joiner`].
    fn join_tokens(&self, tokens: &[&str]) -> String {
        tokens.join(self.joiner())
    }

    /// The id -> token table when the tokenizer fixes its own ids (None: ids
    /// are given by counting, in first-appearance order). Ids 0, 1, 2 must be
    /// `<unk>`, `<s>`, `</s>`, and the tokens distinct.
    fn fixed_vocab(&self) -> Option<&[String]> {
        None
    }

    /// Append the ids of `text`'s tokens to `out` and return true, when the
    /// tokenizer has [`LearnedTokenizer::fixed_vocab`]; every id is an index
    /// into it. Otherwise append nothing and return false.
    fn encode_ids(&self, text: &str, out: &mut Vec<u32>) -> bool {
        let _ = (text, out);
        false
    }
}

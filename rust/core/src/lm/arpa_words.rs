//! The word lookup of ARPA reading: every word of every n-gram line of order
//! two and up is looked up once (or taken from the line before, see
//! `arpa_read`), hundreds of millions of lookups for a big model.
//!
//! A `HashMap<String, u32>` reads a control byte, a bucket, then the key's
//! heap bytes: dependent cache misses once the vocabulary outgrows the cache.
//! Here the words sit end to end in one buffer in id order (a few MB even for
//! a million words; the frequent ones stay in cache) and the table holds
//! (64-bit hash, id) pairs. Unlike the scoring index
//! ([`super::word_index::WordIndex`]), a hash match is confirmed by comparing
//! the bytes: reading must refuse every word that is not a unigram, exactly.

use super::word_index::WordIndex;
use crate::tokenize::Vocab;

/// Marks an empty slot ([`ArpaWords::hash`] never returns 0).
const EMPTY: u64 = 0;

/// Ends every word in the buffer: a byte no UTF-8 text holds, so a prefix
/// of a longer word never passes for the word.
const END: u8 = 0xFF;

/// A table slot: the word's hash, its id, and where its bytes start.
#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u64,
    id: u32,
    start: u32,
}

/// Exact lookup from the text of a word to its id.
#[derive(Debug, Default)]
pub(crate) struct ArpaWords {
    /// The capacity is a power of two at least twice the words.
    slots: Vec<Slot>,
    /// The words end to end, by id, each followed by [`END`].
    bytes: Vec<u8>,
}

impl ArpaWords {
    /// The table of every word of `vocab`; None when their text passes 4 GiB.
    pub fn new(vocab: &Vocab) -> Option<Self> {
        let words = vocab.words();
        let cap = (words.len() * 2).next_power_of_two().max(16);
        let empty = Slot {
            hash: EMPTY,
            id: 0,
            start: 0,
        };
        let mut table = Self {
            slots: vec![empty; cap],
            bytes: Vec::with_capacity(words.iter().map(|w| w.len() + 1).sum()),
        };
        for (id, word) in words.iter().enumerate() {
            let start = u32::try_from(table.bytes.len()).ok()?;
            table.bytes.extend_from_slice(word.as_bytes());
            table.bytes.push(END);
            let hash = Self::hash(word);
            let mut pos = hash as usize & (cap - 1);
            // The vocabulary holds each word once; were one there twice, the
            // first id would be found first, as `Vocab::get` finds it.
            while table.slots[pos].hash != EMPTY {
                pos = (pos + 1) & (cap - 1);
            }
            table.slots[pos] = Slot {
                hash,
                id: id as u32,
                start,
            };
        }
        Some(table)
    }

    /// The 64-bit hash of a word (never 0): the scoring index's.
    #[inline]
    pub fn hash(word: &str) -> u64 {
        WordIndex::hash(word)
    }

    /// Start loading the slot a lookup of `hash` reads first.
    #[inline(always)]
    pub fn prefetch(&self, hash: u64) {
        super::level::prefetch(
            &self.slots,
            hash as usize & self.slots.len().wrapping_sub(1),
        );
    }

    /// The id of `word`, if it is a word of the vocabulary.
    #[cfg(test)]
    pub fn get(&self, word: &str) -> Option<u32> {
        self.get_hashed(word, Self::hash(word))
    }

    /// The id of `word`, whose [`ArpaWords::hash`] is `hash`, if it is a
    /// word of the vocabulary.
    #[inline]
    pub fn get_hashed(&self, word: &str, hash: u64) -> Option<u32> {
        let cap = self.slots.len();
        if cap == 0 {
            return None;
        }
        let word = word.as_bytes();
        let mut pos = hash as usize & (cap - 1);
        // Bounded: the table is at most half full, but never trust that.
        for _ in 0..cap {
            let slot = self.slots[pos];
            if slot.hash == EMPTY {
                return None;
            }
            if slot.hash == hash {
                let start = slot.start as usize;
                let text = self.bytes.get(start..start + word.len() + 1);
                if text.is_some_and(|t| same(&t[..word.len()], word) && t[word.len()] == END) {
                    return Some(slot.id);
                }
            }
            pos = (pos + 1) & (cap - 1);
        }
        None
    }
}

/// `a == b` for byte strings of one length, without a call to `memcmp`
/// for the short ones words are (a call costs more than the compare).
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 16 {
        return a == b;
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::Tokenizer;

    #[test]
    fn finds_every_word_and_no_other() {
        let mut vocab = Vocab::new(Tokenizer::default());
        for i in 0..5000 {
            vocab.add(&format!("w{i}"), 0);
        }
        let table = ArpaWords::new(&vocab).unwrap();
        for (id, word) in vocab.words().iter().enumerate() {
            assert_eq!(table.get(word), Some(id as u32), "{word}");
        }
        for i in 5000..6000 {
            assert_eq!(table.get(&format!("w{i}")), None);
        }
        assert_eq!(table.get(""), None);
        assert_eq!(table.get("w1 "), None);
        assert_eq!(ArpaWords::default().get("w1"), None);
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
        let long = "x".repeat(40);
        assert!(same(long.as_bytes(), long.as_bytes()));
    }
}

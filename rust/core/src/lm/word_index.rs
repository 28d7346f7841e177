//! [`WordIndex`]: the vocabulary lookup of bulk scoring.
//!
//! Scoring a corpus looks up every token's id. A `HashMap<String, u32>`
//! lookup reads the bucket, then the key's heap bytes to compare them: two
//! dependent cache misses per token once the vocabulary outgrows the cache,
//! about a fifth of the scoring profile. Here a token is one 64-bit hash of
//! its bytes, probed in a flat table of (hash, id) pairs: one miss, and the
//! caller can hash a whole sentence first and prefetch every slot before
//! reading any. As KenLM's vocabulary (and our n-gram index,
//! [`super::level::Level::find_trusted`]) does, a full 64-bit hash match is
//! trusted without comparing the strings: a word outside the vocabulary takes
//! a word's id only if their 64-bit hashes collide (odds about v / 2^64 for a
//! v-word vocabulary).

use std::hash::BuildHasher;

use crate::tokenize::UNK_ID;

/// Marks an empty slot (no word hashes to it: [`WordIndex::hash`] never returns 0).
const EMPTY: u64 = 0;

/// Open-addressing table from word hashes to model ids.
#[derive(Debug, Clone, Default)]
pub struct WordIndex {
    /// (hash, id) pairs; the capacity is a power of two at least twice the words.
    slots: Vec<(u64, u32)>,
}

impl WordIndex {
    /// The table of `words` (in id order), each mapped to `id_of(id)`: the id
    /// scoring should use, `<unk>`'s for a word the model cannot score.
    pub fn new<'a>(
        words: impl ExactSizeIterator<Item = &'a str>,
        id_of: impl Fn(u32) -> u32,
    ) -> Self {
        let cap = (words.len() * 2).next_power_of_two().max(16);
        let mut slots = vec![(EMPTY, UNK_ID); cap];
        for (i, w) in words.enumerate() {
            let h = Self::hash(w);
            let mut pos = h as usize & (cap - 1);
            // A word seen twice keeps its first id, as the vocabulary does.
            while slots[pos].0 != EMPTY && slots[pos].0 != h {
                pos = (pos + 1) & (cap - 1);
            }
            if slots[pos].0 == EMPTY {
                slots[pos] = (h, id_of(i as u32));
            }
        }
        Self { slots }
    }

    /// The 64-bit hash of a token (never 0).
    #[inline]
    pub fn hash(word: &str) -> u64 {
        foldhash::quality::FixedState::with_seed(0x6E65_7874_776F_7264)
            .hash_one(word.as_bytes())
            .max(1)
    }

    /// Start loading the slot a lookup of `hash` reads first.
    #[inline(always)]
    pub fn prefetch(&self, hash: u64) {
        super::level::prefetch(
            &self.slots,
            hash as usize & self.slots.len().wrapping_sub(1),
        );
    }

    /// The id of the token with hash `hash` ([`UNK_ID`] when absent).
    #[inline]
    pub fn id(&self, hash: u64) -> u32 {
        let cap = self.slots.len();
        if cap == 0 {
            return UNK_ID;
        }
        let mut pos = hash as usize & (cap - 1);
        // Bounded: the table is at most half full, but never trust that.
        for _ in 0..cap {
            let (h, id) = self.slots[pos];
            if h == hash {
                return id;
            }
            if h == EMPTY {
                return UNK_ID;
            }
            pos = (pos + 1) & (cap - 1);
        }
        UNK_ID
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_word_and_misses_others() {
        let words: Vec<String> = (0..5000).map(|i| format!("w{i}")).collect();
        let index = WordIndex::new(words.iter().map(String::as_str), |i| i + 7);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(index.id(WordIndex::hash(w)), i as u32 + 7);
        }
        for i in 5000..6000 {
            assert_eq!(index.id(WordIndex::hash(&format!("w{i}"))), UNK_ID);
        }
        assert_eq!(WordIndex::default().id(WordIndex::hash("w1")), UNK_ID);
        // A repeated word keeps its first id.
        let index = WordIndex::new(["a", "b", "a"].into_iter(), |i| i);
        assert_eq!(index.id(WordIndex::hash("a")), 0);
    }
}

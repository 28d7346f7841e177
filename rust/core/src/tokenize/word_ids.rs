//! [`WordIds`]: word -> id over a list of words held elsewhere.
//!
//! A `HashMap<Box<str>, u32>` beside a `Vec<String>` holds every word twice
//! (two allocations per new word), and each time it grows it hashes every
//! word again, reading each one's heap bytes: a cache miss per word, under
//! the counting interner's lock. Here the table holds only each word's id
//! and 32 bits of its hash, so growing reads no word; a lookup compares the
//! word's bytes only when those bits match.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// Ids of the words of a list (`words[id]`), looked up by their bytes.
#[derive(Clone, Default)]
pub struct WordIds {
    /// (id, the high 32 bits of the word's hash).
    table: HashTable<(u32, u32)>,
}

impl std::fmt::Debug for WordIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WordIds({} words)", self.table.len())
    }
}

/// The 32 bits of `word`'s hash that the table keeps.
#[inline]
fn hash32(word: &str) -> u32 {
    let h = foldhash::fast::FixedState::with_seed(0x776F_7264_5F69_6473).hash_one(word.as_bytes());
    (h >> 32) as u32
}

/// The table's 64-bit hash from the kept 32 bits: hashbrown places an entry
/// by the low bits and tells entries apart by the top seven.
#[inline(always)]
fn spread(h: u32) -> u64 {
    (u64::from(h) << 32) | u64::from(h)
}

impl WordIds {
    /// An empty table with room for `n` words.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            table: HashTable::with_capacity(n),
        }
    }

    /// Words held.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when no word is held.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Make room for `additional` more words.
    pub fn reserve(&mut self, additional: usize) {
        self.table.reserve(additional, |&(_, h)| spread(h));
    }

    /// The id of `word`, where `words` is the list the ids index.
    #[inline]
    pub fn get<S: AsRef<str>>(&self, words: &[S], word: &str) -> Option<u32> {
        let h = hash32(word);
        self.table
            .find(spread(h), |&(id, eh)| {
                eh == h && words[id as usize].as_ref() == word
            })
            .map(|&(id, _)| id)
    }

    /// Add `word`, which the table lacks, with id `id`.
    #[inline]
    pub fn insert_new(&mut self, word: &str, id: u32) {
        let h = hash32(word);
        self.table
            .insert_unique(spread(h), (id, h), |&(_, h)| spread(h));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lookups find every word added (across the table's growth, with words
    /// that share prefixes, the empty word and non-ASCII ones) and nothing else.
    #[test]
    fn finds_exactly_the_words_added() {
        let mut words: Vec<String> = Vec::new();
        let mut ids = WordIds::default();
        for i in 0..20_000u32 {
            let w = match i % 4 {
                0 => format!("w{i}"),
                1 => format!("wörd-{i}"),
                2 => "x".repeat((i % 37) as usize) + &i.to_string(),
                _ => format!("{i}"),
            };
            assert_eq!(ids.get(&words, &w), None, "{w:?} before it was added");
            ids.insert_new(&w, words.len() as u32);
            words.push(w);
        }
        ids.insert_new("", words.len() as u32);
        words.push(String::new());
        assert_eq!(ids.len(), words.len());
        for (id, w) in words.iter().enumerate() {
            assert_eq!(ids.get(&words, w), Some(id as u32), "{w:?}");
        }
        for absent in ["w20000", "wörd-", "y", "x", "-1"] {
            assert_eq!(ids.get(&words, absent), None, "{absent:?}");
        }
        let copy = ids.clone();
        assert_eq!(copy.get(&words, "w4"), Some(4));
    }
}

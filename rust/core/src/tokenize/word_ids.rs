//! [`WordIds`]: word -> id over a list of words held elsewhere.
//!
//! A `HashMap<Box<str>, u32>` beside a `Vec<String>` holds every word twice
//! (two allocations per new word), and each time it grows it hashes every
//! word again, reading each one's heap bytes: a cache miss per word, under
//! the counting interner's lock. Here the table holds only each word's id
//! and 32 bits of its hash, so growing reads no word; a lookup compares the
//! word's bytes only when those bits match, and a caller with many words to
//! look up can prefetch the slots of the next ones.

use std::hash::BuildHasher;

/// Ids of the words of a list (`words[id]`), looked up by their bytes.
///
/// Open addressing with linear probing, at most half full: a slot is
/// `(id + 1) | hash32 << 32`, 0 when free. A caller looking up many words
/// can [`WordIds::prefetch`] the slot of a word a few ahead.
#[derive(Clone, Default)]
pub struct WordIds {
    slots: Vec<u64>,
    len: usize,
}

impl std::fmt::Debug for WordIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WordIds({} words)", self.len)
    }
}

/// The 32 bits of `word`'s hash that the table keeps.
#[inline]
pub fn hash32(word: &str) -> u32 {
    let h = foldhash::fast::FixedState::with_seed(0x776F_7264_5F69_6473).hash_one(word.as_bytes());
    (h >> 32) as u32
}

/// The first slot to probe for hash `h` (Fibonacci hashing, under `mask`).
#[inline(always)]
fn home(h: u32, mask: usize) -> usize {
    (u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask
}

impl WordIds {
    /// An empty table with room for `n` words.
    pub fn with_capacity(n: usize) -> Self {
        let mut ids = Self::default();
        ids.reserve(n);
        ids
    }

    /// Words held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no word is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Make room for `additional` more words.
    pub fn reserve(&mut self, additional: usize) {
        let need = ((self.len + additional) * 2).next_power_of_two().max(16);
        if need > self.slots.len() {
            self.grow_to(need);
        }
    }

    fn grow_to(&mut self, cap: usize) {
        let old = std::mem::replace(&mut self.slots, vec![0; cap]);
        for s in old.into_iter().filter(|&s| s != 0) {
            self.put(s);
        }
    }

    /// Write slot value `s` into the first free slot from its home.
    #[inline(always)]
    fn put(&mut self, s: u64) {
        let mask = self.slots.len() - 1;
        let mut i = home((s >> 32) as u32, mask);
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = s;
    }

    /// Start loading the slot a lookup of a word of hash `h` ([`hash32`]) reads first.
    #[inline(always)]
    pub fn prefetch(&self, h: u32) {
        if !self.slots.is_empty() {
            crate::lm::level::prefetch(&self.slots, home(h, self.slots.len() - 1));
        }
    }

    /// The id of `word`, where `words` is the list the ids index.
    #[inline]
    pub fn get<S: AsRef<str>>(&self, words: &[S], word: &str) -> Option<u32> {
        self.get_hashed(words, word, hash32(word))
    }

    /// [`WordIds::get`] with the word's [`hash32`] given.
    #[inline]
    pub fn get_hashed<S: AsRef<str>>(&self, words: &[S], word: &str, h: u32) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = home(h, mask);
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            let id = (s as u32).wrapping_sub(1);
            if (s >> 32) as u32 == h && words.get(id as usize).map(AsRef::as_ref) == Some(word) {
                return Some(id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Add `word`, which the table lacks, with id `id` (below `u32::MAX`).
    #[inline]
    pub fn insert_new(&mut self, word: &str, id: u32) {
        self.insert_hashed(hash32(word), id);
    }

    /// [`WordIds::insert_new`] with the word's [`hash32`] given.
    #[inline]
    pub fn insert_hashed(&mut self, h: u32, id: u32) {
        assert!(id < u32::MAX, "a word id past u32::MAX - 1");
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow_to((self.slots.len() * 2).max(16));
        }
        self.put(u64::from(id + 1) | u64::from(h) << 32);
        self.len += 1;
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

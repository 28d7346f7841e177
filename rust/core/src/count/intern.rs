//! Interning token strings to temporary ids while many threads count.
//!
//! Temporary ids are handed out in whatever order threads meet new words, so
//! they depend on scheduling. Each word also remembers where it first appears
//! in corpus order ([`Position`]); at the end, [`Interner::into_vocab`] sorts by
//! that position, which gives KenLM's first-appearance order whatever the thread
//! count, and a table to remap temporary ids to final ones.

use std::sync::Mutex;

use hashbrown::HashMap;

use crate::tokenize::vocab::Position;
use crate::tokenize::{Tokenizer, Vocab, BOS, EOS, UNK};

/// The shared word -> temporary id table.
pub struct Interner {
    inner: Mutex<Inner>,
}

struct Inner {
    ids: HashMap<Box<str>, u32>,
    words: Vec<(Box<str>, Position)>,
}

/// A worker's cache in front of the [`Interner`]: most lookups never lock,
/// allocate or call `memcmp`.
///
/// An open-addressing table (linear probing, at most half full) of 32-byte
/// slots. A word is summarised by its length and two 64-bit words read from
/// its bytes ([`summary`]); for words of up to 16 bytes the summary *is* the
/// word, so a hit compares three integers. Longer words also keep their bytes
/// in one arena per worker, compared only when the summaries match.
///
/// The table grows to hold every word the worker met (a million on the
/// Gutenberg set: 128 MiB), so frequent words sit scattered among rare ones
/// and most lookups missed the cache. A small direct-mapped front table
/// ([`FRONT`] slots) keeps the short words last found, so the frequent ones
/// stay packed in a few hundred KiB.
pub struct LocalInterner {
    front: Vec<Slot>,
    slots: Vec<Slot>,
    len: usize,
    arena: Vec<u8>,
}

/// One slot: `id == EMPTY` marks a free one.
#[derive(Clone, Copy)]
struct Slot {
    a: u64,
    b: u64,
    len: u32,
    id: u32,
    /// Offset of the bytes in the arena (words longer than [`INLINE`] only).
    at: u64,
}

const EMPTY: u32 = u32::MAX;
const FREE: Slot = Slot {
    a: 0,
    b: 0,
    len: 0,
    id: EMPTY,
    at: 0,
};
/// Words up to this many bytes are held whole in their slot.
const INLINE: usize = 16;
/// Slots of the front table (32 bytes each: 512 KiB).
const FRONT: usize = 1 << 14;

impl Default for LocalInterner {
    fn default() -> Self {
        Self {
            front: vec![FREE; FRONT],
            slots: vec![FREE; 1 << 12],
            len: 0,
            arena: Vec::new(),
        }
    }
}

#[inline(always)]
fn read_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

#[inline(always)]
fn read_u32(b: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4])) as u64
}

/// Two words that, with the length, identify any byte string of up to 16
/// bytes (overlapping reads of its head and tail), and summarise longer ones.
#[inline(always)]
fn summary(w: &[u8]) -> (u64, u64) {
    let n = w.len();
    if n >= 8 {
        (read_u64(w, 0), read_u64(w, n - 8))
    } else if n >= 4 {
        (read_u32(w, 0) | (read_u32(w, n - 4) << 32), 0)
    } else if n > 0 {
        (
            w[0] as u64 | (w[n / 2] as u64) << 8 | (w[n - 1] as u64) << 16,
            0,
        )
    } else {
        (0, 0)
    }
}

/// Slot index of a summary (bits under `mask`): a folded 128-bit multiply,
/// then Fibonacci hashing.
#[inline(always)]
fn slot_of(a: u64, b: u64, len: u32, mask: usize) -> usize {
    let p =
        ((a ^ 0x243F_6A88_85A3_08D3) as u128) * ((b ^ len as u64 ^ 0x1319_8A2E_0370_7344) as u128);
    let h = (p as u64) ^ ((p >> 64) as u64);
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask
}

impl LocalInterner {
    /// The cached id of `word`, if this worker has met it.
    #[inline(always)]
    fn get(&mut self, w: &[u8], a: u64, b: u64) -> Option<u32> {
        let len = w.len() as u32;
        let home = slot_of(a, b, len, usize::MAX);
        let f = home & (FRONT - 1);
        let s = &self.front[f];
        // A short word is its summary: equal summaries, same word.
        if s.a == a && s.b == b && s.len == len && s.id != EMPTY && w.len() <= INLINE {
            return Some(s.id);
        }
        let mask = self.slots.len() - 1;
        let mut i = home & mask;
        loop {
            let s = &self.slots[i];
            if s.id == EMPTY {
                return None;
            }
            if s.a == a && s.b == b && s.len == len {
                if w.len() <= INLINE {
                    self.front[f] = *s;
                    return Some(s.id);
                }
                let at = s.at as usize;
                if &self.arena[at..at + w.len()] == w {
                    return Some(s.id);
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn insert(&mut self, w: &[u8], a: u64, b: u64, id: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            let grown = vec![FREE; self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, grown);
            let mask = self.slots.len() - 1;
            for s in old.into_iter().filter(|s| s.id != EMPTY) {
                let mut i = slot_of(s.a, s.b, s.len, mask);
                while self.slots[i].id != EMPTY {
                    i = (i + 1) & mask;
                }
                self.slots[i] = s;
            }
        }
        let at = if w.len() > INLINE {
            let at = self.arena.len() as u64;
            self.arena.extend_from_slice(w);
            at
        } else {
            0
        };
        let mask = self.slots.len() - 1;
        let len = w.len() as u32;
        let mut i = slot_of(a, b, len, mask);
        while self.slots[i].id != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { a, b, len, id, at };
        self.len += 1;
    }
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

impl Interner {
    /// An interner holding the specials `<unk>`, `<s>`, `</s>` as ids 0, 1, 2.
    pub fn new() -> Self {
        let mut inner = Inner {
            ids: HashMap::new(),
            words: Vec::new(),
        };
        for w in [UNK, BOS, EOS] {
            inner.ids.insert(w.into(), inner.words.len() as u32);
            inner.words.push((w.into(), (0, 0, 0)));
        }
        Self {
            inner: Mutex::new(inner),
        }
    }

    fn intern_slow(&self, word: &str, pos: Position) -> u32 {
        // Most words reach here once per worker, and most of those are new:
        // their two copies are allocated before the lock, so that the
        // workers' allocations overlap instead of queueing behind it (a copy
        // made for a word another worker brought first is freed after it).
        let copies: (Box<str>, Box<str>) = (word.into(), word.into());
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&id) = inner.ids.get(word) {
            let first = &mut inner.words[id as usize].1;
            if pos < *first {
                *first = pos;
            }
            drop(inner);
            drop(copies);
            return id;
        }
        let id = inner.words.len() as u32;
        inner.ids.insert(copies.0, id);
        inner.words.push((copies.1, pos));
        id
    }

    /// The temporary id of `word`, first seen by this worker at `pos`.
    ///
    /// A worker receives chunks in corpus order, so its first sighting of a word
    /// is its earliest; only that one is reported to the shared table.
    #[inline]
    pub fn intern(&self, local: &mut LocalInterner, word: &str, pos: Position) -> u32 {
        let w = word.as_bytes();
        let (a, b) = summary(w);
        if let Some(id) = local.get(w, a, b) {
            return id;
        }
        let id = self.intern_slow(word, pos);
        local.insert(w, a, b, id);
        id
    }

    /// The vocabulary in first-appearance order (specials first) and the map
    /// from temporary to final ids.
    /// `counts[t]` is the corpus count of temporary id `t` (missing = 0).
    pub fn into_vocab(self, tokenizer: Tokenizer, counts: &[u64]) -> (Vocab, Vec<u32>) {
        let Inner { mut ids, words } = self.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        // The specials keep ids 0, 1, 2; the others go by first appearance.
        let mut order: Vec<u32> = (0..words.len() as u32).collect();
        order[3..].sort_unstable_by_key(|&t| words[t as usize].1);
        let mut remap = vec![0u32; words.len()];
        for (id, &t) in order.iter().enumerate() {
            remap[t as usize] = id as u32;
        }
        // The shared table already maps every word to its temporary id: its
        // values are renumbered in place, and its words move into the
        // vocabulary (a million words on the Gutenberg set; adding them one by
        // one took half a second).
        for id in ids.values_mut() {
            *id = remap[*id as usize];
        }
        let mut final_words = vec![String::new(); words.len()];
        let mut final_counts = vec![0u64; words.len()];
        for (t, (word, _)) in words.into_iter().enumerate() {
            final_words[remap[t] as usize] = word.into();
            final_counts[remap[t] as usize] = counts.get(t).copied().unwrap_or(0);
        }
        (
            Vocab::from_parts(tokenizer, final_words, final_counts, ids),
            remap,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_cache_tells_words_apart() {
        // Lengths 1..40, words equal in head, tail and length but not in the
        // middle, and enough words to grow the table several times.
        let mut words: Vec<String> = Vec::new();
        for len in 1..40 {
            for c in ['a', 'b', 'é'] {
                let mut w: String = "x".repeat(len);
                w.replace_range(len / 2..len / 2 + 1, &c.to_string());
                words.push(w);
            }
        }
        words.extend((0..20_000).map(|i| format!("word{i}")));
        words.push(String::new());
        let interner = Interner::new();
        let mut local = LocalInterner::default();
        let mut other = LocalInterner::default();
        let ids: Vec<u32> = words
            .iter()
            .enumerate()
            .map(|(k, w)| interner.intern(&mut local, w, (0, 0, k as u32)))
            .collect();
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let unique: std::collections::HashSet<&String> = words.iter().collect();
        assert_eq!(distinct.len(), unique.len());
        for (w, &id) in words.iter().zip(&ids).rev() {
            assert_eq!(interner.intern(&mut local, w, (1, 0, 0)), id);
            assert_eq!(interner.intern(&mut other, w, (1, 0, 0)), id);
        }
    }
}

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

/// A worker's cache in front of the [`Interner`]: most lookups never lock.
#[derive(Default)]
pub struct LocalInterner {
    cache: HashMap<Box<str>, u32>,
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
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&id) = inner.ids.get(word) {
            let first = &mut inner.words[id as usize].1;
            if pos < *first {
                *first = pos;
            }
            return id;
        }
        let id = inner.words.len() as u32;
        inner.ids.insert(word.into(), id);
        inner.words.push((word.into(), pos));
        id
    }

    /// The temporary id of `word`, first seen by this worker at `pos`.
    ///
    /// A worker receives chunks in corpus order, so its first sighting of a word
    /// is its earliest; only that one is reported to the shared table.
    #[inline]
    pub fn intern(&self, local: &mut LocalInterner, word: &str, pos: Position) -> u32 {
        if let Some(&id) = local.cache.get(word) {
            return id;
        }
        let id = self.intern_slow(word, pos);
        local.cache.insert(word.into(), id);
        id
    }

    /// The vocabulary in first-appearance order (specials first) and the map
    /// from temporary to final ids.
    /// `counts[t]` is the corpus count of temporary id `t` (missing = 0).
    pub fn into_vocab(self, tokenizer: Tokenizer, counts: &[u64]) -> (Vocab, Vec<u32>) {
        let inner = self.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut order: Vec<u32> = (3..inner.words.len() as u32).collect();
        order.sort_unstable_by_key(|&t| inner.words[t as usize].1);
        let mut remap = vec![0u32; inner.words.len()];
        let count = |t: usize| counts.get(t).copied().unwrap_or(0);
        let mut vocab = Vocab::new(tokenizer);
        for (t, slot) in remap.iter_mut().enumerate().take(3) {
            *slot = t as u32;
            vocab.add(&inner.words[t].0, count(t));
        }
        for &t in &order {
            remap[t as usize] = vocab.add(&inner.words[t as usize].0, count(t as usize));
        }
        (vocab, remap)
    }
}

//! Interning token strings to ids while many threads count, ids final as
//! they are handed out.
//!
//! A vocabulary counted from a corpus numbers its words by first appearance
//! (KenLM's order). Workers meet words out of that order, so a word new to a
//! worker gets a *provisional* id ([`PROVISIONAL`] and up, the worker's own)
//! and the chunk's ids wait ([`Tokenized`]). Chunks then *commit* in corpus
//! order, one at a time: a commit looks up each word its chunk brought in the
//! shared table, giving the ones the table lacks the next ids, and rewrites
//! the chunk's provisional ids. So the ids every run and table holds are
//! final: nothing is renumbered or sorted again at the end.
//!
//! A worker hands its tokenized chunk to the interner ([`Interner::submit`])
//! and takes back every chunk whose turn has come, its own or another's, to
//! count (counts add up, whoever counts them); so a worker busy sorting a
//! batch never holds up the others' commits. The shared table is touched
//! once per new word per worker, under one lock held for a whole chunk's
//! words.

use std::sync::Mutex;

use crate::tokenize::word_ids::{hash32, WordIds};
use crate::tokenize::{Tokenizer, Vocab, BOS, EOS, UNK};

/// The first provisional id: ids at or past it are a worker's words waiting
/// for their chunk's commit (index `id - PROVISIONAL` in its list).
pub const PROVISIONAL: u32 = 1 << 31;

/// The shared word -> id table, written by commits in corpus order.
pub struct Interner {
    inner: Mutex<Inner>,
}

struct Inner {
    /// The words in id order, and their ids by their bytes.
    words: Vec<String>,
    ids: WordIds,
    /// The ordinal of the chunk whose commit comes next.
    turn: u64,
    /// Chunks submitted before their turn, by ordinal.
    queue: std::collections::BTreeMap<u64, Tokenized>,
    /// Per worker: the final ids of its provisional words, and how many of
    /// its chunks wait in `queue`.
    workers: Vec<(Vec<u32>, usize)>,
    /// The hashes of the words of the chunk being committed.
    hashes: Vec<u32>,
}

/// A worker's tokenized chunk: its sentences' ids (padded), one after the
/// other, some of them provisional until the chunk commits.
#[derive(Default)]
pub struct Tokenized {
    /// The chunk's place in the corpus ([`crate::corpus::Chunk::ordinal`]).
    pub ordinal: u64,
    /// The worker that tokenized it.
    pub worker: usize,
    /// The ids.
    pub ids: Vec<u32>,
    /// Where each sentence ends in `ids`.
    pub ends: Vec<u32>,
    /// The words the worker met first in this chunk, one after the other,
    /// and their lengths: its provisional ids from `first` on.
    bytes: Vec<u8>,
    lens: Vec<u32>,
    first: u32,
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
    /// Words given provisional ids, as (offset, length) in `pending_bytes`,
    /// in the order the worker met them.
    pending: Vec<(u32, u32)>,
    pending_bytes: Vec<u8>,
    /// Provisional words handed over with a chunk ([`Interner::submit`]).
    submitted: usize,
    /// Provisional words whose final id the table holds.
    settled: usize,
    /// This worker's number among those of one count.
    worker: usize,
    /// Lookups that missed the front table, waiting for their slot's cache
    /// line ([`LocalInterner::push_id`]): a ring of `queued` from `head`.
    deferred: [Deferred; DEFER],
    head: usize,
    queued: usize,
}

/// A short word (its summary is the word) whose id goes to `ids[at]` once
/// its slot of the table, prefetched, has come into the cache.
#[derive(Clone, Copy, Default)]
struct Deferred {
    a: u64,
    b: u64,
    home: usize,
    len: u32,
    at: u32,
}

/// How many words ahead a commit prefetches the table slots of the words
/// it looks up.
const AHEAD: usize = 8;

/// Lookups a worker keeps in flight: enough to cover a memory access with
/// the tokenizing of the words in between (about one word in six misses
/// the front table on the Gutenberg set).
const DEFER: usize = 16;

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
            pending: Vec::new(),
            pending_bytes: Vec::new(),
            submitted: 0,
            settled: 0,
            worker: 0,
            deferred: [Deferred::default(); DEFER],
            head: 0,
            queued: 0,
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

/// The word of a summary of [`INLINE`] bytes or fewer (written to the
/// front of `out`): the inverse of [`summary`] on short words.
#[inline(always)]
fn unsummary(a: u64, b: u64, len: usize, out: &mut [u8; INLINE]) -> &[u8] {
    if len >= 8 {
        out[len - 8..len].copy_from_slice(&b.to_le_bytes());
        out[..8].copy_from_slice(&a.to_le_bytes());
    } else if len >= 4 {
        out[len - 4..len].copy_from_slice(&((a >> 32) as u32).to_le_bytes());
        out[..4].copy_from_slice(&(a as u32).to_le_bytes());
    } else if len > 0 {
        out[len - 1] = (a >> 16) as u8;
        out[len / 2] = (a >> 8) as u8;
        out[0] = a as u8;
    }
    &out[..len]
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
    /// The id the front table holds for the short word of summary `a`, `b`
    /// and length `len` (hash `home`), if it holds one: a short word is its
    /// summary, so equal summaries mean the same word.
    #[inline(always)]
    fn front_id(&self, a: u64, b: u64, len: u32, home: usize) -> Option<u32> {
        let s = &self.front[home & (FRONT - 1)];
        (s.a == a && s.b == b && s.len == len && s.id != EMPTY).then_some(s.id)
    }

    /// The cached id of `word` (summary `a`, `b`; hash `home`), if this
    /// worker has met it.
    #[inline(always)]
    fn get(&mut self, w: &[u8], a: u64, b: u64, home: usize) -> Option<u32> {
        let short = w.len() <= INLINE;
        if short {
            if let Some(id) = self.front_id(a, b, w.len() as u32, home) {
                return Some(id);
            }
        }
        let s = self.slots[self.find(w, a, b, home)?];
        if short {
            self.front[home & (FRONT - 1)] = s;
        }
        Some(s.id)
    }

    /// The slot holding `w` (summary `a`, `b`; hash `home`), if any.
    #[inline(always)]
    fn find(&self, w: &[u8], a: u64, b: u64, home: usize) -> Option<usize> {
        let len = w.len() as u32;
        let mask = self.slots.len() - 1;
        let mut i = home & mask;
        loop {
            let s = &self.slots[i];
            if s.id == EMPTY {
                return None;
            }
            if s.a == a && s.b == b && s.len == len {
                let at = s.at as usize;
                if w.len() <= INLINE || &self.arena[at..at + w.len()] == w {
                    return Some(i);
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

    /// The id of `word` for this worker: its final id once known, else a
    /// provisional one (a word new to the worker).
    #[inline]
    pub fn intern(&mut self, word: &str) -> u32 {
        let w = word.as_bytes();
        let (a, b) = summary(w);
        let home = slot_of(a, b, w.len() as u32, usize::MAX);
        self.get(w, a, b, home)
            .unwrap_or_else(|| self.provisional(w, a, b))
    }

    /// Give `w` (summary `a`, `b`), new to this worker, the next provisional id.
    fn provisional(&mut self, w: &[u8], a: u64, b: u64) -> u32 {
        assert!(
            self.pending.len() < PROVISIONAL as usize,
            "more than 2^31 words new to one worker"
        );
        let id = PROVISIONAL + self.pending.len() as u32;
        self.pending
            .push((self.pending_bytes.len() as u32, w.len() as u32));
        self.pending_bytes.extend_from_slice(w);
        self.insert(w, a, b, id);
        id
    }

    /// Append the id of `word` to `ids`, as [`LocalInterner::intern`] gives
    /// it, perhaps later: a short word the front table lacks waits while its
    /// slot is prefetched, its place in `ids` held, so the cache misses of
    /// several words overlap (most words that miss the front table miss the
    /// cache too: the table holds a million words). Words are resolved in
    /// the order they came, so provisional ids are handed out in that order.
    /// Call [`LocalInterner::flush`] before reading `ids`.
    #[inline]
    pub fn push_id(&mut self, word: &str, ids: &mut Vec<u32>) {
        let w = word.as_bytes();
        let (a, b) = summary(w);
        let len = w.len() as u32;
        if w.len() > INLINE {
            self.flush(ids);
            ids.push(self.intern(word));
            return;
        }
        let home = slot_of(a, b, len, usize::MAX);
        if let Some(id) = self.front_id(a, b, len, home) {
            ids.push(id);
            return;
        }
        crate::lm::level::prefetch(&self.slots, home & (self.slots.len() - 1));
        if self.queued == DEFER {
            self.resolve_one(ids);
        }
        self.deferred[(self.head + self.queued) % DEFER] = Deferred {
            a,
            b,
            home,
            len,
            at: ids.len() as u32,
        };
        self.queued += 1;
        ids.push(0);
    }

    /// Resolve every lookup [`LocalInterner::push_id`] left waiting.
    #[inline]
    pub fn flush(&mut self, ids: &mut [u32]) {
        while self.queued > 0 {
            self.resolve_one(ids);
        }
    }

    /// Resolve the oldest waiting lookup.
    #[inline]
    fn resolve_one(&mut self, ids: &mut [u32]) {
        let Deferred {
            a,
            b,
            home,
            len,
            at,
        } = self.deferred[self.head];
        self.head = (self.head + 1) % DEFER;
        self.queued -= 1;
        let mut bytes = [0u8; INLINE];
        let w = unsummary(a, b, len as usize, &mut bytes);
        ids[at as usize] = self
            .get(w, a, b, home)
            .unwrap_or_else(|| self.provisional(w, a, b));
    }

    /// A cache for worker number `worker` of a count.
    pub fn for_worker(worker: usize) -> Self {
        Self {
            worker,
            ..Self::default()
        }
    }

    /// Start loading the slots [`LocalInterner::settle_word`] reads for
    /// provisional word `k`.
    #[inline]
    fn prefetch_pending(&self, k: usize) {
        let (at, len) = self.pending[k];
        let (a, b) = summary(&self.pending_bytes[at as usize..(at + len) as usize]);
        let home = slot_of(a, b, len, usize::MAX);
        crate::lm::level::prefetch(&self.front, home & (FRONT - 1));
        crate::lm::level::prefetch(&self.slots, home & (self.slots.len() - 1));
    }

    /// Give provisional word `k`, held in the table, the id `id` (in the
    /// front table too).
    fn settle_word(&mut self, k: usize, id: u32) {
        let (at, len) = self.pending[k];
        let w = &self.pending_bytes[at as usize..(at + len) as usize];
        let (a, b) = summary(w);
        let home = slot_of(a, b, len, usize::MAX);
        let f = &mut self.front[home & (FRONT - 1)];
        if f.a == a && f.b == b && f.len == len && f.id != EMPTY && w.len() <= INLINE {
            f.id = id;
        }
        let i = self.find(w, a, b, home);
        debug_assert!(i.is_some(), "a provisional word not in the table");
        if let Some(i) = i {
            self.slots[i].id = id;
        }
    }
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

impl Interner {
    /// An interner holding the specials `<unk>`, `<s>`, `</s>` as ids 0, 1, 2,
    /// waiting for chunk 0.
    pub fn new() -> Self {
        let mut inner = Inner {
            ids: WordIds::default(),
            words: Vec::new(),
            turn: 0,
            queue: Default::default(),
            workers: Vec::new(),
            hashes: Vec::new(),
        };
        for w in [UNK, BOS, EOS] {
            inner.ids.insert_new(w, inner.words.len() as u32);
            inner.words.push(w.into());
        }
        Self {
            inner: Mutex::new(inner),
        }
    }

    /// Hand over `chunk` (ids from `local`, its `ordinal` set; `ids` and
    /// `ends` filled) and append to `ready` every chunk whose turn has come,
    /// committed (every id final), to be counted by the caller. `local`
    /// learns the final ids of its words committed so far.
    pub fn submit(
        &self,
        local: &mut LocalInterner,
        mut chunk: Tokenized,
        ready: &mut Vec<Tokenized>,
    ) {
        chunk.worker = local.worker;
        chunk.first = local.submitted as u32;
        chunk.bytes.clear();
        chunk.lens.clear();
        for &(at, len) in &local.pending[local.submitted..] {
            chunk
                .bytes
                .extend_from_slice(&local.pending_bytes[at as usize..(at + len) as usize]);
            chunk.lens.push(len);
        }
        local.submitted = local.pending.len();
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *guard;
        if inner.workers.len() <= local.worker {
            inner
                .workers
                .resize_with(local.worker + 1, Default::default);
        }
        inner.workers[local.worker].1 += 1;
        inner.queue.insert(chunk.ordinal, chunk);
        while let Some(mut next) = inner.queue.remove(&{ inner.turn }) {
            inner.commit(&mut next);
            inner.turn += 1;
            inner.workers[next.worker].1 -= 1;
            ready.push(next);
        }
        // The worker's words committed since it last looked go into its
        // cache; once none of its chunks waits, its provisional ids start
        // again from the first.
        let (resolved, queued) = &mut inner.workers[local.worker];
        for (k, &id) in resolved.iter().enumerate().skip(local.settled) {
            if k + AHEAD < resolved.len() {
                local.prefetch_pending(k + AHEAD);
            }
            local.settle_word(k, id);
        }
        local.settled = resolved.len();
        if *queued == 0 {
            debug_assert_eq!(resolved.len(), local.pending.len());
            resolved.clear();
            local.pending.clear();
            local.pending_bytes.clear();
            local.submitted = 0;
            local.settled = 0;
        }
    }

    /// Chunks submitted but never committed (a chunk before them was not
    /// submitted: the count stopped).
    pub fn waiting(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .queue
            .len()
    }

    /// The vocabulary in first-appearance order (specials first): the ids
    /// handed out, every count 0 (the caller sets them, [`Vocab::set_counts`]).
    pub fn into_vocab(self, tokenizer: Tokenizer) -> Vocab {
        let Inner { ids, words, .. } = self.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        let counts = vec![0; words.len()];
        // The shared table already maps every word to its id: it becomes the
        // vocabulary's index as it is (a million words on the Gutenberg set;
        // adding them one by one took half a second).
        Vocab::from_parts(tokenizer, words, counts, ids)
    }
}

impl Inner {
    /// Give the words `chunk` brought their ids and rewrite its provisional
    /// ids (those of its worker's earlier chunks were resolved by their own
    /// commits, which came first).
    fn commit(&mut self, chunk: &mut Tokenized) {
        let Inner {
            ids,
            words,
            workers,
            hashes,
            ..
        } = self;
        let resolved = &mut workers[chunk.worker].0;
        debug_assert_eq!(resolved.len(), chunk.first as usize);
        // SAFETY: the bytes were copied whole from `&str`s in `intern`.
        let word_at = |at: usize, len: u32| unsafe {
            std::str::from_utf8_unchecked(&chunk.bytes[at..at + len as usize])
        };
        // The words' hashes first: the table's slot for a word a few ahead
        // loads while this one is looked up (most lookups miss the cache).
        hashes.clear();
        let mut at = 0;
        for &len in &chunk.lens {
            hashes.push(hash32(word_at(at, len)));
            at += len as usize;
        }
        let mut at = 0;
        for (k, &len) in chunk.lens.iter().enumerate() {
            let word = word_at(at, len);
            at += len as usize;
            if let Some(&ahead) = hashes.get(k + AHEAD) {
                ids.prefetch(ahead);
            }
            let h = hashes[k];
            let id = match ids.get_hashed(words, word, h) {
                Some(id) => id,
                None => {
                    // Ids past 2^31 would read as provisional ones.
                    assert!(
                        words.len() < PROVISIONAL as usize,
                        "a vocabulary of more than 2^31 words"
                    );
                    let id = words.len() as u32;
                    ids.insert_hashed(h, id);
                    words.push(word.into());
                    id
                }
            };
            resolved.push(id);
        }
        for id in chunk.ids.iter_mut() {
            if *id >= PROVISIONAL {
                *id = resolved[(*id - PROVISIONAL) as usize];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Intern `words` in `local` as chunk `ordinal` (one sentence) and
    /// submit it; the chunks that came back.
    fn submit(
        interner: &Interner,
        local: &mut LocalInterner,
        ordinal: u64,
        words: &[String],
    ) -> Vec<Tokenized> {
        let mut chunk = Tokenized {
            ordinal,
            ..Default::default()
        };
        chunk.ids = words.iter().map(|w| local.intern(w)).collect();
        chunk.ends.push(chunk.ids.len() as u32);
        let mut ready = Vec::new();
        interner.submit(local, chunk, &mut ready);
        ready
    }

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
        words.push("<s>".into());
        let interner = Interner::new();
        let mut local = LocalInterner::for_worker(0);
        let mut other = LocalInterner::for_worker(1);
        let ids = submit(&interner, &mut local, 0, &words).remove(0).ids;
        assert!(ids.iter().all(|&id| id < PROVISIONAL));
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let unique: std::collections::HashSet<&String> = words.iter().collect();
        assert_eq!(distinct.len(), unique.len());
        assert_eq!(ids[words.len() - 1], 1, "<s> keeps its id");
        let back: Vec<String> = words.iter().rev().cloned().collect();
        let want: Vec<u32> = ids.iter().rev().copied().collect();
        // Settled after its commit: every id comes final from the cache.
        let again: Vec<u32> = back.iter().map(|w| local.intern(w)).collect();
        assert_eq!(again, want);
        let elsewhere = submit(&interner, &mut other, 1, &back).remove(0).ids;
        assert_eq!(elsewhere, want);
    }

    /// Two workers meet words out of corpus order; commits in chunk order
    /// number them by first appearance, whoever met them first, and a chunk
    /// submitted early comes back with the one that completes its turn.
    #[test]
    fn commits_number_words_by_first_appearance() {
        let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let interner = Interner::new();
        let (mut a, mut b) = (LocalInterner::for_worker(0), LocalInterner::for_worker(1));
        // Chunk 1 (worker b) is done before chunk 0 (worker a): it waits.
        assert!(submit(&interner, &mut b, 1, &words("z y x")).is_empty());
        assert_eq!(interner.waiting(), 1);
        // Worker b goes on with chunk 3, which waits too.
        assert!(submit(&interner, &mut b, 3, &words("y u x")).is_empty());
        // Chunk 0 brings chunk 1 back with it, to worker a.
        let back = submit(&interner, &mut a, 0, &words("x w"));
        let got: Vec<(u64, Vec<u32>)> = back.into_iter().map(|c| (c.ordinal, c.ids)).collect();
        assert_eq!(got, [(0, vec![3, 4]), (1, vec![5, 6, 3])]);
        // Chunk 2 (worker a) brings chunk 3.
        let back = submit(&interner, &mut a, 2, &words("w v z"));
        let got: Vec<(u64, Vec<u32>)> = back.into_iter().map(|c| (c.ordinal, c.ids)).collect();
        assert_eq!(got, [(2, vec![4, 7, 5]), (3, vec![6, 8, 3])]);
        assert_eq!(interner.waiting(), 0);
        // Worker b learns its words' ids at its next submit.
        assert!(b.intern("z") >= PROVISIONAL);
        let back = submit(&interner, &mut b, 4, &words("t"));
        assert_eq!(back[0].ids, [9]);
        assert_eq!((b.intern("z"), b.intern("u")), (5, 8));
        assert_eq!(a.intern("v"), 7);
        let vocab = interner.into_vocab(Tokenizer::Whitespace);
        assert_eq!(vocab.words()[3..], ["x", "w", "z", "y", "v", "u", "t"]);
    }

    /// Deferred lookups give the ids and provisional numbering that looking
    /// each word up at once gives: words of every length (the short ones are
    /// rebuilt from their summaries), repeats within the waiting window, and
    /// enough misses to wrap the ring many times.
    #[test]
    fn deferred_lookups_match_immediate_ones() {
        let mut words: Vec<String> = Vec::new();
        for i in 0..3000u32 {
            let len = (i % 23) as usize;
            let mut w: String = (0..len)
                .map(|j| char::from(b'a' + ((i as usize * 7 + j * 13) % 26) as u8))
                .collect();
            if i % 17 == 0 {
                w.push('é');
            }
            words.push(w.clone());
            if i % 5 == 0 {
                words.push(words[(i as usize * 31) % words.len()].clone());
            }
        }
        let (mut now, mut later) = (LocalInterner::default(), LocalInterner::default());
        for _ in 0..2 {
            let want: Vec<u32> = words.iter().map(|w| now.intern(w)).collect();
            let mut got = Vec::new();
            for w in &words {
                later.push_id(w, &mut got);
            }
            later.flush(&mut got);
            assert_eq!(got, want);
            assert_eq!(later.pending, now.pending);
            assert_eq!(later.pending_bytes, now.pending_bytes);
        }
        for len in 0..=INLINE {
            let w: Vec<u8> = (0..len).map(|j| (j * 37 + 1) as u8).collect();
            let (a, b) = summary(&w);
            assert_eq!(unsummary(a, b, len, &mut [0; INLINE]), &w[..]);
        }
    }
}

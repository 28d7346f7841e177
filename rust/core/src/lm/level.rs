//! One order of a model: sorted n-grams, their log10 probabilities and
//! backoffs, a hash index for exact lookup, child ranges into the next order,
//! and a by-probability permutation for top-k queries.

use super::array::Array;

/// Marks an empty slot (in the entry field).
const EMPTY: u32 = u32::MAX;

/// A hash-index slot: [upper 32 hash bits, entry, log10 prob bits, log10
/// backoff bits, lower 32 hash bits]. A found lookup reads its values from
/// the slot itself; scoring trusts a full 64-bit hash match (see
/// [`Level::find_trusted`]).
pub type Slot = [u32; 5];

/// Hash of an n-gram, computed from its last word backwards, so a query that
/// extends a context one word to the left updates the hash in O(1):
/// `finish(extend(extend(start(w), h1), h2), 3)` is the hash of `h2 h1 w`.
#[inline]
pub fn start(word: u32) -> u64 {
    extend(0x9E37_79B9_7F4A_7C15, word)
}

/// Extend a running hash by one more word to the left.
#[inline]
pub fn extend(running: u64, word: u32) -> u64 {
    let h = (running ^ word as u64).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^ (h >> 29)
}

/// Final mix of a running hash of an n-gram of `n` words.
#[inline]
pub fn finish(running: u64, n: usize) -> u64 {
    let mut h = running ^ (n as u64).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// The first slot to probe for `hash` in an index of `cap` slots: the low 32
/// bits scaled to the capacity (Lemire's fast range), independent of the upper
/// 32 bits that serve as the tag.
#[inline(always)]
pub(crate) fn home(hash: u64, cap: usize) -> usize {
    (((hash & 0xFFFF_FFFF) * cap as u64) >> 32) as usize
}

/// Whether two keys are equal: a plain loop, as `==` on slices calls
/// `memcmp`, dearer than comparing a few ids (merges compare millions).
#[inline(always)]
fn same(a: &[u32], b: &[u32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Ask the CPU to start loading `items[pos]`: a hint that lets the cache
/// misses of lookups known in advance overlap (out of range: nothing).
#[inline(always)]
pub(crate) fn prefetch<T>(items: &[T], pos: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(item) = items.get(pos) {
        // SAFETY: prefetching is a hint; the address is an element of `items`.
        unsafe {
            std::arch::x86_64::_mm_prefetch(
                item as *const T as *const i8,
                std::arch::x86_64::_MM_HINT_T0,
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (items, pos);
}

/// Hash of a whole n-gram (same value as the incremental form).
pub fn key_hash(ids: &[u32]) -> u64 {
    let mut it = ids.iter().rev();
    let Some(&last) = it.next() else {
        return finish(0, 0);
    };
    finish(it.fold(start(last), |h, &id| extend(h, id)), ids.len())
}

/// The n-grams of one order and what a query needs to find them fast.
#[derive(Debug, Clone, Default)]
pub struct Level {
    /// The n.
    pub n: usize,
    /// Flat ids, `n` per n-gram, sorted lexicographically.
    pub keys: Array<u32>,
    /// log10 probability (or score) of each n-gram.
    pub logprob: Array<f32>,
    /// log10 backoff weight of each n-gram as a context (0 when it is none).
    pub backoff: Array<f32>,
    /// Open-addressing hash index of [`Slot`]s: the upper 32 bits of the
    /// n-gram's hash (a tag that rules out most mismatches without touching the
    /// keys), its entry number, and copies of its log10 probability and backoff.
    /// Built on first use: the highest order of a model that is fitted only
    /// to be saved never needs one (a gigabyte on the Gutenberg 5-gram).
    index: std::sync::OnceLock<Array<Slot>>,
    /// The index copied onto huge pages by [`Level::warm`] (bulk scoring),
    /// read in its place once set.
    warm: std::sync::OnceLock<Array<Slot>>,
    /// For each entry, the start of its children (n+1-grams it prefixes) in the
    /// next level; `child_end` the end. Empty for the highest order.
    pub child_start: Array<u32>,
    /// See `child_start`.
    pub child_end: Array<u32>,
    /// Entry numbers of this level, sorted within each sibling range (all
    /// n-grams sharing a context) by descending probability, ties by id.
    pub by_prob: Array<u32>,
    /// Cumulative probability along `by_prob` within each sibling range (what
    /// exact sampling binary-searches); `<s>` counts 0.
    pub cum: Array<f32>,
}

impl Level {
    /// A level from sorted keys and their values; its hash index is built
    /// by the first lookup.
    pub fn new(n: usize, keys: Vec<u32>, logprob: Vec<f32>, backoff: Vec<f32>) -> Self {
        Level {
            n,
            keys: keys.into(),
            logprob: logprob.into(),
            backoff: backoff.into(),
            ..Default::default()
        }
    }

    /// A level from stored arrays (a model file), checking their lengths.
    #[allow(clippy::too_many_arguments)]
    pub fn from_arrays(
        n: usize,
        keys: Array<u32>,
        logprob: Array<f32>,
        backoff: Array<f32>,
        index: Array<Slot>,
        child_start: Array<u32>,
        child_end: Array<u32>,
        by_prob: Array<u32>,
        cum: Array<f32>,
    ) -> Result<Self, String> {
        let m = logprob.len();
        if n == 0
            || keys.len() != m * n
            || backoff.len() != m
            || by_prob.len() != m
            || cum.len() != m
        {
            return Err(format!("order {n}: array lengths disagree"));
        }
        if index.len() <= m || index.len() > u32::MAX as usize {
            return Err(format!("order {n}: bad hash index size"));
        }
        if child_start.len() != child_end.len()
            || (!child_start.is_empty() && child_start.len() != m)
        {
            return Err(format!("order {n}: bad child ranges"));
        }
        Ok(Level {
            n,
            keys,
            logprob,
            backoff,
            index: index.into(),
            warm: std::sync::OnceLock::new(),
            child_start,
            child_end,
            by_prob,
            cum,
        })
    }

    /// The hash index (also for writing model files), built on first use
    /// with the values set by then.
    #[inline(always)]
    pub fn index(&self) -> &[Slot] {
        self.index.get_or_init(|| self.build_index())
    }

    /// The slots lookups read: the huge-page copy once [`Level::warm`] made it.
    #[inline(always)]
    fn slots(&self) -> &[Slot] {
        match self.warm.get() {
            Some(a) => a,
            None => self.index(),
        }
    }

    /// Copy the index onto huge pages (see `Array::on_huge_pages`), once.
    /// Scoring probes it at random, and with 4 KiB pages nearly every probe
    /// also misses the TLB; the copy (about 1 ms per MB) is paid by the first
    /// bulk scoring call, not by opening the model.
    /// Only an index read from a file is copied (an index in memory stays
    /// where it is: copying it would double its memory).
    pub fn warm(&self) {
        if let Some(index @ Array::Mapped { .. }) = self.index.get() {
            self.warm.get_or_init(|| index.clone().on_huge_pages());
        }
    }

    /// Number of n-grams.
    pub fn len(&self) -> usize {
        self.logprob.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.logprob.is_empty()
    }

    /// The ids of entry `i`.
    #[inline]
    pub fn key(&self, i: usize) -> &[u32] {
        &self.keys[i * self.n..(i + 1) * self.n]
    }

    fn build_index(&self) -> Array<Slot> {
        let m = self.len();
        let (logprob, backoff): (&[f32], &[f32]) = (&self.logprob, &self.backoff);
        // Load factor 2/3: short probe sequences, and no rounding up to a power
        // of two (which could double the index of a large order).
        let cap = m + m / 2 + 4;
        let mut index: Vec<Slot> = vec![[0, EMPTY, 0, 0, 0]; cap];
        // The slots are written at random: hashes are taken a batch ahead and
        // the home slot of the entry `AHEAD` places on is prefetched, so the
        // cache misses overlap instead of coming one after another.
        const BATCH: usize = 4096;
        const AHEAD: usize = 16;
        let mut hashes = Vec::with_capacity(BATCH.min(m));
        for first in (0..m).step_by(BATCH) {
            let last = (first + BATCH).min(m);
            hashes.clear();
            hashes.extend((first..last).map(|i| key_hash(self.key(i))));
            for (j, &h) in hashes.iter().enumerate() {
                if let Some(&ahead) = hashes.get(j + AHEAD) {
                    prefetch(&index, home(ahead, cap));
                }
                let mut pos = home(h, cap);
                while index[pos][1] != EMPTY {
                    pos = if pos + 1 == cap { 0 } else { pos + 1 };
                }
                let e = first + j;
                let (p, b) = (logprob.get(e), backoff.get(e));
                index[pos] = [
                    (h >> 32) as u32,
                    e as u32,
                    p.map_or(0, |v| v.to_bits()),
                    b.map_or(0, |v| v.to_bits()),
                    h as u32,
                ];
            }
        }
        index.into()
    }

    /// Copy the current probabilities and backoffs into the index slots
    /// (estimators set backoffs after building the index).
    pub fn refresh_index_values(&mut self) {
        use rayon::prelude::*;
        let (logprob, backoff): (&[f32], &[f32]) = (&self.logprob, &self.backoff);
        self.warm = std::sync::OnceLock::new();
        // An index not built yet takes the values when it is.
        let Some(index) = self.index.get_mut() else {
            return;
        };
        // In parallel: each slot reads its entry's values at random, so the
        // values of the slot `AHEAD` places on are prefetched.
        const AHEAD: usize = 16;
        index.par_chunks_mut(1 << 14).for_each(|slots| {
            for j in 0..slots.len() {
                if let Some(ahead) = slots.get(j + AHEAD) {
                    if ahead[1] != EMPTY {
                        prefetch(logprob, ahead[1] as usize);
                        prefetch(backoff, ahead[1] as usize);
                    }
                }
                let slot = &mut slots[j];
                let e = slot[1] as usize;
                if slot[1] != EMPTY {
                    slot[2] = logprob.get(e).map_or(0, |v| v.to_bits());
                    slot[3] = backoff.get(e).map_or(0, |v| v.to_bits());
                }
            }
        });
    }

    /// Entry number of the n-gram `ids`, if present.
    #[inline]
    pub fn find(&self, ids: &[u32]) -> Option<usize> {
        if ids.len() != self.n {
            return None;
        }
        self.find_slot(key_hash(ids), |k| same(k, ids))
            .map(|s| s[1] as usize)
    }

    /// Find `keys`, which come in ascending order, among this level's sorted
    /// keys, calling `found(j, entry)` for each key `j` present: the first by
    /// bisection, the others by walking forward from it (a merge: no lookup
    /// misses the cache at random).
    pub fn walk_sorted<'k>(
        &self,
        keys: impl Iterator<Item = &'k [u32]>,
        mut found: impl FnMut(usize, usize),
    ) {
        let mut at = None;
        for (j, key) in keys.enumerate() {
            let mut i = *at.get_or_insert_with(|| {
                let (mut lo, mut hi) = (0, self.len());
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if self.key(mid) < key {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                lo
            });
            while i < self.len() && self.key(i) < key {
                i += 1;
            }
            if i < self.len() && same(self.key(i), key) {
                found(j, i);
            }
            at = Some(i);
        }
    }

    /// Ask the CPU to start loading the slots a lookup of `hash` will read
    /// first, so lookups of several orders wait for memory in parallel, not in
    /// turn: the home slot and the three after it. A 20-byte slot straddles two
    /// cache lines one time in three, and at load 2/3 a probe often goes on to
    /// the next slots (a lookup of an n-gram the order lacks reads about 5);
    /// prefetching the line of the third slot after covers both (measured: 8-10%
    /// faster scoring on the PTB 5-gram).
    #[inline(always)]
    pub fn prefetch(&self, hash: u64) {
        let slots = self.slots();
        let pos = home(hash, slots.len());
        prefetch(slots, pos);
        prefetch(slots, pos + 3);
    }

    /// The slot whose stored 64-bit hash equals `hash`, without comparing keys:
    /// what KenLM's probing model does. Two different n-grams of one order
    /// share a 64-bit hash with odds about m / 2^64 (one in ~10^11 for a
    /// 10^8-entry order), and a query n-gram not in the model matches a slot
    /// with odds 2^-64 per probe; skipping the key read saves a cache miss per
    /// found n-gram when scoring. Exactness-critical paths use [`Level::find`].
    #[inline]
    pub fn find_trusted(&self, hash: u64) -> Option<Slot> {
        let slots = self.slots();
        let cap = slots.len();
        if cap == 0 {
            return None;
        }
        let (hi, lo) = ((hash >> 32) as u32, hash as u32);
        let mut pos = home(hash, cap);
        for _ in 0..cap {
            let slot = slots[pos];
            if slot[1] == EMPTY {
                return None;
            }
            if slot[0] == hi && slot[4] == lo && (slot[1] as usize) < self.len() {
                return Some(slot);
            }
            pos = if pos + 1 == cap { 0 } else { pos + 1 };
        }
        None
    }

    /// The slot of the n-gram with hash `hash` for which `same(key)` holds.
    #[inline]
    pub fn find_slot(&self, hash: u64, same: impl Fn(&[u32]) -> bool) -> Option<Slot> {
        let index: &[Slot] = self.index();
        if index.is_empty() {
            return None;
        }
        let cap = index.len();
        let tag = (hash >> 32) as u32;
        let mut pos = home(hash, cap);
        // Bounded probe: a corrupt index can never loop forever.
        for _ in 0..cap {
            let slot = index[pos];
            if slot[1] == EMPTY {
                return None;
            }
            if slot[0] == tag {
                let i = slot[1] as usize;
                if self
                    .keys
                    .get(i * self.n..(i + 1) * self.n)
                    .is_some_and(&same)
                {
                    return Some(slot);
                }
            }
            pos = if pos + 1 == cap { 0 } else { pos + 1 };
        }
        None
    }

    /// Child ranges of every entry in `next` (the level above): (starts, ends).
    /// Both levels are sorted, so one merge pass finds every range.
    pub fn child_ranges(&self, next: &Level) -> (Vec<u32>, Vec<u32>) {
        let (m, n) = (self.len(), self.n);
        let mut child_start = vec![0u32; m];
        let mut child_end = vec![0u32; m];
        let mut j = 0;
        for i in 0..m {
            let key = &self.keys[i * n..(i + 1) * n];
            while j < next.len() && &next.keys[j * next.n..j * next.n + n] < key {
                j += 1;
            }
            child_start[i] = j as u32;
            while j < next.len() && same(&next.keys[j * next.n..j * next.n + n], key) {
                j += 1;
            }
            child_end[i] = j as u32;
        }
        (child_start, child_end)
    }

    /// Set this level's by-probability order, and the cumulative probabilities
    /// along it, within the sibling ranges its parent level found (`starts`,
    /// `ends`), or over the whole level for unigrams.
    pub fn order_by_prob(&mut self, ranges: Option<(&[u32], &[u32])>) {
        self.by_prob = (0..self.len() as u32).collect::<Vec<_>>().into();
        let whole = [(0u32, self.len() as u32)];
        let pairs: Vec<(u32, u32)> = match ranges {
            Some((starts, ends)) => starts.iter().copied().zip(ends.iter().copied()).collect(),
            None => whole.to_vec(),
        };
        let mut cum = vec![0f32; self.len()];
        for (s, e) in pairs {
            let (s, e) = (s as usize, e as usize);
            self.sort_range_by_prob(s, e);
            let mut acc = 0f64;
            for j in s..e {
                let entry = self.by_prob[j] as usize;
                let is_bos = self.n == 1 && self.keys[entry] == crate::tokenize::BOS_ID;
                if !is_bos {
                    acc += 10f64.powf(self.logprob[entry] as f64);
                }
                cum[j] = acc as f32;
            }
        }
        self.cum = cum.into();
    }

    /// Store child ranges computed by [`Level::child_ranges`].
    pub fn set_children(&mut self, starts: Vec<u32>, ends: Vec<u32>) {
        self.child_start = starts.into();
        self.child_end = ends.into();
    }

    /// Sort `by_prob[s..e]` by descending probability, ties by entry (= id) order.
    pub fn sort_range_by_prob(&mut self, s: usize, e: usize) {
        let logprob: &[f32] = &self.logprob;
        self.by_prob[s..e].sort_unstable_by(|&a, &b| {
            logprob[b as usize]
                .total_cmp(&logprob[a as usize])
                .then(a.cmp(&b))
        });
    }

    /// The (start, end) of entry `i`'s children, checked against `next_len`.
    #[inline]
    pub fn children(&self, i: usize, next_len: usize) -> (usize, usize) {
        let s = self.child_start.get(i).copied().unwrap_or(0) as usize;
        let e = self.child_end.get(i).copied().unwrap_or(0) as usize;
        (s.min(next_len), e.min(next_len).max(s.min(next_len)))
    }
}

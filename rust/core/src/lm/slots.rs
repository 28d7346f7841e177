//! The hash layout's value tables: for one order, an open-addressing table
//! whose records hold what scoring reads (a 40-bit tag of the n-gram's hash,
//! its log10 probability and its log10 backoff), found by the same 64-bit
//! n-gram hash as [`super::level`] computes, so a query reads one record per
//! order, as KenLM's probing model does.
//!
//! The n-grams themselves live in the trie the table belongs to
//! ([`super::trie`]): it keeps each entry's record number instead of its
//! values, so top-k, sampling and every other walk read the same values.
//!
//! Records are packed bytes: 13 per n-gram (tag, probability, backoff), 9 for
//! the highest order (no backoff), at a load of 0.8, in ordered linear
//! probing (tags decrease along every probe path, so a lookup stops at the
//! first smaller one). Tags are never 0 (an empty record). Building checks every probe path: two n-grams whose tags
//! meet on one path would make a query answer for the wrong one, so the
//! table is rebuilt with another tag seed (the seed is stored). A query for an
//! n-gram the model lacks matches a record with odds of 2^-40 per record read.
//!
//! Every read is bounds-checked: a corrupt table gives wrong values or
//! misses, never a crash.

use std::sync::OnceLock;

use rayon::prelude::*;

use super::array::Array;
use super::level::{home, prefetch};
use crate::{Error, Result};

const TAG_BYTES: usize = 5;
const TAG_MASK: u64 = (1 << (8 * TAG_BYTES)) - 1;
/// Record size with a backoff, and without (the highest order).
pub const WITH_BACKOFF: usize = TAG_BYTES + 8;
/// See [`WITH_BACKOFF`].
pub const WITHOUT_BACKOFF: usize = TAG_BYTES + 4;
/// Seeds tried before giving up on a table (each retry has odds of about
/// m * 3 / 2^40 to be needed).
const SEEDS: u64 = 16;

/// The tag of `hash` under `seed`: 40 bits taken after an odd multiply, so
/// they depend on all 64 bits (the home record depends on the low 32 only).
#[inline(always)]
fn tag(hash: u64, seed: u64) -> u64 {
    let h = (hash ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    match h >> (64 - 8 * TAG_BYTES) {
        0 => 1,
        t => t,
    }
}

/// One order's table.
#[derive(Debug, Default)]
pub struct SlotTable {
    /// The records, packed bytes in 64-bit words (one spare word at the end).
    pub words: Array<u64>,
    /// Number of records.
    pub cap: usize,
    /// Bytes per record: [`WITH_BACKOFF`] or [`WITHOUT_BACKOFF`].
    pub rec: usize,
    /// The tag seed.
    pub seed: u64,
    /// The records copied onto huge pages by [`SlotTable::warm`].
    warm: OnceLock<Array<u64>>,
}

impl Clone for SlotTable {
    fn clone(&self) -> Self {
        Self {
            words: self.words.clone(),
            cap: self.cap,
            rec: self.rec,
            seed: self.seed,
            warm: OnceLock::new(),
        }
    }
}

/// 64-bit words needed for `cap` records of `rec` bytes.
fn words_for(cap: usize, rec: usize) -> Option<usize> {
    Some(cap.checked_mul(rec)?.div_ceil(8) + 1)
}

impl SlotTable {
    /// The table of the n-grams with hashes `hash(i)`, probabilities
    /// `probs` and (when `with_backoff`) backoffs `backoffs`, and each
    /// n-gram's record number.
    pub fn build(
        hash: impl Fn(usize) -> u64 + Sync,
        probs: &[f32],
        backoffs: &[f32],
        with_backoff: bool,
    ) -> Result<(Self, Vec<u32>)> {
        let m = probs.len();
        let cap = m + m / 4 + 4;
        if cap > u32::MAX as usize {
            return Err(Error::InvalidArgument(format!(
                "an order of {m} n-grams is too large for the hash layout's tables"
            )));
        }
        if with_backoff && backoffs.len() != m {
            return Err(Error::InvalidArgument(format!(
                "{m} probabilities but {} backoffs",
                backoffs.len()
            )));
        }
        let rec = if with_backoff {
            WITH_BACKOFF
        } else {
            WITHOUT_BACKOFF
        };
        let (hashes, numbers) = by_region(m, hash);
        let mut owner = vec![u32::MAX; cap];
        let mut words = vec![0u64; words_for(cap, rec).unwrap_or(1)];
        for seed in (0..SEEDS).map(|s| s.wrapping_mul(0xD6E8_FEB8_6659_FD93)) {
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
            if Self::place(&hashes, &numbers, (cap, rec, seed), bytes, &mut owner) {
                drop((hashes, numbers));
                // Each record's values, read at random from its owner's
                // (those `AHEAD` records on are prefetched), in parallel over
                // blocks of records; then each n-gram's record.
                const AHEAD: usize = 16;
                const BLOCK: usize = 1 << 16;
                let filled = &mut bytes[..cap * rec];
                (filled.par_chunks_mut(BLOCK * rec))
                    .zip(owner.par_chunks(BLOCK))
                    .for_each(|(bytes, owner)| {
                        for (pos, &who) in owner.iter().enumerate() {
                            if let Some(&ahead) = owner.get(pos + AHEAD) {
                                prefetch(probs, ahead as usize);
                                if with_backoff {
                                    prefetch(backoffs, ahead as usize);
                                }
                            }
                            let Some(p) = probs.get(who as usize) else {
                                continue;
                            };
                            let o = pos * rec + TAG_BYTES;
                            bytes[o..o + 4].copy_from_slice(&p.to_bits().to_le_bytes());
                            if with_backoff {
                                let b = backoffs[who as usize].to_bits().to_le_bytes();
                                bytes[o + 4..o + 8].copy_from_slice(&b);
                            }
                        }
                    });
                let mut at = vec![0u32; m];
                for (pos, &who) in owner.iter().enumerate() {
                    if let Some(&ahead) = owner.get(pos + AHEAD) {
                        prefetch(&at, ahead as usize);
                    }
                    if let Some(slot) = at.get_mut(who as usize) {
                        *slot = pos as u32;
                    }
                }
                let table = Self {
                    words: words.into(),
                    cap,
                    rec,
                    seed,
                    warm: OnceLock::new(),
                };
                return Ok((table, at));
            }
            bytes.fill(0);
            owner.fill(u32::MAX);
        }
        Err(Error::InvalidArgument(format!(
            "{SEEDS} tag seeds all left two of {m} n-grams indistinguishable \
             (a 64-bit hash collision): save this model with layout=\"trie\""
        )))
    }

    /// Write the tags of `hashes` (n-grams `numbers`) into `bytes` under
    /// `seed`, recording in `owner` which n-gram each record holds; false
    /// when two tags meet on a probe path.
    ///
    /// Ordered linear probing (Amble and Knuth 1974): along every probe path
    /// tags decrease, an insertion taking the place of the first smaller tag
    /// it meets and carrying that one on. A lookup then stops at the first
    /// tag smaller than its own (an empty record is tag 0), so a miss costs
    /// about what a hit does (3 records at load 0.8, not 13). The table
    /// comes out the same whatever the order of insertion, so the n-grams
    /// come region by region of the table ([`by_region`]): the records one
    /// region's insertions touch stay in the caches.
    fn place(
        hashes: &[u64],
        numbers: &[u32],
        (cap, rec, seed): (usize, usize, u64),
        bytes: &mut [u8],
        owner: &mut [u32],
    ) -> bool {
        for (&h, &i) in hashes.iter().zip(numbers) {
            let (mut t, mut who) = (tag(h, seed), i);
            let mut pos = home(h, cap);
            loop {
                let o = pos * rec;
                let held = read_tag(bytes, o);
                if held == t {
                    return false;
                }
                if held < t {
                    bytes[o..o + TAG_BYTES].copy_from_slice(&t.to_le_bytes()[..TAG_BYTES]);
                    let displaced = std::mem::replace(&mut owner[pos], who);
                    if held == 0 {
                        break;
                    }
                    (t, who) = (held, displaced);
                }
                pos = if pos + 1 == cap { 0 } else { pos + 1 };
            }
        }
        true
    }

    /// A table from stored words, checking they hold `cap` records of `rec` bytes.
    pub fn from_words(words: Array<u64>, cap: usize, rec: usize, seed: u64) -> Option<Self> {
        if rec != WITH_BACKOFF && rec != WITHOUT_BACKOFF || cap == 0 {
            return None;
        }
        (words.len() == words_for(cap, rec)?).then(|| Self {
            words,
            cap,
            rec,
            seed,
            warm: OnceLock::new(),
        })
    }

    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        let words: &[u64] = match self.warm.get() {
            Some(a) => a,
            None => &self.words,
        };
        bytemuck::cast_slice(words)
    }

    /// Copy the records onto huge pages (see `Array::on_huge_pages`), once:
    /// scoring probes them at random (what `Level::warm` does for layout 0).
    pub fn warm(&self) {
        if let Array::Mapped { .. } = self.words {
            self.warm.get_or_init(|| self.words.clone().on_huge_pages());
        }
    }

    /// Start loading the records a lookup of `hash` reads first (a hint).
    #[inline(always)]
    pub fn prefetch(&self, hash: u64) {
        self.view().prefetch(hash)
    }

    /// The probability and backoff bits of the n-gram with `hash`, if held.
    #[inline(always)]
    pub fn find(&self, hash: u64) -> Option<(u32, u32)> {
        self.view().find(hash)
    }

    /// The records as lookups read them, resolved once (the huge-page copy
    /// when there is one), for a loop of many lookups.
    #[inline(always)]
    pub fn view(&self) -> SlotView<'_> {
        SlotView {
            bytes: self.bytes(),
            cap: self.cap,
            rec: self.rec,
            seed: self.seed,
        }
    }

    /// The probability (`field` 0) or backoff (1) bits of record `s` (0 out of range).
    #[inline(always)]
    pub fn value(&self, s: usize, field: u8) -> u32 {
        let bytes = self.bytes();
        let o = s.wrapping_mul(self.rec);
        match field {
            0 => read_u32(bytes, o.wrapping_add(TAG_BYTES)),
            _ => backoff_at(self.rec, bytes, o),
        }
    }

    /// Start loading record `s` (a hint).
    #[inline(always)]
    pub fn prefetch_record(&self, s: usize) {
        prefetch(self.bytes(), s.wrapping_mul(self.rec));
    }

    /// Bytes of storage.
    pub fn size(&self) -> usize {
        self.words.len() * 8
    }
}

/// One table's records and shape, for lookups ([`SlotTable::view`]).
#[derive(Clone, Copy)]
pub struct SlotView<'a> {
    bytes: &'a [u8],
    cap: usize,
    rec: usize,
    seed: u64,
}

impl SlotView<'_> {
    /// Bytes of the records.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// Start loading the records a lookup of `hash` reads first (a hint):
    /// the home record and the one two on, which ends most probe paths.
    #[inline(always)]
    pub fn prefetch(&self, hash: u64) {
        let o = home(hash, self.cap) * self.rec;
        prefetch(self.bytes, o);
        prefetch(self.bytes, o + 2 * self.rec);
    }

    /// The probability and backoff bits of the n-gram with `hash`, if held.
    #[inline(always)]
    pub fn find(&self, hash: u64) -> Option<(u32, u32)> {
        let (bytes, cap, rec) = (self.bytes, self.cap, self.rec);
        let want = tag(hash, self.seed);
        let mut pos = home(hash, cap);
        for _ in 0..cap {
            let o = pos * rec;
            let held = read_tag(bytes, o);
            if held == want {
                return Some((read_u32(bytes, o + TAG_BYTES), backoff_at(rec, bytes, o)));
            }
            if held < want {
                return None;
            }
            pos = if pos + 1 == cap { 0 } else { pos + 1 };
        }
        None
    }
}

/// The backoff bits of the record at byte `o` (0 for records without one).
#[inline(always)]
fn backoff_at(rec: usize, bytes: &[u8], o: usize) -> u32 {
    if rec == WITH_BACKOFF {
        read_u32(bytes, o + TAG_BYTES + 4)
    } else {
        0
    }
}

/// The table is filled in `1 << REGION_BITS` regions (see [`by_region`]).
const REGION_BITS: u32 = 10;

/// The hashes `hash(i)` of `m` n-grams and their numbers `i`, ordered by the
/// region of the table holding their home record (the top bits of the low 32
/// bits of the hash, which [`home`] rises with): the hashes computed in
/// parallel, then a counting sort.
fn by_region(m: usize, hash: impl Fn(usize) -> u64 + Sync) -> (Vec<u64>, Vec<u32>) {
    let region = |h: u64| ((h & 0xFFFF_FFFF) >> (32 - REGION_BITS)) as usize;
    let all: Vec<u64> = (0..m).into_par_iter().map(&hash).collect();
    let mut next = vec![0usize; (1 << REGION_BITS) + 1];
    for &h in &all {
        next[region(h) + 1] += 1;
    }
    for r in 1..next.len() {
        next[r] += next[r - 1];
    }
    let (mut hashes, mut numbers) = (vec![0u64; m], vec![0u32; m]);
    for (i, &h) in all.iter().enumerate() {
        let slot = &mut next[region(h)];
        hashes[*slot] = h;
        numbers[*slot] = i as u32;
        *slot += 1;
    }
    (hashes, numbers)
}

#[inline(always)]
fn read_tag(bytes: &[u8], o: usize) -> u64 {
    match bytes.get(o..o.wrapping_add(8)) {
        Some(b) => u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) & TAG_MASK,
        None => 0,
    }
}

#[inline(always)]
fn read_u32(bytes: &[u8], o: usize) -> u32 {
    match bytes.get(o..o.wrapping_add(4)) {
        Some(b) => u32::from_le_bytes(b.try_into().unwrap_or([0; 4])),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(m: usize) -> Vec<u64> {
        (0..m as u64)
            .map(|i| super::super::level::key_hash(&[i as u32, 7]))
            .collect()
    }

    #[test]
    fn every_ngram_is_found_with_its_values_and_its_record() {
        for with_backoff in [true, false] {
            let h = hashes(5000);
            let probs: Vec<f32> = (0..h.len()).map(|i| -(i as f32) / 8.0).collect();
            let backoffs: Vec<f32> = (0..h.len()).map(|i| i as f32 / 4.0).collect();
            let (t, at) = SlotTable::build(|i| h[i], &probs, &backoffs, with_backoff).unwrap();
            for (i, &x) in h.iter().enumerate() {
                let (p, b) = t.find(x).unwrap();
                assert_eq!(f32::from_bits(p), -(i as f32) / 8.0);
                let want_b = if with_backoff { i as f32 / 4.0 } else { 0.0 };
                assert_eq!(f32::from_bits(b), want_b);
                assert_eq!(t.value(at[i] as usize, 0), p);
                assert_eq!(t.value(at[i] as usize, 1), b);
            }
            // Absent n-grams miss (a false match has odds 2^-40 per record).
            for i in 5000..20000u32 {
                assert_eq!(t.find(super::super::level::key_hash(&[i, 7])), None);
            }
            // Stored and read back.
            let again = SlotTable::from_words(t.words.clone(), t.cap, t.rec, t.seed).unwrap();
            assert_eq!(again.find(h[17]), t.find(h[17]));
            assert!(SlotTable::from_words(t.words.clone(), t.cap + 8, t.rec, t.seed).is_none());
        }
    }

    #[test]
    fn equal_hashes_try_every_seed_then_refuse() {
        let h = [5u64, 9, 5];
        let err = SlotTable::build(|i| h[i], &[0.0; 3], &[0.0; 3], true).unwrap_err();
        assert!(err.to_string().contains("layout=\"trie\""), "{err}");
    }

    #[test]
    fn a_corrupt_table_misses_or_reads_garbage_but_never_panics() {
        let h = hashes(300);
        let (t, _) = SlotTable::build(|i| h[i], &[-1.0; 300], &[0.5; 300], true).unwrap();
        let ones: Vec<u64> = vec![u64::MAX; t.words.len()];
        let full = SlotTable::from_words(ones.into(), t.cap, t.rec, t.seed).unwrap();
        for &x in &h {
            let _ = full.find(x);
        }
        assert_eq!(full.value(usize::MAX, 0), 0);
        assert_eq!(t.value(t.cap * 2, 1), 0);
    }

    #[test]
    fn region_by_region_makes_the_table_that_insertion_in_order_makes() {
        let mut state = 0x1234_5678_9ABC_DEF0u64;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        for m in [1usize, 2, 7, 100, 1000, 20_000] {
            for crowd_the_end in [false, true] {
                // Homes crowded into the last records make probe paths wrap.
                let h: Vec<u64> = (0..m)
                    .map(|_| next() | if crowd_the_end { 0xFFF0_0000 } else { 0 })
                    .collect();
                let probs: Vec<f32> = (0..m).map(|i| -(i as f32) - 0.5).collect();
                let backoffs: Vec<f32> = probs.iter().map(|p| p * 2.0).collect();
                for with_backoff in [true, false] {
                    let (t, at) =
                        SlotTable::build(|i| h[i], &probs, &backoffs, with_backoff).unwrap();
                    // The same n-grams inserted in their own order.
                    let (cap, rec) = (t.cap, t.rec);
                    let mut words = vec![0u64; words_for(cap, rec).unwrap()];
                    let mut owner = vec![u32::MAX; cap];
                    let numbers: Vec<u32> = (0..m as u32).collect();
                    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
                    let placed = (cap, rec, t.seed);
                    assert!(SlotTable::place(&h, &numbers, placed, bytes, &mut owner));
                    for (i, &a) in at.iter().enumerate() {
                        assert_eq!(owner[a as usize], i as u32, "m {m}");
                    }
                    for pos in 0..cap {
                        assert_eq!(read_tag(t.bytes(), pos * rec), read_tag(bytes, pos * rec));
                    }
                    assert_eq!(owner.iter().filter(|&&o| o != u32::MAX).count(), m);
                    for (i, &x) in h.iter().enumerate() {
                        let (p, b) = t.find(x).unwrap();
                        assert_eq!(p, probs[i].to_bits());
                        assert_eq!(
                            b,
                            if with_backoff {
                                backoffs[i].to_bits()
                            } else {
                                0
                            }
                        );
                    }
                }
            }
        }
    }
}

//! Sharded hash tables that count fixed-length n-gram keys from many threads.
//!
//! Keys are `[u32; N]` (ids, never strings), so an entry is a flat array with
//! no heap allocation, and each order gets its own monomorphised table. The
//! table is split into [`SHARDS`] mutex-guarded shards chosen by bits of the
//! key's hash; workers first bucket a whole chunk's n-grams by shard in a
//! private buffer, then take each shard's lock once per chunk to insert the
//! batch. Lock traffic is thus negligible, and the batch insert walks one
//! shard at a time, which is kinder to the cache than random inserts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hashbrown::HashTable;
use rayon::prelude::*;

use super::runs::{Run, RunWriter, Spill};
use crate::control::Control;
use crate::Result;

/// Number of shards per order (a power of two).
pub const SHARDS: usize = 64;

/// Hash of an id sequence: a multiply-xorshift per id and a 64-bit finaliser
/// (MurmurHash3's fmix64). Fixed (unseeded) so sharding is reproducible.
#[inline]
pub fn hash_ids(ids: &[u32]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15 ^ ids.len() as u64;
    for &id in ids {
        h = (h ^ id as u64).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        h ^= h >> 32;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^= h >> 33;
    h
}

/// Shard of a hash. Uses bits 40..46, away from the low bits hashbrown uses for
/// the bucket and the top 7 it uses as tag, so every shard stays well spread.
#[inline]
fn shard_of(hash: u64) -> usize {
    ((hash >> 40) as usize) & (SHARDS - 1)
}

/// A table entry: the key and its count. The count is a u32 to keep entries
/// small (a 5-gram entry is 24 bytes, not 32); a count that would pass
/// `u32::MAX` moves `u32::MAX` into the shard's overflow map and restarts at 0.
type Entry<const N: usize> = ([u32; N], u32);

#[derive(Clone, Default)]
struct Shard<const N: usize> {
    table: HashTable<Entry<N>>,
    overflow: hashbrown::HashMap<[u32; N], u64>,
}

/// Counts of `N`-grams in `SHARDS` locked shards.
pub struct Shards<const N: usize> {
    shards: Vec<Mutex<Shard<N>>>,
    /// Distinct n-grams held (what a memory budget watches).
    held: AtomicUsize,
}

/// A worker's private batch of `N`-grams for one [`Shards`].
pub struct Batch<const N: usize> {
    global: Arc<Shards<N>>,
    buffers: Vec<Vec<(u64, [u32; N])>>,
}

/// Order-erased view of [`Shards`], so a job can hold tables of every order.
pub trait OrderTable: Send + Sync {
    /// The n of the n-grams.
    fn order(&self) -> usize;
    /// A fresh private batch for one worker.
    fn batch(self: Arc<Self>) -> Box<dyn OrderBatch>;
    /// Drain the table, map ids through `remap`, and return keys (flat, `order`
    /// ids each) and counts sorted by key. Checks `control` between pieces.
    fn into_sorted(
        self: Arc<Self>,
        remap: &[u32],
        control: &Control,
    ) -> Result<(Vec<u32>, Vec<u64>)>;
    /// Distinct n-grams held now.
    fn held(&self) -> usize;
    /// Bytes of memory one held n-gram costs (the entry and the table's slack).
    fn bytes_per_entry(&self) -> usize;
    /// Take every n-gram counted so far out of the table (which stays in use:
    /// other threads may go on adding) and write them to a run of `spill`, ids
    /// reversed (last word first) and sorted: lmplz's suffix order. None when
    /// the table held nothing.
    fn spill_reversed(&self, spill: &Arc<Spill>) -> Result<Option<Run>>;
}

/// Sort (key, count) pairs by key, on every thread when `parallel`.
fn sort_by_key_of_pair<K: Ord + Copy + Send>(v: &mut [(K, u64)], parallel: bool) {
    if parallel {
        v.par_sort_unstable_by_key(|e| e.0);
    } else {
        v.sort_unstable_by_key(|e| e.0);
    }
}

/// Order-erased view of [`Batch`].
pub trait OrderBatch: Send {
    /// Add every window of the table's order in `sentence`.
    fn add_windows(&mut self, sentence: &[u32]);
    /// Insert the buffered n-grams into the shared table.
    fn flush(&mut self);
}

impl<const N: usize> Shards<N> {
    /// Empty shards.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            held: AtomicUsize::new(0),
        })
    }
}

impl<const N: usize> OrderTable for Shards<N> {
    fn order(&self) -> usize {
        N
    }

    fn batch(self: Arc<Self>) -> Box<dyn OrderBatch> {
        Box::new(Batch {
            global: self,
            buffers: (0..SHARDS).map(|_| Vec::new()).collect(),
        })
    }

    fn into_sorted(
        self: Arc<Self>,
        remap: &[u32],
        control: &Control,
    ) -> Result<(Vec<u32>, Vec<u64>)> {
        let shards: Vec<Shard<N>> = match Arc::try_unwrap(self) {
            Ok(this) => this
                .shards
                .into_iter()
                .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
                .collect(),
            // Another handle still exists (a caller bug, not an input error): copy out.
            Err(arc) => arc
                .shards
                .iter()
                .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()).clone())
                .collect(),
        };
        let total: usize = shards.iter().map(|s| s.table.len()).sum();
        let map = |mut key: [u32; N]| {
            for id in key.iter_mut() {
                *id = remap[*id as usize];
            }
            key
        };

        // Bucket sort by the first id. Entries go straight into the final arrays,
        // grouped into buckets by ranges of the first (remapped) id; each shard
        // owns one disjoint region per bucket, so shards scatter in parallel;
        // then the buckets are sorted in parallel. Ctrl-C is checked per shard
        // and per bucket, and the only extra memory is a bucket of scratch per thread.
        let vocab = remap.len().max(1);
        let want = (total / 4096).clamp(1, 1 << 14);
        let mut shift = 0;
        while ((vocab - 1) >> shift) + 1 > want {
            shift += 1;
        }
        let nbuckets = ((vocab - 1) >> shift) + 1;
        let histograms: Vec<Vec<usize>> = shards
            .par_iter()
            .map(|shard| {
                let mut h = vec![0usize; nbuckets];
                for (key, _) in shard.table.iter() {
                    h[remap[key[0] as usize] as usize >> shift] += 1;
                }
                h
            })
            .collect();
        let mut bucket_len = vec![0usize; nbuckets];
        for h in &histograms {
            for (total, n) in bucket_len.iter_mut().zip(h) {
                *total += n;
            }
        }

        let mut keys: Vec<[u32; N]> = vec![[0; N]; total];
        let mut counts: Vec<u64> = vec![0; total];
        // Carve the arrays into (bucket, shard) regions, bucket-major.
        type Regions<'a, const N: usize> = Vec<(&'a mut [[u32; N]], &'a mut [u64])>;
        let mut regions: Vec<Regions<N>> = (0..shards.len())
            .map(|_| Vec::with_capacity(nbuckets))
            .collect();
        {
            let (mut krest, mut crest): (&mut [[u32; N]], &mut [u64]) = (&mut keys, &mut counts);
            for b in 0..nbuckets {
                for (s, h) in histograms.iter().enumerate() {
                    let (kh, kt) = std::mem::take(&mut krest).split_at_mut(h[b]);
                    let (ch, ct) = std::mem::take(&mut crest).split_at_mut(h[b]);
                    regions[s].push((kh, ch));
                    krest = kt;
                    crest = ct;
                }
            }
        }
        let overflow: Vec<([u32; N], u64)> = shards
            .into_par_iter()
            .zip(regions)
            .map(|(shard, mut mine)| {
                control.check()?;
                let mut fill = vec![0usize; nbuckets];
                for (key, count) in shard.table {
                    let key = map(key);
                    let b = key[0] as usize >> shift;
                    mine[b].0[fill[b]] = key;
                    mine[b].1[fill[b]] = count as u64;
                    fill[b] += 1;
                }
                Ok(shard
                    .overflow
                    .into_iter()
                    .map(|(k, c)| (map(k), c))
                    .collect::<Vec<_>>())
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect();

        let mut pieces = Vec::with_capacity(nbuckets);
        let (mut krest, mut crest): (&mut [[u32; N]], &mut [u64]) = (&mut keys, &mut counts);
        for len in bucket_len {
            let (kh, kt) = krest.split_at_mut(len);
            let (ch, ct) = crest.split_at_mut(len);
            pieces.push((kh, ch));
            krest = kt;
            crest = ct;
        }
        // Final ids of `fbits` bits: when a key's ids fit in 128 bits, the
        // buckets sort packed integers (first id highest, so their order is the
        // keys'), which compare in two instructions where `[u32; N]` compares
        // id by id (orders 4 and 5 of the Gutenberg set: about half the time).
        let fbits = (usize::BITS - (vocab - 1).leading_zeros()).max(1);
        let packs = N as u32 * fbits <= 128;
        let pack = |key: &[u32; N]| key.iter().fold(0u128, |p, &id| (p << fbits) | id as u128);
        let unpack = |mut p: u128| {
            let mut key = [0u32; N];
            for id in key.iter_mut().rev() {
                *id = (p & ((1u128 << fbits) - 1)) as u32;
                p >>= fbits;
            }
            key
        };
        pieces.into_par_iter().try_for_each(|(k, c)| {
            control.check()?;
            // Zipf makes the buckets of the first ids (<s>, "the", ...) huge:
            // sort those in parallel too, or one thread ends up with most work.
            let parallel = k.len() > 1 << 16;
            if packs {
                let mut scratch: Vec<(u128, u64)> =
                    k.iter().map(pack).zip(c.iter().copied()).collect();
                sort_by_key_of_pair(&mut scratch, parallel);
                for (i, (key, count)) in scratch.into_iter().enumerate() {
                    k[i] = unpack(key);
                    c[i] = count;
                }
                return Ok(());
            }
            let mut scratch: Vec<([u32; N], u64)> =
                k.iter().copied().zip(c.iter().copied()).collect();
            sort_by_key_of_pair(&mut scratch, parallel);
            for (i, (key, count)) in scratch.into_iter().enumerate() {
                k[i] = key;
                c[i] = count;
            }
            Ok(())
        })?;
        for (key, extra) in overflow {
            if let Ok(i) = keys.binary_search(&key) {
                counts[i] += extra;
            }
        }
        Ok((keys.into_flattened(), counts))
    }

    fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    fn bytes_per_entry(&self) -> usize {
        // hashbrown keeps its load between 7/16 and 7/8: about 1.5 slots per
        // entry on average, each the entry plus one control byte.
        (std::mem::size_of::<Entry<N>>() + 1) * 3 / 2
    }

    fn spill_reversed(&self, spill: &Arc<Spill>) -> Result<Option<Run>> {
        self.spill_reversed_impl(spill)
    }
}

impl<const N: usize> Shards<N> {
    fn spill_reversed_impl(&self, spill: &Arc<Spill>) -> Result<Option<Run>> {
        let mut records: Vec<([u32; N], u64)> = Vec::new();
        for shard in &self.shards {
            let taken = {
                let mut guard = shard.lock().unwrap_or_else(|p| p.into_inner());
                std::mem::take(&mut *guard)
            };
            self.held.fetch_sub(taken.table.len(), Ordering::Relaxed);
            records.reserve(taken.table.len() + taken.overflow.len());
            for (mut key, count) in taken.table {
                key.reverse();
                records.push((key, count as u64));
            }
            for (mut key, count) in taken.overflow {
                key.reverse();
                records.push((key, count));
            }
        }
        if records.is_empty() {
            return Ok(None);
        }
        records.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut run = RunWriter::create(spill, &format!("counts{N}"), N)?;
        let mut i = 0;
        while i < records.len() {
            // An overflowed count sits beside its entry: sum them.
            let (key, mut count) = records[i];
            i += 1;
            while i < records.len() && records[i].0 == key {
                count += records[i].1;
                i += 1;
            }
            run.push(&key, count)?;
        }
        drop(records);
        run.finish().map(Some)
    }
}

impl<const N: usize> OrderBatch for Batch<N> {
    #[inline]
    fn add_windows(&mut self, sentence: &[u32]) {
        for window in sentence.windows(N) {
            let mut key = [0u32; N];
            key.copy_from_slice(window);
            let hash = hash_ids(&key);
            self.buffers[shard_of(hash)].push((hash, key));
        }
    }

    fn flush(&mut self) {
        for (shard, buffer) in self.global.shards.iter().zip(self.buffers.iter_mut()) {
            if buffer.is_empty() {
                continue;
            }
            let mut guard = shard.lock().unwrap_or_else(|p| p.into_inner());
            let Shard { table, overflow } = &mut *guard;
            let mut added = 0;
            for (hash, key) in buffer.drain(..) {
                match table.find_mut(hash, |e| same_key(&e.0, &key)) {
                    Some(entry) => {
                        if entry.1 == u32::MAX {
                            *overflow.entry(key).or_insert(0) += u32::MAX as u64;
                            entry.1 = 0;
                        }
                        entry.1 += 1;
                    }
                    None => {
                        table.insert_unique(hash, (key, 1), |e| hash_ids(&e.0));
                        added += 1;
                    }
                }
            }
            // Under the shard's lock, so a spill that empties it never
            // subtracts entries not yet added.
            self.global.held.fetch_add(added, Ordering::Relaxed);
        }
    }
}

/// Key equality as an inlined loop: `==` on `[u32; N]` calls `memcmp`, which
/// for keys of a few words costs more than the comparison itself.
#[inline(always)]
fn same_key<const N: usize>(a: &[u32; N], b: &[u32; N]) -> bool {
    let mut diff = 0;
    for i in 0..N {
        diff |= a[i] ^ b[i];
    }
    diff == 0
}

/// The largest order counted.
pub const MAX_ORDER: usize = 16;

/// A table for `order` (2..=MAX_ORDER; unigrams are counted densely elsewhere).
pub fn table_for(order: usize) -> Arc<dyn OrderTable> {
    macro_rules! dispatch {
        ($($n:literal)*) => {
            match order {
                $($n => Shards::<$n>::new() as Arc<dyn OrderTable>,)*
                _ => panic!("order {order} outside 1..={MAX_ORDER} (checked by the caller)"),
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
}

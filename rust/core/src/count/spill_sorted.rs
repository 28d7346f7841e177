//! The counters of the spilling pass ([`super::spill`]): one per order, each
//! turning its n-grams into sorted runs on disk, ids reversed (lmplz's
//! suffix order), counts summed.
//!
//! The vocabulary is final before this pass, so ids need no remapping and a
//! window packs into one integer of `bits` bits per id (`bits` what the
//! largest id needs), its *last* id highest: numeric order is then the suffix
//! order, and moving the window on by one word is a shift right and an or.
//! Each worker appends the keys of its windows to a private buffer; a full
//! buffer is sorted (pdqsort) and run-length reduced into a sorted run held
//! in memory; when the runs exceed the budget, one worker merges each order's
//! runs into one run on disk while the others go on counting. No hash table
//! and no cache miss per window, as in [`super::sorted`], whose key types
//! this shares.
//!
//! An order whose windows do not fit 128 bits (a vocabulary past 2^25 words
//! at order 5) is counted in a sharded hash table ([`super::table`]) that
//! spills the same kind of run, so the runs never depend on the path taken.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::runs::{Run, RunWriter, Spill};
use super::sorted::{kway_each, push_windows, sort_into_run, streamed, Entry, Packed, Wide};
use super::table::{table_for, OrderBatch, OrderTable, MAX_ORDER};
use crate::Result;

/// One order's counter in the spilling pass.
pub(super) trait SpillOrder: Send + Sync {
    /// A fresh private batch for one worker.
    fn batch(self: Arc<Self>) -> Box<dyn SpillBatch>;
    /// Bytes of counts held in memory between spills (workers' unsorted
    /// buffers not included).
    fn held_bytes(&self) -> usize;
    /// Write every n-gram held to a run of `spill` (ids reversed, sorted,
    /// each once with its count summed) and forget them: the counter stays
    /// in use. None when nothing was held.
    fn spill(&self, spill: &Arc<Spill>) -> Result<Option<Run>>;
}

/// A worker's private part of a [`SpillOrder`].
pub(super) trait SpillBatch: Send {
    /// Add every window of the order in `sentence` (final ids).
    fn add_windows(&mut self, sentence: &[u32]);
    /// End of a chunk: hand what is buffered to the shared counter when it
    /// is worth it.
    fn flush(&mut self);
    /// The worker's last call: hand over everything buffered.
    fn finish(&mut self);
}

/// Bits per id and bytes per key with which order `n` packs ids below
/// `vocab`, or None when its windows do not fit 128 bits.
pub(super) fn packing(n: usize, vocab: usize) -> Option<(u32, usize)> {
    let bits = (usize::BITS - vocab.saturating_sub(1).leading_zeros()).max(1);
    match n as u32 * bits {
        0..=64 => Some((bits, std::mem::size_of::<u64>())),
        65..=128 => Some((bits, std::mem::size_of::<Wide>())),
        _ => None,
    }
}

/// The counter of order `n` (2..=MAX_ORDER) for ids below `vocab`, whose
/// workers sort their buffers every `batch` keys. With `packed` false, the
/// hash table is used whatever the vocabulary (tests compare both). `top`:
/// the highest order, which takes every window (see [`super::sorted::push_windows`]).
pub(super) fn spill_order_for(
    n: usize,
    vocab: usize,
    batch: usize,
    packed: bool,
    top: bool,
) -> Arc<dyn SpillOrder> {
    match packing(n, vocab).filter(|_| packed) {
        Some((bits, 8)) => PackedSpill::<u64>::new(n, bits, batch, top),
        Some((bits, _)) => PackedSpill::<Wide>::new(n, bits, batch, top),
        None => Arc::new(Hashed(table_for(n))),
    }
}

/// The hash-table counter as a [`SpillOrder`].
struct Hashed(Arc<dyn OrderTable>);

struct HashedBatch(Box<dyn OrderBatch>);

impl SpillOrder for Hashed {
    fn batch(self: Arc<Self>) -> Box<dyn SpillBatch> {
        Box::new(HashedBatch(self.0.clone().batch()))
    }

    fn held_bytes(&self) -> usize {
        self.0.held() * self.0.bytes_per_entry()
    }

    fn spill(&self, spill: &Arc<Spill>) -> Result<Option<Run>> {
        self.0.spill_reversed(spill)
    }
}

impl SpillBatch for HashedBatch {
    fn add_windows(&mut self, sentence: &[u32]) {
        self.0.add_windows(sentence);
    }

    fn flush(&mut self) {
        self.0.flush();
    }

    fn finish(&mut self) {
        self.0.flush();
    }
}

/// A sorted run in memory (see [`Entry`]).
type MemoryRun<K> = Vec<Entry<K>>;

/// Sort-based counter of one order over packed keys.
struct PackedSpill<K: Packed> {
    n: usize,
    bits: u32,
    /// Stream its keys (the top order; see [`super::sorted::push_windows`]).
    stream: bool,
    batch: usize,
    runs: Mutex<Vec<MemoryRun<K>>>,
    held: AtomicUsize,
}

struct PackedSpillBatch<K: Packed> {
    order: Arc<PackedSpill<K>>,
    pending: Vec<K>,
}

impl<K: Packed> PackedSpill<K> {
    fn new(n: usize, bits: u32, batch: usize, stream: bool) -> Arc<Self> {
        debug_assert!(n as u32 * bits <= K::BITS);
        Arc::new(Self {
            n,
            bits,
            stream,
            batch: batch.max(1),
            runs: Mutex::new(Vec::new()),
            held: AtomicUsize::new(0),
        })
    }
}

impl<K: Packed> SpillOrder for PackedSpill<K> {
    fn batch(self: Arc<Self>) -> Box<dyn SpillBatch> {
        Box::new(PackedSpillBatch {
            order: self,
            pending: Vec::new(),
        })
    }

    fn held_bytes(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    fn spill(&self, spill: &Arc<Spill>) -> Result<Option<Run>> {
        let runs = std::mem::take(&mut *self.runs.lock().unwrap_or_else(|p| p.into_inner()));
        let bytes: usize = runs.iter().map(|r| r.len()).sum::<usize>() * entry_bytes::<K>();
        self.held.fetch_sub(bytes, Ordering::Relaxed);
        if runs.is_empty() {
            return Ok(None);
        }
        let (n, bits) = (self.n, self.bits);
        let mut run = RunWriter::create(spill, &format!("counts{n}"), n)?;
        let slices: Vec<&[Entry<K>]> = runs.iter().map(Vec::as_slice).collect();
        let mut rev = [0u32; MAX_ORDER];
        kway_each(&slices, |key, count| {
            for (j, id) in rev[..n].iter_mut().enumerate() {
                *id = key.id(n - 1 - j, bits);
            }
            run.push(&rev[..n], count)
        })?;
        drop(slices);
        drop(runs);
        run.finish().map(Some)
    }
}

/// Bytes of one entry of a run in memory.
fn entry_bytes<K>() -> usize {
    std::mem::size_of::<Entry<K>>()
}

impl<K: Packed> SpillBatch for PackedSpillBatch<K> {
    #[inline]
    fn add_windows(&mut self, sentence: &[u32]) {
        let o = &*self.order;
        let n = o.n;
        if sentence.len() < n {
            return;
        }
        let bits = o.bits;
        let top = (n as u32 - 1) * bits;
        debug_assert!(sentence.iter().all(|&id| u64::from(id) >> bits == 0));
        push_windows(&mut self.pending, o.stream, sentence, n, |k, id| {
            k.push_high(id, bits, top)
        });
    }

    fn flush(&mut self) {
        streamed();
        if self.pending.len() >= self.order.batch {
            self.sort_pending();
        }
    }

    fn finish(&mut self) {
        streamed();
        if !self.pending.is_empty() {
            self.sort_pending();
        }
        self.pending = Vec::new();
    }
}

impl<K: Packed> PackedSpillBatch<K> {
    fn sort_pending(&mut self) {
        let run = sort_into_run(&mut self.pending);
        self.order
            .held
            .fetch_add(run.len() * entry_bytes::<K>(), Ordering::Relaxed);
        self.order
            .runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_takes_the_narrowest_key() {
        // 1.1 M words: 21 bits per id.
        assert_eq!(packing(3, 1_100_000), Some((21, 8)));
        assert_eq!(packing(4, 1_100_000), Some((21, 16)));
        assert_eq!(packing(6, 1_100_000), Some((21, 16)));
        assert_eq!(packing(7, 1_100_000), None);
        assert_eq!(packing(5, 1 << 25), Some((25, 16)));
        assert_eq!(packing(5, (1 << 25) + 1), None);
        assert_eq!(packing(2, 1), Some((1, 8)));
    }

    /// Every window, spilled and merged from many runs, comes out once in
    /// suffix order with its count, on both key widths and the hash table.
    #[test]
    fn runs_hold_reversed_windows_in_suffix_order() {
        let sentences: Vec<Vec<u32>> = (0..3000u32)
            .map(|i| (0..(i % 9)).map(|j| (i * 7 + j * j * 5) % 37).collect())
            .collect();
        let spill = Spill::new(None).unwrap();
        for n in 2..=6 {
            let mut want: std::collections::BTreeMap<Vec<u32>, u64> = Default::default();
            for s in &sentences {
                for w in s.windows(n) {
                    *want.entry(w.iter().rev().copied().collect()).or_default() += 1;
                }
            }
            // 37 words: 6 bits, so orders 2..=6 all fit 64 bits; a vocabulary
            // of 2^20 makes orders 4..=6 wide.
            for (vocab, packed) in [(37, true), (1 << 20, true), (37, false)] {
                let order = spill_order_for(n, vocab, 50, packed, n % 2 == 0);
                let mut batches: Vec<_> = (0..2).map(|_| order.clone().batch()).collect();
                let mut runs = Vec::new();
                for (i, s) in sentences.iter().enumerate() {
                    batches[i % 2].add_windows(s);
                    batches[i % 2].flush();
                    if i % 700 == 0 {
                        runs.extend(order.spill(&spill).unwrap());
                    }
                }
                for b in &mut batches {
                    b.finish();
                }
                runs.extend(order.spill(&spill).unwrap());
                assert_eq!(order.held_bytes(), 0);
                assert!(runs.len() > 2, "order {n}: {} runs", runs.len());
                let mut got: std::collections::BTreeMap<Vec<u32>, u64> = Default::default();
                for run in &runs {
                    let mut reader = run.reader().unwrap();
                    let mut last: Option<Vec<u32>> = None;
                    while let Some((key, c)) = reader.next_record().unwrap() {
                        assert!(last.as_deref().is_none_or(|l| l < key), "run unsorted");
                        last = Some(key.to_vec());
                        *got.entry(key.to_vec()).or_default() += c;
                    }
                }
                assert_eq!(got, want, "order {n}, vocabulary {vocab}, packed {packed}");
            }
        }
    }
}

//! Sort-based counting of one order over packed keys (orders 2 to 6).
//!
//! A window of `n` ids each below `2^bits` packs into one integer key, first
//! id in the high bits, so numeric order is the n-grams' order: a `u64` for
//! orders 2 and 3 (`bits = 64 / n`), a 128-bit [`Wide`] for orders 4 to 6
//! (`bits = 128 / n`: 32, 25 and 21). Each worker appends its windows' keys
//! to a private buffer; a full buffer is sorted (pdqsort: on this machine
//! twice as fast as the LSD radix sort used before, whose scatter passes over
//! 16 MB buffers stalled on stores) and run-length reduced into a sorted run
//! of (key, count), and runs are merged as they pile up past a few (a run
//! merges with the newest one when that one is at most twice its size), which
//! keeps the runs few and their total near the number of distinct n-grams. No
//! hash table, no cache miss per window.
//!
//! The ids are final as counted ([`super::intern`]), so at the end the runs
//! merge as they are. Ids that need mapping (the tests' wider keys, see
//! [`set_pack_limit`]) are mapped piece by piece, each piece re-sorted in
//! parallel, and the pieces merged.
//!
//! A sentence holding an id at or past the packing's limit (a corpus of more
//! than `2^bits` distinct words) goes to a fallback hash table
//! ([`super::table`]) instead; both hold exact counts of disjoint windows and
//! their sorted outputs are merged, so results never depend on the path taken.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::table::{table_for, OrderBatch, OrderTable};
use crate::control::Control;
use crate::Result;

/// Keys buffered per worker before a sort (8 M: 64 MB of `u64` keys; four
/// times fewer runs to merge than with 2 M keys, for a sort a tenth slower
/// per key).
const BATCH: usize = 1 << 23;
/// The batch size in use: [`BATCH`] unless a test lowered it.
static BATCH_KEYS: AtomicUsize = AtomicUsize::new(BATCH);
/// Bytes of buffered keys one order may hold over all its workers before
/// the batch shrinks below [`BATCH`] (so that many cores do not multiply it).
const PENDING_BYTES: usize = 1 << 28;
/// The smallest batch that many workers shrink it to.
const MIN_BATCH: usize = 1 << 20;
/// Runs of an order kept apart before they start to merge.
const KEEP_RUNS: usize = 16;
/// Entries per piece of the final re-sort.
const PIECE: usize = 1 << 22;
/// Entries of the pieces one part of the final merge takes, about (its
/// merged buffer, 4 MB of `u64` keys and counts, stays in the cache).
const MERGE_PART: usize = 1 << 18;

/// Largest id + 1 packed, whatever the bits allow (tests lower it to reach
/// the fallback path with small corpora). u64::MAX = no cap.
static LIMIT_CAP: AtomicU64 = AtomicU64::new(u64::MAX);

/// Cap the ids the packed path takes (0 restores no cap). For tests only: it
/// changes which path counts a sentence, never the result; while a cap is
/// set, the final re-sort also takes its wider keys, which otherwise only a
/// large vocabulary reaches.
pub fn set_pack_limit(limit: u64) {
    let limit = if limit == 0 { u64::MAX } else { limit };
    LIMIT_CAP.store(limit, Ordering::Relaxed);
}

/// Sort a worker's buffer into a run once it holds `keys` keys (0 restores
/// [`BATCH`]). For tests only: small batches make many runs and merges on a
/// small corpus; the counts never change.
pub fn set_batch_keys(keys: usize) {
    BATCH_KEYS.store(if keys == 0 { BATCH } else { keys }, Ordering::Relaxed);
}

/// The highest order counted here.
const MAX_PACKED: usize = 6;

/// Whether order `n` is counted here.
pub fn packs(n: usize) -> bool {
    (2..=MAX_PACKED).contains(&n)
}

/// An integer key of packed ids.
pub trait Packed: Copy + Ord + Send + Sync + 'static {
    /// Bits in the key.
    const BITS: u32;
    /// The key with no bits set.
    const ZERO: Self;
    /// `(self << bits) | id`, keeping only the low `keep` bits.
    fn shift_in(self, id: u32, bits: u32, keep: u32) -> Self;
    /// The id `j` places from the low end (`bits` bits each).
    fn id(self, j: usize, bits: u32) -> u32;
    /// The key as a `u128`.
    fn to_u128(self) -> u128;
    /// `(self >> bits) | (id << top)`: a window moved on by one id when its
    /// ids are packed last id highest (the suffix order of reversed ids).
    fn push_high(self, id: u32, bits: u32, top: u32) -> Self;
    /// Write `self` to `to` past the caches (a non-temporal store), so
    /// that a worker's key buffer, written once and sorted much later, does
    /// not push its interner's tables out of the caches.
    ///
    /// # Safety
    /// `to` must be valid for a write of `Self`.
    #[inline(always)]
    unsafe fn stream_to(self, to: *mut Self) {
        // SAFETY: the caller's promise.
        unsafe { to.write(self) }
    }
}

impl Packed for u64 {
    const BITS: u32 = 64;
    const ZERO: Self = 0;
    #[inline(always)]
    fn shift_in(self, id: u32, bits: u32, keep: u32) -> Self {
        ((self << bits) | id as u64) & (u64::MAX >> (64 - keep))
    }
    #[inline(always)]
    fn id(self, j: usize, bits: u32) -> u32 {
        ((self >> (j as u32 * bits)) & ((1u64 << bits) - 1)) as u32
    }
    #[inline(always)]
    fn to_u128(self) -> u128 {
        self as u128
    }
    #[inline(always)]
    fn push_high(self, id: u32, bits: u32, top: u32) -> Self {
        (self >> bits) | (id as u64) << top
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn stream_to(self, to: *mut Self) {
        // SAFETY: the caller's promise; SSE2 is part of x86_64.
        unsafe { std::arch::x86_64::_mm_stream_si64(to as *mut i64, self as i64) }
    }
}

/// A 128-bit key kept as two `u64`s, so that a (key, count) pair of a run is
/// 24 bytes where `(u128, u64)` takes 32 (`u128` is 16-byte aligned).
/// Ordered as the `u128` it holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Wide {
    hi: u64,
    lo: u64,
}

impl Wide {
    #[inline(always)]
    fn from_u128(v: u128) -> Self {
        Self {
            hi: (v >> 64) as u64,
            lo: v as u64,
        }
    }
}

impl Ord for Wide {
    #[inline(always)]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.to_u128().cmp(&other.to_u128())
    }
}

impl PartialOrd for Wide {
    #[inline(always)]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
    #[inline(always)]
    fn lt(&self, other: &Self) -> bool {
        self.to_u128() < other.to_u128()
    }
}

impl Packed for Wide {
    const BITS: u32 = 128;
    const ZERO: Self = Wide { hi: 0, lo: 0 };
    #[inline(always)]
    fn shift_in(self, id: u32, bits: u32, keep: u32) -> Self {
        let v = ((self.to_u128() << bits) | id as u128) & (u128::MAX >> (128 - keep));
        Self::from_u128(v)
    }
    #[inline(always)]
    fn id(self, j: usize, bits: u32) -> u32 {
        ((self.to_u128() >> (j as u32 * bits)) & ((1u128 << bits) - 1)) as u32
    }
    #[inline(always)]
    fn to_u128(self) -> u128 {
        (self.hi as u128) << 64 | self.lo as u128
    }
    #[inline(always)]
    fn push_high(self, id: u32, bits: u32, top: u32) -> Self {
        Self::from_u128((self.to_u128() >> bits) | (id as u128) << top)
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn stream_to(self, to: *mut Self) {
        // SAFETY: the caller's promise (`to` is valid for a write of the
        // key, so of each of its fields); SSE2 is part of x86_64.
        unsafe {
            let hi = std::ptr::addr_of_mut!((*to).hi) as *mut i64;
            let lo = std::ptr::addr_of_mut!((*to).lo) as *mut i64;
            std::arch::x86_64::_mm_stream_si64(hi, self.hi as i64);
            std::arch::x86_64::_mm_stream_si64(lo, self.lo as i64);
        }
    }
}

/// A key and its count in a sorted run: 12 bytes for a `u64` key, 20 for a
/// [`Wide`] one (a `(K, u64)` pair takes 16 and 24). A count past
/// `u32::MAX` (a corpus of billions of tokens) is held as several entries
/// of the same key, which every reader of a run sums; a run is the largest
/// array of counting, so a quarter less of it is a quarter less memory the
/// kernel must fault in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, packed(4))]
pub struct Entry<K> {
    /// The packed key.
    pub key: K,
    /// Its count (or a share of it, see above).
    pub count: u32,
}

impl<K: Copy> Entry<K> {
    /// `key` with `count`, pushed to `out` as one entry or, past
    /// `u32::MAX`, as several.
    #[inline]
    pub(super) fn push(out: &mut Vec<Self>, key: K, mut count: u64) {
        while count > u64::from(u32::MAX) {
            out.push(Self {
                key,
                count: u32::MAX,
            });
            count -= u64::from(u32::MAX);
        }
        out.push(Self {
            key,
            count: count as u32,
        });
    }
}

/// A sorted run: keys in increasing order, each once (or, with a count
/// past `u32::MAX`, in consecutive entries: see [`Entry`]).
type Run<K> = Vec<Entry<K>>;

/// Order-erased view of a [`SortedOrder`], so a job holds orders of both key
/// widths.
pub trait PackedOrder: Send + Sync {
    /// A fresh private batch for one worker.
    fn batch(self: Arc<Self>) -> Box<dyn PackedBatch>;
    /// Every n-gram counted, ids mapped through `remap` (the identity when
    /// ids are final as counted), as flat keys and counts sorted by key. Every batch must be finished
    /// and dropped first.
    fn into_sorted(
        self: Arc<Self>,
        remap: &[u32],
        control: &Control,
    ) -> Result<(Vec<u32>, Vec<u64>)>;
}

/// Order-erased view of a [`SortedBatch`].
pub trait PackedBatch: Send {
    /// Add every window of the order in `sentence`; `max_id` is its largest
    /// id, or a larger one when both are below [`PackedBatch::limit`].
    fn add_windows(&mut self, sentence: &[u32], max_id: u32);
    /// End of a chunk: sort the buffer into a run once it is full, and insert
    /// the fallback's windows into its table.
    fn flush(&mut self);
    /// Sort whatever is buffered into a run (the worker's last call).
    fn finish(&mut self);
    /// Sentences whose ids are all below this pack; the others go to the
    /// fallback table.
    fn limit(&self) -> u64;
}

/// The counter of `n`-grams (n in 2..=6, see [`packs`]) with the narrowest
/// key that holds them, for `workers` workers; `top`: the highest order
/// counted, which takes every window of a sentence (its keys are streamed,
/// see [`push_windows`]), where a lower order takes one.
pub fn order_for(n: usize, workers: usize, top: bool) -> Arc<dyn PackedOrder> {
    if n <= 3 {
        SortedOrder::<u64>::new(n, workers, top)
    } else {
        SortedOrder::<Wide>::new(n, workers, top)
    }
}

/// The shared state of one packed order.
pub struct SortedOrder<K: Packed> {
    n: usize,
    /// Keys a worker buffers before it sorts them into a run.
    batch: usize,
    bits: u32,
    limit: u64,
    /// Re-sort into new keys of the next width up, never in place (tests):
    /// 128-bit ones for orders 2 and 3, arrays of ids for the others.
    wide: bool,
    /// Stream its keys (the top order's many windows; see [`push_windows`]).
    stream: bool,
    runs: Mutex<Vec<Run<K>>>,
    fallback: Arc<dyn OrderTable>,
}

/// A worker's private buffer for one [`SortedOrder`].
pub struct SortedBatch<K: Packed> {
    order: Arc<SortedOrder<K>>,
    pending: Vec<K>,
    fallback: Box<dyn OrderBatch>,
}

impl<K: Packed> SortedOrder<K> {
    /// An empty counter of `n`-grams for `workers` workers (`stream`: see
    /// [`order_for`]).
    pub fn new(n: usize, workers: usize, stream: bool) -> Arc<Self> {
        let bits = K::BITS / n as u32;
        let cap = LIMIT_CAP.load(Ordering::Relaxed);
        let share = PENDING_BYTES / (workers.max(1) * std::mem::size_of::<K>());
        // A lower order takes a key per sentence, mostly the same few
        // (sentence ends): small batches reduce to small runs, and a
        // worker's buffer stays small (Gutenberg's orders 1..3: 25-30 MB less
        // at the peak, which is memory the kernel must fault in fresh).
        let most = if stream {
            share.max(MIN_BATCH)
        } else {
            MIN_BATCH
        };
        Arc::new(Self {
            n,
            batch: BATCH_KEYS.load(Ordering::Relaxed).min(most),
            bits,
            limit: (1u64 << bits).min(cap),
            wide: cap != u64::MAX,
            stream,
            runs: Mutex::new(Vec::new()),
            fallback: table_for(n),
        })
    }

    /// Add a sorted run. Past [`KEEP_RUNS`] runs, it merges with the newest
    /// runs while they are not much bigger (merges happen outside the lock),
    /// which keeps the runs of a large corpus few. Below that the final merge
    /// takes them as they are: a merge now would copy every n-gram into fresh
    /// memory once more, and dedupes little at the higher orders.
    fn add_run(&self, mut run: Run<K>) {
        loop {
            let other = {
                let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
                let many = runs.len() >= KEEP_RUNS;
                match runs.last() {
                    Some(top) if many && top.len() <= 2 * run.len() => runs.pop(),
                    _ => {
                        runs.push(run);
                        return;
                    }
                }
            };
            if let Some(other) = other {
                run = merge(&run, &other);
            }
        }
    }
}

impl<K: Packed> PackedOrder for SortedOrder<K> {
    fn batch(self: Arc<Self>) -> Box<dyn PackedBatch> {
        let fallback = self.fallback.clone().batch();
        Box::new(SortedBatch {
            order: self,
            pending: Vec::new(),
            fallback,
        })
    }

    fn into_sorted(
        self: Arc<Self>,
        remap: &[u32],
        control: &Control,
    ) -> Result<(Vec<u32>, Vec<u64>)> {
        let (n, bits, wide) = (self.n, self.bits, self.wide);
        let (runs, fallback) = match Arc::try_unwrap(self) {
            Ok(o) => (
                o.runs.into_inner().unwrap_or_else(|p| p.into_inner()),
                o.fallback,
            ),
            Err(arc) => (
                std::mem::take(&mut *arc.runs.lock().unwrap_or_else(|p| p.into_inner())),
                arc.fallback.clone(),
            ),
        };
        // Bits of a final id: remap is a permutation of 0..remap.len().
        let fbits = (usize::BITS - remap.len().saturating_sub(1).leading_zeros()).max(1);
        // Ids final as counted (a remap that maps each id to itself: see
        // [`super::intern`]): the runs are sorted already.
        let identity = remap.iter().enumerate().all(|(i, &r)| r as usize == i);
        let (keys, counts) = if identity && !wide {
            merge_unpack(runs, n, bits)
        } else if n as u32 * fbits <= 128 && !(wide && K::BITS == 128) {
            let pieces = remap_pieces(runs, control, |k| {
                repack::<K, Wide>(k, n, bits, remap, fbits)
            })?;
            merge_unpack(pieces, n, fbits)
        } else {
            // Final ids too wide to pack (a vocabulary past 2^25 words at
            // order 5, 2^21 at order 6): keys as arrays of ids.
            let pieces = remap_pieces(runs, control, |k| {
                let mut out = [0u32; MAX_PACKED];
                for (j, id) in out[..n].iter_mut().enumerate() {
                    *id = remap[k.id(n - 1 - j, bits) as usize];
                }
                out
            })?;
            merge_unpack(pieces, n, 32)
        };
        if fallback.held() == 0 {
            return Ok((keys, counts));
        }
        let (fkeys, fcounts) = fallback.into_sorted(remap, control)?;
        Ok(merge_flat(n, (&keys, &counts), (&fkeys, &fcounts)))
    }
}

impl<K: Packed> PackedBatch for SortedBatch<K> {
    #[inline]
    fn add_windows(&mut self, sentence: &[u32], max_id: u32) {
        let o = &*self.order;
        let n = o.n;
        if sentence.len() < n {
            return;
        }
        if max_id as u64 >= o.limit {
            self.fallback.add_windows(sentence);
            return;
        }
        if self.pending.capacity() == 0 {
            // The whole batch at once, and room for the chunk that fills it
            // (chunks are 256 KB of text, a window per 2 bytes at most):
            // grown by doubling, the buffer would be copied and its pages
            // faulted in twice over. Reserving touches nothing (pages come
            // as keys are written).
            self.pending.reserve_exact(o.batch + o.batch / 8 + n);
        }
        let (bits, keep) = (o.bits, n as u32 * o.bits);
        push_windows(&mut self.pending, o.stream, sentence, n, |k, id| {
            k.shift_in(id, bits, keep)
        });
    }

    fn flush(&mut self) {
        streamed();
        self.fallback.flush();
        if self.pending.len() >= self.order.batch {
            self.sort_pending();
        }
    }

    fn finish(&mut self) {
        streamed();
        self.fallback.flush();
        if !self.pending.is_empty() {
            self.sort_pending();
        }
    }

    fn limit(&self) -> u64 {
        self.order.limit
    }
}

impl<K: Packed> SortedBatch<K> {
    fn sort_pending(&mut self) {
        let run = sort_into_run(&mut self.pending);
        self.order.add_run(run);
    }
}

/// Append to `keys` the key of every `n`-word window of `sentence` (at
/// least `n` words), each `step(the key before, id)` from [`Packed::ZERO`].
///
/// With `stream` (the top order, whose buffer takes every window), the keys
/// are written with [`Packed::stream_to`]: the buffer, tens of megabytes
/// written once and read back only when full, would otherwise evict the
/// interner's tables and the unigram counts that every token reads (a few
/// percent of the CPU on the Gutenberg orders 1..3). Call [`streamed`]
/// before reading them. A lower order adds one key per sentence and uses
/// plain stores: streaming those too would share the processor's few
/// write-combining buffers among several buffers of keys, each store then
/// flushing a partial line (orders 1..5 ran 5-10% slower that way).
#[inline(always)]
pub(super) fn push_windows<K: Packed>(
    keys: &mut Vec<K>,
    stream: bool,
    sentence: &[u32],
    n: usize,
    step: impl Fn(K, u32) -> K,
) {
    let (head, ids) = sentence.split_at(n - 1);
    let mut key = head.iter().fold(K::ZERO, |k, &id| step(k, id));
    if !stream {
        for &id in ids {
            key = step(key, id);
            keys.push(key);
        }
        return;
    }
    if keys.capacity() - keys.len() < ids.len() {
        // Growing copies the keys: order the ones streamed so far first.
        streamed();
        keys.reserve(ids.len());
    }
    let at = keys.len();
    let to = keys.spare_capacity_mut().as_mut_ptr() as *mut K;
    for (j, &id) in ids.iter().enumerate() {
        key = step(key, id);
        // SAFETY: the capacity holds every id's key past `at`.
        unsafe { key.stream_to(to.add(j)) };
    }
    // SAFETY: the keys were all written just above.
    unsafe { keys.set_len(at + ids.len()) };
}

/// Order the keys [`push_windows`] streamed before any later access to them
/// (non-temporal stores are not ordered otherwise).
#[inline]
pub(super) fn streamed() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of x86_64; a fence has no other effect.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    };
}

/// Sort `keys` and reduce them to a run of (key, count), leaving `keys`
/// empty (its memory kept for the next batch).
pub(super) fn sort_into_run<K: Packed>(keys: &mut Vec<K>) -> Run<K> {
    keys.sort_unstable();
    // Sized exactly: growing by doubling would copy the run and fault in
    // fresh pages twice over (most 5-grams of a batch are distinct).
    let distinct = 1 + keys.windows(2).filter(|w| w[0] != w[1]).count();
    let mut run: Run<K> = Vec::with_capacity(distinct);
    let mut i = 0;
    while i < keys.len() {
        let key = keys[i];
        let start = i;
        i += 1;
        while i < keys.len() && keys[i] == key {
            i += 1;
        }
        Entry::push(&mut run, key, (i - start) as u64);
    }
    keys.clear();
    run
}

/// The `n` ids of `key` (`bits` bits each) mapped through `remap`, packed
/// again with `to_bits` bits each.
#[inline(always)]
fn repack<P: Packed, Q: Packed>(key: P, n: usize, bits: u32, remap: &[u32], to_bits: u32) -> Q {
    let keep = n as u32 * to_bits;
    (0..n).rev().fold(Q::ZERO, |out, j| {
        out.shift_in(remap[key.id(j, bits) as usize], to_bits, keep)
    })
}

/// Cut `runs` into pieces, map each key with `map` and sort each piece by
/// the new key, in parallel.
fn remap_pieces<P: Packed, K: Ord + Copy + Send + Sync>(
    runs: Vec<Run<P>>,
    control: &Control,
    map: impl Fn(P) -> K + Sync,
) -> Result<Vec<Vec<Entry<K>>>> {
    let slices: Vec<&[Entry<P>]> = runs.iter().flat_map(|r| r.chunks(PIECE)).collect();
    slices
        .into_par_iter()
        .map(|s| {
            control.check()?;
            let mut piece: Vec<Entry<K>> = s
                .iter()
                .map(|&e| Entry {
                    key: map(e.key),
                    count: e.count,
                })
                .collect();
            piece.sort_unstable_by_key(|e| e.key);
            Ok(piece)
        })
        .collect()
}

/// A key of final ids, ordered as the n-grams it holds.
trait FinalKey: Ord + Copy + Send + Sync {
    /// Write its ids (`bits` bits each when packed), first id first, to `out`.
    fn unpack(self, bits: u32, out: &mut [u32]);
}

impl<K: Packed> FinalKey for K {
    #[inline(always)]
    fn unpack(self, bits: u32, out: &mut [u32]) {
        let n = out.len();
        for (j, id) in out.iter_mut().enumerate() {
            *id = self.id(n - 1 - j, bits);
        }
    }
}

impl FinalKey for [u32; MAX_PACKED] {
    #[inline(always)]
    fn unpack(self, _bits: u32, out: &mut [u32]) {
        let n = out.len();
        out.copy_from_slice(&self[..n]);
    }
}

/// Merge sorted pieces (each vector of `storage` one sorted run, or one
/// re-sorted piece of [`remap_pieces`]), summing the counts of equal keys,
/// into flat keys (`n` ids of `bits` bits each, first id highest) and
/// counts.
///
/// Splitters taken from the largest piece cut the key range into parts of
/// about [`MERGE_PART`] entries, which the threads take in key order: a
/// thread merges its part into a buffer of its own (small enough to stay in
/// the cache), waits until the part before has merged (its length gives this
/// part's first row), and writes the part's rows straight into the result.
/// Each part's entries are handed back to the kernel once merged, so the
/// memory in use stays near the larger of the pieces and the result, never
/// their sum (every page a stage adds to the peak is one the kernel must
/// fault in fresh); and no merged copy of the whole order is made (merging
/// all parts first, then unpacking them, wrote and read back 400 MB more on
/// the Gutenberg trigrams: the count faulted in 1.75 GB of huge pages, 1.56
/// GB this way).
fn merge_unpack<K: FinalKey>(
    storage: Vec<Vec<Entry<K>>>,
    n: usize,
    bits: u32,
) -> (Vec<u32>, Vec<u64>) {
    let pieces: Vec<&[Entry<K>]> = storage.iter().map(|p| &p[..]).collect();
    // At most one row an entry.
    let entries: usize = pieces.iter().map(|p| p.len()).sum();
    let largest = pieces.iter().max_by_key(|p| p.len()).map_or(&[][..], |p| p);
    let wanted = entries.div_ceil(MERGE_PART).max(1);
    let mut splitters: Vec<K> = (1..wanted)
        .filter_map(|i| largest.get(largest.len() * i / wanted).map(|e| e.key))
        .collect();
    splitters.dedup();
    let parts = splitters.len() + 1;
    // Part r holds the keys from splitters[r - 1] (included) to splitters[r]:
    // every piece is cut before any part merges, since a part frees what it
    // has read (below) and a search must not read freed entries.
    let cuts: Vec<Vec<usize>> = pieces
        .iter()
        .map(|p| {
            let inner = splitters
                .iter()
                .map(|&s| p.partition_point(|e| { e.key } < s));
            std::iter::once(0).chain(inner).chain([p.len()]).collect()
        })
        .collect();
    let mut keys: Vec<u32> = Vec::with_capacity(entries * n);
    let mut counts: Vec<u64> = Vec::with_capacity(entries);
    let out = RowsOut {
        keys: keys.as_mut_ptr(),
        counts: counts.as_mut_ptr(),
    };
    // The first row of each part, once the parts before it have merged.
    const UNKNOWN: usize = usize::MAX;
    let starts: Vec<AtomicUsize> = (0..=parts)
        .map(|r| AtomicUsize::new(if r == 0 { 0 } else { UNKNOWN }))
        .collect();
    let next = AtomicUsize::new(0);
    // Per piece, the address up to which it was handed back.
    let released = Mutex::new(vec![0usize; pieces.len()]);
    // Set when a thread panics, so that none waits for it forever.
    let failed = std::sync::atomic::AtomicBool::new(false);
    let threads = rayon::current_num_threads().clamp(1, parts);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let failing = FailOnPanic(&failed);
                let mut merged: Vec<(K, u64)> = Vec::new();
                let mut key = [0u32; MAX_PACKED];
                loop {
                    let r = next.fetch_add(1, Ordering::Relaxed);
                    if r >= parts {
                        break;
                    }
                    let slices: Vec<&[Entry<K>]> = pieces
                        .iter()
                        .zip(&cuts)
                        .map(|(p, at)| &p[at[r]..at[r + 1]])
                        .collect();
                    merged.clear();
                    let Ok(()) = kway_each(&slices, |k, c| {
                        merged.push((k, c));
                        Ok::<(), std::convert::Infallible>(())
                    });
                    let mut spins = 0u32;
                    let at = loop {
                        let at = starts[r].load(Ordering::Acquire);
                        if at != UNKNOWN {
                            break at;
                        }
                        if failed.load(Ordering::Relaxed) {
                            return;
                        }
                        spins += 1;
                        if spins < 64 {
                            std::hint::spin_loop();
                        } else {
                            std::thread::yield_now();
                        }
                    };
                    starts[r + 1].store(at + merged.len(), Ordering::Release);
                    {
                        // Every part up to this one has merged: what of the
                        // pieces they read goes back to the kernel.
                        let mut done = released.lock().unwrap_or_else(|p| p.into_inner());
                        for ((p, at), done) in pieces.iter().zip(&cuts).zip(done.iter_mut()) {
                            // SAFETY: the parts that read `p[..at[r + 1]]`
                            // have all merged, and nothing reads it again.
                            unsafe { crate::alloc::discard_prefix(&p[..at[r + 1]], done) };
                        }
                    }
                    // SAFETY: rows at..at + merged.len() are this part's
                    // alone (the parts before end at `at`, the ones after
                    // start past them), within the capacity of one row an
                    // entry, and nothing reads them before every thread ends.
                    let mut rows = unsafe { out.rows(at, merged.len(), n) };
                    for &(k, c) in &merged {
                        k.unpack(bits, &mut key[..n]);
                        rows.push(&key[..n], c);
                    }
                }
                std::mem::forget(failing);
            });
        }
    });
    let total = starts[parts].load(Ordering::Acquire);
    assert_ne!(
        total, UNKNOWN,
        "a part of the final merge was never written"
    );
    // SAFETY: the parts wrote rows 0..total, each its own range in turn.
    unsafe {
        keys.set_len(total * n);
        counts.set_len(total);
    }
    drop(pieces);
    drop(storage);
    // Hand back the capacity of the rows that duplicates saved (a mapped
    // block shrinks in place).
    keys.shrink_to_fit();
    counts.shrink_to_fit();
    (keys, counts)
}

/// The result arrays of [`merge_unpack`], written by its threads.
struct RowsOut {
    keys: *mut u32,
    counts: *mut u64,
}

// SAFETY: the threads write disjoint rows (see `merge_unpack`).
unsafe impl Sync for RowsOut {}

impl RowsOut {
    /// Rows `at..at + len` of `n` ids each, to write.
    ///
    /// # Safety
    /// The rows lie within the arrays' capacity, and no other thread writes
    /// or reads them meanwhile.
    unsafe fn rows(&self, at: usize, len: usize, n: usize) -> Rows<'_> {
        // SAFETY: as the caller promises.
        unsafe {
            Rows {
                keys: std::slice::from_raw_parts_mut(
                    self.keys.add(at * n).cast::<std::mem::MaybeUninit<u32>>(),
                    len * n,
                ),
                counts: std::slice::from_raw_parts_mut(
                    self.counts.add(at).cast::<std::mem::MaybeUninit<u64>>(),
                    len,
                ),
                n,
                at: 0,
            }
        }
    }
}

/// Sets its flag when dropped, that is when its thread unwinds (it is
/// forgotten on a normal end).
struct FailOnPanic<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for FailOnPanic<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The rows of one part of [`fill_rows`], written one after the other.
pub(super) struct Rows<'a> {
    keys: &'a mut [std::mem::MaybeUninit<u32>],
    counts: &'a mut [std::mem::MaybeUninit<u64>],
    /// Ids a row.
    n: usize,
    at: usize,
}

impl Rows<'_> {
    /// Write the next row: its `n` ids (the first `n` of `key`, which
    /// panics when shorter, so that no id of a row is left unwritten) and
    /// its count.
    #[inline(always)]
    pub(super) fn push(&mut self, key: &[u32], count: u64) {
        let n = self.n;
        let key = &key[..n];
        for (slot, &id) in self.keys[self.at * n..(self.at + 1) * n]
            .iter_mut()
            .zip(key)
        {
            slot.write(id);
        }
        self.counts[self.at].write(count);
        self.at += 1;
    }
}

/// Flat keys (`n` ids a row) and counts, written in parallel parts: part
/// `r` holds `lens[r]` rows, which `write(r, rows)` pushes in order. The
/// arrays are never zeroed first: each page is first touched by the thread
/// that writes it (zeroing them in one thread took a tenth of a small
/// count's time, faulting the pages in there). A part that writes fewer or
/// more rows than its length panics, so no row is left unwritten.
pub(super) fn fill_rows(
    n: usize,
    lens: &[usize],
    write: impl Fn(usize, &mut Rows<'_>) + Sync,
) -> (Vec<u32>, Vec<u64>) {
    let total: usize = lens.iter().sum();
    let mut keys: Vec<u32> = Vec::with_capacity(total * n);
    let mut counts: Vec<u64> = Vec::with_capacity(total);
    {
        let (mut krest, mut crest) = (
            &mut keys.spare_capacity_mut()[..total * n],
            &mut counts.spare_capacity_mut()[..total],
        );
        let mut parts = Vec::with_capacity(lens.len());
        for &len in lens {
            let (kh, kt) = std::mem::take(&mut krest).split_at_mut(len * n);
            let (ch, ct) = std::mem::take(&mut crest).split_at_mut(len);
            parts.push(Rows {
                keys: kh,
                counts: ch,
                n,
                at: 0,
            });
            krest = kt;
            crest = ct;
        }
        parts.into_par_iter().enumerate().for_each(|(r, mut rows)| {
            write(r, &mut rows);
            assert_eq!(rows.at, rows.counts.len(), "part {r} wrote too few rows");
        });
    }
    // SAFETY: every part wrote each of its rows (asserted above; `push`
    // past the end panics on the slice bounds), and the parts cover
    // `total` rows.
    unsafe {
        keys.set_len(total * n);
        counts.set_len(total);
    }
    (keys, counts)
}

/// K-way merge of sorted slices, summing the counts of equal keys.
#[cfg(test)]
fn kway<K: Ord + Copy>(slices: &[&[Entry<K>]]) -> Vec<(K, u64)> {
    let mut out: Vec<(K, u64)> = Vec::with_capacity(slices.iter().map(|s| s.len()).sum());
    let pushed: std::result::Result<(), std::convert::Infallible> = kway_each(slices, |k, c| {
        out.push((k, c));
        Ok(())
    });
    let Ok(()) = pushed;
    out
}

/// K-way merge of sorted slices: `emit` gets every key once, in order, with
/// its counts summed (over the slices, and over the entries of one slice
/// that share it).
///
/// A tournament of losers: each inner node of a complete binary tree over
/// the slices holds the slice that lost the game played there, so taking the
/// next entry replays only the games on one path from a leaf to the root,
/// one comparison a level (a binary heap takes two a level, and its sifting
/// branches are less predictable). With the runs no longer cut into pieces
/// of [`PIECE`] entries (twice the leaves), it took the final merge of the
/// Gutenberg trigrams from 0.46-0.50 s to 0.35-0.39 s.
pub(super) fn kway_each<K: Ord + Copy, E>(
    slices: &[&[Entry<K>]],
    mut emit: impl FnMut(K, u64) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let slices: Vec<&[Entry<K>]> = slices.iter().copied().filter(|s| !s.is_empty()).collect();
    if slices.is_empty() {
        return Ok(());
    }
    let leaves = slices.len().next_power_of_two();
    // Each slice's next entry, and its key with whether the slice is done
    // (a done slice, or a leaf with no slice, loses to every other).
    let mut pos = vec![0usize; leaves];
    let first = slices[0][0].key;
    let mut heads: Vec<(bool, K)> = (0..leaves)
        .map(|i| slices.get(i).map_or((true, first), |s| (false, s[0].key)))
        .collect();
    let less = |heads: &[(bool, K)], a: usize, b: usize| -> bool {
        let ((done_a, ka), (done_b, kb)) = (heads[a], heads[b]);
        !done_a && (done_b || ka < kb)
    };
    // The first tournament, bottom up: `winner[j]` won at node j, `loser[j]`
    // lost there (nodes 1..leaves; the leaves are leaves..2 * leaves).
    let mut winner = vec![0usize; 2 * leaves];
    let mut loser = vec![0usize; leaves];
    for (i, w) in winner[leaves..].iter_mut().enumerate() {
        *w = i;
    }
    for j in (1..leaves).rev() {
        let (a, b) = (winner[2 * j], winner[2 * j + 1]);
        let (w, l) = if less(&heads, b, a) { (b, a) } else { (a, b) };
        winner[j] = w;
        loser[j] = l;
    }
    let mut top = winner[1];
    let mut current: Option<(K, u64)> = None;
    while !heads[top].0 {
        let slice = slices[top];
        let (key, count) = (heads[top].1, u64::from(slice[pos[top]].count));
        match current.as_mut() {
            Some(c) if c.0 == key => c.1 += count,
            _ => {
                if let Some((k, c)) = current.replace((key, count)) {
                    emit(k, c)?;
                }
            }
        }
        pos[top] += 1;
        heads[top] = match slice.get(pos[top]) {
            Some(e) => (false, e.key),
            None => (true, key),
        };
        // Replay the games on the path from `top`'s leaf to the root.
        let mut j = (top + leaves) / 2;
        while j > 0 {
            let l = loser[j];
            if less(&heads, l, top) {
                loser[j] = top;
                top = l;
            }
            j /= 2;
        }
    }
    match current {
        Some((k, c)) => emit(k, c),
        None => Ok(()),
    }
}

/// Merge two sorted runs, summing the counts of keys in both.
fn merge<K: Ord + Copy>(a: &[Entry<K>], b: &[Entry<K>]) -> Run<K> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        match { x.key }.cmp(&{ y.key }) {
            std::cmp::Ordering::Less => {
                out.push(x);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(y);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                Entry::push(&mut out, x.key, u64::from(x.count) + u64::from(y.count));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Merge two sorted flat key lists of order `n`, summing the counts of keys in both.
fn merge_flat(n: usize, a: (&[u32], &[u64]), b: (&[u32], &[u64])) -> (Vec<u32>, Vec<u64>) {
    let mut keys = Vec::with_capacity(a.0.len() + b.0.len());
    let mut counts = Vec::with_capacity(a.1.len() + b.1.len());
    let (mut i, mut j) = (0, 0);
    while i < a.1.len() || j < b.1.len() {
        let ka = (i < a.1.len()).then(|| &a.0[i * n..(i + 1) * n]);
        let kb = (j < b.1.len()).then(|| &b.0[j * n..(j + 1) * n]);
        let ord = match (ka, kb) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match ord {
            std::cmp::Ordering::Less => {
                keys.extend_from_slice(&a.0[i * n..(i + 1) * n]);
                counts.push(a.1[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                keys.extend_from_slice(&b.0[j * n..(j + 1) * n]);
                counts.push(b.1[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                keys.extend_from_slice(&a.0[i * n..(i + 1) * n]);
                counts.push(a.1[i] + b.1[j]);
                i += 1;
                j += 1;
            }
        }
    }
    (keys, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of (key, count) pairs as entries (a count past `u32::MAX` split).
    fn run(pairs: &[(u64, u64)]) -> Run<u64> {
        let mut out = Vec::new();
        for &(k, c) in pairs {
            Entry::push(&mut out, k, c);
        }
        out
    }

    /// A xorshift64 generator from `state` (not 0).
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// The k-way merge against a map, for every number of slices up to 13,
    /// with empty slices, keys in several slices and counts past `u32::MAX`
    /// (several entries of one key in one slice).
    #[test]
    fn kway_merges_any_number_of_slices() {
        let mut next = xorshift(7);
        for k in 0..14usize {
            let runs: Vec<Run<u64>> = (0..k)
                .map(|j| {
                    let len = if j % 4 == 3 { 0 } else { next() % 300 };
                    let mut keys: Vec<u64> = (0..len).map(|_| next() % 500).collect();
                    keys.sort_unstable();
                    keys.dedup();
                    let big = u64::from(u32::MAX) + 5;
                    run(&keys
                        .iter()
                        .map(|&key| (key, if key % 97 == 0 { big } else { 1 + key % 3 }))
                        .collect::<Vec<_>>())
                })
                .collect();
            let mut want: std::collections::BTreeMap<u64, u64> = Default::default();
            for e in runs.iter().flatten() {
                *want.entry(e.key).or_default() += u64::from(e.count);
            }
            let slices: Vec<&[Entry<u64>]> = runs.iter().map(|r| &r[..]).collect();
            let got = kway(&slices);
            assert_eq!(got, want.into_iter().collect::<Vec<_>>(), "{k} slices");
        }
    }

    /// The final merge in many parts (more than threads, taken in key
    /// order, each writing its rows where the part before ends) gives the
    /// rows of a plain sum, ids unpacked first id first.
    #[test]
    fn the_final_merge_writes_every_part_in_order() {
        let mut next = xorshift(11);
        let bits = 21;
        let runs: Vec<Run<u64>> = (0..5)
            .map(|j| {
                let mut keys: Vec<u64> = (0..150_000 + 20_000 * j)
                    .map(|_| {
                        // Skewed first ids, as in a corpus: many keys share one.
                        let first = (next() % 64).pow(2) % 3000;
                        (first << (2 * bits)) | (next() & 0xFF_FFFF)
                    })
                    .collect();
                sort_into_run(&mut keys)
            })
            .collect();
        let mut want: std::collections::BTreeMap<u64, u64> = Default::default();
        for e in runs.iter().flatten() {
            *want.entry(e.key).or_default() += u64::from(e.count);
        }
        let entries: usize = runs.iter().map(Vec::len).sum();
        assert!(entries > 3 * MERGE_PART, "{entries} entries: too few parts");
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (keys, counts) = pool.install(|| merge_unpack(runs.clone(), 3, bits));
            assert_eq!(counts.len(), want.len());
            assert_eq!(keys.len(), 3 * want.len());
            for ((row, &count), (&key, &c)) in keys.chunks(3).zip(&counts).zip(&want) {
                let ids: Vec<u32> = (0..3).map(|j| key.id(2 - j, bits)).collect();
                assert_eq!((row, count), (&ids[..], c), "{threads} threads");
            }
        }
    }

    #[test]
    fn merges_sum_shared_keys() {
        let max = u64::from(u32::MAX);
        let a = run(&[(1, 2), (3, 1), (9, 5)]);
        let b = run(&[(0, 1), (3, max), (10, 1)]);
        // A sum past u32::MAX is held as two entries of one key.
        let ab = merge(&a, &b);
        assert_eq!(
            ab,
            run(&[(0, 1), (1, 2), (3, max), (3, 1), (9, 5), (10, 1)])
        );
        assert_eq!(run(&[(7, 2 * max + 3)]).len(), 3);
        // Readers sum them: with another run holding the key twice too.
        let c = run(&[(3, max + 1)]);
        let all = kway(&[&ab, &c, &[]]);
        assert_eq!(all, [(0, 1), (1, 2), (3, 2 * max + 2), (9, 5), (10, 1)]);
        assert_eq!(
            merge(&ab, &c)
                .iter()
                .map(|e| u64::from(e.count))
                .sum::<u64>(),
            2 * max + 11
        );
        // Order 2, 32-bit ids: the splitters cut between parts, whatever the
        // pieces, and pieces of many pages (freed part by part as they are
        // merged) give the same sums.
        for len in [1000u64, 300_000] {
            let pieces: Vec<Run<u64>> = (1..6u64)
                .map(|p| run(&(0..len).map(|i| ((i * p) << 32 | i, p)).collect::<Vec<_>>()))
                .collect();
            let mut want: std::collections::BTreeMap<u64, u64> = Default::default();
            for e in pieces.iter().flatten() {
                *want.entry(e.key).or_insert(0) += u64::from(e.count);
            }
            let (keys, counts) = merge_unpack(pieces, 2, 32);
            assert_eq!(counts, want.values().copied().collect::<Vec<_>>());
            let first: Vec<u32> = want.keys().map(|k| (k >> 32) as u32).collect();
            assert_eq!(keys.iter().step_by(2).copied().collect::<Vec<_>>(), first);
        }
        let flat = merge_flat(
            2,
            (&[0, 1, 0, 3], &[1, 2]),
            (&[0, 2, 0, 3, 1, 0], &[4, 5, 6]),
        );
        assert_eq!(flat, (vec![0, 1, 0, 2, 0, 3, 1, 0], vec![1, 4, 7, 6]));
    }

    #[test]
    fn many_workers_shrink_the_batch() {
        for workers in [1, 2, 16, 64, 512] {
            let narrow = SortedOrder::<u64>::new(3, workers, true).batch;
            let wide = SortedOrder::<Wide>::new(5, workers, true).batch;
            assert!(narrow <= BATCH && wide <= BATCH);
            assert!(narrow * workers * 8 <= PENDING_BYTES.max(MIN_BATCH * workers * 8));
            assert!(wide * workers * 16 <= PENDING_BYTES.max(MIN_BATCH * workers * 16));
        }
        assert!(SortedOrder::<Wide>::new(5, 64, true).batch <= MIN_BATCH);
    }

    /// Every n-gram of orders 1..=6 counted naively: (words, count) by strings.
    fn naive(texts: &[String]) -> std::collections::BTreeMap<Vec<String>, u64> {
        let mut counts = std::collections::BTreeMap::new();
        for text in texts {
            for line in text.lines() {
                let mut s = vec!["<s>".to_string()];
                s.extend(line.split_whitespace().map(str::to_string));
                s.push("</s>".to_string());
                for n in 1..=MAX_PACKED {
                    for w in s.windows(n) {
                        *counts.entry(w.to_vec()).or_insert(0) += 1;
                    }
                }
            }
        }
        counts
    }

    #[test]
    fn count_packed_and_fallback_paths_agree_with_a_naive_count() {
        use crate::corpus::{read, Corpus};
        use crate::count::{count_ngrams, CountOptions};
        // Zipf-ish words, some long ones sharing head and tail (the interner's
        // summary of a long word), lines of 0..12 words.
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let texts: Vec<String> = (0..40)
            .map(|_| {
                (0..50)
                    .map(|_| {
                        let len = next() % 13;
                        (0..len)
                            .map(|_| {
                                let r = next() % 1000 + 1;
                                let w = 1000 / r;
                                if w % 7 == 3 {
                                    format!("head-of-a-long-word-{w}-tail-of-a-long-word")
                                } else {
                                    format!("w{w}")
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        let want = naive(&texts);
        let corpus = Corpus::from_texts(texts);
        let control = Control::new();
        let mut results = Vec::new();
        // Small chunks reach the parallel reader; a small pack limit sends
        // the sentences holding later words to the fallback table mid-corpus
        // and the final re-sort through its wide keys.
        let _settings = crate::corpus::read::settings_lock();
        read::set_chunk_bytes(700);
        for (limit, batch) in [(0, 0), (12, 0), (0, 40), (12, 40)] {
            set_pack_limit(limit);
            // A batch of 40 keys: a run per chunk or so, merged as they pile up.
            set_batch_keys(batch);
            for threads in [1, 2, 4] {
                let options = CountOptions {
                    order: MAX_PACKED,
                    threads,
                    ..CountOptions::default()
                };
                results.push(count_ngrams(&corpus, &options, &control).unwrap());
            }
        }
        set_pack_limit(0);
        set_batch_keys(0);
        read::set_chunk_bytes(0);
        let first = &results[0];
        for r in &results[1..] {
            assert_eq!(r.orders, first.orders);
            assert_eq!(r.vocab.len(), first.vocab.len());
        }
        let mut got = std::collections::BTreeMap::new();
        for order in &first.orders {
            assert!(order.validate(first.vocab.len()).is_ok());
            for i in 0..order.len() {
                let words: Vec<String> = order
                    .key(i)
                    .iter()
                    .map(|&id| first.vocab.word(id).unwrap().to_string())
                    .collect();
                got.insert(words, order.counts[i]);
            }
        }
        assert_eq!(got, want);
    }
}

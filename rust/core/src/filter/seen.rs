//! The set of texts seen so far, shared by the workers of a deduplication
//! and filled in corpus order.
//!
//! Deciding which copy of a text comes first is sequential by nature: the
//! earliest in corpus order wins. One set on one thread made that the
//! bottleneck of deduplicating a big corpus (a random memory access per line,
//! and the rehashes of one huge table). Here the 128-bit hashes are split by
//! their top bits into [`SHARDS`] sets, each with a turn counter: a worker
//! that hashed chunk `seq` waits until chunk `seq - 1` has passed a shard,
//! inserts its hashes of that shard, and passes the turn on. Two workers thus
//! insert at once, one a few shards behind the other, and every shard still
//! sees the chunks in corpus order, so the first occurrence is the one kept
//! whatever the thread count (within a chunk, a shard's hashes go in in line
//! order). Small shards also rehash in cache.
//!
//! Contract: [`OrderedSeen::check`] must be called once for every chunk
//! number from 0 up, or the chunks after a missing number must be released
//! with [`OrderedSeen::fail`] (a chunk that failed) or [`OrderedSeen::abandon`]
//! (the whole run stops); a waiter then returns [`Error::Cancelled`].

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use hashbrown::HashSet;

use crate::control::Control;
use crate::{Error, Result};

/// The number of shards: enough that a worker rarely waits for another on
/// the same shard, few enough that a chunk's pass over them costs nothing.
pub const SHARDS: usize = 64;

/// A hasher for keys that already are uniform hashes: their low 64 bits.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u128 keys come here; any other input is folded in anyway.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
}

type Set = HashSet<u128, BuildHasherDefault<Prehashed>>;

struct Shard {
    /// The chunk whose turn it is.
    next: u64,
    set: Set,
}

/// Hashes seen so far, in shards taken in corpus order (see the module docs).
pub struct OrderedSeen<'c> {
    shards: Vec<(Mutex<Shard>, Condvar)>,
    /// The first chunk that failed (`u64::MAX`: none): chunks after it stop waiting.
    failed: AtomicU64,
    /// Set when the run stops: every waiter gives up.
    abandoned: AtomicBool,
    control: &'c Control,
}

impl<'c> OrderedSeen<'c> {
    /// An empty set; waiting stops when `control` is cancelled.
    pub fn new(control: &'c Control) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    let shard = Shard {
                        next: 0,
                        set: Set::default(),
                    };
                    (Mutex::new(shard), Condvar::new())
                })
                .collect(),
            failed: AtomicU64::new(u64::MAX),
            abandoned: AtomicBool::new(false),
            control,
        }
    }

    fn shard_of(hash: u128) -> usize {
        // The top bits; the tables use the low 64 (see `Prehashed`).
        (hash >> 122) as usize % SHARDS
    }

    /// For each hash of chunk `seq` (None: a blank text, never a duplicate),
    /// whether it was seen in an earlier chunk or earlier in `hashes`; inserts
    /// them. Waits for the chunks before `seq` (see the module docs).
    pub fn check(&self, seq: u64, hashes: &[Option<u128>]) -> Result<Vec<bool>> {
        // Line indexes grouped by shard, in line order within each (a counting sort).
        let mut starts = [0usize; SHARDS + 1];
        for h in hashes.iter().flatten() {
            starts[Self::shard_of(*h) + 1] += 1;
        }
        for s in 0..SHARDS {
            starts[s + 1] += starts[s];
        }
        let mut fill = starts;
        let mut order = vec![0u32; starts[SHARDS]];
        for (i, h) in hashes.iter().enumerate() {
            if let Some(h) = h {
                let s = Self::shard_of(*h);
                order[fill[s]] = i as u32;
                fill[s] += 1;
            }
        }
        let mut repeated = vec![false; hashes.len()];
        for (s, (lock, turn)) in self.shards.iter().enumerate() {
            let mut shard = lock.lock().unwrap_or_else(|p| p.into_inner());
            while shard.next != seq {
                if self.given_up(seq) {
                    return Err(Error::Cancelled);
                }
                // A timeout, so that a cancel or failure is seen even if no
                // one passes the turn on.
                shard = turn
                    .wait_timeout(shard, Duration::from_millis(20))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            for &i in &order[starts[s]..starts[s + 1]] {
                if let Some(h) = hashes[i as usize] {
                    repeated[i as usize] = !shard.set.insert(h);
                }
            }
            shard.next += 1;
            drop(shard);
            turn.notify_all();
        }
        Ok(repeated)
    }

    fn given_up(&self, seq: u64) -> bool {
        self.abandoned.load(Ordering::Relaxed)
            || self.failed.load(Ordering::Relaxed) < seq
            || self.control.is_cancelled()
    }

    /// Chunk `seq` failed before its check: the chunks after it stop waiting.
    pub fn fail(&self, seq: u64) {
        self.failed.fetch_min(seq, Ordering::Relaxed);
    }

    /// The run stops: every waiter gives up.
    pub fn abandon(&self) {
        self.abandoned.store(true, Ordering::Relaxed);
    }

    /// The number of distinct hashes inserted.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|(lock, _)| lock.lock().map_or(0, |s| s.set.len()))
            .sum()
    }

    /// Whether no hash was inserted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_checked_out_of_order_still_keep_the_first() {
        let control = Control::new();
        let seen = OrderedSeen::new(&control);
        // Hashes spread over the shards; chunk 1 repeats chunk 0's 7 and its own 9.
        let h = |x: u128| Some(x.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835));
        std::thread::scope(|scope| {
            let later = scope.spawn(|| seen.check(1, &[h(9), h(7), None, h(9)]).unwrap());
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(
                seen.check(0, &[h(7), h(8), h(7)]).unwrap(),
                [false, false, true]
            );
            assert_eq!(later.join().unwrap(), [false, true, false, true]);
        });
        assert_eq!(seen.len(), 3);
        // A failed chunk releases the ones after it, not the ones before.
        seen.fail(3);
        assert!(matches!(seen.check(4, &[h(1)]), Err(Error::Cancelled)));
        assert_eq!(seen.check(2, &[h(8), h(1)]).unwrap(), [true, false]);
        seen.abandon();
        assert!(seen.check(5, &[]).is_err());
    }
}

//! A matrix that several threads read and write at once, soundly: the storage
//! of Hogwild training.
//!
//! word2vec.c and gensim let their threads race on plain floats. In Rust a
//! data race on non-atomic memory is undefined behaviour, whatever the
//! hardware would do, so overlapping `&mut [f32]` slices in several threads are
//! not an option. Relaxed atomic cells are sound but slow: the compiler does
//! not vectorise atomic accesses, so every row had to be copied cell by cell
//! into a local buffer and back (about 200 scalar atomic operations per row
//! touched, a third of the training speed).
//!
//! Here every row carries its own lock, a spin lock in the word just before
//! the row's values (so it shares their cache lines rather than crowding the
//! locks of other rows into one). [`SharedMatrix::with_row`] takes the lock,
//! hands the closure the row as a plain `&mut [f32]` (on which the vectorised
//! loops of [`super::step`] run directly) and releases it. A thread holds one
//! row lock at a time and never waits for a second while holding one, so there
//! is no deadlock; with two threads and a vocabulary of many thousands of rows
//! they rarely meet on a row, and a lock is one uncontended compare-and-swap.
//!
//! What changes against the C tool: two threads updating one row at once
//! serialise instead of losing an update. With one thread the values, and so
//! the bits, are those of the plain-slice version.

use std::sync::atomic::{AtomicU32, Ordering};

/// The lock word of a row that nobody holds.
const FREE: u32 = 0;
/// The lock word of a row that a thread holds.
const HELD: u32 = 1;
/// Busy-wait this many times on a held row before yielding the core: the
/// holder may have been descheduled on a loaded machine.
const SPINS_BEFORE_YIELD: u32 = 100;

/// A `rows x dim` f32 matrix, row-major, shared between threads (module docs).
///
/// Storage: `rows * (dim + 1)` words; row `r` is word `r * (dim + 1)`, its
/// lock ([`FREE`] or [`HELD`], only ever accessed atomically), followed by the
/// `dim` values as f32 bits. A value is accessed atomically only through
/// `&mut self` or `self` (construction and [`SharedMatrix::into_vec`]), and
/// otherwise non-atomically, only through [`SharedMatrix::with_row`], only
/// while its row's lock is held.
#[derive(Debug)]
pub struct SharedMatrix {
    words: Box<[AtomicU32]>,
    dim: usize,
}

/// Holds the lock of one row; releases it when dropped (also on a panic in
/// the closure, so other threads are never stuck on a dead holder).
struct RowLock<'a>(&'a AtomicU32);

impl<'a> RowLock<'a> {
    #[inline]
    fn acquire(lock: &'a AtomicU32) -> Self {
        if lock
            .compare_exchange_weak(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            Self::wait(lock);
        }
        Self(lock)
    }

    /// The slow path: wait (reading, not writing, the lock's cache line) until
    /// the row looks free, then try again.
    #[cold]
    #[inline(never)]
    fn wait(lock: &AtomicU32) {
        let mut spins = 0u32;
        loop {
            while lock.load(Ordering::Relaxed) != FREE {
                if spins < SPINS_BEFORE_YIELD {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            if lock
                .compare_exchange_weak(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

impl Drop for RowLock<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.store(FREE, Ordering::Release);
    }
}

impl SharedMatrix {
    /// The matrix holding `values` (`rows * dim` of them, row-major).
    ///
    /// Panics if `dim` is 0 or does not divide `values.len()`: a caller's bug.
    pub fn from_vec(values: Vec<f32>, dim: usize) -> Self {
        assert!(
            dim > 0 && values.chunks_exact(dim).remainder().is_empty(),
            "bad matrix shape"
        );
        let words = values
            .chunks_exact(dim)
            .flat_map(|row| {
                std::iter::once(AtomicU32::new(FREE))
                    .chain(row.iter().map(|v| AtomicU32::new(v.to_bits())))
            })
            .collect();
        Self { words, dim }
    }

    /// The values, row-major (the matrix is no longer shared, so no locks).
    pub fn into_vec(self) -> Vec<f32> {
        let dim = self.dim;
        self.words
            .into_vec()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % (dim + 1) != 0)
            .map(|(_, w)| f32::from_bits(w.into_inner()))
            .collect()
    }

    /// Columns.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.words.len() / (self.dim + 1)
    }

    /// Run `f` on row `row`, holding that row's lock: no other thread reads
    /// or writes the row meanwhile. `f` must not call `with_row` on the same
    /// matrix (it would wait for itself on the same row); calling it on
    /// another matrix's row is fine. Panics if `row` is out of range.
    #[inline]
    pub fn with_row<R>(&self, row: u32, f: impl FnOnce(&mut [f32]) -> R) -> R {
        let start = row as usize * (self.dim + 1);
        let slot = &self.words[start..start + self.dim + 1];
        let (lock, cells) = (&slot[0], &slot[1..]);
        let _held = RowLock::acquire(lock);
        // SAFETY: `cells` are `dim` AtomicU32s, each an `UnsafeCell<u32>`
        // with the size and alignment of an f32, so the pointer (derived from
        // the whole slice, hence valid for all `dim` of them, and writable
        // because the bytes are inside `UnsafeCell`s) may be viewed as `dim`
        // f32s, and every bit pattern is a valid f32. The `&mut` is unique and
        // free of data races: every access to these values other than through
        // `&mut self`/`self` goes through this function while holding the
        // row's lock; acquiring it (Acquire) synchronises with the previous
        // holder's release (Release, in `RowLock::drop`), so all earlier
        // accesses happen before ours and ours happen before the next
        // holder's. The lock word itself is outside the slice and only ever
        // accessed atomically. The reference does not outlive the lock: it
        // lives in this call, `_held` is dropped after `f` returns, and `f`
        // cannot keep it (its lifetime is that of the call). A nested
        // `with_row` on this row from `f` would spin for ever instead of
        // making a second reference. Other threads may meanwhile hold shared
        // `&[AtomicU32]`s over these cells (to reach the lock word); as with
        // `std::sync::Mutex` (a `&Mutex<T>` covers the `UnsafeCell<T>` whose
        // `&mut T` the guard hands out), a shared reference to `UnsafeCell`
        // contents is not an access and does not conflict with the `&mut`.
        let values = unsafe {
            std::slice::from_raw_parts_mut(cells.as_ptr().cast::<f32>().cast_mut(), self.dim)
        };
        f(values)
    }

    /// Copy row `row` into `out` (`dim` long).
    #[inline]
    pub fn load_row(&self, row: u32, out: &mut [f32]) {
        self.with_row(row, |r| out.copy_from_slice(r));
    }

    /// Overwrite row `row` with `values` (`dim` long).
    #[inline]
    pub fn store_row(&self, row: u32, values: &[f32]) {
        self.with_row(row, |r| r.copy_from_slice(values));
    }

    /// `row += delta`, value by value, under the row's lock.
    #[inline]
    pub fn add_to_row(&self, row: u32, delta: &[f32]) {
        self.with_row(row, |r| {
            for (v, d) in r.iter_mut().zip(delta) {
                *v += *d;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip() {
        let m = SharedMatrix::from_vec((0..6).map(|i| i as f32).collect(), 3);
        assert_eq!((m.rows(), m.dim()), (2, 3));
        let mut buf = [0f32; 3];
        m.load_row(1, &mut buf);
        assert_eq!(buf, [3.0, 4.0, 5.0]);
        m.store_row(0, &[-1.0, -2.0, -3.0]);
        m.add_to_row(1, &[0.5, 0.5, 0.5]);
        assert_eq!(m.with_row(1, |r| r[2]), 5.5);
        assert_eq!(m.into_vec(), vec![-1.0, -2.0, -3.0, 3.5, 4.5, 5.5]);
    }

    #[test]
    fn threads_share_it() {
        let m = SharedMatrix::from_vec(vec![0.0; 8], 4);
        std::thread::scope(|s| {
            s.spawn(|| m.store_row(0, &[1.0; 4]));
            s.spawn(|| m.add_to_row(1, &[2.0; 4]));
        });
        assert_eq!(m.into_vec(), vec![1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]);
    }

    #[test]
    fn row_lock_excludes_other_threads() {
        // Read-modify-write of whole rows from several threads at once: with
        // the lock no increment is lost (without it many would be).
        let m = SharedMatrix::from_vec(vec![0.0; 3 * 16], 16);
        let rounds = 20_000;
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let m = &m;
                s.spawn(move || {
                    for i in 0..rounds {
                        m.with_row((i + t) % 2, |r| {
                            for v in r.iter_mut() {
                                *v += 1.0;
                            }
                        });
                    }
                });
            }
        });
        let v = m.into_vec();
        let total: f32 = v.iter().sum();
        assert_eq!(total, (4 * rounds * 16) as f32);
        assert!(v[..32].iter().all(|&x| x == (2 * rounds) as f32));
        assert!(v[32..].iter().all(|&x| x == 0.0));
    }
}

//! A matrix that several threads read and write at once, without locks and
//! without undefined behaviour: the storage of Hogwild training.
//!
//! word2vec.c and gensim let their threads race on plain floats. In Rust a
//! data race on non-atomic memory is undefined behaviour, whatever the
//! hardware would do, so overlapping `&mut [f32]` slices in several threads are
//! not an option. Here every cell is an [`AtomicU32`] holding the bits of an
//! f32, read and written with [`Ordering::Relaxed`]: on x86-64 and AArch64 a
//! relaxed 32-bit load or store is the same single `mov`/`ldr`/`str` as a plain
//! one, no fence, no lock prefix. Two threads updating one cell at once may
//! lose one of the two updates (as in the C tool), but a value is never torn
//! and nothing is undefined.
//!
//! The compiler does not vectorise atomic accesses, so the arithmetic never
//! runs on the cells: a row is copied into a thread-local buffer
//! ([`SharedMatrix::load_row`]), computed on there with the vectorised loops
//! of [`super::step`], and written back ([`SharedMatrix::store_row`]). With one
//! thread the values, and so the bits, are those of the plain-slice version.

use std::sync::atomic::{AtomicU32, Ordering};

/// A `rows x dim` f32 matrix, row-major, shared between threads (module docs).
#[derive(Debug)]
pub struct SharedMatrix {
    cells: Box<[AtomicU32]>,
    dim: usize,
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
        Self {
            cells: values
                .into_iter()
                .map(|v| AtomicU32::new(v.to_bits()))
                .collect(),
            dim,
        }
    }

    /// The values, row-major (the matrix is no longer shared, so no atomics).
    pub fn into_vec(self) -> Vec<f32> {
        self.cells
            .into_vec()
            .into_iter()
            .map(|c| f32::from_bits(c.into_inner()))
            .collect()
    }

    /// Columns.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.cells.len() / self.dim
    }

    #[inline]
    fn row(&self, row: u32) -> &[AtomicU32] {
        let start = row as usize * self.dim;
        &self.cells[start..start + self.dim]
    }

    /// Copy row `row` into `out` (`dim` long).
    #[inline]
    pub fn load_row(&self, row: u32, out: &mut [f32]) {
        for (o, c) in out.iter_mut().zip(self.row(row)) {
            *o = f32::from_bits(c.load(Ordering::Relaxed));
        }
    }

    /// Overwrite row `row` with `values` (`dim` long).
    #[inline]
    pub fn store_row(&self, row: u32, values: &[f32]) {
        for (c, v) in self.row(row).iter().zip(values) {
            c.store(v.to_bits(), Ordering::Relaxed);
        }
    }

    /// `row += delta`, cell by cell (a relaxed load, an f32 sum, a relaxed
    /// store: not an atomic read-modify-write, as Hogwild allows).
    #[inline]
    pub fn add_to_row(&self, row: u32, delta: &[f32]) {
        for (c, d) in self.row(row).iter().zip(delta) {
            let v = f32::from_bits(c.load(Ordering::Relaxed)) + *d;
            c.store(v.to_bits(), Ordering::Relaxed);
        }
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
}

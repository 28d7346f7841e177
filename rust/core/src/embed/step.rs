//! One update of skip-gram or CBOW with negative sampling, on rows of the two
//! weight matrices: `syn0` (the word vectors) and `syn1neg` (the output
//! vectors), each `vocabulary x dim`, row-major.
//!
//! Every float operation here is in f32 and in a fixed order, so
//! `nextword.reference.word2vec`, which rounds each operation to f32 the same
//! way, gets the same bits:
//! - [`dot`] sums `a[i] * b[i]` into eight partial sums by `i % 8`, in
//!   increasing `i`, then adds the eight in order. Eight independent sums let
//!   the compiler use vector registers, which one running sum would forbid.
//! - [`axpy`] is `y[i] += g * x[i]`, a product then a sum (never fused).
//! - as in the C tool, the sigmoid is read from a table of
//!   [`SIGMOID_TABLE_SIZE`] + 1 values over `[-MAX_EXP, MAX_EXP]` (computed in
//!   f64, stored as f32): an exponential per output would cost about as much
//!   as the dot product. A score beyond `±MAX_EXP` gets the limit, 0 or 1.

use super::shared::SharedMatrix;

/// Scores beyond ±6 saturate the sigmoid, as `MAX_EXP` in word2vec.c.
pub const MAX_EXP: f32 = 6.0;
/// Steps of the sigmoid table over `[-MAX_EXP, MAX_EXP]` (`EXP_TABLE_SIZE` in word2vec.c).
pub const SIGMOID_TABLE_SIZE: usize = 1000;
/// The number of partial sums of [`dot`].
pub const LANES: usize = 8;

/// Dot product of two equally long slices, in the order of the module docs.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let whole = a.len() / LANES * LANES;
    for (x, y) in a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
    {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    for i in whole..a.len().min(b.len()) {
        acc[i % LANES] += a[i] * b[i];
    }
    let mut sum = 0f32;
    for v in acc {
        sum += v;
    }
    sum
}

/// `y += g * x`.
#[inline]
pub fn axpy(g: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += g * *x;
    }
}

/// `sigmoid(x)` at `x = (i / SIGMOID_TABLE_SIZE * 2 - 1) * MAX_EXP`, for `i` in `0..=SIZE`.
static SIGMOID: std::sync::LazyLock<Vec<f32>> = std::sync::LazyLock::new(|| {
    (0..=SIGMOID_TABLE_SIZE)
        .map(|i| {
            let e = ((i as f64 / SIGMOID_TABLE_SIZE as f64 * 2.0 - 1.0) * MAX_EXP as f64).exp();
            (e / (e + 1.0)) as f32
        })
        .collect()
});

/// The sigmoid of a score in `[-MAX_EXP, MAX_EXP]`, from the table: entry
/// `trunc((score + MAX_EXP) * (SIZE / MAX_EXP / 2))`, in f32.
#[inline]
pub fn table_sigmoid(score: f32) -> f32 {
    let scale = SIGMOID_TABLE_SIZE as f32 / MAX_EXP / 2.0;
    let i = ((score + MAX_EXP) * scale) as usize;
    SIGMOID[i.min(SIGMOID_TABLE_SIZE)]
}

/// The error signal of one output: `(label - sigmoid(score)) * alpha`.
#[inline]
pub fn gradient(score: f32, label: f32, alpha: f32) -> f32 {
    let predicted = if score > MAX_EXP {
        1.0
    } else if score < -MAX_EXP {
        0.0
    } else {
        table_sigmoid(score)
    };
    (label - predicted) * alpha
}

/// The output half shared by both architectures: score `hidden` against the
/// target (label 1) and each negative (label 0; a negative equal to the target
/// is skipped, as in the C tool), update those output rows, and add the
/// gradient with respect to `hidden` into `neu1e`. Each output row is updated
/// in place under its lock (see [`SharedMatrix::with_row`]).
pub fn negative_sampling(
    hidden: &[f32],
    syn1neg: &SharedMatrix,
    example: (u32, &[u32]),
    alpha: f32,
    neu1e: &mut [f32],
) {
    let (target, negatives) = example;
    let outputs = std::iter::once((target, 1.0f32)).chain(
        negatives
            .iter()
            .filter(|&&n| n != target)
            .map(|&n| (n, 0.0f32)),
    );
    for (word, label) in outputs {
        syn1neg.with_row(word, |row| {
            let g = gradient(dot(hidden, row), label, alpha);
            axpy(g, row, neu1e);
            axpy(g, hidden, row);
        });
    }
}

/// The two matrices of a model, shared by the training threads.
#[derive(Debug, Clone, Copy)]
pub struct Weights<'a> {
    /// The word (input) vectors, `vocabulary x dim`.
    pub syn0: &'a SharedMatrix,
    /// The output vectors of negative sampling, `vocabulary x dim`.
    pub syn1neg: &'a SharedMatrix,
}

/// Work vectors of one thread, reused between updates.
#[derive(Debug, Clone)]
pub struct Scratch {
    neu1: Vec<f32>,
    neu1e: Vec<f32>,
}

impl Scratch {
    /// Scratch for vectors of `dim`.
    pub fn new(dim: usize) -> Self {
        Self {
            neu1: vec![0.0; dim],
            neu1e: vec![0.0; dim],
        }
    }
}

impl Weights<'_> {
    /// One skip-gram pair: the vector of context word `input` predicts
    /// `target` (the centre word; the C tool's orientation).
    pub fn skip_gram(
        &self,
        input: u32,
        target: u32,
        negatives: &[u32],
        alpha: f32,
        scratch: &mut Scratch,
    ) {
        let Scratch { neu1, neu1e } = scratch;
        self.syn0.load_row(input, neu1);
        neu1e.fill(0.0);
        negative_sampling(neu1, self.syn1neg, (target, negatives), alpha, neu1e);
        self.syn0.add_to_row(input, neu1e);
    }

    /// One CBOW update: the mean of the context vectors (summed in order, then
    /// divided by their number) predicts `target`; the gradient is added,
    /// whole, to every context vector (the C tool's `cbow_mean`). Does nothing
    /// without context.
    pub fn cbow(
        &self,
        context: &[u32],
        target: u32,
        negatives: &[u32],
        alpha: f32,
        scratch: &mut Scratch,
    ) {
        if context.is_empty() {
            return;
        }
        let Scratch { neu1, neu1e } = scratch;
        neu1.fill(0.0);
        for &c in context {
            self.syn0.with_row(c, |row| {
                for (h, r) in neu1.iter_mut().zip(row.iter()) {
                    *h += *r;
                }
            });
        }
        let n = context.len() as f32;
        for h in neu1.iter_mut() {
            *h /= n;
        }
        neu1e.fill(0.0);
        negative_sampling(neu1, self.syn1neg, (target, negatives), alpha, neu1e);
        for &c in context {
            self.syn0.add_to_row(c, neu1e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_uses_eight_partial_sums() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.25).collect();
        let mut acc = [0f32; 8];
        for i in 0..19 {
            acc[i % 8] += a[i] * b[i];
        }
        let want = acc.iter().fold(0f32, |s, v| s + v);
        assert_eq!(dot(&a, &b).to_bits(), want.to_bits());
    }

    #[test]
    fn gradient_saturates_beyond_max_exp() {
        assert_eq!(gradient(7.0, 1.0, 0.5), 0.0);
        assert_eq!(gradient(-7.0, 0.0, 0.5), 0.0);
        assert_eq!(gradient(0.0, 1.0, 0.5), 0.25);
        assert_eq!(table_sigmoid(-6.0), SIGMOID[0]);
        assert_eq!(table_sigmoid(6.0), SIGMOID[SIGMOID_TABLE_SIZE]);
        assert!((table_sigmoid(1.0) - 0.7310586).abs() < 0.01);
    }

    #[test]
    fn skip_gram_moves_target_towards_input() {
        let dim = 4;
        let syn0 = SharedMatrix::from_vec(vec![0.1, 0.2, -0.1, 0.05, 0.0, 0.3, 0.1, -0.2], dim);
        let mut syn1 = vec![0.0; 8];
        syn1[4..].copy_from_slice(&[0.5, 0.5, 0.5, 0.5]);
        let syn1 = SharedMatrix::from_vec(syn1, dim);
        let mut scratch = Scratch::new(dim);
        let mut before = ([0f32; 4], [0f32; 4]);
        syn0.load_row(1, &mut before.0);
        syn1.load_row(0, &mut before.1);
        let w = Weights {
            syn0: &syn0,
            syn1neg: &syn1,
        };
        w.skip_gram(1, 0, &[1, 0], 0.1, &mut scratch);
        let mut after = [[0f32; 4]; 2];
        syn0.load_row(1, &mut after[0]);
        syn1.load_row(0, &mut after[1]);
        w.cbow(&[], 0, &[1], 0.1, &mut scratch);
        let mut unchanged = [0f32; 4];
        syn0.load_row(1, &mut unchanged);
        assert_eq!(unchanged, after[0]);
        assert!(dot(&after[0], &after[1]) > dot(&before.0, &before.1));
    }
}

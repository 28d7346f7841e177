//! Stage 3: initial (uninterpolated) probabilities and gamma, for one order.
//!
//! Input: one level, its context runs (consecutive entries sharing their
//! first n - 1 ids), its adjusted counts (stage 1) and its discounts (stage 2).
//!
//! Output: [`InitialProbabilities`]: for each n-gram h w,
//! `u(w|h) = (a(hw) - D(a(hw))) / sum_w a(hw)`, and for each context h,
//! `gamma(h) = (D1 N1(h) + D2 N2(h) + D3 N3+(h)) / sum_w a(hw)`, where
//! `N_j(h)` counts the words after h with adjusted count j (3 or more for N3+).
//! gamma(h) is the mass the discounts took from h, to be given to the order
//! below (stage 4); u and gamma of one context sum to 1.
//!
//! Invariants: `<s>` as a unigram is no event (left out of the sums, u = 0);
//! a context whose adjusted counts sum to 0 has u = 0 and gamma = 1 (all its
//! mass goes to the order below). Arithmetic in f32 in lmplz's order.
//!
//! Count pruning (`pruned`, see [`super::prune`]): the sum still runs over
//! every extension; N_j(h) counts only the kept ones, and the adjusted counts
//! of the pruned ones join gamma's numerator.

use rayon::prelude::*;

use super::{block_slices, prune, BLOCKS};
use crate::lm::level::Level;
use crate::tokenize::BOS_ID;

/// The output of stage 3 for one order.
pub(super) struct InitialProbabilities {
    /// u(w|h) of every n-gram, in the level's order.
    pub discounted: Vec<f32>,
    /// gamma(h) of every context run, in the runs' order.
    pub gamma: Vec<f32>,
}

/// The discount of an n-gram with adjusted count `a`.
fn discount(d: &[f32; 3], a: u64) -> f32 {
    match a {
        0 => 0.0,
        1 => d[0],
        2 => d[1],
        _ => d[2],
    }
}

/// u and gamma of the n-grams of `level` (contexts computed in parallel).
pub(super) fn initial_probabilities(
    level: &Level,
    runs: &[(usize, usize)],
    adjusted: &[u64],
    d: &[f32; 3],
    pruned: Option<&[bool]>,
) -> InitialProbabilities {
    let unigrams = level.n == 1;
    let is_event = |i: usize| !(unigrams && level.key(i)[0] == BOS_ID);
    let mut discounted = vec![0f32; level.len()];
    let mut gamma = vec![0f32; runs.len()];
    let block = runs.len().div_ceil(BLOCKS).max(1);
    block_slices(&mut discounted, runs, block)
        .into_par_iter()
        .zip(gamma.par_chunks_mut(block))
        .zip(runs.par_chunks(block))
        .for_each(|((u, gamma), block_runs)| {
            let base = block_runs[0].0;
            for (r, &(s, e)) in block_runs.iter().enumerate() {
                let sum: u64 = (s..e).filter(|&i| is_event(i)).map(|i| adjusted[i]).sum();
                if sum == 0 {
                    gamma[r] = 1.0;
                    continue;
                }
                let den = sum as f32;
                // Count pruning hook: pruned extensions give their counts to gamma.
                let extensions = (s..e)
                    .filter(|&i| is_event(i))
                    .map(|i| (adjusted[i], pruned.is_some_and(|p| p[i])));
                gamma[r] = prune::gamma_numerator(d, extensions) / den;
                for i in (s..e).filter(|&i| is_event(i)) {
                    u[i - base] = (adjusted[i] as f32 - discount(d, adjusted[i])) / den;
                }
            }
        });
    InitialProbabilities { discounted, gamma }
}

//! Stage 4: interpolate with the order below, and the backoff weights.
//!
//! Input: the levels, the order k being finished (0-based), its context runs,
//! its initial probabilities (stage 3), the final linear probabilities of
//! order k - 1 (empty for unigrams) and the entry there of every n-gram's
//! suffix (stage 1 found them).
//!
//! Output: the final linear probability of every n-gram of order k, and, as a
//! side effect, the log10 backoff weight of every context of order k (an
//! entry of order k - 1): its gamma.
//!
//! * `p(w|h) = u(w|h) + gamma(h) p(w|h')`, h' being h without its first word;
//!   every n-gram's suffix is an n-gram one order down (0 if not, which
//!   counts never give).
//! * Unigrams interpolate with the uniform distribution over the |V| - 1
//!   predictable types (every type but `<s>`): `p(w) = u(w) + gamma() / (|V| - 1)`.
//!   Without interpolation (`lmplz --interpolate_unigrams 0`), `p(w) = u(w)`
//!   and `<unk>` takes gamma() whole.
//! * `<s>` as a unigram gets p = 1 (stored log10 0): a context only.
//!
//! Arithmetic in f32 in lmplz's order (no fused multiply-add), so the values
//! are bit-identical to KenLM's. Contexts are independent given the order
//! below: blocks of them are computed in parallel.

use rayon::prelude::*;

use super::initial_probabilities::InitialProbabilities;
use super::{block_slices, BLOCKS};
use crate::lm::level::{prefetch, Level};
use crate::tokenize::{BOS_ID, UNK_ID};

/// How far ahead the loop over n-grams prefetches the lower order's value.
const AHEAD: usize = 16;

/// Finish order `k`: its probabilities (returned) and its contexts' backoffs.
pub(super) fn interpolate(
    levels: &mut [Level],
    k: usize,
    runs: &[(usize, usize)],
    initial: InitialProbabilities,
    (lower, suffixes): (&[f32], &[u32]),
    interpolate_unigrams: bool,
) -> Vec<f32> {
    let InitialProbabilities {
        discounted: mut p,
        gamma,
    } = initial;
    let level = &levels[k];
    // lmplz's 1 / (|V| - 1): the division in f64 of the count made f32.
    let uniform = (1.0 / levels[0].len().saturating_sub(1).max(1) as f32 as f64) as f32;
    let block = runs.len().div_ceil(BLOCKS).max(1);
    // The probabilities overwrite the initial u in place.
    let backoffs: Vec<(usize, f32)> = block_slices(&mut p, runs, block)
        .into_par_iter()
        .zip(gamma.par_chunks(block))
        .zip(runs.par_chunks(block))
        .flat_map_iter(|((p, gamma), block_runs)| {
            let base = block_runs[0].0;
            let end = block_runs[block_runs.len() - 1].1;
            let suffixes = suffixes.get(base..end).unwrap_or_default();
            // Every context's entry one order down: the contexts come in key
            // order, as the entries do, so they are found walking forward.
            let mut contexts = Vec::new();
            if k > 0 {
                contexts = vec![u32::MAX; block_runs.len()];
                let keys = block_runs.iter().map(|r| &level.key(r.0)[..k]);
                levels[k - 1].walk_sorted(keys, |r, entry| contexts[r] = entry as u32);
            }
            let mut backoffs = Vec::new();
            for (r, (&(s, e), &g)) in block_runs.iter().zip(gamma).enumerate() {
                for i in s..e {
                    let u = p[i - base];
                    p[i - base] = if k == 0 {
                        let word = level.key(i)[0];
                        if word == BOS_ID {
                            1.0
                        } else if interpolate_unigrams {
                            u + g * uniform
                        } else if word == UNK_ID {
                            u + g
                        } else {
                            u
                        }
                    } else {
                        // The order below's probabilities are read at random:
                        // the one needed `AHEAD` n-grams on is prefetched.
                        if let Some(&ahead) = suffixes.get(i - base + AHEAD) {
                            prefetch(lower, ahead as usize);
                        }
                        let below = lower.get(suffixes[i - base] as usize);
                        u + g * below.copied().unwrap_or(0.0)
                    };
                }
                if let Some(&c) = contexts.get(r) {
                    if let Some(c) = (c != u32::MAX).then_some(c as usize) {
                        backoffs.push((c, g));
                    }
                }
            }
            backoffs
        })
        .collect();
    if k > 0 {
        let contexts = &mut levels[k - 1];
        for (c, g) in backoffs {
            contexts.backoff[c] = g.log10();
        }
    }
    p
}

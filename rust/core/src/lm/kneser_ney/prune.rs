//! Count pruning, as `lmplz --prune T1 T2 ... TN` does it.
//!
//! Contract (lmplz's `lm/builder/adjust_counts.cc`, `initial_probabilities.cc`
//! and `interpolate.cc` read as the specification):
//!
//! * Thresholds: one per order, non-decreasing, the last one repeated for the
//!   orders not given; the unigram threshold must be 0 (unigrams are never
//!   pruned) — [`thresholds_for`] checks and pads them.
//! * Which n-grams go ([`pruned_marks`]): an n-gram of order k >= 2 is pruned
//!   when its *raw* count (how often it occurs in the corpus, not its adjusted
//!   count) is at most `T_k`. Raw counts never grow when an n-gram is
//!   extended, and the thresholds never shrink with the order, so the prefix
//!   and the suffix of a kept n-gram are kept too: the pruned model stays
//!   closed under prefixes (contexts) and suffixes (backoff) without any
//!   n-gram having to be restored.
//! * What pruning leaves unchanged: adjusted counts, count-of-counts and so
//!   the discounts are computed from every n-gram, pruned or not.
//! * What it changes ([`gamma_numerator`] hook in stage 3): in a context h,
//!   the sum of adjusted counts (the denominator) still runs over every
//!   extension, the `N_j(h)` count only the kept ones, and the adjusted
//!   counts of the pruned extensions are added to gamma's numerator, so the
//!   mass they held goes to the lower order and the distribution still sums
//!   to 1. A kept context whose extensions were all pruned has gamma 1
//!   (backoff log10 = 0).
//! * The pruned n-grams are then dropped from the finished levels
//!   ([`drop_pruned`]); the kept ones' probabilities are those of stage 4.

use crate::lm::level::Level;
use crate::{Error, Result};

/// The thresholds of every order of a model of `order`, from the ones
/// `given` (lmplz's `--prune` list), or why they cannot be used.
pub fn thresholds_for(given: &[i64], order: usize) -> Result<Vec<u64>> {
    let bad = |m: String| Err(Error::InvalidArgument(format!("prune: {m}")));
    if given.is_empty() {
        return bad("give at least one threshold (the unigram one, 0)".into());
    }
    if given.len() > order {
        return bad(format!(
            "{} thresholds given for a model of order {order}; give at most one per order \
             (the last one applies to the orders after it)",
            given.len()
        ));
    }
    if let Some((k, &t)) = given.iter().enumerate().find(|(_, &t)| t < 0) {
        return bad(format!(
            "threshold {t} for order {} is negative; thresholds are counts >= 0",
            k + 1
        ));
    }
    if given[0] != 0 {
        return bad(format!(
            "unigram threshold {} is not 0: unigrams cannot be pruned (as lmplz documents); \
             start the list with 0, e.g. 0 1 1",
            given[0]
        ));
    }
    if let Some(k) = (1..given.len()).find(|&k| given[k] < given[k - 1]) {
        return bad(format!(
            "thresholds must not decrease with the order (as lmplz requires): {} for order {} \
             after {} for order {}",
            given[k],
            k + 1,
            given[k - 1],
            k
        ));
    }
    let mut thresholds: Vec<u64> = given.iter().map(|&t| t as u64).collect();
    let last = thresholds[thresholds.len() - 1];
    thresholds.resize(order, last);
    Ok(thresholds)
}

/// For every order, which n-grams pruning removes (`true` = pruned): those
/// of order >= 2 whose raw count is at most the order's threshold. Refuses
/// thresholds that would leave an order with no n-gram at all.
pub(super) fn pruned_marks(raw: &[Vec<u64>], thresholds: &[u64]) -> Result<Vec<Vec<bool>>> {
    raw.iter()
        .zip(thresholds)
        .enumerate()
        .map(|(k, (counts, &t))| {
            if k == 0 || t == 0 {
                return Ok(vec![false; counts.len()]);
            }
            let marks: Vec<bool> = counts.iter().map(|&c| c <= t).collect();
            if !counts.is_empty() && marks.iter().all(|&m| m) {
                let most = counts.iter().copied().max().unwrap_or(0);
                return Err(Error::InvalidArgument(format!(
                    "prune: threshold {t} for order {} prunes every {}-gram (the most frequent \
                     occurs {most} times); use a threshold below {most} or a lower order",
                    k + 1,
                    k + 1
                )));
            }
            Ok(marks)
        })
        .collect()
}

/// Stage-3 hook: gamma's numerator for one context, from the discounts `d`
/// and its extensions as (adjusted count, pruned) pairs, in f32 with lmplz's
/// operation order: `D1 N1 + D2 N2 + D3 N3+` over the kept extensions, then
/// `+` the adjusted counts of the pruned ones (0 when nothing is pruned).
pub(super) fn gamma_numerator(d: &[f32; 3], extensions: impl Iterator<Item = (u64, bool)>) -> f32 {
    let mut nj = [0u64; 3];
    let mut normalizer = 0u64;
    for (a, pruned) in extensions {
        if pruned {
            normalizer += a;
            continue;
        }
        match a {
            0 => {}
            1 => nj[0] += 1,
            2 => nj[1] += 1,
            _ => nj[2] += 1,
        }
    }
    let mut g = 0f32;
    for j in 0..3 {
        g += d[j] * nj[j] as f32;
    }
    g + normalizer as f32
}

/// The finished levels without their pruned entries (kept entries in order).
pub(super) fn drop_pruned(levels: Vec<Level>, marks: &[Vec<bool>]) -> Vec<Level> {
    use rayon::prelude::*;
    levels
        .into_par_iter()
        .zip(marks.par_iter())
        .map(|(level, marks)| {
            if !marks.iter().any(|&m| m) {
                return level;
            }
            let n = level.n;
            let kept = marks.iter().filter(|&&m| !m).count();
            let mut keys = Vec::with_capacity(kept * n);
            let mut logprob = Vec::with_capacity(kept);
            let mut backoff = Vec::with_capacity(kept);
            for i in (0..level.len()).filter(|&i| !marks[i]) {
                keys.extend_from_slice(level.key(i));
                logprob.push(level.logprob[i]);
                backoff.push(level.backoff[i]);
            }
            Level::new(n, keys, logprob, backoff)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(given: &[i64], order: usize) -> String {
        match thresholds_for(given, order) {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn thresholds_are_padded_with_the_last() {
        assert_eq!(thresholds_for(&[0, 1], 4).unwrap(), vec![0, 1, 1, 1]);
        assert_eq!(thresholds_for(&[0], 3).unwrap(), vec![0, 0, 0]);
        assert_eq!(
            thresholds_for(&[0, 0, 1, 2, 3], 5).unwrap(),
            [0, 0, 1, 2, 3]
        );
    }

    #[test]
    fn bad_thresholds_say_why() {
        assert!(message(&[], 3).contains("at least one threshold"));
        assert!(message(&[0, 1, 1, 1], 3).contains("4 thresholds given for a model of order 3"));
        assert!(message(&[0, -1], 3).contains("threshold -1 for order 2 is negative"));
        assert!(message(&[1, 1, 1], 3).contains("unigram threshold 1 is not 0"));
        assert!(message(&[0, 2, 1], 3).contains("1 for order 3 after 2 for order 2"));
    }

    #[test]
    fn raw_counts_at_most_the_threshold_are_pruned() {
        let raw = vec![vec![0, 5, 1], vec![1, 2, 3], vec![1, 1, 2]];
        let marks = pruned_marks(&raw, &[0, 1, 1]).unwrap();
        assert_eq!(marks[0], [false, false, false]);
        assert_eq!(marks[1], [true, false, false]);
        assert_eq!(marks[2], [true, true, false]);
        let why = match pruned_marks(&raw, &[0, 1, 2]) {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(
            why.contains("threshold 2 for order 3 prunes every 3-gram"),
            "{why}"
        );
    }

    #[test]
    fn pruned_mass_goes_to_gamma() {
        let d = [0.5f32, 1.0, 1.5];
        // Kept: counts 1 and 3; pruned: 2 and 4.
        let g = gamma_numerator(
            &d,
            [(1, false), (2, true), (3, false), (4, true)].into_iter(),
        );
        assert_eq!(g, 0.5 + 1.5 + 6.0);
        let unpruned = gamma_numerator(&d, [(1, false), (2, false)].into_iter());
        assert_eq!(unpruned, 1.5);
    }
}

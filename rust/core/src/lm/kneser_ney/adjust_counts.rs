//! Stage 1: adjusted counts, and their count-of-counts.
//!
//! Input: the levels of orders 1..N (sorted keys, `<unk>` present as a
//! unigram) and the raw count of every n-gram, in the levels' order.
//!
//! Output: [`AdjustedCounts`]: for every order, the count Kneser-Ney estimates
//! from, and how many n-grams have adjusted count 1, 2, 3 and 4.
//!
//! * The highest order keeps its raw counts (moved, not copied).
//! * Below it, an n-gram starting with `<s>` keeps its raw count (nothing can
//!   come before `<s>`); any other gets its continuation count, the number of
//!   distinct words seen directly before it (the n-grams one order up that end
//!   with it). An n-gram no longer n-gram ends with gets 0 (`<unk>` when the
//!   corpus never had it).
//! * Count-of-counts leave `<s>` as a unigram out (it is never predicted).
//!   Below the highest order, the last n-gram in suffix order (compared by its
//!   last id, then the one before, ...) counts with its *raw* count: lmplz's
//!   final flush of each order reads the raw count, and the discounts match
//!   lmplz's to the last bit only with this quirk kept.
//!
//! Each order reads only itself and the order above, so the orders are
//! computed in parallel.

use rayon::prelude::*;

use crate::lm::level::Level;
use crate::lm::suffixes::suffix_entries;
use crate::tokenize::BOS_ID;

/// The output of stage 1, one entry per order (index 0 = unigrams).
pub(super) struct AdjustedCounts {
    /// Adjusted count of every n-gram, in the level's order.
    pub counts: Vec<Vec<u64>>,
    /// n1, n2, n3, n4 of the adjusted counts (with lmplz's quirk, above).
    pub count_of_counts: Vec<[u64; 4]>,
    /// For every order but the first, the entry one order down of each
    /// n-gram's suffix (`u32::MAX` for none): found here to count
    /// continuations, kept for interpolation, which reads the same entries.
    pub suffixes: Vec<Vec<u32>>,
}

/// Adjust the raw counts of `levels` (consumed: the top order's are moved).
pub(super) fn adjust_counts(levels: &[Level], mut raw: Vec<Vec<u64>>) -> AdjustedCounts {
    let order = levels.len();
    let top = raw.pop().unwrap_or_default();
    let per_order: Vec<(Vec<u64>, [u64; 4], Vec<u32>)> = (0..order - 1)
        .into_par_iter()
        .map(|k| {
            let (adjusted, suffixes) = continuation_counts(&levels[k], &levels[k + 1], &raw[k]);
            let last = last_in_suffix_order(&levels[k]);
            let coc = count_of_counts(&levels[k], k == 0, |i| {
                if Some(i) == last {
                    raw[k][i]
                } else {
                    adjusted[i]
                }
            });
            (adjusted, coc, suffixes)
        })
        .collect();
    let (mut counts, mut coc, mut suffixes) = (Vec::new(), Vec::new(), vec![Vec::new()]);
    for (adjusted, c, found) in per_order {
        counts.push(adjusted);
        coc.push(c);
        suffixes.push(found);
    }
    // The top order's raw counts are final: no quirk, nothing to adjust.
    coc.push(count_of_counts(&levels[order - 1], order == 1, |i| top[i]));
    counts.push(top);
    AdjustedCounts {
        counts,
        count_of_counts: coc,
        suffixes,
    }
}

/// Continuation counts of one lower order from the order `above` it; n-grams
/// starting with `<s>` keep their `raw` count. Also the entry in `level` of
/// the suffix of every n-gram of `above`.
fn continuation_counts(level: &Level, above: &Level, raw: &[u64]) -> (Vec<u64>, Vec<u32>) {
    // Every n-gram of `above` adds one to the count of its suffix, found by
    // joining the two sorted orders (see `suffixes`).
    let (suffixes, mut adjusted) = suffix_entries(level, above);
    // n-grams starting with <s> keep their raw count, whatever came before.
    for (i, count) in adjusted.iter_mut().enumerate() {
        if level.key(i)[0] == BOS_ID {
            *count = raw[i];
        }
    }
    (adjusted, suffixes)
}

/// The entry of `level` that comes last when keys are compared from their
/// last id backwards (lmplz's suffix order). Keys are distinct, so the
/// maximum is unique; the last ids decide almost every comparison, and only
/// ties on it compare the whole keys.
fn last_in_suffix_order(level: &Level) -> Option<usize> {
    let n = level.n;
    let mut best: Option<usize> = None;
    for i in 0..level.len() {
        best = match best {
            None => Some(i),
            Some(b) => {
                let (x, y) = (level.keys[i * n + n - 1], level.keys[b * n + n - 1]);
                let later =
                    x > y || (x == y && level.key(i).iter().rev().gt(level.key(b).iter().rev()));
                Some(if later { i } else { b })
            }
        };
    }
    best
}

/// n1..n4 of the counts of `level`, `count(i)` giving entry i's count;
/// `unigrams` leaves `<s>` out.
fn count_of_counts(level: &Level, unigrams: bool, count: impl Fn(usize) -> u64) -> [u64; 4] {
    let mut coc = [0u64; 4];
    for i in 0..level.len() {
        if unigrams && level.key(i)[0] == BOS_ID {
            continue;
        }
        let c = count(i);
        if (1..=4).contains(&c) {
            coc[c as usize - 1] += 1;
        }
    }
    coc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lm::unfilled_levels;

    // Ids as the counter gives them: <unk> 0, <s> 1, </s> 2, then words.
    const A: u32 = 3;
    const B: u32 = 4;

    /// "a b b b" as one padded sentence, order 2: `<s> a b b b </s>`.
    fn a_b_b_b() -> (Vec<Level>, Vec<Vec<u64>>) {
        let unigrams = vec![0, 1, 2, A, B];
        let bigrams = vec![1, A, A, B, B, 2, B, B];
        let raw = vec![vec![0, 1, 1, 1, 3], vec![1, 1, 1, 2]];
        (unfilled_levels(vec![unigrams, bigrams]), raw)
    }

    #[test]
    fn the_last_unigram_in_suffix_order_counts_with_its_raw_count() {
        let (levels, raw) = a_b_b_b();
        assert_eq!(last_in_suffix_order(&levels[0]), Some(4));
        let adjusted = adjust_counts(&levels, raw);
        // Continuation counts: </s> after b; a after <s>; b after a and b.
        assert_eq!(adjusted.counts[0], [0, 1, 1, 1, 2]);
        assert_eq!(adjusted.counts[1], [1, 1, 1, 2]);
        // b is last in suffix order: its raw 3, not its adjusted 2, is
        // counted (lmplz's final flush), so n2 = 0 and n3 = 1; `<s>` is
        // left out and `<unk>` (0) is in no bucket.
        assert_eq!(adjusted.count_of_counts[0], [2, 0, 1, 0]);
        // The top order is raw counts, no quirk.
        assert_eq!(adjusted.count_of_counts[1], [3, 1, 0, 0]);
    }

    #[test]
    fn suffix_order_compares_the_last_id_first() {
        // Keys in key order: (a b), (b a); from the last id: (b a) < (a b).
        let levels = unfilled_levels(vec![vec![0, 1, 2, A, B], vec![A, B, B, A]]);
        assert_eq!(last_in_suffix_order(&levels[1]), Some(0));
        // Same last id: the one before decides.
        let levels = unfilled_levels(vec![vec![0, 1, 2, A, B], vec![1, B, A, B, B, 2]]);
        assert_eq!(last_in_suffix_order(&levels[1]), Some(1));
        let empty = unfilled_levels(vec![vec![]]);
        assert_eq!(last_in_suffix_order(&empty[0]), None);
    }

    #[test]
    fn at_order_3_the_quirk_also_takes_the_last_bigram_in_suffix_order() {
        // `<s> a a b a a b </s>`, order 3.
        let unigrams = vec![0, 1, 2, A, B];
        let bigrams = vec![1, A, A, A, A, B, B, 2, B, A];
        let trigrams = vec![1, A, A, A, A, B, A, B, 2, A, B, A, B, A, A];
        let raw = vec![
            vec![0, 1, 1, 4, 2],
            vec![1, 2, 2, 1, 1],
            vec![1, 2, 1, 1, 1],
        ];
        let levels = unfilled_levels(vec![unigrams, bigrams, trigrams]);
        // (a b) is the only bigram ending in b, the highest id: last.
        assert_eq!(last_in_suffix_order(&levels[1]), Some(2));
        let adjusted = adjust_counts(&levels, raw);
        // (<s> a) keeps its raw 1; (a a) follows <s> and b; (a b) only a.
        assert_eq!(adjusted.counts[1], [1, 2, 1, 1, 1]);
        assert_eq!(adjusted.counts[0], [0, 1, 1, 3, 1]);
        // (a b) counts with its raw 2: n1 = 3, n2 = 2 (not 4 and 1).
        assert_eq!(adjusted.count_of_counts[1], [3, 2, 0, 0]);
        // b, last unigram, with its raw 2: </s> 1, a 3, b 2.
        assert_eq!(adjusted.count_of_counts[0], [1, 1, 1, 0]);
        assert_eq!(adjusted.count_of_counts[2], [4, 1, 0, 0]);
    }
}

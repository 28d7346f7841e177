//! The backoff form shared by the simple estimators (MLE, add-k, Witten-Bell,
//! stupid backoff): each one gives a [`RunRule`] per context, and
//! [`build_simple`] turns counts and that rule into an [`NGramModel`].
//!
//! Input: counts (padded or not) of orders 1..N. Output: a model whose stored
//! `p(w|h)` and backoff weights follow the rule, computed in f64 and stored as
//! f32 log10 (log10 0 = -inf). `<s>` as a unigram stores log10 1 = 0 (it is
//! never predicted, only a context).

use super::model::{NGramModel, Remainder};
use super::{context_runs, keys_with_unk, unfilled_levels};
use crate::count::NGramCounts;
use crate::tokenize::BOS_ID;

/// Sum of raw counts and number of distinct successors of each context run.
fn run_totals(raw: &[u64], runs: &[(usize, usize)], keys: &[u32], n: usize) -> Vec<(u64, u64)> {
    runs.iter()
        .map(|&(s, e)| {
            let mut total = 0;
            let mut distinct = 0;
            for i in s..e {
                // <s> is never predicted: it is not an event of the unigram distribution.
                if n == 1 && keys[i] == BOS_ID {
                    continue;
                }
                if raw[i] > 0 {
                    total += raw[i];
                    distinct += 1;
                }
            }
            (total, distinct)
        })
        .collect()
}

/// log10 of a probability as stored (f32), with log10(0) = -inf.
#[inline]
pub(crate) fn log10(p: f64) -> f32 {
    if p > 0.0 {
        p.log10() as f32
    } else {
        f32::NEG_INFINITY
    }
}

/// How one context's distribution is formed from its counts, for the simple
/// estimators: stored `p(w|h) = scale * c(hw) + offset + interp * p(w|h')`
/// (at the unigram level `p(w|h')` is uniform over the predictable words),
/// and `weight` is the backoff weight (a probability) written for `h`.
pub(crate) struct RunRule {
    pub scale: f64,
    pub offset: f64,
    pub interp: f64,
    pub weight: f64,
}

/// Build a model from counts with a per-context rule `rule(order, total, distinct)`.
pub(crate) fn build_simple(
    counts: &NGramCounts,
    remainder: Remainder,
    name: &str,
    normalized: bool,
    rule: impl Fn(usize, f64, f64) -> RunRule,
) -> NGramModel {
    let order = counts.order();
    let (keys, raw) = keys_with_unk(counts);
    let mut levels = unfilled_levels(keys);
    // The uniform floor covers the unigram entries (the words a backoff-form
    // model can give mass to), <s> excepted (absent when unpadded).
    let has_bos = levels[0].find(&[BOS_ID]).is_some();
    let predictable = (levels[0].len() - usize::from(has_bos)).max(1) as f64;
    // A context held as an n-gram but never followed by a word (it ends in
    // </s>, say) gets the weight of a context with no counts.
    for k in 0..order.saturating_sub(1) {
        let empty = log10(rule(k + 2, 0.0, 0.0).weight);
        levels[k].backoff = vec![empty; levels[k].len()].into();
    }
    let mut prob: Vec<Vec<f64>> = Vec::with_capacity(order);
    for k in 0..order {
        let n = k + 1;
        let level = &levels[k];
        let runs = context_runs(&level.keys, n);
        let totals = run_totals(&raw[k], &runs, &level.keys, n);
        let mut p = vec![0.0f64; level.len()];
        let mut weights = Vec::new();
        for (&(s, e), &(total, distinct)) in runs.iter().zip(&totals) {
            let r = rule(n, total as f64, distinct as f64);
            for i in s..e {
                let lower = if n == 1 {
                    1.0 / predictable
                } else {
                    levels[k - 1]
                        .find(&level.key(i)[1..])
                        .map_or(0.0, |j| prob[k - 1][j])
                };
                p[i] = r.scale * raw[k][i] as f64 + r.offset + r.interp * lower;
            }
            if n > 1 {
                if let Some(c) = levels[k - 1].find(&level.key(s)[..n - 1]) {
                    weights.push((c, r.weight));
                }
            }
        }
        if n > 1 {
            for (c, w) in weights {
                levels[k - 1].backoff[c] = log10(w);
            }
        }
        prob.push(p);
    }
    for (k, level) in levels.iter_mut().enumerate() {
        level.logprob = prob[k].iter().map(|&p| log10(p)).collect::<Vec<_>>().into();
        if k == 0 {
            for i in 0..level.len() {
                if level.keys[i] == BOS_ID {
                    level.logprob[i] = 0.0;
                }
            }
        }
    }
    NGramModel::from_levels(counts.vocab.clone(), levels, remainder, name, normalized)
}

//! N-gram language models: estimators (one file each), the query structure,
//! ARPA files and the binary model format.
//!
//! Every estimator turns [`NGramCounts`] into an [`NGramModel`] in backoff
//! form (see [`model`]); queries, perplexity, top-k and sampling are then the
//! same code for all of them.

// Index loops mirror the formulas (and lmplz) more plainly than iterator chains here.
#![allow(clippy::needless_range_loop)]

pub mod add_k;
pub mod annotate;
pub mod arpa;
pub mod array;
pub mod binary;
pub mod file;
pub mod generate;
pub mod kneser_ney;
pub mod level;
pub mod mle;
pub mod model;
pub mod next;
pub mod perplexity;
pub mod smoothing;
pub mod stupid_backoff;
pub mod witten_bell;

pub use file::{load, save};
pub use generate::NGramDecoder;
pub use level::Level;
pub use model::{NGramModel, Remainder, State, TokenScore};
pub use smoothing::SmoothingParams;

use crate::count::NGramCounts;
use crate::tokenize::{BOS_ID, UNK_ID};
use crate::{Error, Result};

/// Which estimator to fit.
#[derive(Debug, Clone, PartialEq)]
pub enum Smoothing {
    /// Maximum likelihood: relative frequencies; unseen events get 0.
    Mle,
    /// Add-k (Laplace for k = 1).
    AddK(f64),
    /// Interpolated Witten-Bell.
    WittenBell,
    /// Stupid backoff (Brants et al. 2007) with this alpha: scores, not probabilities.
    StupidBackoff(f64),
    /// Interpolated modified Kneser-Ney, computed as KenLM's lmplz does.
    KneserNey(kneser_ney::KneserNeyOptions),
}

impl Smoothing {
    /// The estimator's name.
    pub fn name(&self) -> &'static str {
        match self {
            Smoothing::Mle => "mle",
            Smoothing::AddK(_) => "add-k",
            Smoothing::WittenBell => "witten-bell",
            Smoothing::StupidBackoff(_) => "stupid-backoff",
            Smoothing::KneserNey(_) => "kneser-ney",
        }
    }
}

/// Fit a model of the counts' order with `smoothing`.
pub fn fit(counts: &NGramCounts, smoothing: &Smoothing) -> Result<NGramModel> {
    if counts.orders.first().is_none_or(|o| o.is_empty()) {
        return Err(Error::EmptyCorpus("no n-grams to estimate from".into()));
    }
    match smoothing {
        Smoothing::Mle => Ok(mle::estimate(counts)),
        Smoothing::AddK(k) => {
            if !(k.is_finite() && *k > 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "add-k needs k > 0, not {k}"
                )));
            }
            Ok(add_k::estimate(counts, *k))
        }
        Smoothing::WittenBell => Ok(witten_bell::estimate(counts)),
        Smoothing::StupidBackoff(alpha) => {
            if !(alpha.is_finite() && *alpha > 0.0 && *alpha <= 1.0) {
                return Err(Error::InvalidArgument(format!(
                    "stupid backoff needs 0 < alpha <= 1, not {alpha}"
                )));
            }
            Ok(stupid_backoff::estimate(counts, *alpha))
        }
        Smoothing::KneserNey(options) => kneser_ney::estimate(counts, options),
    }
}

/// The key arrays of every order, with `<unk>` added as a unigram when the
/// corpus never had it (so an unknown word always has an entry to score).
pub(crate) fn keys_with_unk(counts: &NGramCounts) -> (Vec<Vec<u32>>, Vec<Vec<u64>>) {
    let keys: Vec<Vec<u32>> = counts.orders.iter().map(|o| o.keys.clone()).collect();
    let raw: Vec<Vec<u64>> = counts.orders.iter().map(|o| o.counts.clone()).collect();
    add_unk(keys, raw)
}

/// [`keys_with_unk`] for counts given up by their owner: nothing is copied.
pub(crate) fn add_unk(
    mut keys: Vec<Vec<u32>>,
    mut raw: Vec<Vec<u64>>,
) -> (Vec<Vec<u32>>, Vec<Vec<u64>>) {
    if keys[0].first() != Some(&UNK_ID) {
        keys[0].insert(0, UNK_ID);
        raw[0].insert(0, 0);
    }
    (keys, raw)
}

/// Fit a model, consuming the counts so that their arrays become the model's
/// without a copy (what fitting straight from a corpus does).
pub fn fit_owned(counts: NGramCounts, smoothing: &Smoothing) -> Result<NGramModel> {
    match smoothing {
        Smoothing::KneserNey(options) => {
            if counts.orders.first().is_none_or(|o| o.is_empty()) {
                return Err(Error::EmptyCorpus("no n-grams to estimate from".into()));
            }
            kneser_ney::estimate_owned(counts, options)
        }
        other => fit(&counts, other),
    }
}

/// Fit a model of `order`, at most the counts' order: higher orders are left
/// out (of a copy, which the estimator then takes over).
pub fn fit_order(counts: &NGramCounts, order: usize, smoothing: &Smoothing) -> Result<NGramModel> {
    if order == 0 || order > counts.order() {
        return Err(Error::InvalidArgument(format!(
            "order {order} not in 1..={} (the orders counted)",
            counts.order()
        )));
    }
    if order == counts.order() {
        fit(counts, smoothing)
    } else {
        fit_owned(counts.truncated(order), smoothing)
    }
}

/// Contiguous runs of entries of a sorted level that share their first `n - 1`
/// ids (one context): (start, end) pairs. For unigrams, one run.
pub(crate) fn context_runs(keys: &[u32], n: usize) -> Vec<(usize, usize)> {
    let m = keys.len() / n.max(1);
    if n <= 1 {
        return if m == 0 { vec![] } else { vec![(0, m)] };
    }
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=m {
        if i == m || keys[i * n..i * n + n - 1] != keys[start * n..start * n + n - 1] {
            runs.push((start, i));
            start = i;
        }
    }
    runs
}

/// Sum of raw counts and number of distinct successors of each context run.
pub(crate) fn run_totals(
    raw: &[u64],
    runs: &[(usize, usize)],
    keys: &[u32],
    n: usize,
) -> Vec<(u64, u64)> {
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
    let mut levels: Vec<Level> = keys
        .into_iter()
        .enumerate()
        .map(|(k, keys)| {
            let m = keys.len() / (k + 1);
            Level::new(k + 1, keys, vec![0.0; m], vec![0.0; m])
        })
        .collect();
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

//! N-gram language models: estimators (one file each), the query structure,
//! ARPA files and the binary model format.
//!
//! Every estimator turns [`NGramCounts`] into an [`NGramModel`] in backoff
//! form (see [`model`]); queries, perplexity, top-k and sampling are then the
//! same code for all of them. The simple estimators share one builder
//! (`backoff_form`); Kneser-Ney is a pipeline of stages ([`kneser_ney`]).
//! [`entropy_prune`] prunes any normalised backoff model (Stolcke 1998).

// Index loops mirror the formulas (and lmplz) more plainly than iterator chains here.
#![allow(clippy::needless_range_loop)]

pub mod add_k;
pub mod annotate;
pub mod arpa;
pub mod arpa_gaps;
mod arpa_read;
mod arpa_sort;
mod arpa_text;
mod arpa_words;
pub mod array;
mod backoff_form;
pub mod binary;
mod binary_trie;
pub mod entropy_prune;
pub mod file;
pub mod generate;
pub mod kneser_ney;
pub mod level;
pub mod mle;
pub mod model;
pub mod next;
pub(crate) mod nucleus;
mod nucleus_mass;
pub(crate) mod orders;
pub mod packed;
pub mod perplexity;
pub mod quantize;
pub mod ranking;
pub mod slots;
pub mod smoothing;
pub mod stupid_backoff;
pub(crate) mod suffixes;
pub mod trie;
pub mod witten_bell;
pub mod word_index;

pub use binary::Layout;
pub use file::{load, load_with, save, save_as, save_with};
pub use generate::NGramDecoder;
pub use level::Level;
pub use model::{NGramModel, Remainder, State, TokenScore};
pub use smoothing::SmoothingParams;

use rayon::prelude::*;

use crate::control::Control;
use crate::count::NGramCounts;
use crate::tokenize::UNK_ID;
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
    /// Refuse parameters no model of `order` can be fitted with (add-k's k,
    /// stupid backoff's alpha, Kneser-Ney's given discounts), so that a caller
    /// can fail before counting a corpus.
    pub fn check(&self, order: usize) -> Result<()> {
        match self {
            Smoothing::AddK(k) if !(k.is_finite() && *k > 0.0) => Err(Error::InvalidArgument(
                format!("add-k needs k > 0, not {k}"),
            )),
            Smoothing::StupidBackoff(alpha)
                if !(alpha.is_finite() && *alpha > 0.0 && *alpha <= 1.0) =>
            {
                Err(Error::InvalidArgument(format!(
                    "stupid backoff needs 0 < alpha <= 1, not {alpha}"
                )))
            }
            Smoothing::KneserNey(options) => options.check(order),
            _ => Ok(()),
        }
    }

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
    smoothing.check(counts.order())?;
    match smoothing {
        Smoothing::Mle => Ok(mle::estimate(counts)),
        Smoothing::AddK(k) => Ok(add_k::estimate(counts, *k)),
        Smoothing::WittenBell => Ok(witten_bell::estimate(counts)),
        Smoothing::StupidBackoff(alpha) => Ok(stupid_backoff::estimate(counts, *alpha)),
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
    fit_owned_with(counts, smoothing, &Control::new())
}

/// [`fit_owned`], reporting progress to `control` (Kneser-Ney's stages; the
/// other estimators say only that they are estimating) and, for Kneser-Ney,
/// stopping between stages once cancelled.
pub fn fit_owned_with(
    counts: NGramCounts,
    smoothing: &Smoothing,
    control: &Control,
) -> Result<NGramModel> {
    match smoothing {
        Smoothing::KneserNey(options) => {
            if counts.orders.first().is_none_or(|o| o.is_empty()) {
                return Err(Error::EmptyCorpus("no n-grams to estimate from".into()));
            }
            kneser_ney::estimate_owned_with(counts, options, control)
        }
        other => {
            control.set_stage(format!("estimating {}", other.name()));
            fit(&counts, other)
        }
    }
}

/// One level per order from its sorted keys, probabilities and backoffs 0
/// until an estimator fills them. Levels (with their hash indexes) are
/// independent: they are built in parallel.
pub(crate) fn unfilled_levels(keys: Vec<Vec<u32>>) -> Vec<Level> {
    keys.into_par_iter()
        .enumerate()
        .map(|(k, keys)| {
            let m = keys.len() / (k + 1);
            Level::new(k + 1, keys, vec![0.0; m], vec![0.0; m])
        })
        .collect()
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

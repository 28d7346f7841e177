//! Interpolated modified Kneser-Ney, computed as KenLM's `lmplz` does.
//!
//! The estimation is lmplz's pipeline, one stage per file, each opening with
//! its contract; [`estimate`] wires them together:
//!
//! 1. [`adjust_counts`]: the highest order keeps raw counts; a lower-order
//!    n-gram starting with `<s>` keeps its raw count; any other gets its
//!    continuation count, the number of distinct words seen before it. Also
//!    the count-of-counts n1..n4 of the adjusted counts.
//! 2. [`discounts`]: per order from the count-of-counts:
//!    Y = n1 / (n1 + 2 n2), D_j = j - (j + 1) Y n_{j+1} / n_j (j = 1, 2, 3+),
//!    or given by the user (0 <= D_j <= j is required).
//! 3. [`initial_probabilities`]: for each context h,
//!    u(w|h) = (a(hw) - D(a(hw))) / sum_w a(hw), and
//!    gamma(h) = (D1 N1(h) + D2 N2(h) + D3 N3+(h)) / sum_w a(hw).
//! 4. [`interpolate`]: p(w) = u(w) + gamma() / (|V| - 1) (|V| counts every
//!    type, `<s>` left out by the -1); p(w|h) = u(w|h) + gamma(h) p(w|h');
//!    the backoff of an n-gram that is a context is its gamma.
//!
//! Then every probability is stored as lmplz stores it: log10 in f32.
//!
//! Count pruning (`lmplz --prune`, [`prune`]) hooks in at three marked places:
//! which n-grams go is decided on the raw counts before stage 1; stage 3 gives
//! their mass to gamma; the finished levels drop them.
//! Stages 3 and 4 run order by order (order n needs order n - 1 final), which
//! keeps only two orders of linear probabilities alive at a time.

use super::context_runs;
use super::model::{NGramModel, Remainder};
use super::{add_unk, keys_with_unk, unfilled_levels};
use crate::control::Control;
use crate::count::NGramCounts;
use crate::{Error, Result};

pub mod adjust_counts;
pub mod discounts;
pub mod initial_probabilities;
pub mod interpolate;
pub mod prune;
pub mod stream;
mod unended;

pub use discounts::{discounts_from, FALLBACK};

/// Options of Kneser-Ney estimation.
#[derive(Debug, Clone, PartialEq)]
pub struct KneserNeyOptions {
    /// Interpolate unigrams with the uniform distribution (lmplz's default;
    /// `--interpolate_unigrams 0` turns it off).
    pub interpolate_unigrams: bool,
    /// Discounts (D1, D2, D3+) to use instead of estimating them: one triple
    /// per order, each with `0 <= D_j <= j` (checked by [`KneserNeyOptions::check`]).
    pub discounts: Option<Vec<[f64; 3]>>,
    /// Count pruning thresholds, as `lmplz --prune T1 T2 ...` (see [`prune`]):
    /// n-grams of order k >= 2 with a raw count at most `T_k` are removed.
    pub prune: Option<Vec<i64>>,
}

impl KneserNeyOptions {
    /// Refuse given discounts that do not fit a model of `order`: not one
    /// `[D1, D2, D3+]` per order, or not `0 <= D_j <= j` (lmplz's bounds).
    /// A caller may check before counting, so that bad options fail fast.
    pub fn check(&self, order: usize) -> Result<()> {
        if let Some(given) = &self.discounts {
            discounts::check_given(given, order)?;
        }
        if let Some(given) = &self.prune {
            prune::thresholds_for(given, order)?;
        }
        Ok(())
    }
}

impl Default for KneserNeyOptions {
    fn default() -> Self {
        Self {
            interpolate_unigrams: true,
            discounts: None,
            prune: None,
        }
    }
}

/// Estimate an interpolated modified Kneser-Ney model from padded counts.
pub fn estimate(counts: &NGramCounts, options: &KneserNeyOptions) -> Result<NGramModel> {
    check(counts, options)?;
    let (keys, raw) = keys_with_unk(counts);
    estimate_parts(counts.vocab.clone(), keys, raw, options, &Control::new())
}

/// [`estimate`], consuming the counts (their arrays are reused, not copied).
pub fn estimate_owned(counts: NGramCounts, options: &KneserNeyOptions) -> Result<NGramModel> {
    estimate_owned_with(counts, options, &Control::new())
}

/// [`estimate_owned`], reporting its stages to `control` and stopping between
/// them once it is cancelled.
pub fn estimate_owned_with(
    counts: NGramCounts,
    options: &KneserNeyOptions,
    control: &Control,
) -> Result<NGramModel> {
    check(&counts, options)?;
    let vocab = counts.vocab;
    let (keys, raw): (Vec<Vec<u32>>, Vec<Vec<u64>>) = counts
        .orders
        .into_iter()
        .map(|o| (o.keys, o.counts))
        .unzip();
    let (keys, raw) = add_unk(keys, raw);
    estimate_parts(vocab, keys, raw, options, control)
}

/// Refuse what Kneser-Ney cannot estimate from: unpadded counts, and
/// discounts that are not one valid `[D1, D2, D3+]` per order.
fn check(counts: &NGramCounts, options: &KneserNeyOptions) -> Result<()> {
    if !counts.padded {
        return Err(Error::InvalidArgument(
            "Kneser-Ney needs counts padded with <s> and </s> (count with pad=True)".into(),
        ));
    }
    options.check(counts.orders.len())
}

/// The estimation's progress as a user sees it: numbered, named stages, each
/// worth the n-grams it goes over (so the bar moves as the work does).
struct Stages<'a> {
    control: &'a Control,
    count: usize,
    begun: usize,
    /// Wall and CPU time of each stage on stderr under `NEXTWORD_TRACE`.
    trace: stream::Trace,
    /// The stage running, for the trace.
    name: String,
}

impl<'a> Stages<'a> {
    /// `count` stages of `work` steps in all.
    fn new(control: &'a Control, count: usize, work: usize) -> Self {
        control.start_steps(work as u64, "");
        Self {
            control,
            count,
            begun: 0,
            trace: stream::Trace::new(),
            name: String::new(),
        }
    }

    /// The last stage is over (for the trace).
    fn finish(&mut self) {
        self.trace.lap(&self.name);
    }

    /// Stop here if cancelled, else name the next stage.
    fn begin(&mut self, name: &str) -> Result<()> {
        self.control.check()?;
        if self.begun > 0 {
            self.trace.lap(&self.name);
        }
        self.name = name.to_string();
        self.begun += 1;
        self.control
            .set_stage(format!("stage {}/{}: {name}", self.begun, self.count));
        Ok(())
    }

    /// The stage just run went over `ngrams` n-grams.
    fn done(&self, ngrams: usize) {
        self.control.add_steps(ngrams as u64);
    }
}

/// The pipeline: levels from the keys, then the four stages, then log10.
fn estimate_parts(
    vocab: crate::tokenize::Vocab,
    keys: Vec<Vec<u32>>,
    raw: Vec<Vec<u64>>,
    options: &KneserNeyOptions,
    control: &Control,
) -> Result<NGramModel> {
    let sizes: Vec<usize> = raw.iter().map(Vec::len).collect();
    let all: usize = sizes.iter().sum();
    // Indexing, adjusting and linking go over every n-gram, stages 3 and 4
    // over one order each; the weights per n-gram are the shares of the time
    // each took on a 32 MB Gutenberg slice at order 5 (13%, 33%, 20% + 27%, 7%).
    let mut stages = Stages::new(control, 3 + 2 * sizes.len(), 15 * all);
    stages.begin("indexing the n-grams")?;
    let mut levels = unfilled_levels(keys);
    stages.done(2 * all);
    // Count pruning hook: which n-grams go, decided on the raw counts.
    let thresholds = (options.prune.as_ref())
        .map(|given| prune::thresholds_for(given, levels.len()))
        .transpose()?;
    let pruned = (thresholds.as_ref())
        .map(|t| prune::pruned_marks(&raw, t))
        .transpose()?;

    stages.begin("adjusting counts")?;
    let adjusted = adjust_counts::adjust_counts(&levels, raw);
    let (discounts, warnings) =
        discounts::choose(&adjusted.count_of_counts, options.discounts.as_deref());
    stages.done(5 * all);

    // Linear probabilities of the order below the one being estimated.
    let mut lower: Vec<f32> = Vec::new();
    let orders = adjusted.counts.into_iter().zip(adjusted.suffixes);
    for (k, (counts, suffixes)) in orders.enumerate() {
        stages.begin(&format!("initial probabilities of {}-grams", k + 1))?;
        let runs = context_runs(&levels[k].keys, k + 1);
        let initial = initial_probabilities::initial_probabilities(
            &levels[k],
            &runs,
            &counts,
            &discounts[k],
            pruned.as_ref().map(|p| &p[k][..]),
        );
        drop(counts);
        stages.done(3 * sizes[k]);
        stages.begin(&format!("interpolating {}-grams", k + 1))?;
        let p = interpolate::interpolate(
            &mut levels,
            k,
            &runs,
            initial,
            (&lower, &suffixes),
            options.interpolate_unigrams,
        );
        drop(suffixes);
        // Order k - 1 is final once order k has read it.
        if k > 0 {
            levels[k - 1].logprob = to_log10(&lower);
        }
        lower = p;
        stages.done(4 * sizes[k]);
    }
    stages.begin("linking the orders")?;
    if let Some(top) = levels.last_mut() {
        top.logprob = to_log10(&lower);
    }
    unended::align_like_lmplz(&mut levels, pruned.as_deref(), thresholds.as_deref());
    if let Some(marks) = &pruned {
        levels = prune::drop_pruned(levels, marks);
    }
    let mut model = NGramModel::from_levels(
        vocab,
        levels,
        Remainder::LowerOrder {
            unseen_context: 0.0,
        },
        "kneser-ney",
        true,
    );
    model.discounts = discounts;
    model.warnings = warnings;
    stages.done(all);
    stages.finish();
    Ok(model)
}

/// lmplz's stored value: log10 in f32 (glibc's log10f), at most 0.
fn to_log10(p: &[f32]) -> super::array::Array<f32> {
    p.iter()
        .map(|&p| p.log10().min(0.0))
        .collect::<Vec<_>>()
        .into()
}

/// Contexts are independent within stages 3 and 4: their runs are cut into
/// about this many blocks of consecutive contexts, computed in parallel.
const BLOCKS: usize = 256;

/// The slices of `values` (one per n-gram) covered by consecutive blocks of
/// `block` runs; runs are contiguous and cover the level from entry 0.
fn block_slices<'a, T>(
    mut values: &'a mut [T],
    runs: &[(usize, usize)],
    block: usize,
) -> Vec<&'a mut [T]> {
    let mut slices = Vec::with_capacity(runs.len().div_ceil(block.max(1)));
    for block_runs in runs.chunks(block.max(1)) {
        let len = block_runs[block_runs.len() - 1].1 - block_runs[0].0;
        let (head, tail) = std::mem::take(&mut values).split_at_mut(len);
        slices.push(head);
        values = tail;
    }
    slices
}

//! Stupid backoff (Brants et al. 2007).
//!
//! `S(w|h) = c(hw) / c(h.)` when hw was seen, else `alpha * S(w|h')`, down to
//! `S(w) = c(w) / N`. These are scores, not probabilities: they do not sum to
//! one, so a "perplexity" of a stupid-backoff model is not comparable with
//! that of a normalised model.

use super::backoff_form::{build_simple, log10, RunRule};
use super::model::{NGramModel, Remainder};
use crate::count::NGramCounts;

/// Estimate a stupid-backoff model with this alpha (0.4 in the paper).
pub fn estimate(counts: &NGramCounts, alpha: f64) -> NGramModel {
    build_simple(
        counts,
        Remainder::LowerOrder {
            unseen_context: log10(alpha),
        },
        "stupid-backoff",
        false,
        |_, total, _| RunRule {
            scale: if total > 0.0 { 1.0 / total } else { 0.0 },
            offset: 0.0,
            interp: 0.0,
            weight: alpha,
        },
    )
}

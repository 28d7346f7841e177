//! Maximum-likelihood estimation: relative frequencies.
//!
//! `p(w|h) = c(hw) / c(h.)` with `c(h.)` the count of h followed by anything.
//! An unseen word in a seen context gets probability 0 (log10 -inf); a context
//! the model never saw falls back to its longest seen suffix.

use super::backoff_form::{build_simple, RunRule};
use super::model::{NGramModel, Remainder};
use crate::count::NGramCounts;

/// Estimate an MLE model.
pub fn estimate(counts: &NGramCounts) -> NGramModel {
    build_simple(
        counts,
        Remainder::LowerOrder {
            unseen_context: 0.0,
        },
        "mle",
        true,
        |_, total, _| RunRule {
            scale: if total > 0.0 { 1.0 / total } else { 0.0 },
            offset: 0.0,
            interp: 0.0,
            // A context with counts keeps all its mass; one without falls
            // back to its suffix (weight 1), like a context never seen.
            weight: if total > 0.0 { 0.0 } else { 1.0 },
        },
    )
}

//! Interpolated Witten-Bell smoothing.
//!
//! `p(w|h) = (c(hw) + T(h) p(w|h')) / (c(h.) + T(h))`, where `T(h)` is the
//! number of distinct words seen after h; the unigram level interpolates with
//! the uniform distribution over the predictable words.

use super::backoff_form::{build_simple, RunRule};
use super::model::{NGramModel, Remainder};
use crate::count::NGramCounts;

/// Estimate an interpolated Witten-Bell model.
pub fn estimate(counts: &NGramCounts) -> NGramModel {
    build_simple(
        counts,
        Remainder::LowerOrder {
            unseen_context: 0.0,
        },
        "witten-bell",
        true,
        |_, total, distinct| {
            let denom = total + distinct;
            if denom == 0.0 {
                return RunRule {
                    scale: 0.0,
                    offset: 0.0,
                    interp: 1.0,
                    weight: 1.0,
                };
            }
            RunRule {
                scale: 1.0 / denom,
                offset: 0.0,
                interp: distinct / denom,
                weight: distinct / denom,
            }
        },
    )
}

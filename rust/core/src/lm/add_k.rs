//! Add-k smoothing (Laplace for k = 1).
//!
//! `p(w|h) = (c(hw) + k) / (c(h.) + k |V|)` over the |V| predictable words
//! (every type but `<s>`). Only the longest context is used; a context never
//! seen gives the uniform distribution 1/|V|.

use super::backoff_form::{build_simple, log10, RunRule};
use super::model::{NGramModel, Remainder};
use crate::count::NGramCounts;

/// Estimate an add-k model.
pub fn estimate(counts: &NGramCounts, k: f64) -> NGramModel {
    let mut unigram_total = 0.0;
    // Every vocabulary entry can be predicted except <s>.
    let predictable = (counts.vocab.len() - 1).max(1) as f64;
    for (i, &c) in counts.orders[0].counts.iter().enumerate() {
        if counts.orders[0].keys[i] != crate::tokenize::BOS_ID {
            unigram_total += c as f64;
        }
    }
    build_simple(
        counts,
        Remainder::Uniform {
            unseen_unigram: log10(k / (unigram_total + k * predictable)),
            uniform: log10(1.0 / predictable),
        },
        "add-k",
        true,
        |_, total, _| {
            let denom = total + k * predictable;
            RunRule {
                scale: 1.0 / denom,
                offset: k / denom,
                interp: 0.0,
                weight: k / denom,
            }
        },
    )
}

//! The backoffs lmplz writes when a sentence has no `</s>`.
//!
//! A file's last line without a newline gets no `</s>` (lmplz's rule, which
//! the corpus reader follows), so the n-grams that end it may be contexts of
//! nothing: *orphans*. Everywhere else every n-gram below the top order is
//! followed by a word or `</s>` and so is a context.
//!
//! lmplz does not look its backoffs up by key: its interpolation
//! (`lm/builder/interpolate.cc`) walks each order in suffix order and hands
//! every n-gram that does not end in `</s>` or `<unk>` the next gamma of the
//! stream of contexts, which is in the same order. An orphan thus takes the
//! next context's gamma, and every later n-gram of its order the one after
//! its own; the last ones find the stream empty and get none (log10 1 = 0).
//! The probabilities are not touched: they use each context's own gamma. When
//! the order above is count-pruned, lmplz finds each gamma by hash instead,
//! and an orphan's search runs the stream out: from the first orphan on, no
//! n-gram of the order gets a backoff.
//!
//! [`align_like_lmplz`] moves the backoffs the same way, so that the model and
//! its ARPA file are lmplz's; without orphans (every corpus whose files end
//! with a newline) it changes nothing. A context ending in `</s>` or `<unk>`,
//! which only a corpus lmplz refuses can give, takes part in the walk, so a
//! model without orphans keeps its own backoffs.

use crate::lm::level::Level;
use crate::tokenize::{EOS_ID, UNK_ID};

/// Reassign the backoffs of every order below the top as lmplz writes them
/// (see the module's text). `pruned` marks the n-grams count pruning removes
/// (lmplz never visits them), `thresholds` are the pruning thresholds per
/// order (0: not pruned).
pub(super) fn align_like_lmplz(
    levels: &mut [Level],
    pruned: Option<&[Vec<bool>]>,
    thresholds: Option<&[u64]>,
) {
    // Which n-grams are contexts, every order at once (each a merge of two
    // orders, read only); the backoffs then move order by order.
    let marks: Vec<Vec<bool>> = {
        use rayon::prelude::*;
        let levels = &*levels;
        (0..levels.len().saturating_sub(1))
            .into_par_iter()
            .map(|k| context_marks(&levels[k], &levels[k + 1]))
            .collect()
    };
    for (k, contexts) in marks.into_iter().enumerate() {
        let level = &mut levels[k];
        let kept = |i: usize| pruned.is_none_or(|p| !p[k][i]);
        let walked = |i: usize, contexts: &[bool]| {
            let last = level.key(i)[k];
            kept(i) && (contexts[i] || (last != EOS_ID && last != UNK_ID))
        };
        let m = level.len();
        if !(0..m).any(|i| walked(i, &contexts) && !contexts[i]) {
            continue;
        }
        // Suffix order: by the last word, then the one before, and so on.
        let mut order: Vec<usize> = (0..m).filter(|&i| walked(i, &contexts)).collect();
        order.sort_unstable_by(|&a, &b| level.key(a).iter().rev().cmp(level.key(b).iter().rev()));
        let hashed = thresholds.is_some_and(|t| t.get(k + 1).is_some_and(|&t| t > 0));
        let gammas: Vec<f32> = order
            .iter()
            .filter(|&&i| contexts[i])
            .map(|&i| level.backoff[i])
            .collect();
        let mut orphan_seen = false;
        for (rank, &i) in order.iter().enumerate() {
            level.backoff[i] = if hashed {
                orphan_seen |= !contexts[i];
                if orphan_seen {
                    0.0
                } else {
                    level.backoff[i]
                }
            } else {
                gammas.get(rank).copied().unwrap_or(0.0)
            };
        }
    }
}

/// Which n-grams of `level` are contexts of some n-gram of `above` (the next
/// order): a merge of the two lexicographically sorted levels.
fn context_marks(level: &Level, above: &Level) -> Vec<bool> {
    let mut marks = vec![false; level.len()];
    let prefixes = (0..above.len()).map(|i| &above.key(i)[..level.n]);
    level.walk_sorted(prefixes, |_, entry| marks[entry] = true);
    marks
}

//! Completing the n-grams of an ARPA file written by another tool, by
//! KenLM's rules, so that every file KenLM reads scores here as it does there.
//!
//! A model answers queries by walking suffixes: `p(w | a b)` looks for `w`,
//! then `b w`, then `a b w`, and stops at the first one missing. That walk
//! needs the n-grams to be *suffix-closed*. Models nextword estimates always
//! are; files from other tools need not be:
//!
//! - **Missing suffixes.** SRILM's pruning can remove `b c` and keep `a b c`.
//!   The walk would stop at `c` and never reach `a b c`. KenLM inserts a blank
//!   `b c` whose probability is what the model gives `c` after `b` without it
//!   (the longest shorter suffix's probability plus the backoff of the blank's
//!   context) and whose backoff is 0. A blank changes no probability: scoring
//!   `c` after `x b` still comes out as `p(c) + bo(b) + bo(x b)`; it only lets
//!   the walk go on. KenLM reports a blank match in the n-gram length, and so
//!   do we.
//! - **Missing `<unk>`.** Unknown words then score log10 p = -100, KenLM's
//!   default: a unigram `<unk>` with that probability and backoff 0 is added.
//! - **Missing contexts.** An n-gram `x y z` whose context `x y` is neither in
//!   the file nor a blank can never be reached by a query that respects
//!   backoff; KenLM refuses such a file, and so do we, naming the line.

use std::collections::BTreeSet;

use crate::tokenize::UNK_ID;

/// log10 p of an unknown word in an ARPA file without `<unk>` (KenLM's default).
pub const UNKNOWN_MISSING_LOGPROB: f32 = -100.0;

/// One n-gram of an ARPA file, or a blank inserted for a missing suffix.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Word ids, oldest first.
    pub key: Vec<u32>,
    /// log10 probability.
    pub logprob: f32,
    /// log10 backoff (0 when the file gives none).
    pub backoff: f32,
    /// Line of the file it was read from; 0 for an inserted entry.
    pub line: usize,
}

/// What [`complete`] had to add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Completion {
    /// Whether `<unk>` was missing and added with log10 p = -100.
    pub unk_added: bool,
    /// How many blank n-grams were inserted for missing suffixes.
    pub blanks: usize,
}

fn find(level: &[Entry], key: &[u32]) -> Option<usize> {
    level.binary_search_by(|e| e.key.as_slice().cmp(key)).ok()
}

/// Make `levels` (`levels[k]` holds the (k+1)-grams, each sorted by key,
/// without duplicates) suffix-closed, with `<unk>` as a unigram, and check
/// that every n-gram's context is present.
///
/// Contract: on success every level is sorted, every n-gram of order >= 2
/// has its suffix and its context in the level below, and no probability a
/// query computes differs from the file's backoff semantics. On a missing
/// context, returns the file line and a message naming the n-gram (`words`
/// maps ids to their text).
pub(crate) fn complete(
    levels: &mut [Vec<Entry>],
    words: &[String],
) -> Result<Completion, (usize, String)> {
    let mut done = Completion::default();
    if let Some(unigrams) = levels.first_mut() {
        if find(unigrams, &[UNK_ID]).is_none() {
            unigrams.push(Entry {
                key: vec![UNK_ID],
                logprob: UNKNOWN_MISSING_LOGPROB,
                backoff: 0.0,
                line: 0,
            });
            unigrams.sort_unstable_by(|a, b| a.key.cmp(&b.key));
            done.unk_added = true;
        }
    }

    // Blanks, from the highest order down: a blank inserted at order n may
    // itself lack its suffix at order n - 1, found on the next round.
    for k in (2..levels.len()).rev() {
        let (lower, upper) = levels.split_at_mut(k);
        let below = &mut lower[k - 1];
        let missing: BTreeSet<&[u32]> = upper[0]
            .iter()
            .map(|e| &e.key[1..])
            .filter(|suffix| find(below, suffix).is_none())
            .collect();
        if missing.is_empty() {
            continue;
        }
        done.blanks += missing.len();
        below.extend(missing.into_iter().map(|key| Entry {
            key: key.to_vec(),
            logprob: f32::NAN, // set below, once the lower orders are complete
            backoff: 0.0,
            line: 0,
        }));
        below.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    }

    // Contexts, checked against the completed lower order.
    for k in 1..levels.len() {
        let (lower, upper) = levels.split_at(k);
        for e in upper[0].iter().filter(|e| e.line > 0) {
            let context = &e.key[..k];
            if find(&lower[k - 1], context).is_none() {
                let text = |ids: &[u32]| {
                    ids.iter()
                        .map(|&id| words.get(id as usize).map_or("?", String::as_str))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                return Err((
                    e.line,
                    format!(
                        "the {}-gram {:?} has no {}-gram {:?} for its context \
                         (KenLM refuses such files too)",
                        k + 1,
                        text(&e.key),
                        k,
                        text(context)
                    ),
                ));
            }
        }
    }

    // Blank values, from the lowest order up, so a blank's suffix (possibly
    // a blank itself) already has its value: p(suffix) + backoff(context),
    // added in f32 in that order as KenLM does.
    if done.blanks > 0 {
        for k in 1..levels.len() {
            let (lower, upper) = levels.split_at_mut(k);
            let below = &lower[k - 1];
            for e in upper[0].iter_mut().filter(|e| e.line == 0) {
                let basis =
                    find(below, &e.key[1..]).map_or(f32::NEG_INFINITY, |i| below[i].logprob);
                let context = find(below, &e.key[..k]).map_or(0.0, |i| below[i].backoff);
                e.logprob = basis + context;
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &[u32], logprob: f32, backoff: f32, line: usize) -> Entry {
        Entry {
            key: key.to_vec(),
            logprob,
            backoff,
            line,
        }
    }

    fn words() -> Vec<String> {
        ["<unk>", "<s>", "</s>", "a", "b", "c", "d"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn blanks_carry_backoff_probabilities() {
        // 4-gram a b c d with neither b c d nor c d in the file.
        let mut levels = vec![
            vec![
                entry(&[0], -2.0, 0.0, 1),
                entry(&[3], -1.0, -0.5, 2),
                entry(&[4], -1.0, -0.25, 3),
                entry(&[5], -1.0, -0.125, 4),
                entry(&[6], -1.5, 0.0, 5),
            ],
            vec![entry(&[3, 4], -0.5, -0.1, 6), entry(&[4, 5], -0.6, -0.2, 7)],
            vec![entry(&[3, 4, 5], -0.3, -0.05, 8)],
            vec![entry(&[3, 4, 5, 6], -0.1, 0.0, 9)],
        ];
        let done = complete(&mut levels, &words()).unwrap();
        assert_eq!(
            done,
            Completion {
                unk_added: false,
                blanks: 2
            }
        );
        let cd = &levels[1][find(&levels[1], &[5, 6]).unwrap()];
        assert_eq!(cd.logprob, -1.5 + -0.125);
        assert_eq!(cd.backoff, 0.0);
        let bcd = &levels[2][find(&levels[2], &[4, 5, 6]).unwrap()];
        assert_eq!(bcd.logprob, (-1.5f32 + -0.125) + -0.2);
    }

    #[test]
    fn unk_is_added_and_missing_context_refused() {
        let mut levels = vec![
            vec![entry(&[3], -1.0, 0.0, 1), entry(&[4], -1.0, 0.0, 2)],
            vec![entry(&[3, 4], -0.5, 0.0, 3)],
        ];
        let done = complete(&mut levels, &words()).unwrap();
        assert!(done.unk_added);
        assert_eq!(levels[0][0].key, vec![UNK_ID]);
        assert_eq!(levels[0][0].logprob, UNKNOWN_MISSING_LOGPROB);

        let mut levels = vec![
            vec![
                entry(&[0], -1.0, 0.0, 1),
                entry(&[3], -1.0, 0.0, 2),
                entry(&[4], -1.0, 0.0, 3),
            ],
            vec![entry(&[4, 3], -0.5, 0.0, 4)],
            vec![entry(&[3, 4, 3], -0.5, 0.0, 7)],
        ];
        let (line, msg) = complete(&mut levels, &words()).unwrap_err();
        assert_eq!(line, 7);
        assert!(
            msg.contains("\"a b a\"") && msg.contains("\"a b\""),
            "{msg}"
        );
    }
}

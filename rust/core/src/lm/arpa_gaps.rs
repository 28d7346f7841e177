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

use rayon::prelude::*;

use super::level::Level;
use crate::tokenize::UNK_ID;

/// log10 p of an unknown word in an ARPA file without `<unk>` (KenLM's default).
pub const UNKNOWN_MISSING_LOGPROB: f32 = -100.0;

/// The rank (place in its file section) that marks an inserted n-gram.
pub(crate) const INSERTED: u32 = u32::MAX;

/// Where the n-grams of one level came from: `ranks[i]` is the rank in the
/// file section of entry `i`, or [`INSERTED`]; None: entry `i` has rank `i`.
pub(crate) type Ranks = Option<Vec<u32>>;

fn rank_of(ranks: &Ranks, i: usize) -> u32 {
    ranks.as_ref().map_or(i as u32, |r| r[i])
}

/// What [`complete`] had to add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Completion {
    /// Whether `<unk>` was missing and added with log10 p = -100.
    pub unk_added: bool,
    /// How many blank n-grams were inserted for missing suffixes.
    pub blanks: usize,
}

/// Whether every suffix of the n-grams of `upper` is an n-gram of `lower`,
/// proved by one merge pass over both in file order. The pass finds them all
/// when both come in lmplz's order (by their last word, then the one before:
/// their reversed keys ascend), as lmplz's and nextword's files do; a true
/// answer is sound whatever the order (each suffix was met, equal, in
/// `lower`). False: not proved, and [`complete`] looks each one up.
///
/// Each takes `n + 1` values per n-gram (ids, then anything), as read.
pub(crate) fn suffixes_in_order(
    upper: &[u32],
    n_upper: usize,
    lower: &[u32],
    n_lower: usize,
) -> bool {
    if n_upper != n_lower + 1 {
        return false;
    }
    let reversed_lt = |a: &[u32], b: &[u32]| a.iter().rev().lt(b.iter().rev());
    let mut lower = lower.chunks_exact(n_lower + 1).map(|r| &r[..n_lower]);
    let mut at = lower.next();
    for record in upper.chunks_exact(n_upper + 1) {
        let suffix = &record[1..n_upper];
        loop {
            match at {
                Some(l) if l == suffix => break,
                Some(l) if reversed_lt(l, suffix) => at = lower.next(),
                _ => return false,
            }
        }
    }
    true
}

/// `level` with the sorted, new `keys` merged in (log10 p NaN until set,
/// backoff 0), and `ranks` marking them inserted.
fn insert(level: &Level, ranks: &mut Ranks, keys: &[Vec<u32>]) -> Level {
    let n = level.n;
    let m = level.len();
    let old_ranks = ranks.take();
    let mut merged = Vec::with_capacity((m + keys.len()) * n);
    let mut logprob = Vec::with_capacity(m + keys.len());
    let mut backoff = Vec::with_capacity(m + keys.len());
    let mut new_ranks = Vec::with_capacity(m + keys.len());
    let mut j = 0;
    for i in 0..=m {
        while j < keys.len() && (i == m || keys[j].as_slice() < level.key(i)) {
            merged.extend_from_slice(&keys[j]);
            logprob.push(f32::NAN); // set once the lower orders are complete
            backoff.push(0.0);
            new_ranks.push(INSERTED);
            j += 1;
        }
        if i < m {
            merged.extend_from_slice(level.key(i));
            logprob.push(level.logprob[i]);
            backoff.push(level.backoff[i]);
            new_ranks.push(rank_of(&old_ranks, i));
        }
    }
    *ranks = Some(new_ranks);
    Level::new(n, merged, logprob, backoff)
}

/// Make `levels` (`levels[k]` holds the (k+1)-grams, each sorted by key,
/// without duplicates, with its hash index) suffix-closed, with `<unk>` as a
/// unigram, and check that every n-gram's context is present. `ranks[k]`
/// says where level k's entries stand in the file (see [`Ranks`]); inserted
/// entries are marked there. `proved[k]` says that every suffix of level k's
/// n-grams is known to be in level k - 1 (see [`suffixes_in_order`]): those
/// are not looked up.
///
/// Contract: on success every level is sorted, every n-gram of order >= 2
/// has its suffix and its context in the level below, and no probability a
/// query computes differs from the file's backoff semantics. On a missing
/// context, returns the order, the file rank of the n-gram and a message
/// naming it (`words` maps ids to their text). Costs one hash lookup per
/// n-gram of order >= 3 and one merge pass per order when nothing is missing.
pub(crate) fn complete(
    levels: &mut [Level],
    ranks: &mut [Ranks],
    proved: &[bool],
    words: &[String],
) -> Result<Completion, (usize, u32, String)> {
    let mut done = Completion::default();
    if let Some(unigrams) = levels.first() {
        if unigrams.find(&[UNK_ID]).is_none() {
            let unk = insert(unigrams, &mut ranks[0], &[vec![UNK_ID]]);
            levels[0] = unk;
            let at = levels[0].find(&[UNK_ID]).unwrap_or(0);
            levels[0].logprob[at] = UNKNOWN_MISSING_LOGPROB;
            done.unk_added = true;
        }
    }

    // Blanks, from the highest order down: a blank inserted at order n may
    // itself lack its suffix at order n - 1, found on the next round.
    let mut grown = vec![false; levels.len()];
    for k in (2..levels.len()).rev() {
        if proved.get(k).copied().unwrap_or(false) && !grown[k] {
            continue;
        }
        let (upper, below) = (&levels[k], &levels[k - 1]);
        let mut missing: Vec<Vec<u32>> = (0..upper.len())
            .into_par_iter()
            .filter_map(|i| {
                let suffix = &upper.key(i)[1..];
                below.find(suffix).is_none().then(|| suffix.to_vec())
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        missing.sort_unstable();
        missing.dedup();
        done.blanks += missing.len();
        levels[k - 1] = insert(below, &mut ranks[k - 1], &missing);
        grown[k - 1] = true;
    }

    // Contexts, checked against the completed lower order: both are sorted,
    // so the contexts come in order and one merge pass finds them all.
    for k in 1..levels.len() {
        let (lower, upper) = (&levels[k - 1], &levels[k]);
        let mut j = 0;
        for i in 0..upper.len() {
            let context = &upper.key(i)[..k];
            while j < lower.len() && lower.key(j) < context {
                j += 1;
            }
            let rank = rank_of(&ranks[k], i);
            if (j < lower.len() && lower.key(j) == context) || rank == INSERTED {
                continue;
            }
            let text = |ids: &[u32]| {
                ids.iter()
                    .map(|&id| words.get(id as usize).map_or("?", String::as_str))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            return Err((
                k,
                rank,
                format!(
                    "the {}-gram {:?} has no {}-gram {:?} for its context \
                     (KenLM refuses such files too)",
                    k + 1,
                    text(upper.key(i)),
                    k,
                    text(context)
                ),
            ));
        }
    }

    // Blank values, from the lowest order up, so a blank's suffix (possibly
    // a blank itself) already has its value: p(suffix) + backoff(context),
    // added in f32 in that order as KenLM does.
    if done.blanks > 0 {
        for k in 1..levels.len() {
            let Some(level_ranks) = &ranks[k] else {
                continue;
            };
            let (lower, upper) = levels.split_at_mut(k);
            let below = &lower[k - 1];
            let upper = &mut upper[0];
            for (i, _) in level_ranks
                .iter()
                .enumerate()
                .filter(|(_, &r)| r == INSERTED)
            {
                let key = upper.key(i);
                let basis = below
                    .find(&key[1..])
                    .map_or(f32::NEG_INFINITY, |j| below.logprob[j]);
                let context = below.find(&key[..k]).map_or(0.0, |j| below.backoff[j]);
                upper.logprob[i] = basis + context;
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A level of order `n` from (key, log10 p, backoff) entries in key order.
    fn level(n: usize, entries: &[(&[u32], f32, f32)]) -> Level {
        let keys = entries.iter().flat_map(|e| e.0.iter().copied()).collect();
        let logprob = entries.iter().map(|e| e.1).collect();
        let backoff = entries.iter().map(|e| e.2).collect();
        Level::new(n, keys, logprob, backoff)
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
            level(
                1,
                &[
                    (&[0], -2.0, 0.0),
                    (&[3], -1.0, -0.5),
                    (&[4], -1.0, -0.25),
                    (&[5], -1.0, -0.125),
                    (&[6], -1.5, 0.0),
                ],
            ),
            level(2, &[(&[3, 4], -0.5, -0.1), (&[4, 5], -0.6, -0.2)]),
            level(3, &[(&[3, 4, 5], -0.3, -0.05)]),
            level(4, &[(&[3, 4, 5, 6], -0.1, 0.0)]),
        ];
        let mut ranks = vec![None; 4];
        let done = complete(&mut levels, &mut ranks, &[], &words()).unwrap();
        assert_eq!(
            done,
            Completion {
                unk_added: false,
                blanks: 2
            }
        );
        let cd = levels[1].find(&[5, 6]).unwrap();
        assert_eq!(levels[1].logprob[cd], -1.5 + -0.125);
        assert_eq!(levels[1].backoff[cd], 0.0);
        let bcd = levels[2].find(&[4, 5, 6]).unwrap();
        assert_eq!(levels[2].logprob[bcd], (-1.5f32 + -0.125) + -0.2);
        // The file's entries keep their ranks, the blanks are marked.
        assert_eq!(ranks[1], Some(vec![0, 1, INSERTED]));
        assert_eq!(ranks[2], Some(vec![0, INSERTED]));
        assert_eq!(ranks[3], None);
    }

    /// Records as read: the ids of each n-gram, then its rank.
    fn records(keys: &[&[u32]]) -> Vec<u32> {
        let mut out = Vec::new();
        for (rank, key) in keys.iter().enumerate() {
            out.extend_from_slice(key);
            out.push(rank as u32);
        }
        out
    }

    #[test]
    fn suffixes_are_proved_only_in_lmplz_order_and_when_present() {
        // lmplz's order: by the last word, then the one before.
        let lower = records(&[&[4, 3], &[3, 4], &[5, 4], &[4, 5]]);
        let upper = records(&[&[3, 4, 3], &[5, 4, 3], &[4, 5, 4], &[3, 4, 5]]);
        assert!(suffixes_in_order(&upper, 3, &lower, 2));
        // A suffix missing (5 3 is no bigram), or either side out of order.
        let missing = records(&[&[3, 4, 3], &[4, 5, 3]]);
        assert!(!suffixes_in_order(&missing, 3, &lower, 2));
        let shuffled = records(&[&[3, 4, 5], &[3, 4, 3], &[4, 5, 4], &[5, 4, 3]]);
        assert!(!suffixes_in_order(&shuffled, 3, &lower, 2));
        let lower_shuffled = records(&[&[3, 4], &[4, 3], &[5, 4], &[4, 5]]);
        assert!(!suffixes_in_order(&upper, 3, &lower_shuffled, 2));
        // What it proves is what looking every suffix up finds.
        let mut levels = vec![
            level(
                1,
                &[
                    (&[0], -1.0, 0.0),
                    (&[3], -1.0, 0.0),
                    (&[4], -1.0, 0.0),
                    (&[5], -1.0, 0.0),
                ],
            ),
            level(
                2,
                &[
                    (&[3, 4], -0.5, 0.0),
                    (&[4, 3], -0.5, 0.0),
                    (&[4, 5], -0.5, 0.0),
                    (&[5, 4], -0.5, 0.0),
                ],
            ),
            level(
                3,
                &[
                    (&[3, 4, 3], -0.1, 0.0),
                    (&[3, 4, 5], -0.1, 0.0),
                    (&[4, 5, 4], -0.1, 0.0),
                    (&[5, 4, 3], -0.1, 0.0),
                ],
            ),
        ];
        let mut ranks = vec![None, None, None];
        let done = complete(&mut levels, &mut ranks, &[false; 3], &words()).unwrap();
        assert_eq!(done.blanks, 0);
    }

    #[test]
    fn unk_is_added_and_missing_context_refused() {
        let mut levels = vec![
            level(1, &[(&[3], -1.0, 0.0), (&[4], -1.0, 0.0)]),
            level(2, &[(&[3, 4], -0.5, 0.0)]),
        ];
        let mut ranks = vec![None, None];
        let done = complete(&mut levels, &mut ranks, &[], &words()).unwrap();
        assert!(done.unk_added);
        assert_eq!(levels[0].key(0), &[UNK_ID]);
        assert_eq!(levels[0].logprob[0], UNKNOWN_MISSING_LOGPROB);
        assert_eq!(ranks[0], Some(vec![INSERTED, 0, 1]));

        let mut levels = vec![
            level(
                1,
                &[(&[0], -1.0, 0.0), (&[3], -1.0, 0.0), (&[4], -1.0, 0.0)],
            ),
            level(2, &[(&[4, 3], -0.5, 0.0)]),
            level(3, &[(&[3, 4, 3], -0.5, 0.0)]),
        ];
        // The 3-gram's rank in its (shuffled) section is 5.
        let mut ranks = vec![None, None, Some(vec![5])];
        let (k, rank, msg) = complete(&mut levels, &mut ranks, &[], &words()).unwrap_err();
        assert_eq!((k, rank), (2, 5));
        assert!(
            msg.contains("\"a b a\"") && msg.contains("\"a b\""),
            "{msg}"
        );
    }
}

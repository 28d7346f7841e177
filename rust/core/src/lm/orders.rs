//! [`Orders`]: what the query algorithms read from a model's n-grams, in
//! either layout, so that distributions, top-k and sampling are one piece of
//! code. Scoring, the hot path, has a loop of its own per layout
//! (`NGramModel::score_word`).

use super::level::{self, Level};
use super::ranking::Ranking;
use super::trie::Trie;

/// A model's n-grams, hash layout or trie. Entry numbers are the same in both
/// (the sorted order of the n-grams), so answers are the same.
#[derive(Clone, Copy)]
pub(crate) enum Orders<'a> {
    /// Sorted keys with a hash index per order.
    Hash(&'a [Level]),
    /// The trie.
    Trie(&'a Trie),
}

impl<'a> Orders<'a> {
    /// Number of entries of order `k + 1`.
    #[inline]
    pub fn len(self, k: usize) -> usize {
        match self {
            Orders::Hash(l) => l.get(k).map_or(0, Level::len),
            Orders::Trie(t) => t.len(k),
        }
    }

    /// Last word id of entry `i` of order `k + 1` (`u32::MAX` out of range).
    #[inline]
    pub fn word(self, k: usize, i: usize) -> u32 {
        match self {
            Orders::Hash(l) => l
                .get(k)
                .and_then(|l| l.keys.get(i * l.n + l.n - 1).copied())
                .unwrap_or(u32::MAX),
            Orders::Trie(t) => t.word(k, i),
        }
    }

    /// log10 probability of entry `i` of order `k + 1` (-inf out of range).
    #[inline]
    pub fn logprob(self, k: usize, i: usize) -> f32 {
        match self {
            Orders::Hash(l) => l
                .get(k)
                .and_then(|l| l.logprob.get(i).copied())
                .unwrap_or(f32::NEG_INFINITY),
            Orders::Trie(t) => match t.levels.get(k) {
                Some(l) if i < l.len => l.probs.get(i),
                _ => f32::NEG_INFINITY,
            },
        }
    }

    /// log10 backoff of entry `i` of order `k + 1` (0 out of range).
    #[inline]
    pub fn backoff(self, k: usize, i: usize) -> f32 {
        match self {
            Orders::Hash(l) => l
                .get(k)
                .and_then(|l| l.backoff.get(i).copied())
                .unwrap_or(0.0),
            Orders::Trie(t) => t.levels.get(k).map_or(0.0, |l| l.backoffs.get(i)),
        }
    }

    /// The children of entry `i` of order `k + 1` in order `k + 2`.
    #[inline]
    pub fn children(self, k: usize, i: usize) -> (usize, usize) {
        match self {
            Orders::Hash(l) => match l.get(k) {
                Some(level) => level.children(i, self.len(k + 1)),
                None => (0, 0),
            },
            Orders::Trie(t) => t.children(k, i),
        }
    }

    /// The entry of order `k + 1` (k >= 1) made of `context` (its first k
    /// words, whose own entry is `parent`) and `word`. The hash layout trusts
    /// a 64-bit hash match, as scoring does.
    #[inline]
    pub fn extend(self, k: usize, parent: usize, context: &[u32], word: u32) -> Option<usize> {
        match self {
            Orders::Hash(l) => {
                let mut running = level::start(word);
                for &w in context.iter().rev() {
                    running = level::extend(running, w);
                }
                let slot = l.get(k)?.find_trusted(level::finish(running, k + 1))?;
                Some(slot[1] as usize)
            }
            Orders::Trie(t) => t.find_child(k, parent, word),
        }
    }

    /// Entries `s..e` of order `k + 1` by descending probability, ties by
    /// entry, with their running sums.
    #[inline]
    pub fn ranking(self, k: usize, s: usize, e: usize) -> Ranking<'a> {
        match self {
            Orders::Hash(l) => {
                let level = l.get(k);
                Ranking::Slices {
                    ranked: level.and_then(|l| l.by_prob.get(s..e)).unwrap_or(&[]),
                    cum: level.and_then(|l| l.cum.get(s..e)).unwrap_or(&[]),
                }
            }
            Orders::Trie(t) => t.ranking(k, s, e),
        }
    }
}

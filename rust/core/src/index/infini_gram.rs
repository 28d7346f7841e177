//! The ∞-gram model (Liu et al. 2024, "Infini-gram"): predict the next token
//! from the longest suffix of the context that occurs in the corpus, however
//! long.
//!
//! For a context `x`, let `s` be the longest suffix of `x` that occurs in the
//! corpus followed by a token (its effective n is `|s| + 1`). Then
//! `p(w | x) = count(s w) / count(s followed by a token)`. The separator is
//! not a token; in a padded index `<s>` is never predicted (a sentence starts
//! with it, nothing goes on to it), so it is left out of both counts, as the
//! n-gram models leave it out. The empty suffix gives the unigram distribution.
//! Unlike infini-gram's denominator `count(s)`, ours leaves out the
//! occurrences that end a document, so that the probabilities sum to 1.

use std::ops::Range;

use super::file::CorpusIndex;
use super::search::{merge_counts, with_view, Token, View};
use crate::tokenize::BOS_ID;

/// The ∞-gram prediction after a context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prediction {
    /// The tokens that follow the suffix used, with their counts, in id order.
    pub counts: Vec<(u32, u64)>,
    /// Their sum: the denominator.
    pub total: u64,
    /// The effective n: the suffix's length plus one.
    pub n: usize,
}

impl Prediction {
    /// p(token), 0 when it never follows.
    pub fn prob(&self, token: u32) -> f64 {
        match self.counts.binary_search_by_key(&token, |c| c.0) {
            Ok(i) if self.total > 0 => self.counts[i].1 as f64 / self.total as f64,
            _ => 0.0,
        }
    }

    /// The dense distribution over a vocabulary of `len` ids.
    pub fn dense(&self, len: usize) -> Vec<f64> {
        let mut p = vec![0.0; len];
        if self.total > 0 {
            for &(t, c) in &self.counts {
                if let Some(slot) = p.get_mut(t as usize) {
                    *slot = c as f64 / self.total as f64;
                }
            }
        }
        p
    }
}

impl<T: Token> View<'_, T> {
    /// The longest suffix of `context` (ids below `vocab_len`) followed by a
    /// token: its length and rows. Followed-by-a-token is monotone in the
    /// suffix's length, so the length is found by binary search.
    fn longest_suffix(
        &self,
        context: &[u32],
        vocab_len: u32,
        skip_bos: bool,
    ) -> (usize, Range<usize>) {
        // A suffix cannot reach past an unknown word.
        let known = context.iter().rev().take_while(|&&t| t < vocab_len).count();
        let suffix = |len: usize| &context[context.len() - len..];
        let ok = |len: usize| {
            let r = self.range(suffix(len));
            (self.followed(r.clone(), len, skip_bos) > 0).then_some(r)
        };
        let (mut lo, mut hi) = (0usize, known);
        let mut best = self.range(&[]);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            match ok(mid) {
                Some(r) => {
                    lo = mid;
                    best = r;
                }
                None => hi = mid - 1,
            }
        }
        (lo, best)
    }
}

impl CorpusIndex {
    /// The ∞-gram prediction after `context` (ids; [`super::ABSENT`] for an
    /// unknown word), see the module docs.
    pub fn infini_gram(&self, context: &[u32]) -> Prediction {
        let vocab_len = self.vocab_len() as u32;
        let skip_bos = self.skip_bos();
        // The longest suffix followed by a token in the corpus is the longest
        // of the shards' (a phrase occurs, followed, when it does in some
        // shard); its successors are those of every shard that holds it.
        let mut len = 0usize;
        let mut ranges = Vec::with_capacity(self.shard_count());
        for shard in self.shards() {
            let found = with_view!(shard, v => v.longest_suffix(context, vocab_len, skip_bos));
            len = len.max(found.0);
            ranges.push(found);
        }
        let counts = if len == 0 {
            let unigrams = self.unigram_counts();
            (0..unigrams.len() as u32)
                .zip(unigrams.iter().copied())
                .filter(|&(_, c)| c > 0)
                .collect()
        } else {
            let suffix = &context[context.len() - len..];
            merge_counts(self.shards().zip(ranges).map(|(shard, (n, range))| {
                with_view!(shard, v => {
                    let range = if n == len { range } else { v.range(suffix) };
                    v.successors(range, len)
                })
            }))
        };
        let counts: Vec<(u32, u64)> = counts
            .into_iter()
            .filter(|&(t, _)| !(skip_bos && t == BOS_ID))
            .collect();
        let total = counts.iter().map(|c| c.1).sum();
        Prediction {
            counts,
            total,
            n: len + 1,
        }
    }

    /// [`CorpusIndex::infini_gram`] after many contexts, in parallel.
    pub fn infini_gram_batch(
        &self,
        contexts: &[Vec<u32>],
        threads: usize,
    ) -> crate::Result<Vec<Prediction>> {
        use rayon::prelude::*;
        super::search::in_pool(threads, || {
            contexts.par_iter().map(|c| self.infini_gram(c)).collect()
        })
    }
}

//! How much of a text is found in the corpus: from the longest match at every
//! position, the fraction of the text's n-grams that occur in the corpus for
//! each n, and the median longest match.
//!
//! An n-gram of the text starting at position i occurs in the corpus exactly
//! when the longest match at i is at least n, so one pass of longest matches
//! answers every n. Sequences are separate: no n-gram spans two of them.

use super::file::CorpusIndex;
use crate::Result;

/// Novelty figures of a set of sequences.
#[derive(Debug, Clone, PartialEq)]
pub struct Novelty {
    /// For every position of every sequence, the longest match starting there.
    pub longest: Vec<Vec<u32>>,
    /// For n = 1..=max_n: (n-grams of the text found in the corpus, n-grams of the text).
    pub found: Vec<(u64, u64)>,
    /// The median of the longest matches (NaN for an empty text).
    pub median_longest: f64,
}

impl Novelty {
    /// The figures of `longest` (one array per sequence) for n = 1..=max_n.
    pub fn of(longest: Vec<Vec<u32>>, max_n: usize) -> Self {
        let mut found = vec![(0u64, 0u64); max_n];
        for seq in &longest {
            for (n, slot) in (1..=max_n).zip(found.iter_mut()) {
                if seq.len() < n {
                    break;
                }
                let starts = &seq[..seq.len() + 1 - n];
                slot.0 += starts.iter().filter(|&&m| m as usize >= n).count() as u64;
                slot.1 += starts.len() as u64;
            }
        }
        let mut all: Vec<u32> = longest.iter().flatten().copied().collect();
        all.sort_unstable();
        let median_longest = match all.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => all[n / 2] as f64,
            n => (all[n / 2 - 1] as f64 + all[n / 2] as f64) / 2.0,
        };
        Self {
            longest,
            found,
            median_longest,
        }
    }
}

impl CorpusIndex {
    /// Novelty of `sequences` (ids), for n = 1..=max_n, in parallel on `threads`.
    pub fn novelty(&self, sequences: &[Vec<u32>], max_n: usize, threads: usize) -> Result<Novelty> {
        use rayon::prelude::*;
        let longest = super::search::in_pool(threads, || {
            sequences
                .par_iter()
                .map(|s| self.longest_matches(s))
                .collect()
        })?;
        Ok(Novelty::of(longest, max_n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_and_median() {
        let n = Novelty::of(vec![vec![3, 2, 1, 0], vec![1]], 3);
        // unigrams: 4 of 5 found; bigrams: 2 of 3; trigrams: 1 of 2.
        assert_eq!(n.found, [(4, 5), (2, 3), (1, 2)]);
        assert_eq!(n.median_longest, 1.0);
        assert!(Novelty::of(vec![], 2).median_longest.is_nan());
    }
}

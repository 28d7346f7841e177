//! The training vocabulary and the negative-sampling distribution.
//!
//! Contract: in, a corpus and a tokenizer; out, the words with at least
//! `min_count` occurrences, by descending count (ties: first appearance), with
//! their counts. The noise distribution of negative sampling is the unigram
//! distribution raised to 0.75 (Mikolov et al. 2013, section 2.2). The C tool
//! fills a table of 10^8 word ids; we keep one cumulative sum per word and
//! draw by binary search instead, so memory stays one f64 per word.

use crate::control::Control;
use crate::corpus::Corpus;
use crate::sample::Rng;
use crate::tokenize::{Tokenizer, Vocab};
use crate::{Error, Result};

/// The exponent of the noise distribution.
pub const NOISE_POWER: f64 = 0.75;

/// Words and their counts, most frequent first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrainingVocab {
    /// The words; a word's index is its id.
    pub words: Vec<String>,
    /// The corpus count of each word.
    pub counts: Vec<u64>,
}

impl TrainingVocab {
    /// Count the words of `corpus` and keep those with at least `min_count`
    /// occurrences. An empty corpus, or one where no word reaches `min_count`,
    /// is an error that says so.
    pub fn build(
        corpus: &Corpus,
        tokenizer: Tokenizer,
        min_count: u64,
        control: &Control,
        threads: usize,
    ) -> Result<Self> {
        let (vocab, _) = Vocab::build(corpus, tokenizer, min_count.max(1), None, control, threads)?;
        // The n-gram vocabulary starts with <unk>, <s>, </s>; word2vec has no specials.
        let skip = 3;
        let words = vocab.words().iter().skip(skip).cloned().collect::<Vec<_>>();
        let counts = vocab
            .counts()
            .iter()
            .skip(skip)
            .copied()
            .collect::<Vec<_>>();
        if words.is_empty() {
            return Err(Error::EmptyCorpus(format!(
                "no word occurs at least min_count={min_count} times; lower min_count or give more text"
            )));
        }
        Ok(Self { words, counts })
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there is no word.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Sum of the counts: the words one epoch reads, before subsampling.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The noise distribution: `cumulative[i]` is the sum of `count^0.75` over
/// words `0..=i`, summed in order in f64.
///
/// A draw is the first word whose cumulative sum exceeds `r`. A plain binary
/// search for it walks about 16 levels of a table too big for the cache, once
/// per noise word; a guide table (Chen and Asau 1974) cuts `[0, total)` into
/// `k` equal buckets and stores, per bucket edge, where the search would end,
/// so a draw only searches the few words of its bucket. The answer is the
/// binary search's, exactly (see [`NoiseTable::find`]).
#[derive(Debug, Clone)]
pub struct NoiseTable {
    cumulative: Vec<f64>,
    /// `guide[b]`: the number of cumulative sums `<= edge(b)`, for `b` in `0..=k`.
    guide: Vec<u32>,
}

impl NoiseTable {
    /// The table of `counts` (at least one count must be positive).
    pub fn new(counts: &[u64]) -> Self {
        let mut sum = 0.0f64;
        let cumulative: Vec<f64> = counts
            .iter()
            .map(|&c| {
                sum += (c as f64).powf(NOISE_POWER);
                sum
            })
            .collect();
        let mut table = Self {
            cumulative,
            guide: Vec::new(),
        };
        let k = counts.len().next_power_of_two();
        table.guide = (0..=k)
            .map(|b| {
                let edge = table.edge(b, k);
                table.cumulative.partition_point(|&c| c <= edge) as u32
            })
            .collect();
        table
    }

    /// The lower edge of bucket `b` of `k` (the same f64 operations at
    /// construction and at each draw, so the same value).
    #[inline]
    fn edge(&self, b: usize, k: usize) -> f64 {
        self.total() * b as f64 / k as f64
    }

    #[inline]
    fn total(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    /// The cumulative sums.
    pub fn cumulative(&self) -> &[f64] {
        &self.cumulative
    }

    /// Draw a word id: `r = uniform * total`, then the first word whose
    /// cumulative sum exceeds `r`.
    #[inline]
    pub fn draw(&self, rng: &mut Rng) -> u32 {
        self.find(rng.uniform() * self.total())
    }

    /// The first word whose cumulative sum exceeds `r` (the last word if none).
    ///
    /// With `edge(b) <= r < edge(b + 1)`, every sum before `guide[b]` is
    /// `<= edge(b) <= r` and every sum from `guide[b + 1]` on is
    /// `> edge(b + 1) > r` (the sums never decrease), so the answer lies in
    /// `guide[b]..=guide[b + 1]` and a search of that range finds it. A bucket
    /// guess that rounding put on the wrong side of `r` falls back to the
    /// whole search.
    #[inline]
    pub fn find(&self, r: f64) -> u32 {
        let last = self.cumulative.len().saturating_sub(1);
        let k = self.guide.len().saturating_sub(1);
        let total = self.total();
        let i = if k > 0 && total > 0.0 {
            let b = ((r / total * k as f64) as usize).min(k - 1);
            if self.edge(b, k) <= r && r < self.edge(b + 1, k) {
                let (lo, hi) = (self.guide[b] as usize, self.guide[b + 1] as usize);
                lo + self.cumulative[lo..hi].partition_point(|&c| c <= r)
            } else {
                self.cumulative.partition_point(|&c| c <= r)
            }
        } else {
            self.cumulative.partition_point(|&c| c <= r)
        };
        i.min(last) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocab_by_count_then_first_appearance() {
        let corpus = Corpus::from_texts(vec!["b a a c c d".into(), "e b".into()]);
        let control = Control::new();
        let v = TrainingVocab::build(&corpus, Tokenizer::Whitespace, 2, &control, 1).unwrap();
        assert_eq!(v.words, vec!["b", "a", "c"]);
        assert_eq!(v.counts, vec![2, 2, 2]);
        assert_eq!(v.total(), 6);
    }

    #[test]
    fn nothing_reaches_min_count() {
        let corpus = Corpus::from_texts(vec!["a b c".into()]);
        let control = Control::new();
        let err = TrainingVocab::build(&corpus, Tokenizer::Whitespace, 5, &control, 1).unwrap_err();
        assert!(err.to_string().contains("min_count=5"), "{err}");
        let empty = Corpus::from_texts(vec![String::new()]);
        assert!(TrainingVocab::build(&empty, Tokenizer::Whitespace, 1, &control, 1).is_err());
    }

    #[test]
    fn noise_follows_counts_to_the_075() {
        let table = NoiseTable::new(&[16, 1, 0]);
        assert_eq!(table.find(0.0), 0);
        assert_eq!(table.find(7.99), 0);
        assert_eq!(table.find(8.0), 1);
        assert_eq!(table.find(9.0), 2);
        let mut rng = Rng::new(7);
        let mut hits = [0u32; 3];
        for _ in 0..9000 {
            hits[table.draw(&mut rng) as usize] += 1;
        }
        assert_eq!(hits[2], 0);
        assert_eq!(NoiseTable::new(&[]).find(0.5), 0);
        assert_eq!(NoiseTable::new(&[0, 0]).find(0.0), 1);
        assert!(
            (hits[0] as f64 / 9000.0 - 8.0 / 9.0).abs() < 0.02,
            "{hits:?}"
        );
    }

    #[test]
    fn guided_draw_is_the_binary_search() {
        let mut rng = Rng::new(11);
        for n in [1usize, 2, 3, 7, 64, 1000] {
            let counts: Vec<u64> = (0..n)
                .map(|i| 1 + (rng.next_u64() % 5000) / (i as u64 + 1))
                .collect();
            let mut counts = counts;
            if n > 2 {
                counts[n / 2] = 0;
            }
            let table = NoiseTable::new(&counts);
            let c = table.cumulative();
            let total = *c.last().unwrap();
            let plain = |r: f64| (c.partition_point(|&x| x <= r).min(n - 1)) as u32;
            // Each sum and its two neighbouring f64s (all sums are positive).
            let near = |x: f64, d: i64| f64::from_bits((x.to_bits() as i64 + d) as u64);
            let mut probes: Vec<f64> = c
                .iter()
                .flat_map(|&x| [x, near(x, -1), near(x, 1)])
                .collect();
            probes.extend((0..=4000).map(|i| total * i as f64 / 4000.0));
            probes.extend((0..2000).map(|_| rng.uniform() * total));
            probes.extend([0.0, -1.0, total * 2.0, f64::NAN]);
            for r in probes {
                assert_eq!(table.find(r), plain(r), "n {n} r {r}");
            }
        }
    }
}

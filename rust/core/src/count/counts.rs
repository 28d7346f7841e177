//! [`NGramCounts`]: the counted n-grams of orders 1..N, sorted for lookup.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::corpus::CorpusStats;
use crate::tokenize::Vocab;
use crate::{Error, Result};

/// The n-grams of one order: `keys` holds `n` ids per n-gram, sorted
/// lexicographically (ids compared as numbers), and `counts` their counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderCounts {
    /// The n.
    pub n: usize,
    /// Flat ids, `n` per n-gram, strictly increasing n-gram by n-gram.
    pub keys: Vec<u32>,
    /// One count per n-gram, each >= 1.
    pub counts: Vec<u64>,
}

impl OrderCounts {
    /// Number of distinct n-grams.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The ids of the i-th n-gram.
    pub fn key(&self, i: usize) -> &[u32] {
        &self.keys[i * self.n..(i + 1) * self.n]
    }

    /// Index of `ids` (of length n), by binary search.
    pub fn find(&self, ids: &[u32]) -> Option<usize> {
        if ids.len() != self.n {
            return None;
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.key(mid).cmp(ids) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Sum of the counts.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// How many n-grams occur exactly c times, for every c that occurs.
    pub fn count_of_counts(&self) -> BTreeMap<u64, u64> {
        let mut coc = BTreeMap::new();
        for &c in &self.counts {
            *coc.entry(c).or_insert(0) += 1;
        }
        coc
    }

    /// Indices of the `k` most frequent n-grams: count descending, ties by key.
    pub fn most_common(&self, k: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        let by = |a: &usize, b: &usize| self.counts[*b].cmp(&self.counts[*a]).then(a.cmp(b));
        if k < idx.len() {
            idx.select_nth_unstable_by(k, by);
            idx.truncate(k);
        }
        idx.sort_unstable_by(by);
        idx
    }

    /// Check the invariants (used on data read from files).
    pub fn validate(&self, vocab_len: usize) -> std::result::Result<(), String> {
        if self.n == 0 || self.keys.len() != self.counts.len() * self.n {
            return Err(format!("order {}: key and count lengths disagree", self.n));
        }
        if self.keys.iter().any(|&id| id as usize >= vocab_len) {
            return Err(format!("order {}: id out of vocabulary range", self.n));
        }
        if self.counts.contains(&0) {
            return Err(format!("order {}: zero count", self.n));
        }
        if (1..self.len()).any(|i| self.key(i - 1) >= self.key(i)) {
            return Err(format!("order {}: n-grams not strictly sorted", self.n));
        }
        Ok(())
    }

    /// Sort (keys, counts) given in any order, summing duplicates.
    fn from_unsorted(n: usize, keys: &[u32], counts: &[u64]) -> Self {
        let mut idx: Vec<usize> = (0..counts.len()).collect();
        idx.par_sort_unstable_by(|&a, &b| keys[a * n..(a + 1) * n].cmp(&keys[b * n..(b + 1) * n]));
        let mut out = OrderCounts {
            n,
            keys: Vec::with_capacity(keys.len()),
            counts: Vec::with_capacity(counts.len()),
        };
        for i in idx {
            let key = &keys[i * n..(i + 1) * n];
            if !out.is_empty() && out.key(out.len() - 1) == key {
                *out.counts.last_mut().unwrap_or(&mut 0) += counts[i];
            } else {
                out.keys.extend_from_slice(key);
                out.counts.push(counts[i]);
            }
        }
        out
    }
}

/// Counted n-grams of every order 1..=N, with their vocabulary.
#[derive(Debug, Clone)]
pub struct NGramCounts {
    /// Token <-> id map; ids in first-appearance order after the specials.
    pub vocab: Vocab,
    /// `orders[k - 1]` holds the k-grams.
    pub orders: Vec<OrderCounts>,
    /// Whether sentences were padded with `<s>` and `</s>`.
    pub padded: bool,
    /// What reading the corpus saw.
    pub stats: CorpusStats,
    /// Tokens read (before padding).
    pub tokens: u64,
}

impl NGramCounts {
    /// The highest order.
    pub fn order(&self) -> usize {
        self.orders.len()
    }

    /// A copy holding only the orders up to `order` (all of them when higher).
    pub fn truncated(&self, order: usize) -> NGramCounts {
        NGramCounts {
            vocab: self.vocab.clone(),
            orders: self.orders[..order.min(self.order())].to_vec(),
            padded: self.padded,
            stats: self.stats,
            tokens: self.tokens,
        }
    }

    /// Counts of order `n` (1-based).
    pub fn get_order(&self, n: usize) -> Result<&OrderCounts> {
        if n == 0 || n > self.order() {
            return Err(Error::InvalidArgument(format!(
                "order {n} not in 1..={} (the orders counted)",
                self.order()
            )));
        }
        Ok(&self.orders[n - 1])
    }

    /// Count of the n-gram given as words (0 when unseen or longer than the order).
    pub fn count(&self, words: &[&str]) -> u64 {
        if words.is_empty() || words.len() > self.order() {
            return 0;
        }
        let mut ids = Vec::with_capacity(words.len());
        for w in words {
            match self.vocab.get(w) {
                Some(id) => ids.push(id),
                None => return 0,
            }
        }
        let table = &self.orders[words.len() - 1];
        table.find(&ids).map_or(0, |i| table.counts[i])
    }

    /// The counts of `self` and `other` added, as if counted over both corpora
    /// (`self` first): the vocabulary is `self`'s followed by `other`'s new words.
    pub fn merge(&self, other: &NGramCounts) -> Result<NGramCounts> {
        if self.order() != other.order() || self.padded != other.padded {
            return Err(Error::InvalidArgument(format!(
                "cannot merge counts of order {} ({}) with counts of order {} ({})",
                self.order(),
                if self.padded { "padded" } else { "unpadded" },
                other.order(),
                if other.padded { "padded" } else { "unpadded" },
            )));
        }
        if self.vocab.tokenizer() != other.vocab.tokenizer() {
            return Err(Error::InvalidArgument(format!(
                "cannot merge counts of tokenizer {} with counts of tokenizer {}",
                self.vocab.tokenizer().spec(),
                other.vocab.tokenizer().spec()
            )));
        }
        let mut vocab = self.vocab.clone();
        // `add` sums the counts of a word both tables know.
        let remap: Vec<u32> = other
            .vocab
            .words()
            .iter()
            .zip(other.vocab.counts())
            .map(|(w, &c)| vocab.add(w, c))
            .collect();
        let orders = self
            .orders
            .par_iter()
            .zip(&other.orders)
            .map(|(a, b)| {
                let mut keys = a.keys.clone();
                keys.extend(b.keys.iter().map(|&id| remap[id as usize]));
                let mut counts = a.counts.clone();
                counts.extend_from_slice(&b.counts);
                OrderCounts::from_unsorted(a.n, &keys, &counts)
            })
            .collect();
        let mut stats = self.stats;
        stats.merge(&other.stats);
        Ok(NGramCounts {
            vocab,
            orders,
            padded: self.padded,
            stats,
            tokens: self.tokens + other.tokens,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::control::Control;
    use crate::corpus::Corpus;
    use crate::count::{count_ngrams, CountOptions, NGramCounts};

    fn count(texts: &[&str]) -> NGramCounts {
        let corpus = Corpus::from_texts(texts.iter().map(|t| t.to_string()).collect());
        count_ngrams(&corpus, &CountOptions::default(), &Control::new()).unwrap()
    }

    /// The vocabulary's counts are the unigram counts, after a merge and a
    /// save/load as after counting.
    #[test]
    fn vocab_counts_survive_merge_and_round_trip() {
        let both = count(&["the cat", "the dog", "a the"]);
        let merged = count(&["the cat", "the dog"])
            .merge(&count(&["a the"]))
            .unwrap();
        assert_eq!(merged.vocab.words(), both.vocab.words());
        assert_eq!(merged.vocab.counts(), both.vocab.counts());
        assert_eq!(merged.vocab.counts(), [0, 3, 3, 3, 1, 1, 1]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.nwc");
        merged.save(&path).unwrap();
        let loaded = NGramCounts::load(&path).unwrap();
        assert_eq!(loaded.vocab.counts(), both.vocab.counts());
    }
}

//! Frequent-word subsampling (Mikolov et al. 2013, section 2.3), in the form
//! of the C tool and gensim.
//!
//! With `t = sample * total` (total: words in the corpus), a word seen `c`
//! times is kept with probability `(sqrt(c / t) + 1) * t / c`, capped at 1.
//! (The paper's `1 - sqrt(t/f)` discard rule differs slightly; the tools use
//! this one.) `sample = 0` keeps every word.

/// The keep probability of each word, in f64.
pub fn keep_probabilities(counts: &[u64], sample: f64) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    let threshold = sample * total as f64;
    counts
        .iter()
        .map(|&c| {
            if sample <= 0.0 || c == 0 {
                return 1.0;
            }
            let c = c as f64;
            ((c / threshold).sqrt() + 1.0) * threshold / c
        })
        .map(|p: f64| p.min(1.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_words_kept_frequent_words_thinned() {
        let p = keep_probabilities(&[1_000_000, 10, 0], 1e-3);
        let t = 1e-3 * 1_000_010.0;
        assert!((p[0] - ((1e6f64 / t).sqrt() + 1.0) * t / 1e6).abs() < 1e-12);
        assert!(p[0] < 0.05);
        assert_eq!(p[1], 1.0);
        assert_eq!(p[2], 1.0);
        assert_eq!(keep_probabilities(&[5, 5], 0.0), vec![1.0, 1.0]);
    }
}

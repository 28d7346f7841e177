//! Sampling the next token: greedy, temperature, top-k, top-p (nucleus),
//! min-p and repetition penalty, with a seeded, portable random generator.
//!
//! The generator is SplitMix64 (Steele, Lea and Flood 2014): state `s`,
//! `s += 0x9E3779B97F4A7C15`, output `z = s; z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9;
//! z = (z ^ z >> 27) * 0x94D049BB133111EB; z ^ z >> 31`. A uniform draw in [0, 1)
//! is the top 53 bits times 2^-53. Only integer arithmetic is involved, so a
//! seed gives the same numbers on every platform. Sequence `i` of a batch
//! starts from the first output of SplitMix64 seeded with
//! `seed + i * 0x9E3779B97F4A7C15`, so results never depend on the thread count. Its state is one u64, which callers can carry between steps.
//!
//! Order of operations on a distribution (as in HF transformers): repetition
//! penalty, temperature, then the truncations top-k, top-p and min-p, each
//! over candidates in descending probability (ties: lower id first), then a
//! draw from what is left, renormalised.
//!
//! Every rule about valid input lives here: [`SamplingParams::validate`] for
//! the parameters, [`check_scores`] for a probability vector or logits.

use crate::{Error, Result};

/// SplitMix64: a tiny, fast, portable generator (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rng {
    /// The whole state.
    pub state: u64,
}

/// The SplitMix64 increment (the golden ratio in 64 bits).
pub const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The generator of sequence `index` of a batch seeded with `seed`: the
    /// first output of a SplitMix64 seeded with `seed + index * GOLDEN`. (That
    /// sum alone would be sequence 0's state after `index` draws, so
    /// neighbouring sequences would replay each other shifted by one draw.)
    pub fn for_sequence(seed: u64, index: u64) -> Self {
        let mut mixer = Self::new(seed.wrapping_add(index.wrapping_mul(GOLDEN)));
        Self {
            state: mixer.next_u64(),
        }
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw in [0, 1).
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// How to pick the next token.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// 0 means greedy; 1 leaves the distribution as it is.
    pub temperature: f64,
    /// Keep only the k most probable tokens.
    pub top_k: Option<usize>,
    /// Keep the smallest set of most probable tokens whose mass reaches p.
    pub top_p: Option<f64>,
    /// Keep tokens with probability at least min_p times the largest.
    pub min_p: Option<f64>,
    /// Divide the probability of tokens already generated (as logits: a
    /// positive logit is divided, a negative one multiplied, by the penalty).
    pub repetition_penalty: Option<f64>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_k: None,
            top_p: None,
            min_p: None,
            repetition_penalty: None,
        }
    }
}

impl SamplingParams {
    /// Check the values; the error names the one out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidArgument(m));
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return bad(format!(
                "temperature must be >= 0, not {}",
                self.temperature
            ));
        }
        if self.top_k == Some(0) {
            return bad("top_k must be >= 1".into());
        }
        if let Some(p) = self.top_p {
            if !(p > 0.0 && p <= 1.0) {
                return bad(format!("top_p must be in (0, 1], not {p}"));
            }
        }
        if let Some(p) = self.min_p {
            if !(0.0..=1.0).contains(&p) {
                return bad(format!("min_p must be in [0, 1], not {p}"));
            }
        }
        if let Some(r) = self.repetition_penalty {
            if !(r > 0.0 && r.is_finite()) {
                return bad(format!("repetition_penalty must be > 0, not {r}"));
            }
        }
        Ok(())
    }

    /// Whether the distribution is used as it is (so exact shortcuts apply).
    pub fn is_plain(&self) -> bool {
        self.temperature == 1.0
            && self.top_k.is_none()
            && self.top_p.is_none()
            && self.min_p.is_none()
            && self.repetition_penalty.is_none()
    }
}

/// Candidates kept after truncation: (id, probability), descending, not renormalised.
pub fn truncate(mut cands: Vec<(u32, f64)>, params: &SamplingParams) -> Vec<(u32, f64)> {
    cands.retain(|c| c.1 > 0.0 && c.1.is_finite());
    cands.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if let Some(k) = params.top_k {
        cands.truncate(k);
    }
    if let Some(p) = params.top_p {
        let total: f64 = cands.iter().map(|c| c.1).sum();
        let mut acc = 0.0;
        let mut keep = cands.len();
        for (i, c) in cands.iter().enumerate() {
            acc += c.1;
            if acc >= p * total {
                keep = i + 1;
                break;
            }
        }
        cands.truncate(keep);
    }
    if let Some(m) = params.min_p {
        if let Some(&(_, top)) = cands.first() {
            cands.retain(|c| c.1 >= m * top);
        }
    }
    cands
}

/// Draw from candidates (id, weight) in their order; weights need not sum to 1.
pub fn draw(cands: &[(u32, f64)], rng: &mut Rng) -> Option<u32> {
    let total: f64 = cands.iter().map(|c| c.1).sum();
    if cands.is_empty() || total <= 0.0 || !total.is_finite() {
        return None;
    }
    let target = rng.uniform() * total;
    let mut acc = 0.0;
    for &(id, w) in cands {
        acc += w;
        if target < acc {
            return Some(id);
        }
    }
    cands.last().map(|c| c.0)
}

/// Turn scores into probabilities: `logits` (natural-log scale, any offset)
/// or `probs` (non-negative), with repetition penalty and temperature applied.
/// Returns (id, probability) pairs normalised to sum to 1 (temperature 0:
/// the single argmax with probability 1).
pub fn prepare(
    scores: &[f64],
    are_logits: bool,
    params: &SamplingParams,
    history: &[u32],
) -> Vec<(u32, f64)> {
    let mut logits: Vec<f64> = if are_logits {
        scores.to_vec()
    } else {
        scores
            .iter()
            .map(|&p| if p > 0.0 { p.ln() } else { f64::NEG_INFINITY })
            .collect()
    };
    if let Some(r) = params.repetition_penalty {
        let mut seen = vec![false; logits.len()];
        for &t in history {
            if let Some(s) = seen.get_mut(t as usize) {
                *s = true;
            }
        }
        for (l, s) in logits.iter_mut().zip(seen) {
            if s && l.is_finite() {
                *l = if *l > 0.0 { *l / r } else { *l * r };
            }
        }
    }
    if params.temperature == 0.0 {
        let best = logits
            .iter()
            .enumerate()
            // Neither NaN nor -inf: a token ruled out is never the argmax.
            .filter(|(_, l)| **l > f64::NEG_INFINITY)
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)));
        return best.map(|(i, _)| vec![(i as u32, 1.0)]).unwrap_or_default();
    }
    let max = logits
        .iter()
        .copied()
        .filter(|l| !l.is_nan())
        .fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return Vec::new();
    }
    let mut out: Vec<(u32, f64)> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| (i as u32, ((l - max) / params.temperature).exp()))
        .filter(|c| c.1 > 0.0)
        .collect();
    let total: f64 = out.iter().map(|c| c.1).sum();
    for c in out.iter_mut() {
        c.1 /= total;
    }
    out
}

/// Sample one token from a probability vector or logits (`None`: every
/// probability is 0). The input is trusted: see [`sample_checked`].
pub fn sample(
    scores: &[f64],
    are_logits: bool,
    params: &SamplingParams,
    history: &[u32],
    rng: &mut Rng,
) -> Option<u32> {
    let cands = truncate(prepare(scores, are_logits, params, history), params);
    draw(&cands, rng)
}

/// Check scores a caller gave: probabilities must be finite and >= 0; logits
/// may be -inf (a token ruled out) but neither NaN nor +inf. The error names
/// the first bad index.
pub fn check_scores(scores: &[f64], are_logits: bool) -> Result<()> {
    let bad = if are_logits {
        scores
            .iter()
            .position(|&l| l.is_nan() || l == f64::INFINITY)
    } else {
        scores.iter().position(|&p| !(p >= 0.0 && p.is_finite()))
    };
    match bad {
        None => Ok(()),
        Some(i) => Err(Error::InvalidArgument(format!(
            "{} at index {i} is {}: {}",
            if are_logits { "logit" } else { "probability" },
            scores[i],
            if are_logits {
                "logits must be finite or -inf"
            } else {
                "probabilities must be finite and >= 0"
            }
        ))),
    }
}

/// [`sample`] for input from outside: parameters and scores are checked, and
/// a vector with nothing to draw is an error.
pub fn sample_checked(
    scores: &[f64],
    are_logits: bool,
    params: &SamplingParams,
    history: &[u32],
    rng: &mut Rng,
) -> Result<u32> {
    params.validate()?;
    check_scores(scores, are_logits)?;
    sample(scores, are_logits, params, history, rng)
        .ok_or_else(|| Error::InvalidArgument("nothing to sample: every probability is 0".into()))
}

/// One draw per row of a row-major `[rows, width]` matrix, rows in parallel;
/// row `i` draws from `Rng::for_sequence(seed, i)`, so the result does not
/// depend on the thread count. Checked as [`sample_checked`]; errors name the row.
pub fn sample_rows(
    scores: &[f64],
    width: usize,
    are_logits: bool,
    params: &SamplingParams,
    seed: u64,
) -> Result<Vec<u32>> {
    use rayon::prelude::*;
    params.validate()?;
    if scores.is_empty() {
        return Ok(Vec::new());
    }
    if width == 0 {
        return Err(Error::InvalidArgument(
            "nothing to sample: rows are empty".into(),
        ));
    }
    // Every row's result first, then the first error in row order: a
    // parallel collect into Result stops at whichever failing row a thread
    // met first, so the error named could change from run to run.
    let rows: Vec<Result<u32>> = scores
        .par_chunks(width)
        .enumerate()
        .map(|(i, row)| {
            let in_row = |e: Error| Error::InvalidArgument(format!("row {i}: {e}"));
            check_scores(row, are_logits).map_err(in_row)?;
            let mut rng = Rng::for_sequence(seed, i as u64);
            sample(row, are_logits, params, &[], &mut rng).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "nothing to sample in row {i}: every probability is 0"
                ))
            })
        })
        .collect();
    rows.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // SplitMix64 seeded with 0 (values published with the algorithm).
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn truncations() {
        let c = vec![(0, 0.1), (1, 0.4), (2, 0.3), (3, 0.2)];
        let p = SamplingParams {
            top_k: Some(2),
            ..Default::default()
        };
        assert_eq!(truncate(c.clone(), &p), vec![(1, 0.4), (2, 0.3)]);
        let p = SamplingParams {
            top_p: Some(0.7),
            ..Default::default()
        };
        assert_eq!(truncate(c.clone(), &p), vec![(1, 0.4), (2, 0.3)]);
        let p = SamplingParams {
            min_p: Some(0.5),
            ..Default::default()
        };
        assert_eq!(truncate(c, &p), vec![(1, 0.4), (2, 0.3), (3, 0.2)]);
    }

    #[test]
    fn greedy_and_temperature() {
        let p = SamplingParams {
            temperature: 0.0,
            ..Default::default()
        };
        let mut rng = Rng::new(1);
        assert_eq!(sample(&[0.2, 0.5, 0.3], false, &p, &[], &mut rng), Some(1));
        let p = SamplingParams {
            repetition_penalty: Some(10.0),
            temperature: 0.0,
            ..Default::default()
        };
        assert_eq!(sample(&[0.2, 0.5, 0.3], false, &p, &[1], &mut rng), Some(2));
    }

    #[test]
    fn bad_scores_name_their_index() {
        let p = SamplingParams::default();
        let mut rng = Rng::new(1);
        let err = sample_checked(&[0.5, -0.5], false, &p, &[], &mut rng).unwrap_err();
        assert!(err.to_string().contains("index 1"), "{err}");
        assert!(sample_checked(&[0.5, f64::NAN], false, &p, &[], &mut rng).is_err());
        assert!(sample_checked(&[0.5, f64::INFINITY], false, &p, &[], &mut rng).is_err());
        assert!(sample_checked(&[0.0, f64::NAN], true, &p, &[], &mut rng).is_err());
        assert!(sample_checked(&[0.0, f64::INFINITY], true, &p, &[], &mut rng).is_err());
        assert_eq!(
            sample_checked(&[f64::NEG_INFINITY, 0.0], true, &p, &[], &mut rng).ok(),
            Some(1)
        );
        let err = sample_rows(&[0.5, 0.5, 1.0, -1.0], 2, false, &p, 3).unwrap_err();
        assert!(err.to_string().starts_with("row 1:"), "{err}");
        // Many failing rows: the first one is named, whichever thread met it.
        for _ in 0..20 {
            let err = sample_rows(&[0.0; 2048], 2, false, &p, 3).unwrap_err();
            assert!(err.to_string().contains("in row 0:"), "{err}");
        }
    }
}

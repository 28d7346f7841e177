//! Interpolated modified Kneser-Ney, computed as KenLM's `lmplz` does.
//!
//! 1. Adjusted counts: the highest order keeps raw counts; a lower-order
//!    n-gram starting with `<s>` keeps its raw count; any other gets its
//!    continuation count, the number of distinct words seen before it.
//! 2. Discounts per order from the count-of-counts n1..n4 of adjusted counts:
//!    Y = n1 / (n1 + 2 n2), D_j = j - (j + 1) Y n_{j+1} / n_j (j = 1, 2, 3+).
//! 3. For each context h: u(w|h) = (a(hw) - D(a(hw))) / sum_w a(hw), and
//!    gamma(h) = (D1 N1(h) + D2 N2(h) + D3 N3+(h)) / sum_w a(hw).
//! 4. p(w) = u(w) + gamma() / (|V| - 1) (|V| counts every type, `<s>`
//!    left out by the -1); p(w|h) = u(w|h) + gamma(h) p(w|h').
//! 5. Backoff of an n-gram that is a context: gamma of it.

// Index loops mirror the formulas (and lmplz) more plainly than iterator chains here.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

use super::level::Level;
use super::model::{NGramModel, Remainder};
use super::{add_unk, context_runs, keys_with_unk};
use crate::count::NGramCounts;
use crate::tokenize::{BOS_ID, UNK_ID};
use crate::{Error, Result};

/// Probabilities of a block of contexts, and (context entry, gamma) pairs.
type BlockResult = (Vec<f32>, Vec<(usize, f32)>);

/// Options of Kneser-Ney estimation.
#[derive(Debug, Clone, PartialEq)]
pub struct KneserNeyOptions {
    /// Interpolate unigrams with the uniform distribution (lmplz's default;
    /// `--interpolate_unigrams 0` turns it off).
    pub interpolate_unigrams: bool,
    /// Discounts (D1, D2, D3+) to use instead of estimating them, per order.
    pub discounts: Option<Vec<[f64; 3]>>,
}

impl Default for KneserNeyOptions {
    fn default() -> Self {
        Self {
            interpolate_unigrams: true,
            discounts: None,
        }
    }
}

/// The discounts lmplz falls back to when estimation fails (`--discount_fallback`).
pub const FALLBACK: [f32; 3] = [0.5, 1.0, 1.5];

/// Discounts from count-of-counts; `Err` says why they cannot be estimated.
///
/// Computed in f32 with lmplz's exact operation order, so the discounts (and
/// everything after them) are bit-identical to KenLM's.
pub fn discounts_from(coc: [u64; 4]) -> std::result::Result<[f32; 3], String> {
    let [n1, n2, n3, n4] = coc;
    if n1 == 0 || n2 == 0 || n3 == 0 {
        return Err(format!(
            "count-of-counts n1={n1}, n2={n2}, n3={n3}: a zero leaves the discounts undefined"
        ));
    }
    let n = [n1 as f32, n2 as f32, n3 as f32, n4 as f32];
    let y = n[0] / (n1 as f64 + 2.0 * n2 as f64) as f32;
    let mut d = [0f32; 3];
    for j in 0..3 {
        d[j] = (j + 1) as f32 - (j + 2) as f32 * y * n[j + 1] / n[j];
        if !(d[j] >= 0.0 && d[j] <= (j + 1) as f32) {
            return Err(format!(
                "discount D{} = {} is outside [0, {}]",
                j + 1,
                d[j],
                j + 1
            ));
        }
    }
    Ok(d)
}

/// lmplz's stored value: log10 in f32 (glibc's log10f), at most 0.
fn to_log10(p: &[f32]) -> super::array::Array<f32> {
    p.iter()
        .map(|&p| p.log10().min(0.0))
        .collect::<Vec<_>>()
        .into()
}

fn discount(d: &[f32; 3], a: u64) -> f32 {
    match a {
        0 => 0.0,
        1 => d[0],
        2 => d[1],
        _ => d[2],
    }
}

/// Estimate an interpolated modified Kneser-Ney model from padded counts.
pub fn estimate(counts: &NGramCounts, options: &KneserNeyOptions) -> Result<NGramModel> {
    check_padded(counts)?;
    let (keys, raw) = keys_with_unk(counts);
    estimate_parts(counts.vocab.clone(), keys, raw, options)
}

/// [`estimate`], consuming the counts (their arrays are reused, not copied).
pub fn estimate_owned(counts: NGramCounts, options: &KneserNeyOptions) -> Result<NGramModel> {
    check_padded(&counts)?;
    let vocab = counts.vocab;
    let (keys, raw): (Vec<Vec<u32>>, Vec<Vec<u64>>) = counts
        .orders
        .into_iter()
        .map(|o| (o.keys, o.counts))
        .unzip();
    let (keys, raw) = add_unk(keys, raw);
    estimate_parts(vocab, keys, raw, options)
}

fn check_padded(counts: &NGramCounts) -> Result<()> {
    if counts.padded {
        Ok(())
    } else {
        Err(Error::InvalidArgument(
            "Kneser-Ney needs counts padded with <s> and </s> (count with pad=True)".into(),
        ))
    }
}

fn estimate_parts(
    vocab: crate::tokenize::Vocab,
    keys: Vec<Vec<u32>>,
    raw: Vec<Vec<u64>>,
    options: &KneserNeyOptions,
) -> Result<NGramModel> {
    let order = keys.len();
    // Levels (with their hash indexes) are independent: build them in parallel.
    let mut levels: Vec<Level> = keys
        .into_par_iter()
        .enumerate()
        .map(|(k, keys)| {
            let m = keys.len() / (k + 1);
            Level::new(k + 1, keys, vec![0.0; m], vec![0.0; m])
        })
        .collect();

    // 1. Adjusted counts (each order reads only itself and the order above);
    //    the highest order keeps its raw counts, moved rather than copied.
    let mut raw = raw;
    let top_raw = raw.pop().unwrap_or_default();
    let mut adjusted: Vec<Vec<u64>> = (0..order - 1)
        .into_par_iter()
        .map(|k| {
            let level = &levels[k];
            let mut a: Vec<u64> = (0..level.len())
                .map(|i| {
                    if level.key(i)[0] == BOS_ID {
                        raw[k][i]
                    } else {
                        0
                    }
                })
                .collect();
            let above = &levels[k + 1];
            for j in 0..above.len() {
                if let Some(i) = level.find(&above.key(j)[1..]) {
                    if level.key(i)[0] != BOS_ID {
                        a[i] += 1;
                    }
                }
            }
            a
        })
        .collect();
    adjusted.push(top_raw);

    // 2. Discounts.
    let mut discounts = Vec::with_capacity(order);
    let mut warnings = Vec::new();
    for (k, a) in adjusted.iter().enumerate() {
        if let Some(given) = options.discounts.as_ref().and_then(|d| d.get(k)) {
            discounts.push(given.map(|x| x as f32));
            continue;
        }
        // lmplz's count-of-counts take, for the last n-gram of each lower order
        // in suffix order, its raw count instead of its adjusted count (its
        // final flush reads the raw count); reproduced so discounts match.
        let last_in_suffix_order = (k + 1 < order)
            .then(|| {
                let level = &levels[k];
                (0..level.len())
                    .max_by(|&x, &y| level.key(x).iter().rev().cmp(level.key(y).iter().rev()))
            })
            .flatten();
        let mut coc = [0u64; 4];
        for (i, &c) in a.iter().enumerate() {
            if k == 0 && levels[0].key(i)[0] == BOS_ID {
                continue;
            }
            let c = if Some(i) == last_in_suffix_order {
                raw[k][i]
            } else {
                c
            };
            if (1..=4).contains(&c) {
                coc[c as usize - 1] += 1;
            }
        }
        match discounts_from(coc) {
            Ok(d) => discounts.push(d),
            Err(why) => {
                warnings.push(format!(
                    "order {}: {why}; using the fallback discounts 0.5, 1, 1.5 (as lmplz --discount_fallback)",
                    k + 1
                ));
                discounts.push(FALLBACK);
            }
        }
    }

    drop(raw);

    // 3-5. Probabilities, order by order, interpolating with the order below.
    // All in f32 with lmplz's operation order (no fused multiply-add), so the
    // values are bit-identical to KenLM's, not just close.
    let uniform = (1.0 / levels[0].len().saturating_sub(1).max(1) as f32 as f64) as f32;
    let mut prob: Vec<Vec<f32>> = Vec::with_capacity(order);
    for k in 0..order {
        let n = k + 1;
        let d = discounts[k];
        let a = &adjusted[k];
        let level = &levels[k];
        let runs = context_runs(&level.keys, n);
        // Contexts are independent given the order below: split the runs into
        // blocks of consecutive contexts and compute the blocks in parallel.
        let block = runs.len().div_ceil(256).max(1);
        let lower_prob: &[f32] = if k > 0 { &prob[k - 1] } else { &[] };
        let parts: Vec<BlockResult> = runs
            .par_chunks(block)
            .map(|block_runs| {
                let mut p = Vec::new();
                let mut gammas = Vec::new();
                for &(s, e) in block_runs {
                    let mut sum = 0u64;
                    let mut nj = [0u64; 3];
                    for i in s..e {
                        if n == 1 && level.key(i)[0] == BOS_ID {
                            continue;
                        }
                        sum += a[i];
                        match a[i] {
                            0 => {}
                            1 => nj[0] += 1,
                            2 => nj[1] += 1,
                            _ => nj[2] += 1,
                        }
                    }
                    let den = sum as f32;
                    let gamma = if sum > 0 {
                        let mut g = 0f32;
                        for j in 0..3 {
                            g += d[j] * nj[j] as f32;
                        }
                        g / den
                    } else {
                        1.0
                    };
                    for i in s..e {
                        let u = if sum > 0 {
                            (a[i] as f32 - discount(&d, a[i])) / den
                        } else {
                            0.0
                        };
                        p.push(if n == 1 {
                            if level.key(i)[0] == BOS_ID {
                                1.0
                            } else if options.interpolate_unigrams {
                                u + gamma * uniform
                            } else if level.key(i)[0] == UNK_ID {
                                u + gamma
                            } else {
                                u
                            }
                        } else {
                            let below = levels[k - 1]
                                .find(&level.key(i)[1..])
                                .map_or(0.0, |j| lower_prob[j]);
                            u + gamma * below
                        });
                    }
                    if n > 1 {
                        if let Some(c) = levels[k - 1].find(&level.key(s)[..n - 1]) {
                            gammas.push((c, gamma));
                        }
                    }
                }
                (p, gammas)
            })
            .collect();
        let mut p = Vec::with_capacity(level.len());
        let mut gammas = Vec::new();
        for (bp, bg) in parts {
            p.extend(bp);
            gammas.extend(bg);
        }
        if n > 1 {
            let below = &mut levels[k - 1];
            for (c, gamma) in gammas {
                below.backoff[c] = gamma.log10();
            }
        }
        // Order k is done with the linear probabilities of order k - 1.
        if k > 0 {
            let lower = std::mem::take(&mut prob[k - 1]);
            levels[k - 1].logprob = to_log10(&lower);
        }
        prob.push(p);
    }
    if let Some(last) = prob.pop() {
        levels[order - 1].logprob = to_log10(&last);
    }
    drop(adjusted);
    let mut model = NGramModel::from_levels(
        vocab,
        levels,
        Remainder::LowerOrder {
            unseen_context: 0.0,
        },
        "kneser-ney",
        true,
    );
    model.discounts = discounts;
    model.warnings = warnings;
    Ok(model)
}

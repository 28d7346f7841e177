//! Entropy pruning of a backoff model (Stolcke 1998), as SRILM's `ngram -prune`.
//!
//! Contract. Input: a normalised backoff model (every context's distribution
//! sums to 1; Kneser-Ney, Witten-Bell, a loaded ARPA file) and a threshold
//! `theta >= 0`. Output: the model without the n-grams whose removal changes
//! it least, every touched context's backoff weight recomputed so that its
//! distribution still sums to 1; unigrams are never pruned.
//!
//! What is computed, for an n-gram `h w` of order n >= 2 (logs base 10, as
//! SRILM's):
//!
//! * `p(w|h)` its probability, `p(w|h')` the lower order's (h' = h without
//!   its first word), `bow(h)` the backoff weight of h, and for the context
//!   `num(h) = 1 - sum p(v|h)`, `den(h) = 1 - sum p(v|h')` over the words v
//!   held after h, so that `bow(h) = num(h) / den(h)`.
//! * Without `h w`, w backs off: `p'(w|h) = bow'(h) p(w|h')` with
//!   `bow'(h) = (num(h) + p(w|h)) / (den(h) + p(w|h'))`; every other word
//!   backed off after h moves from `bow(h)` to `bow'(h)`; nothing else
//!   changes.
//! * The relative entropy of the model with `h w` to the model without it is
//!   `D = p(h) sum_v p(v|h) log(p(v|h) / p'(v|h))`
//!   `  = -p(h) [ p(w|h) (log p'(w|h) - log p(w|h)) + num(h) (log bow'(h) - log bow(h)) ]`
//!   (Stolcke's eq. 9; [`pruning_costs`] returns it), `p(h)` being the
//!   product of the model's probabilities of the words of h in turn (a
//!   leading `<s>` has probability 1).
//! * `h w` is pruned when the perplexity it costs, `10^D - 1`, is below
//!   `theta` (SRILM's criterion; theta = 0 prunes nothing).
//!
//! As in SRILM, orders are pruned from the highest down; within one order
//! every candidate is judged against the model as it was before that order
//! was pruned (the costs do not depend on the visiting order), and the
//! backoff weights of the contexts that lost n-grams are recomputed from
//! `num` and `den` once the order is done. An n-gram that is the context of
//! an n-gram kept one order up is kept (SRILM does the same). One rule goes
//! beyond SRILM: an n-gram that is the *suffix* of a kept one is kept too, so
//! that the model stays suffix-closed, which nextword's query structures (and
//! KenLM's) rely on; SRILM would remove it and leave a gap.

use rayon::prelude::*;

use super::level::Level;
use super::model::{NGramModel, Remainder, State};
use crate::tokenize::BOS_ID;
use crate::{Error, Result};

/// What entropy pruning removed, order by order (index 0 = unigrams).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntropyPruned {
    /// n-grams removed per order.
    pub removed: Vec<usize>,
}

/// Refuse a threshold that is not a finite number >= 0.
pub fn check_threshold(threshold: f64) -> Result<()> {
    if threshold.is_finite() && threshold >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "prune_entropy: the threshold is a relative perplexity increase >= 0 \
             (e.g. 1e-8), not {threshold}"
        )))
    }
}

/// Refuse what entropy pruning cannot apply to: models whose values are not
/// normalised probabilities in backoff form (add-k, stupid backoff).
fn check_model(model: &NGramModel) -> Result<()> {
    let backoff_form = matches!(
        model.remainder,
        Remainder::LowerOrder { unseen_context } if unseen_context == 0.0
    );
    if !model.normalized || !backoff_form {
        return Err(Error::InvalidArgument(format!(
            "prune_entropy: a {} model is not a normalised backoff model; entropy pruning \
             needs one (kneser-ney, witten-bell, or an ARPA file)",
            model.smoothing
        )));
    }
    Ok(())
}

/// One context h of the order being pruned: `log10 p(h)`, `num(h)`,
/// `den(h)` and `log10 bow(h)`.
#[derive(Debug, Clone, Copy)]
struct Context {
    log_ph: f64,
    num: f64,
    den: f64,
    log_bow: f64,
}

/// log10 p(h): the model's probabilities of the words of `h` in turn.
fn log_context_prob(model: &NGramModel, h: &[u32]) -> f64 {
    let (mut state, rest) = match h.split_first() {
        Some((&BOS_ID, rest)) => (model.begin_state(true), rest),
        _ => (model.begin_state(false), h),
    };
    let mut next = State::default();
    let mut total = 0f64;
    for &w in rest {
        total += model.score_word(&state, w, &mut next).logprob as f64;
        std::mem::swap(&mut state, &mut next);
    }
    total
}

/// log10 p(w | h') for entry `j` of level `t` (h w), h' = h without its first word.
fn lower_logprob(model: &NGramModel, t: usize, j: usize) -> f64 {
    let key = model.levels[t].key(j);
    match model.levels[t - 1].find(&key[1..]) {
        Some(i) => model.levels[t - 1].logprob[i] as f64,
        // Not suffix-closed (cannot happen for nextword's models): back off.
        None => {
            let state = model.state_after(&key[1..key.len() - 1], false);
            let mut next = State::default();
            model
                .score_word(&state, key[key.len() - 1], &mut next)
                .logprob as f64
        }
    }
}

/// The contexts of level `t - 1` (the n-grams of order t), given the entries
/// of level `t` still present (`alive`) and their lower-order log probabilities.
fn contexts(model: &NGramModel, t: usize, alive: &[bool], lower: &[f64]) -> Vec<Context> {
    let (ctx, level) = (&model.levels[t - 1], &model.levels[t]);
    (0..ctx.len())
        .into_par_iter()
        .map(|c| {
            let (s, e) = ctx.children(c, level.len());
            let log_bow = ctx.backoff[c] as f64;
            let mut den = 1f64;
            let mut sum_p = 0f64;
            for j in (s..e).filter(|&j| alive[j]) {
                den -= 10f64.powf(lower[j]);
                sum_p += 10f64.powf(level.logprob[j] as f64);
            }
            // num = bow * den keeps the stored backoff exact; where the
            // children hold the whole lower distribution, den rounds to about
            // 0 and num is taken directly.
            let num = if den > 1e-6 {
                10f64.powf(log_bow) * den
            } else {
                (1.0 - sum_p).max(0.0)
            };
            let log_ph = if e > s {
                log_context_prob(model, ctx.key(c))
            } else {
                f64::NEG_INFINITY
            };
            Context {
                log_ph,
                num,
                den: den.max(0.0),
                log_bow,
            }
        })
        .collect()
}

/// D (Stolcke's relative entropy, log10) of removing an n-gram with
/// `log10 p(w|h) = lp` and `log10 p(w|h') = lq` from context `c`.
fn cost(c: &Context, lp: f64, lq: f64) -> f64 {
    if c.log_ph == f64::NEG_INFINITY {
        return 0.0;
    }
    let (p, q) = (10f64.powf(lp), 10f64.powf(lq));
    let new_bow = ((c.num + p) / (c.den + q)).log10();
    let mut inner = p * (lq + new_bow - lp);
    if c.num > 0.0 {
        inner += c.num * (new_bow - c.log_bow);
    }
    -10f64.powf(c.log_ph) * inner
}

/// Entry `j` of level `t` -> the entry of its context in level `t - 1`.
fn parents(model: &NGramModel, t: usize) -> Vec<u32> {
    let (ctx, level) = (&model.levels[t - 1], &model.levels[t]);
    let mut parent = vec![u32::MAX; level.len()];
    for c in 0..ctx.len() {
        let (s, e) = ctx.children(c, level.len());
        parent[s..e].fill(c as u32);
    }
    parent
}

/// Stolcke's D (log10) of removing each n-gram of `order` (>= 2) alone from
/// `model`, in the level's order: what [`prune_entropy`] compares with
/// `log10(1 + threshold)` for the highest order.
pub fn pruning_costs(model: &NGramModel, order: usize) -> Result<Vec<f64>> {
    check_model(model)?;
    if order < 2 || order > model.order() {
        return Err(Error::InvalidArgument(format!(
            "pruning costs are defined for orders 2..={}, not {order}",
            model.order()
        )));
    }
    let t = order - 1;
    let alive = vec![true; model.levels[t].len()];
    let lower: Vec<f64> = (0..alive.len())
        .into_par_iter()
        .map(|j| lower_logprob(model, t, j))
        .collect();
    let ctx = contexts(model, t, &alive, &lower);
    let parent = parents(model, t);
    Ok((0..alive.len())
        .into_par_iter()
        .map(|j| match ctx.get(parent[j] as usize) {
            Some(c) => cost(c, model.levels[t].logprob[j] as f64, lower[j]),
            None => 0.0,
        })
        .collect())
}

/// Prune `model` by relative entropy with `threshold` (see the module docs);
/// refuses a threshold that leaves an order with no n-gram.
pub fn prune_entropy(model: &NGramModel, threshold: f64) -> Result<(NGramModel, EntropyPruned)> {
    check_threshold(threshold)?;
    check_model(model)?;
    let order = model.order();
    let mut keep: Vec<Vec<bool>> = model.levels.iter().map(|l| vec![true; l.len()]).collect();
    let mut backoff: Vec<Vec<f32>> = model.levels.iter().map(|l| l.backoff.to_vec()).collect();
    let limit = (1.0 + threshold).log10();
    for t in (1..order).rev() {
        let level = &model.levels[t];
        let lower: Vec<f64> = (0..level.len())
            .into_par_iter()
            .map(|j| lower_logprob(model, t, j))
            .collect();
        let ctx = contexts(model, t, &keep[t], &lower);
        let parent = parents(model, t);
        // Kept as the context or the suffix of an n-gram kept one order up.
        let mut needed = vec![false; level.len()];
        if t + 1 < order {
            let above = &model.levels[t + 1];
            for i in (0..above.len()).filter(|&i| keep[t + 1][i]) {
                let key = above.key(i);
                for part in [&key[..t + 1], &key[1..]] {
                    if let Some(j) = level.find(part) {
                        needed[j] = true;
                    }
                }
            }
        }
        let prune: Vec<bool> = (0..level.len())
            .into_par_iter()
            .map(|j| {
                !needed[j]
                    && threshold > 0.0
                    && ctx
                        .get(parent[j] as usize)
                        .is_some_and(|c| cost(c, level.logprob[j] as f64, lower[j]) < limit)
            })
            .collect();
        if !prune.is_empty() && prune.iter().all(|&p| p) {
            return Err(Error::InvalidArgument(format!(
                "prune_entropy: threshold {threshold} prunes every {}-gram; use a smaller \
                 threshold or a lower order",
                t + 1
            )));
        }
        // The contexts that lost n-grams get bow'(h) = num'(h) / den'(h).
        let mut gained = vec![(0f64, 0f64, false); ctx.len()];
        for j in (0..level.len()).filter(|&j| prune[j]) {
            let g = &mut gained[parent[j] as usize];
            g.0 += 10f64.powf(level.logprob[j] as f64);
            g.1 += 10f64.powf(lower[j]);
            g.2 = true;
        }
        for (c, &(dp, dq, touched)) in gained.iter().enumerate() {
            if touched {
                let (num, den) = (ctx[c].num + dp, ctx[c].den + dq);
                backoff[t - 1][c] = if den > 0.0 {
                    (num / den).log10() as f32
                } else {
                    0.0
                };
            }
        }
        for (k, p) in keep[t].iter_mut().zip(&prune) {
            *k = !p;
        }
    }
    let removed: Vec<usize> = keep
        .iter()
        .map(|k| k.iter().filter(|&&k| !k).count())
        .collect();
    let levels: Vec<Level> = model
        .levels
        .par_iter()
        .zip(keep.par_iter().zip(backoff.into_par_iter()))
        .map(|(level, (keep, backoff))| {
            let n = level.n;
            let mut keys = Vec::new();
            let (mut lp, mut bo) = (Vec::new(), Vec::new());
            for i in (0..level.len()).filter(|&i| keep[i]) {
                keys.extend_from_slice(level.key(i));
                lp.push(level.logprob[i]);
                bo.push(backoff[i]);
            }
            Level::new(n, keys, lp, bo)
        })
        .collect();
    let mut pruned = NGramModel::from_levels(
        model.vocab.clone(),
        levels,
        model.remainder,
        &model.smoothing,
        model.normalized,
    );
    pruned.discounts = model.discounts.clone();
    pruned.warnings = model.warnings.clone();
    Ok((pruned, EntropyPruned { removed }))
}

#[cfg(test)]
mod tests;

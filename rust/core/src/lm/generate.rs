//! Generating text from an n-gram model: [`NGramDecoder`] takes part in the
//! one generation loop of every model ([`crate::generate`]). The choice of the
//! next token is the shared sampler's (`crate::sample`), with two exact
//! shortcuts for normalised backoff-form models:
//!
//! - untruncated sampling draws from the interpolation mixture order by order:
//!   with probability `mass(S_h)` a successor of the longest context h (by
//!   binary search in its cumulative probabilities), else a word from the next
//!   shorter context, redrawn while it is a successor of h (rejection). That
//!   is exactly `p(w|h)`, and never builds the vocabulary-wide distribution;
//! - top-p alone draws from the whole distribution and keeps the draw when it
//!   lies in the context's nucleus (decided by `super::nucleus`);
//! - top-k / min-p stream candidates in probability order (as `top_k` does)
//!   and stop as soon as the truncation is decided, so they are exact over
//!   the true distribution too.
//!
//! Temperature other than 1 or a repetition penalty reshapes every
//! probability, so those build the full distribution and use the generic sampler.

use std::ops::Deref;

use super::model::{NGramModel, Remainder, State};
use crate::generate::{Decoder, Generation};
use crate::sample::{self, Rng, SamplingParams};
use crate::tokenize::UNK_ID;
use crate::Result;

/// An n-gram model's side of generation: the state after the words so far.
/// `M` is how the model is held (`&NGramModel`, `Arc<NGramModel>`).
#[derive(Debug, Clone)]
pub struct NGramDecoder<M> {
    model: M,
    state: State,
    next: State,
}

impl<M: Deref<Target = NGramModel>> NGramDecoder<M> {
    /// The decoder after `prompt` (from the sentence start `<s>` when `bos`).
    pub fn new(model: M, prompt: &[u32], bos: bool) -> Self {
        let state = model.state_for(prompt, bos);
        Self {
            model,
            state,
            next: State::default(),
        }
    }

    /// `id`, or `<unk>` for an id outside the vocabulary (which only a corrupt
    /// model file can hold): what a decoder gives out is always a word.
    fn known(&self, id: u32) -> u32 {
        if (id as usize) < self.model.vocab.len() {
            id
        } else {
            UNK_ID
        }
    }
}

/// A word drawn from the mixture, with the order `m` of the context it was
/// drawn from and its entry in order `m + 1`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Drawn {
    pub word: u32,
    pub m: usize,
    pub entry: usize,
}

/// 10^x: log10 values as probabilities.
fn prob_of(log10: f32) -> f64 {
    10f64.powf(f64::from(log10))
}

impl<M: Deref<Target = NGramModel>> Decoder for NGramDecoder<M> {
    fn choose(
        &mut self,
        params: &SamplingParams,
        history: &[u32],
        rng: &mut Rng,
    ) -> Result<Option<u32>> {
        let chosen = self.model.sample_next(&self.state, params, history, rng);
        Ok(chosen.map(|id| self.known(id)))
    }

    fn explain(&self, token: u32, k: usize) -> (f64, Vec<(u32, f64)>) {
        let mut scratch = State::default();
        let logprob = self
            .model
            .score_word(&self.state, token, &mut scratch)
            .logprob;
        let top = self.model.top_k(&self.state, k);
        (
            prob_of(logprob),
            top.into_iter()
                .map(|(id, lp)| (self.known(id), prob_of(lp)))
                .collect(),
        )
    }

    fn advance(&mut self, token: u32) -> Result<()> {
        self.model.score_word(&self.state, token, &mut self.next);
        std::mem::swap(&mut self.state, &mut self.next);
        Ok(())
    }
}

impl NGramModel {
    /// The state after a context of ids; only the last order-1 ids matter.
    pub fn state_for(&self, ids: &[u32], bos: bool) -> State {
        let keep = self.order().saturating_sub(1);
        if ids.len() >= keep {
            self.state_after(&ids[ids.len() - keep..], false)
        } else {
            self.state_after(ids, bos)
        }
    }

    fn exact_shortcuts(&self) -> bool {
        self.normalized && matches!(self.remainder, Remainder::LowerOrder { .. })
    }

    /// Draw from the untruncated distribution by the mixture (see module docs).
    /// The draw is returned with where it came from: the order `m` of the
    /// context it was drawn from (the longest that holds it) and its entry.
    pub(crate) fn draw_mixture(&self, state: &State, m: usize, rng: &mut Rng) -> Option<Drawn> {
        // A context whose backoff weight is 0 (MLE) never backs off, even when
        // its f32 successor mass rounds to just under 1.
        let mut no_backoff = false;
        let o = self.orders();
        let (s, e) = if m == 0 {
            (0, o.len(0))
        } else {
            let c = self.context_entry(state, m)?;
            no_backoff = o.backoff(m - 1, c) == f32::NEG_INFINITY;
            o.children(m - 1, c)
        };
        let ranked = o.ranking(m, s, e);
        let mass = f64::from(ranked.total());
        let u = rng.uniform();
        let pick = |target: f64| -> Option<Drawn> {
            if ranked.is_empty() {
                return None;
            }
            let j = ranked.cum_partition(target).min(ranked.len() - 1);
            let entry = ranked.entry(j)?;
            let word = o.word(m, entry);
            (word != u32::MAX).then_some(Drawn { word, m, entry })
        };
        if m == 0 || (no_backoff && e > s) {
            return if mass > 0.0 { pick(u * mass) } else { None };
        }
        if u < mass {
            return pick(u);
        }
        // Back off: a word of the shorter context that h has not seen.
        let words = &state.words;
        let context = &words[words.len() - m..];
        let parent = self.context_entry(state, m)?;
        for _ in 0..10_000 {
            let d = self.draw_mixture(state, m - 1, rng)?;
            if o.extend(m, parent, context, d.word).is_none() {
                return Some(d);
            }
        }
        // Only reached when rounding left mass outside S_h that is not there.
        if e > s {
            pick(rng.uniform() * mass)
        } else {
            None
        }
    }

    /// Top-p by rejection: draw from the whole distribution (cheap, exact) and
    /// keep the draw if it lies in the nucleus, the smallest most-probable set
    /// of mass >= p (ties by lower id); a rejected draw is replaced by one
    /// from the nucleus directly. Either way the result follows p restricted
    /// to the nucleus, renormalised: the same distribution as truncating
    /// first. Deciding is `super::nucleus`'s (mostly a bound, without
    /// streaming candidates).
    fn draw_nucleus(&self, state: &State, p: f64, rng: &mut Rng) -> Option<u32> {
        let held = state.backoff.len().min(self.order() - 1);
        let d = self.draw_mixture(state, held, rng)?;
        let value = self.charge(state, self.orders().logprob(d.m, d.entry), d.m);
        self.nucleus_pick(state, p, d.word, value, rng)
    }

    /// Candidates in descending probability until the truncation is decided.
    pub(crate) fn truncated_candidates(
        &self,
        state: &State,
        params: &SamplingParams,
    ) -> Vec<(u32, f64)> {
        let limit = params.top_k.unwrap_or(usize::MAX);
        let mut out: Vec<(u32, f64)> = Vec::new();
        let mut mass = 0.0;
        // Without top-k, top-p compares against the whole (normalised) mass 1.
        let stop_mass = if params.top_k.is_none() {
            params.top_p
        } else {
            None
        };
        self.for_each_candidate(state, |w, lp| {
            let p = 10f64.powf(lp as f64);
            if let (Some(min_p), Some(&(_, first))) = (params.min_p, out.first()) {
                if p < min_p * first {
                    return false;
                }
            }
            out.push((w, p));
            mass += p;
            out.len() < limit && stop_mass.is_none_or(|t| mass < t)
        });
        if params.top_k.is_some() {
            // Top-p then applies within the top k, renormalised (as HF does).
            sample::truncate(out, params)
        } else {
            // Top-p was decided above against mass 1: only min-p is left.
            let only_min_p = SamplingParams {
                top_p: None,
                ..params.clone()
            };
            sample::truncate(out, &only_min_p)
        }
    }

    /// Choose the next token after `state`; `history` feeds the repetition penalty.
    pub fn sample_next(
        &self,
        state: &State,
        params: &SamplingParams,
        history: &[u32],
        rng: &mut Rng,
    ) -> Option<u32> {
        if self.exact_shortcuts() && params.temperature != 0.0 {
            if params.is_plain() {
                let held = state.backoff.len().min(self.order() - 1);
                return self.draw_mixture(state, held, rng).map(|d| d.word);
            }
            if params.temperature == 1.0 && params.repetition_penalty.is_none() {
                if let (Some(p), None, None) = (params.top_p, params.top_k, params.min_p) {
                    if let Some(w) = self.draw_nucleus(state, p, rng) {
                        return Some(w);
                    }
                }
                return sample::draw(&self.truncated_candidates(state, params), rng);
            }
        }
        let dist = self.distribution(state);
        let ln10 = std::f64::consts::LN_10;
        let logits: Vec<f64> = dist.iter().map(|&l| l as f64 * ln10).collect();
        sample::sample(&logits, true, params, history, rng)
    }

    /// Generate up to `max_tokens` ids after `prompt` (the prompt not repeated),
    /// stopping after any id in `stop` (which is included).
    pub fn generate(
        &self,
        prompt: &[u32],
        bos: bool,
        max_tokens: usize,
        params: &SamplingParams,
        stop: &[u32],
        rng: Rng,
    ) -> Result<Vec<u32>> {
        let decoder = NGramDecoder::new(self, prompt, bos);
        Generation::new(
            decoder,
            prompt,
            params.clone(),
            stop.to_vec(),
            max_tokens,
            rng,
        )?
        .rest()
    }

    /// Generate for many prompts in parallel; prompt `i` draws from
    /// `Rng::for_sequence(seed, i)`, so results do not depend on the thread count.
    pub fn generate_batch(
        &self,
        prompts: &[Vec<u32>],
        bos: bool,
        max_tokens: usize,
        params: &SamplingParams,
        stop: &[u32],
        seed: u64,
    ) -> Result<Vec<Vec<u32>>> {
        use rayon::prelude::*;
        prompts
            .par_iter()
            .enumerate()
            .map(|(i, p)| {
                let rng = Rng::for_sequence(seed, i as u64);
                self.generate(p, bos, max_tokens, params, stop, rng)
            })
            .collect()
    }
}

//! The generation loop: one for every model, over the one sampler.
//!
//! A model takes part through [`Decoder`]: it holds its own state (an n-gram
//! context, an LSTM hidden state, a Transformer KV cache), chooses the next
//! token with the shared sampler, explains a choice, and moves past a token.
//! [`Generation`] owns the rest, the same for all: the sampling parameters,
//! the random generator, the history the repetition penalty reads, the stop
//! tokens and the token budget. Each step draws once from the generator and
//! the state is moved past a token only when another one is asked for, so
//! drawing all tokens at once or one at a time (with explanations) gives the
//! same tokens for the same seed.

use crate::sample::{self, Rng, SamplingParams};
use crate::Result;

/// What a model provides to be generated from.
pub trait Decoder {
    /// Choose the next token after the current state (`None`: nothing can follow).
    fn choose(
        &mut self,
        params: &SamplingParams,
        history: &[u32],
        rng: &mut Rng,
    ) -> Result<Option<u32>>;

    /// The probability of `token` after the current state under the untruncated
    /// model, and the `k` most probable tokens with theirs, best first.
    fn explain(&self, token: u32, k: usize) -> (f64, Vec<(u32, f64)>);

    /// Move the state past `token`.
    fn advance(&mut self, token: u32) -> Result<()>;
}

impl<D: Decoder + ?Sized> Decoder for Box<D> {
    fn choose(
        &mut self,
        params: &SamplingParams,
        history: &[u32],
        rng: &mut Rng,
    ) -> Result<Option<u32>> {
        (**self).choose(params, history, rng)
    }

    fn explain(&self, token: u32, k: usize) -> (f64, Vec<(u32, f64)>) {
        (**self).explain(token, k)
    }

    fn advance(&mut self, token: u32) -> Result<()> {
        (**self).advance(token)
    }
}

/// One generated token and what the model thought of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The chosen id.
    pub token: u32,
    /// Its probability under the untruncated model.
    pub prob: f64,
    /// The most probable candidates (id, probability), best first.
    pub candidates: Vec<(u32, f64)>,
}

/// A generation in progress (see the module docs).
#[derive(Debug, Clone)]
pub struct Generation<D> {
    decoder: D,
    params: SamplingParams,
    history: Vec<u32>,
    stop: Vec<u32>,
    rng: Rng,
    remaining: usize,
    /// The last token chosen, which the state has not moved past yet.
    pending: Option<u32>,
    done: bool,
}

impl<D: Decoder> Generation<D> {
    /// Generate after `prompt` (the ids the decoder's state already holds; they
    /// count as history), at most `max_tokens` ids, ending after any id of
    /// `stop` (which is generated).
    pub fn new(
        decoder: D,
        prompt: &[u32],
        params: SamplingParams,
        stop: Vec<u32>,
        max_tokens: usize,
        rng: Rng,
    ) -> Result<Self> {
        params.validate()?;
        Ok(Self {
            decoder,
            params,
            history: prompt.to_vec(),
            stop,
            rng,
            remaining: max_tokens,
            pending: None,
            done: false,
        })
    }

    /// The next id, or `None` when generation is over.
    pub fn next_token(&mut self) -> Result<Option<u32>> {
        if self.done || self.remaining == 0 {
            return Ok(None);
        }
        if let Some(token) = self.pending.take() {
            self.decoder.advance(token)?;
        }
        let chosen = self
            .decoder
            .choose(&self.params, &self.history, &mut self.rng)?;
        let Some(token) = chosen else {
            self.done = true;
            return Ok(None);
        };
        self.remaining -= 1;
        self.history.push(token);
        if self.stop.contains(&token) {
            self.done = true;
        } else {
            self.pending = Some(token);
        }
        Ok(Some(token))
    }

    /// The next id explained with the `explain` most probable candidates.
    pub fn next_step(&mut self, explain: usize) -> Result<Option<Step>> {
        let Some(token) = self.next_token()? else {
            return Ok(None);
        };
        // The state has not moved past `token` yet: it is still its context.
        let (prob, candidates) = self.decoder.explain(token, explain);
        Ok(Some(Step {
            token,
            prob,
            candidates,
        }))
    }

    /// Every id left to generate.
    pub fn rest(&mut self) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        while let Some(token) = self.next_token()? {
            out.push(token);
        }
        Ok(out)
    }

    /// The random generator's state now.
    pub fn rng(&self) -> Rng {
        self.rng
    }
}

/// A decoder over a model that gives the next token's whole distribution
/// (probabilities over the vocabulary): the shape of a neural model's output.
/// `next` moves the model past a token and returns the distribution after it.
pub struct DistributionDecoder<F> {
    probs: Vec<f64>,
    next: F,
}

impl<F: FnMut(u32) -> Result<Vec<f64>>> DistributionDecoder<F> {
    /// Start from the distribution after the prompt.
    pub fn new(probs: Vec<f64>, next: F) -> Self {
        Self { probs, next }
    }
}

impl<F: FnMut(u32) -> Result<Vec<f64>>> Decoder for DistributionDecoder<F> {
    fn choose(
        &mut self,
        params: &SamplingParams,
        history: &[u32],
        rng: &mut Rng,
    ) -> Result<Option<u32>> {
        sample::check_scores(&self.probs, false)?;
        Ok(sample::sample(&self.probs, false, params, history, rng))
    }

    fn explain(&self, token: u32, k: usize) -> (f64, Vec<(u32, f64)>) {
        let prob = self.probs.get(token as usize).copied().unwrap_or(0.0);
        let all = self.probs.iter().enumerate().map(|(i, &p)| (i as u32, p));
        let top = SamplingParams {
            top_k: Some(k),
            ..Default::default()
        };
        (prob, sample::truncate(all.collect(), &top))
    }

    fn advance(&mut self, token: u32) -> Result<()> {
        self.probs = (self.next)(token)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bigram table over three ids: each id is followed by the next one
    /// (mod 3) with probability 0.9.
    fn cycle() -> DistributionDecoder<impl FnMut(u32) -> Result<Vec<f64>>> {
        let after = |t: u32| {
            let mut p = vec![0.05; 3];
            p[(t as usize + 1) % 3] = 0.9;
            p
        };
        DistributionDecoder::new(after(2), move |t| Ok(after(t)))
    }

    #[test]
    fn all_at_once_or_step_by_step_is_the_same() {
        let params = SamplingParams::default();
        let mut whole =
            Generation::new(cycle(), &[], params.clone(), vec![], 20, Rng::new(5)).expect("valid");
        let ids = whole.rest().expect("no error");
        let mut steps =
            Generation::new(cycle(), &[], params, vec![], 20, Rng::new(5)).expect("valid");
        let mut stepped = Vec::new();
        while let Some(s) = steps.next_step(2).expect("no error") {
            assert_eq!(s.candidates.len(), 2);
            assert!(s.prob == 0.9 || s.prob == 0.05);
            stepped.push(s.token);
        }
        assert_eq!(ids, stepped);
        assert_eq!(ids.len(), 20);
        assert_eq!(whole.rng(), steps.rng());
    }

    #[test]
    fn stops_after_a_stop_token_and_checks_parameters() {
        let greedy = SamplingParams {
            temperature: 0.0,
            ..Default::default()
        };
        let mut g = Generation::new(cycle(), &[], greedy, vec![2], 10, Rng::new(0)).expect("valid");
        assert_eq!(g.rest().expect("no error"), vec![0, 1, 2]);
        let bad = SamplingParams {
            top_p: Some(2.0),
            ..Default::default()
        };
        assert!(Generation::new(cycle(), &[], bad, vec![], 1, Rng::new(0)).is_err());
    }
}

//! Scoring whole corpora in parallel: perplexity as KenLM's `query` reports it,
//! and per-sentence scores (JSONL records: [`super::annotate`]).
//!
//! Each sentence is scored from `<s>` and its `</s>` counts as a token. An
//! out-of-vocabulary word is scored as `<unk>`; "excluding OOVs" leaves those
//! tokens and their log-probabilities out. Sums are kept in f64.

use super::model::{NGramModel, State};
use crate::control::Control;
use crate::corpus::{self, Corpus};
use crate::{Error, Result};

/// Totals of a scored corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evaluation {
    /// Sum of log10 probabilities of every token (OOVs included).
    pub logprob: f64,
    /// Sum of log10 probabilities of the OOV tokens.
    pub oov_logprob: f64,
    /// Sum of log10 probabilities of the in-vocabulary tokens (kept apart so
    /// "excluding OOVs" stays finite when an OOV scores -inf, as under MLE).
    pub iv_logprob: f64,
    /// Out-of-vocabulary tokens.
    pub oovs: u64,
    /// Tokens scored (words plus one `</s>` per sentence).
    pub tokens: u64,
    /// Sentences scored.
    pub sentences: u64,
}

impl Evaluation {
    /// Perplexity including OOVs: 10^(-logprob / tokens) (NaN without tokens).
    pub fn perplexity(&self) -> f64 {
        if self.tokens == 0 {
            return f64::NAN;
        }
        10f64.powf(-self.logprob / self.tokens as f64)
    }

    /// Perplexity excluding OOVs: KenLM's subtraction when it is finite (when
    /// an OOV scores -inf, as under MLE, the in-vocabulary sum); NaN when every
    /// token is an OOV.
    pub fn perplexity_excluding_oovs(&self) -> f64 {
        if self.tokens <= self.oovs {
            return f64::NAN;
        }
        let iv = if self.oov_logprob.is_finite() {
            self.logprob - self.oov_logprob
        } else {
            self.iv_logprob
        };
        10f64.powf(-iv / (self.tokens - self.oovs) as f64)
    }

    /// Add another evaluation into this one.
    pub fn add(&mut self, other: &Evaluation) {
        self.logprob += other.logprob;
        self.oov_logprob += other.oov_logprob;
        self.iv_logprob += other.iv_logprob;
        self.oovs += other.oovs;
        self.tokens += other.tokens;
        self.sentences += other.sentences;
    }
}

/// Buffers reused from sentence to sentence while scoring.
#[derive(Default)]
pub(crate) struct Scratch {
    ids: Vec<u32>,
    state: State,
    next: State,
}

impl NGramModel {
    /// Score one sentence of text into an evaluation (the one loop that both
    /// [`NGramModel::score_text`] and [`NGramModel::evaluate`] run).
    pub(crate) fn evaluate_sentence(
        &self,
        text: &str,
        bos: bool,
        eos: bool,
        scratch: &mut Scratch,
    ) -> Evaluation {
        let Scratch { ids, state, next } = scratch;
        ids.clear();
        // The whole sentence, <s> and </s> included, so that each step can
        // prefetch the next token's lookups.
        if bos {
            ids.push(crate::tokenize::BOS_ID);
        }
        let first = ids.len();
        self.vocab
            .tokenizer()
            .for_each_token(text, |t| ids.push(self.vocab.id(t)));
        if eos {
            ids.push(crate::tokenize::EOS_ID);
        }
        *state = self.begin_state(bos);
        let mut e = Evaluation {
            sentences: 1,
            ..Default::default()
        };
        // Like KenLM's query: a sentence is summed in f32, the corpus in f64.
        let mut sentence = 0f32;
        for j in first..ids.len() {
            // One token ahead (two measured slower).
            if j + 1 < ids.len() {
                self.prefetch(&ids[..j + 1], ids[j + 1]);
            }
            let s = self.score_word(state, ids[j], next);
            std::mem::swap(state, next);
            sentence += s.logprob;
            e.tokens += 1;
            if s.oov {
                e.oovs += 1;
                e.oov_logprob += s.logprob as f64;
            } else {
                e.iv_logprob += s.logprob as f64;
            }
        }
        e.logprob = sentence as f64;
        e
    }

    /// log10 probability of one sentence of text, and its evaluation.
    pub fn score_text(&self, text: &str, bos: bool, eos: bool) -> Evaluation {
        self.evaluate_sentence(text, bos, eos, &mut Scratch::default())
    }

    /// Evaluate a corpus in parallel ([`Error::EmptyCorpus`] when it has no token).
    pub fn evaluate(
        &self,
        corpus: &Corpus,
        control: &Control,
        threads: usize,
    ) -> Result<Evaluation> {
        type Local = (Evaluation, corpus::CorpusStats, Scratch);
        let parts = corpus::process(
            corpus,
            control,
            threads,
            Local::default,
            |(total, stats, scratch): &mut Local, chunk| {
                let before = total.tokens;
                chunk.for_each_sentence(&corpus.options, stats, |text| {
                    total.add(&self.evaluate_sentence(text, true, true, scratch));
                })?;
                control.add_tokens(total.tokens - before);
                Ok(())
            },
        )?;
        let mut total = Evaluation::default();
        for (e, ..) in parts {
            total.add(&e);
        }
        if total.tokens == 0 {
            return Err(Error::EmptyCorpus("no tokens to score".into()));
        }
        Ok(total)
    }

    /// The evaluation of every sentence of a corpus, in corpus order.
    pub fn score_corpus(
        &self,
        corpus: &Corpus,
        bos: bool,
        eos: bool,
        control: &Control,
        threads: usize,
    ) -> Result<Vec<Evaluation>> {
        type Piece = ((usize, u32), Vec<Evaluation>);
        let parts = corpus::process(
            corpus,
            control,
            threads,
            || {
                (
                    Vec::<Piece>::new(),
                    corpus::CorpusStats::default(),
                    Scratch::default(),
                )
            },
            |(out, stats, scratch), chunk| {
                let mut scores = Vec::new();
                chunk.for_each_sentence(&corpus.options, stats, |text| {
                    scores.push(self.evaluate_sentence(text, bos, eos, scratch));
                })?;
                control.add_tokens(scores.iter().map(|e| e.tokens).sum());
                out.push((chunk.seq, scores));
                Ok(())
            },
        )?;
        let mut pieces: Vec<Piece> = parts.into_iter().flat_map(|(p, ..)| p).collect();
        pieces.sort_by_key(|p| p.0);
        Ok(pieces.into_iter().flat_map(|p| p.1).collect())
    }
}

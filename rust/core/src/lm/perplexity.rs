//! Scoring whole corpora in parallel: perplexity as KenLM's `query` reports it,
//! and per-sentence scores.
//!
//! Each sentence is scored from `<s>` and its `</s>` counts as a token. An
//! out-of-vocabulary word is scored as `<unk>`; "excluding OOVs" leaves those
//! tokens and their log-probabilities out. Sums are kept in f64.

use super::model::{NGramModel, State};
use crate::control::Control;
use crate::corpus::{self, Corpus};
use crate::Result;

/// Totals of a scored corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evaluation {
    /// Sum of log10 probabilities of every token (OOVs included).
    pub logprob: f64,
    /// Sum of log10 probabilities of the OOV tokens.
    pub oov_logprob: f64,
    /// Out-of-vocabulary tokens.
    pub oovs: u64,
    /// Tokens scored (words plus one `</s>` per sentence).
    pub tokens: u64,
    /// Sentences scored.
    pub sentences: u64,
}

impl Evaluation {
    /// Perplexity including OOVs: 10^(-logprob / tokens).
    pub fn perplexity(&self) -> f64 {
        10f64.powf(-self.logprob / self.tokens as f64)
    }

    /// Perplexity excluding OOVs.
    pub fn perplexity_excluding_oovs(&self) -> f64 {
        10f64.powf(-(self.logprob - self.oov_logprob) / (self.tokens - self.oovs) as f64)
    }

    fn add(&mut self, other: &Evaluation) {
        self.logprob += other.logprob;
        self.oov_logprob += other.oov_logprob;
        self.oovs += other.oovs;
        self.tokens += other.tokens;
        self.sentences += other.sentences;
    }
}

impl NGramModel {
    /// log10 probability of one sentence of text, and its evaluation.
    pub fn score_text(&self, text: &str, bos: bool, eos: bool) -> Evaluation {
        let mut ids = Vec::new();
        self.vocab
            .tokenizer()
            .for_each_token(text, |t| ids.push(self.vocab.id(t)));
        let mut e = Evaluation {
            sentences: 1,
            ..Default::default()
        };
        // Like KenLM's query: a sentence is summed in f32, the corpus in f64.
        let mut sentence = 0f32;
        for s in self.score_ids(&ids, bos, eos) {
            sentence += s.logprob;
            e.tokens += 1;
            if s.oov {
                e.oovs += 1;
                e.oov_logprob += s.logprob as f64;
            }
        }
        e.logprob = sentence as f64;
        e
    }

    /// Evaluate a corpus in parallel.
    pub fn evaluate(
        &self,
        corpus: &Corpus,
        control: &Control,
        threads: usize,
    ) -> Result<Evaluation> {
        let parts = corpus::process(
            corpus,
            control,
            threads,
            || {
                (
                    Evaluation::default(),
                    corpus::CorpusStats::default(),
                    Vec::new(),
                    State::default(),
                    State::default(),
                )
            },
            |(total, stats, ids, a, b): &mut (
                Evaluation,
                corpus::CorpusStats,
                Vec<u32>,
                State,
                State,
            ),
             chunk| {
                let before = total.tokens;
                chunk.for_each_sentence(&corpus.options, stats, |text| {
                    ids.clear();
                    self.vocab
                        .tokenizer()
                        .for_each_token(text, |t| ids.push(self.vocab.id(t)));
                    *a = self.begin_state(true);
                    total.sentences += 1;
                    let eos = crate::tokenize::EOS_ID;
                    // Like KenLM's query: a sentence is summed in f32, the corpus in f64.
                    let mut sentence = 0f32;
                    for &w in ids.iter().chain(std::iter::once(&eos)) {
                        let s = self.score_word(a, w, b);
                        std::mem::swap(a, b);
                        sentence += s.logprob;
                        total.tokens += 1;
                        if s.oov {
                            total.oovs += 1;
                            total.oov_logprob += s.logprob as f64;
                        }
                    }
                    total.logprob += sentence as f64;
                })?;
                control.add_tokens(total.tokens - before);
                Ok(())
            },
        )?;
        let mut total = Evaluation::default();
        for (e, ..) in parts {
            total.add(&e);
        }
        Ok(total)
    }

    /// log10 probability of every sentence of a corpus, in corpus order.
    pub fn score_corpus(
        &self,
        corpus: &Corpus,
        bos: bool,
        eos: bool,
        control: &Control,
        threads: usize,
    ) -> Result<Vec<f64>> {
        let parts = corpus::process(
            corpus,
            control,
            threads,
            || {
                (
                    Vec::<((usize, u32), Vec<f64>)>::new(),
                    corpus::CorpusStats::default(),
                )
            },
            |(out, stats), chunk| {
                let mut scores = Vec::new();
                chunk.for_each_sentence(&corpus.options, stats, |text| {
                    scores.push(self.score_text(text, bos, eos).logprob);
                })?;
                control.add_tokens(scores.len() as u64);
                out.push((chunk.seq, scores));
                Ok(())
            },
        )?;
        let mut pieces: Vec<_> = parts.into_iter().flat_map(|(p, _)| p).collect();
        pieces.sort_by_key(|p| p.0);
        Ok(pieces.into_iter().flat_map(|p| p.1).collect())
    }
}

//! The word2vec training loop: Hogwild threads over a streamed corpus.
//!
//! Contract: in, a corpus, a tokenizer and [`Word2VecParams`]; out, the
//! [`WordVectors`] of the words reaching `min_count`. Memory is the two
//! matrices, the vocabulary and one corpus chunk per thread: the corpus is
//! read again for every epoch, never held.
//!
//! Per epoch, every sentence (line) is mapped to word ids (unknown words
//! dropped), subsampled, cut into pieces of at most [`MAX_SENTENCE`] words, and
//! each position trained against a window of `window - b` words on each side,
//! `b` uniform in `0..window` (the C tool's dynamic window). The learning rate
//! falls linearly from `alpha` to `min_alpha` over all epochs' words,
//! recomputed before each sentence from a shared count of words read.
//!
//! Threads update the shared matrices with no global lock and no
//! coordination ("Hogwild", Recht et al. 2011), as word2vec.c and gensim do:
//! rows rarely collide. Unlike the C tool's, the sharing is defined
//! behaviour: the matrices are [`SharedMatrix`]es whose rows are updated in
//! place under a per-row spin lock, one row at a time (see there why that
//! costs next to nothing), so a collision delays an update instead of losing
//! it. Random numbers come from a SplitMix64 seeded per
//! (seed, epoch, chunk), so with `threads = 1` (chunks then run in order on one
//! thread) a seed gives the same vectors bit for bit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::shared::SharedMatrix;
use super::step::{Scratch, Weights};
use super::subsample::keep_probabilities;
use super::vocab::{NoiseTable, TrainingVocab};
use super::WordVectors;
use crate::control::Control;
use crate::corpus::{self, Corpus, CorpusStats};
use crate::sample::Rng;
use crate::tokenize::Tokenizer;
use crate::{Error, Result};

/// Sentences longer than this are trained as several (gensim's limit).
pub const MAX_SENTENCE: usize = 10_000;

/// The settings of a word2vec run (defaults as gensim's).
#[derive(Debug, Clone, PartialEq)]
pub struct Word2VecParams {
    /// Vector size.
    pub dim: usize,
    /// Largest distance between the centre word and a context word.
    pub window: usize,
    /// Noise words per positive example.
    pub negative: usize,
    /// Words seen fewer times are dropped.
    pub min_count: u64,
    /// Skip-gram (true) or CBOW (false).
    pub skip_gram: bool,
    /// Passes over the corpus.
    pub epochs: usize,
    /// Initial learning rate.
    pub alpha: f64,
    /// Final learning rate.
    pub min_alpha: f64,
    /// Subsampling threshold (0 = off).
    pub sample: f64,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Seed of the initial vectors and of every random draw.
    pub seed: u64,
}

impl Default for Word2VecParams {
    fn default() -> Self {
        Self {
            dim: 100,
            window: 5,
            negative: 5,
            min_count: 5,
            skip_gram: true,
            epochs: 5,
            alpha: 0.025,
            min_alpha: 0.0001,
            sample: 1e-3,
            threads: 0,
            seed: 1,
        }
    }
}

impl Word2VecParams {
    /// Check every setting, before any reading.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidArgument(m));
        if self.dim == 0 {
            return bad("dim must be at least 1".into());
        }
        if self.window == 0 {
            return bad("window must be at least 1".into());
        }
        if self.negative == 0 {
            return bad(
                "negative must be at least 1 (only negative sampling is implemented)".into(),
            );
        }
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad(format!("alpha must be positive, not {}", self.alpha));
        }
        if !(self.min_alpha.is_finite() && (0.0..=self.alpha).contains(&self.min_alpha)) {
            return bad(format!(
                "min_alpha must be in [0, alpha={}], not {}",
                self.alpha, self.min_alpha
            ));
        }
        if !(self.sample.is_finite() && self.sample >= 0.0) {
            return bad(format!("sample must be >= 0, not {}", self.sample));
        }
        Ok(())
    }

    /// The learning rate after `done` of `total` words.
    pub fn learning_rate(&self, done: u64, total: u64) -> f32 {
        let progress = (done as f64 / total.max(1) as f64).min(1.0);
        (self.alpha - (self.alpha - self.min_alpha) * progress).max(self.min_alpha) as f32
    }
}

/// The initial word vectors: uniform in `[-0.5, 0.5) / dim`, drawn in row
/// order from a SplitMix64 seeded with `seed` (computed in f64, then rounded).
pub fn initial_vectors(words: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..words * dim)
        .map(|_| ((rng.uniform() - 0.5) / dim as f64) as f32)
        .collect()
}

/// The generator of one chunk of one epoch.
pub fn chunk_rng(seed: u64, epoch: usize, seq: (usize, u32)) -> Rng {
    let mut r = Rng::for_sequence(seed, epoch as u64);
    let mut r = Rng::for_sequence(r.next_u64(), seq.0 as u64);
    Rng::for_sequence(r.next_u64(), seq.1 as u64)
}

/// What one sentence needs besides its words.
pub struct Sentence<'a> {
    /// The settings.
    pub params: &'a Word2VecParams,
    /// The noise distribution.
    pub noise: &'a NoiseTable,
    /// The learning rate of this sentence.
    pub alpha: f32,
}

impl Sentence<'_> {
    /// Train on `words` (ids, already subsampled), drawing from `rng`: per
    /// position one window reduction, then per update `negative` noise words.
    pub fn train(
        &self,
        words: &[u32],
        weights: Weights<'_>,
        rng: &mut Rng,
        negatives: &mut Vec<u32>,
        context: &mut Vec<u32>,
        scratch: &mut Scratch,
    ) {
        let p = self.params;
        for (pos, &centre) in words.iter().enumerate() {
            let reduced = p.window - (rng.next_u64() % p.window as u64) as usize;
            let lo = pos.saturating_sub(reduced);
            let hi = (pos + reduced).min(words.len() - 1);
            if p.skip_gram {
                for c in (lo..=hi).filter(|&c| c != pos) {
                    self.draw(rng, negatives);
                    weights.skip_gram(words[c], centre, negatives, self.alpha, scratch);
                }
            } else {
                context.clear();
                context.extend((lo..=hi).filter(|&c| c != pos).map(|c| words[c]));
                if context.is_empty() {
                    continue;
                }
                self.draw(rng, negatives);
                weights.cbow(context, centre, negatives, self.alpha, scratch);
            }
        }
    }

    fn draw(&self, rng: &mut Rng, negatives: &mut Vec<u32>) {
        negatives.clear();
        negatives.extend((0..self.params.negative).map(|_| self.noise.draw(rng)));
    }
}

/// Train word2vec on `corpus`; see the module docs.
pub fn train(
    corpus: &Corpus,
    tokenizer: Tokenizer,
    params: &Word2VecParams,
    control: &Control,
) -> Result<WordVectors> {
    params.validate()?;
    control
        .passes
        .store(params.epochs as u64 + 1, Ordering::Relaxed);
    let vocab = TrainingVocab::build(
        corpus,
        tokenizer.clone(),
        params.min_count,
        control,
        params.threads,
    )?;
    let index: HashMap<&str, u32> = vocab
        .words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_str(), i as u32))
        .collect();
    let noise = NoiseTable::new(&vocab.counts);
    let keep = keep_probabilities(&vocab.counts, params.sample);
    let dim = params.dim;
    let syn0 = SharedMatrix::from_vec(initial_vectors(vocab.len(), dim, params.seed), dim);
    let syn1neg = SharedMatrix::from_vec(vec![0f32; vocab.len() * dim], dim);
    let weights = Weights {
        syn0: &syn0,
        syn1neg: &syn1neg,
    };
    let total_words = vocab.total() * params.epochs as u64;
    let words_done = AtomicU64::new(0);

    for epoch in 0..params.epochs {
        corpus::process(
            corpus,
            control,
            params.threads,
            || (CorpusStats::default(), Vec::<u32>::new()),
            |(stats, sentence), chunk| {
                let mut rng = chunk_rng(params.seed, epoch, chunk.seq);
                let mut scratch = Scratch::new(dim);
                let (mut negatives, mut context) = (Vec::new(), Vec::new());
                let mut run = |words: &mut Vec<u32>, rng: &mut Rng, read: u64| {
                    let done = words_done.fetch_add(read, Ordering::Relaxed);
                    control.add_tokens(read);
                    let alpha = params.learning_rate(done, total_words);
                    control
                        .learning_rate
                        .store(alpha.to_bits(), Ordering::Relaxed);
                    if !words.is_empty() {
                        let s = Sentence {
                            params,
                            noise: &noise,
                            alpha,
                        };
                        s.train(
                            words,
                            weights,
                            rng,
                            &mut negatives,
                            &mut context,
                            &mut scratch,
                        );
                    }
                    words.clear();
                };
                chunk.for_each_sentence(&corpus.options, stats, |line| {
                    if control.is_cancelled() {
                        return;
                    }
                    let mut read = 0u64;
                    tokenizer.for_each_token(line, |token| {
                        let Some(&id) = index.get(token) else {
                            return;
                        };
                        read += 1;
                        let p = keep[id as usize];
                        if p >= 1.0 || rng.uniform() < p {
                            sentence.push(id);
                        }
                        if sentence.len() == MAX_SENTENCE {
                            run(sentence, &mut rng, read);
                            read = 0;
                        }
                    });
                    run(sentence, &mut rng, read);
                })?;
                control.check()
            },
        )?;
    }
    Ok(WordVectors {
        words: vocab.words,
        counts: vocab.counts,
        dim,
        vectors: syn0.into_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Corpus {
        let lines: Vec<String> = (0..200)
            .map(|i| match i % 4 {
                0 => "the cat sat on the mat".to_string(),
                1 => "the dog sat on the rug".to_string(),
                2 => "a cat and a dog".to_string(),
                _ => "the mat and the rug".to_string(),
            })
            .collect();
        Corpus::from_texts(lines)
    }

    fn small(skip_gram: bool, threads: usize) -> Word2VecParams {
        Word2VecParams {
            dim: 8,
            window: 2,
            min_count: 1,
            epochs: 2,
            skip_gram,
            threads,
            seed: 3,
            ..Word2VecParams::default()
        }
    }

    #[test]
    fn one_thread_is_reproducible() {
        for sg in [true, false] {
            let c = Control::new();
            let a = train(&toy(), Tokenizer::Whitespace, &small(sg, 1), &c).unwrap();
            let b = train(&toy(), Tokenizer::Whitespace, &small(sg, 1), &c).unwrap();
            assert_eq!(a, b);
            assert_eq!(a.words[0], "the");
            assert!(a.vectors.iter().all(|v| v.is_finite()));
            let init = initial_vectors(a.words.len(), 8, 3);
            assert_ne!(a.vectors, init);
        }
    }

    #[test]
    fn bad_settings_refused() {
        let c = Control::new();
        for p in [
            Word2VecParams {
                dim: 0,
                ..small(true, 1)
            },
            Word2VecParams {
                alpha: -1.0,
                ..small(true, 1)
            },
            Word2VecParams {
                min_alpha: 1.0,
                ..small(true, 1)
            },
            Word2VecParams {
                window: 0,
                ..small(true, 1)
            },
        ] {
            assert!(matches!(
                train(&toy(), Tokenizer::Whitespace, &p, &c),
                Err(Error::InvalidArgument(_))
            ));
        }
    }

    #[test]
    fn learning_rate_falls_linearly() {
        let p = small(true, 1);
        assert_eq!(p.learning_rate(0, 100), 0.025);
        assert_eq!(p.learning_rate(100, 100), 0.0001f64 as f32);
        assert!((p.learning_rate(50, 100) - 0.01255).abs() < 1e-6);
    }

    #[test]
    fn cancelled_training_stops() {
        let c = Control::new();
        c.cancel();
        assert!(matches!(
            train(&toy(), Tokenizer::Whitespace, &small(true, 1), &c),
            Err(Error::Cancelled)
        ));
    }
}

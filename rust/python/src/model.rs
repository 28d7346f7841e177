//! `_core.NGramLM`: a fitted or loaded n-gram model.

use std::path::PathBuf;
use std::sync::Arc;

use nextword_core::count::NGramCounts as CoreCounts;
use nextword_core::lm::kneser_ney::KneserNeyOptions;
use nextword_core::lm::{self, NGramModel, Smoothing};
use nextword_core::tokenize::Tokenizer as CoreTokenizer;
use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::counts::NGramCounts;
use crate::errors::IntoPyResult;
use crate::vocab::Vocab;
use crate::{job, source};

/// An n-gram language model.
#[pyclass(module = "nextword._core", frozen)]
pub struct NGramLM {
    inner: Arc<NGramModel>,
}

fn smoothing_of(
    name: &str,
    k: f64,
    alpha: f64,
    interpolate_unigrams: bool,
    discounts: Option<Vec<[f64; 3]>>,
) -> PyResult<Smoothing> {
    Ok(match name {
        "kneser-ney" | "kn" | "modified-kneser-ney" => Smoothing::KneserNey(KneserNeyOptions {
            interpolate_unigrams,
            discounts,
        }),
        "mle" => Smoothing::Mle,
        "add-k" | "addk" => Smoothing::AddK(k),
        "laplace" | "add-one" => Smoothing::AddK(1.0),
        "witten-bell" | "wb" => Smoothing::WittenBell,
        "stupid-backoff" | "sb" => Smoothing::StupidBackoff(alpha),
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown smoothing {other:?}: use 'kneser-ney', 'mle', 'add-k', 'witten-bell' or 'stupid-backoff'"
            )))
        }
    })
}

impl NGramLM {
    fn ids(&self, tokens: &[String]) -> Vec<u32> {
        tokens.iter().map(|t| self.inner.vocab.id(t)).collect()
    }
}

#[pymethods]
impl NGramLM {
    /// Fit from counts (orders above `order` are ignored).
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (counts, order, smoothing, k, alpha, interpolate_unigrams, discounts))]
    fn fit(
        py: Python<'_>,
        counts: &NGramCounts,
        order: usize,
        smoothing: &str,
        k: f64,
        alpha: f64,
        interpolate_unigrams: bool,
        discounts: Option<Vec<[f64; 3]>>,
    ) -> PyResult<Self> {
        let smoothing = smoothing_of(smoothing, k, alpha, interpolate_unigrams, discounts)?;
        let core: Arc<CoreCounts> = counts.core();
        if order == 0 || order > core.order() {
            return Err(PyValueError::new_err(format!(
                "order {order} not in 1..={} (the orders counted)",
                core.order()
            )));
        }
        let model = py
            .detach(|| {
                if order == core.order() {
                    lm::fit(&core, &smoothing)
                } else {
                    // The truncated copy is ours: the estimator may take it over.
                    let fewer = CoreCounts {
                        vocab: core.vocab.clone(),
                        orders: core.orders[..order].to_vec(),
                        padded: core.padded,
                        stats: core.stats,
                        tokens: core.tokens,
                    };
                    lm::fit_owned(fewer, &smoothing)
                }
            })
            .py()?;
        Ok(Self {
            inner: Arc::new(model),
        })
    }

    /// Count a corpus and fit, in one go: the counts are never exposed, so
    /// the model takes their arrays over without a copy.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (corpus, order, tokenizer, threads, progress, smoothing, k, alpha, interpolate_unigrams, discounts))]
    fn fit_corpus(
        py: Python<'_>,
        corpus: source::CorpusArgs,
        order: usize,
        tokenizer: &str,
        threads: usize,
        progress: Option<bool>,
        smoothing: &str,
        k: f64,
        alpha: f64,
        interpolate_unigrams: bool,
        discounts: Option<Vec<[f64; 3]>>,
    ) -> PyResult<Self> {
        let smoothing = smoothing_of(smoothing, k, alpha, interpolate_unigrams, discounts)?;
        let corpus = corpus.into_corpus()?;
        let options = nextword_core::count::CountOptions {
            order,
            tokenizer: CoreTokenizer::from_spec(tokenizer).py()?,
            pad: true,
            threads,
        };
        let counts = job::run(py, "count", progress, |control| {
            nextword_core::count::count_ngrams(&corpus, &options, control)
        })?;
        let model = job::run(py, "estimate", progress, |_| {
            lm::fit_owned(counts, &smoothing)
        })?;
        Ok(Self {
            inner: Arc::new(model),
        })
    }

    /// Load an ARPA file (plain, .gz or .zst), with the tokenizer given or
    /// the one the file records; returns the model and warnings to raise.
    #[staticmethod]
    #[pyo3(signature = (path, tokenizer = None))]
    fn load_arpa(
        py: Python<'_>,
        path: PathBuf,
        tokenizer: Option<&str>,
    ) -> PyResult<(Self, Vec<String>)> {
        let tok = tokenizer.map(CoreTokenizer::from_spec).transpose().py()?;
        let loaded = py.detach(|| lm::arpa::load_arpa(&path, tok)).py()?;
        let model = Self {
            inner: Arc::new(loaded.model),
        };
        Ok((model, loaded.warnings))
    }

    /// Open a binary model file (memory-mapped); `verify` checks every array's
    /// checksum. A `tokenizer` other than the recorded one replaces it, with a warning.
    #[staticmethod]
    #[pyo3(signature = (path, verify, tokenizer = None))]
    fn load_binary(
        py: Python<'_>,
        path: PathBuf,
        verify: bool,
        tokenizer: Option<&str>,
    ) -> PyResult<(Self, Vec<String>)> {
        let tok = tokenizer.map(CoreTokenizer::from_spec).transpose().py()?;
        let mut model = py.detach(|| lm::binary::load(&path, verify)).py()?;
        let mut warnings = Vec::new();
        if let Some(tok) = tok {
            let recorded = model.vocab.tokenizer().spec();
            if tok.spec() != recorded {
                warnings.push(format!(
                    "{} was trained with the tokenizer {recorded:?} but is read with {:?}",
                    path.display(),
                    tok.spec()
                ));
                model.vocab.set_tokenizer(tok);
            }
        }
        Ok((
            Self {
                inner: Arc::new(model),
            },
            warnings,
        ))
    }

    /// Write the binary model format.
    fn save_binary(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| lm::binary::save(&self.inner, &path)).py()
    }

    /// Write an ARPA file (.gz compresses).
    fn save_arpa(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| lm::arpa::save_arpa(&self.inner, &path)).py()
    }

    #[getter]
    fn order(&self) -> usize {
        self.inner.order()
    }

    #[getter]
    fn smoothing(&self) -> String {
        self.inner.smoothing.clone()
    }

    #[getter]
    fn normalized(&self) -> bool {
        self.inner.normalized
    }

    #[getter]
    fn discounts(&self) -> Vec<[f32; 3]> {
        self.inner.discounts.clone()
    }

    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.inner.warnings.clone()
    }

    #[getter]
    fn vocab(&self) -> Vocab {
        Vocab {
            inner: self.inner.vocab.clone(),
        }
    }

    /// Number of n-grams of each order.
    fn sizes(&self) -> Vec<usize> {
        self.inner.levels.iter().map(|l| l.len()).collect()
    }

    /// (log10 p, n-gram length, oov) of `word` after `context` tokens.
    /// `<s>` is never predicted: its probability as a next word is 0.
    fn logprob(&self, word: &str, context: Vec<String>, bos: bool) -> (f32, usize, bool) {
        let id = self.inner.vocab.id(word);
        if id == nextword_core::tokenize::BOS_ID {
            return (f32::NEG_INFINITY, 0, false);
        }
        let state = self.inner.state_after(&self.ids(&context), bos);
        let mut next = lm::State::default();
        let s = self.inner.score_word(&state, id, &mut next);
        (s.logprob, s.ngram_len, s.oov)
    }

    /// Per-token (log10 p, n-gram length, oov) of a tokenized sentence.
    fn full_scores(&self, tokens: Vec<String>, bos: bool, eos: bool) -> Vec<(f32, usize, bool)> {
        self.inner
            .score_ids(&self.ids(&tokens), bos, eos)
            .into_iter()
            .map(|s| (s.logprob, s.ngram_len, s.oov))
            .collect()
    }

    /// Top-k next tokens after `context`: [(token, log10 p)].
    fn predict(&self, context: Vec<String>, k: usize, bos: bool) -> Vec<(String, f32)> {
        let state = self.inner.state_after(&self.ids(&context), bos);
        self.inner
            .top_k(&state, k)
            .into_iter()
            .map(|(id, lp)| (self.inner.vocab.word(id).unwrap_or("<unk>").to_string(), lp))
            .collect()
    }

    /// log10 p of every vocabulary id after `context` (float64 array).
    fn next_logprobs<'py>(
        &self,
        py: Python<'py>,
        context: Vec<String>,
        bos: bool,
    ) -> Bound<'py, PyArray1<f64>> {
        let state = self.inner.state_after(&self.ids(&context), bos);
        let d: Vec<f64> = self
            .inner
            .distribution(&state)
            .into_iter()
            .map(f64::from)
            .collect();
        PyArray1::from_vec(py, d)
    }

    /// Generate ids after a prompt of tokens: (generated ids, next rng state).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (prompt, bos, max_tokens, stop, rng_state, temperature, top_k, top_p, min_p, repetition_penalty))]
    fn generate(
        &self,
        py: Python<'_>,
        prompt: Vec<String>,
        bos: bool,
        max_tokens: usize,
        stop: Vec<String>,
        rng_state: u64,
        temperature: f64,
        top_k: Option<usize>,
        top_p: Option<f64>,
        min_p: Option<f64>,
        repetition_penalty: Option<f64>,
    ) -> PyResult<(Vec<u32>, u64)> {
        let p = crate::sampler::params(temperature, top_k, top_p, min_p, repetition_penalty)?;
        let prompt = self.ids(&prompt);
        let stop = self.ids(&stop);
        let mut rng = nextword_core::sample::Rng::new(rng_state);
        let out = py.detach(|| {
            self.inner
                .generate(&prompt, bos, max_tokens, &p, &stop, &mut rng)
        });
        Ok((out, rng.state))
    }

    /// Generate for many prompts in parallel (prompt i uses sequence i of `seed`).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (prompts, bos, max_tokens, stop, seed, temperature, top_k, top_p, min_p, repetition_penalty))]
    fn generate_batch(
        &self,
        py: Python<'_>,
        prompts: Vec<Vec<String>>,
        bos: bool,
        max_tokens: usize,
        stop: Vec<String>,
        seed: u64,
        temperature: f64,
        top_k: Option<usize>,
        top_p: Option<f64>,
        min_p: Option<f64>,
        repetition_penalty: Option<f64>,
    ) -> PyResult<Vec<Vec<u32>>> {
        let p = crate::sampler::params(temperature, top_k, top_p, min_p, repetition_penalty)?;
        let prompts: Vec<Vec<u32>> = prompts.iter().map(|t| self.ids(t)).collect();
        let stop = self.ids(&stop);
        Ok(py.detach(|| {
            self.inner
                .generate_batch(&prompts, bos, max_tokens, &p, &stop, seed)
        }))
    }

    /// One step of the guessing game after `context` tokens:
    /// (token, log10 p, next rng state, [(candidate, log10 p)]).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (context, bos, rng_state, explain, temperature, top_k, top_p, min_p, repetition_penalty))]
    fn step(
        &self,
        context: Vec<String>,
        bos: bool,
        rng_state: u64,
        explain: usize,
        temperature: f64,
        top_k: Option<usize>,
        top_p: Option<f64>,
        min_p: Option<f64>,
        repetition_penalty: Option<f64>,
    ) -> PyResult<Option<StepResult>> {
        let p = crate::sampler::params(temperature, top_k, top_p, min_p, repetition_penalty)?;
        let ids = self.ids(&context);
        let state = self.inner.state_for(&ids, bos);
        let mut rng = nextword_core::sample::Rng::new(rng_state);
        let word = |id: u32| self.inner.vocab.word(id).unwrap_or("<unk>").to_string();
        Ok(self
            .inner
            .step(&state, &p, &ids, &mut rng, explain)
            .map(|s| {
                (
                    word(s.token),
                    s.logprob,
                    rng.state,
                    s.candidates
                        .into_iter()
                        .map(|(id, lp)| (word(id), lp))
                        .collect(),
                )
            }))
    }

    /// Decode ids to tokens.
    fn tokens_of(&self, ids: Vec<u32>) -> Vec<String> {
        ids.iter()
            .map(|&id| self.inner.vocab.word(id).unwrap_or("<unk>").to_string())
            .collect()
    }

    /// Evaluate a corpus: a dict of logprob, oov_logprob, oovs, tokens, sentences.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (corpus, threads, progress))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        corpus: source::CorpusArgs,
        threads: usize,
        progress: Option<bool>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let corpus = corpus.into_corpus()?;
        let e = job::run(py, "score", progress, |control| {
            self.inner.evaluate(&corpus, control, threads)
        })?;
        let d = PyDict::new(py);
        d.set_item("logprob", e.logprob)?;
        d.set_item("oov_logprob", e.oov_logprob)?;
        d.set_item("iv_logprob", e.iv_logprob)?;
        d.set_item("oovs", e.oovs)?;
        d.set_item("tokens", e.tokens)?;
        d.set_item("sentences", e.sentences)?;
        Ok(d)
    }

    /// Per-sentence (log10 p, tokens, oovs) arrays of a corpus, in corpus order.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (corpus, bos, eos, threads, progress))]
    fn score_sentences<'py>(
        &self,
        py: Python<'py>,
        corpus: source::CorpusArgs,
        bos: bool,
        eos: bool,
        threads: usize,
        progress: Option<bool>,
    ) -> PyResult<SentenceScores<'py>> {
        let corpus = corpus.into_corpus()?;
        let scores = job::run(py, "score", progress, |control| {
            self.inner.score_corpus(&corpus, bos, eos, control, threads)
        })?;
        Ok((
            PyArray1::from_vec(py, scores.iter().map(|e| e.logprob).collect()),
            PyArray1::from_vec(py, scores.iter().map(|e| e.tokens).collect()),
            PyArray1::from_vec(py, scores.iter().map(|e| e.oovs).collect()),
        ))
    }

    /// Copy JSONL records from `paths` to `output` with a perplexity field added.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (paths, output, text_field, out_field, errors, threads, progress))]
    fn annotate_jsonl(
        &self,
        py: Python<'_>,
        paths: Vec<PathBuf>,
        output: Option<PathBuf>,
        text_field: &str,
        out_field: &str,
        errors: &str,
        threads: usize,
        progress: Option<bool>,
    ) -> PyResult<u64> {
        let corpus = source::corpus(paths, None, errors, true, "jsonl", text_field)?;
        job::run(py, "score", progress, |control| match &output {
            Some(path) => {
                // Written to a temporary file and renamed: a failed run leaves
                // an existing output file as it was.
                let mut records = 0;
                let mut failure = None;
                nextword_core::binfmt::write_atomic(path, |w| {
                    match self
                        .inner
                        .annotate_jsonl(&corpus, out_field, w, control, threads)
                    {
                        Ok(n) => {
                            records = n;
                            Ok(())
                        }
                        Err(e) => {
                            failure = Some(e);
                            Err(std::io::Error::other("annotation failed"))
                        }
                    }
                })
                .map_err(|e| failure.take().unwrap_or(e))?;
                Ok(records)
            }
            None => {
                let stdout = std::io::stdout();
                let mut w = stdout.lock();
                self.inner
                    .annotate_jsonl(&corpus, out_field, &mut w, control, threads)
            }
        })
    }
}

/// A step: token, log10 p, rng state, candidates.
type StepResult = (String, f32, u64, Vec<(String, f32)>);

/// log10 p, tokens and OOVs per sentence.
type SentenceScores<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u64>>,
);

//! `_core.NGramLM`: a fitted or loaded n-gram model.

use std::path::PathBuf;
use std::sync::Arc;

use nextword_core::generate::Generation as CoreGeneration;
use nextword_core::lm::kneser_ney::KneserNeyOptions;
use nextword_core::lm::{
    self, entropy_prune, NGramDecoder, NGramModel, Smoothing, SmoothingParams,
};
use nextword_core::sample::Rng;
use nextword_core::tokenize::Tokenizer as CoreTokenizer;
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::counts::NGramCounts;
use crate::errors::IntoPyResult;
use crate::generation::{AnyDecoder, Generation};
use crate::sampling::SamplingArgs;
use crate::vocab::Vocab;
use crate::{job, source};

/// An n-gram language model.
#[pyclass(module = "nextword._core", frozen)]
pub struct NGramLM {
    inner: Arc<NGramModel>,
}

/// The estimator as `nextword.lm` describes it: a dict of `smoothing` (its
/// name) and the parameters `k`, `alpha`, `interpolate_unigrams`, `discounts`,
/// `prune` (count pruning thresholds) and `prune_entropy` (a threshold).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct EstimatorArgs {
    smoothing: String,
    k: f64,
    alpha: f64,
    interpolate_unigrams: bool,
    discounts: Option<Vec<[f64; 3]>>,
    prune: Option<Vec<i64>>,
    prune_entropy: Option<f64>,
}

impl EstimatorArgs {
    /// The estimator, and the entropy pruning threshold to apply after it (checked).
    fn into_core(self) -> PyResult<(Smoothing, Option<f64>)> {
        if let Some(t) = self.prune_entropy {
            entropy_prune::check_threshold(t).py()?;
        }
        let params = SmoothingParams {
            k: self.k,
            alpha: self.alpha,
            kneser_ney: KneserNeyOptions {
                interpolate_unigrams: self.interpolate_unigrams,
                discounts: self.discounts,
                prune: self.prune,
            },
        };
        Ok((
            Smoothing::from_name(&self.smoothing, params).py()?,
            self.prune_entropy,
        ))
    }
}

/// Where generation starts and ends, as `nextword.model` describes it: a dict
/// of `bos` (the prompt starts a sentence), `stop` (tokens that end it, kept)
/// and `max_tokens`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Bounds {
    bos: bool,
    stop: Vec<String>,
    max_tokens: usize,
}

/// The fitted model, pruned by relative entropy when a threshold is given.
fn then_prune(model: NGramModel, entropy: Option<f64>) -> nextword_core::Result<NGramModel> {
    match entropy {
        Some(t) => Ok(entropy_prune::prune_entropy(&model, t)?.0),
        None => Ok(model),
    }
}

impl NGramLM {
    fn new(model: NGramModel) -> Self {
        Self {
            inner: Arc::new(model),
        }
    }

    fn ids(&self, tokens: &[String]) -> Vec<u32> {
        tokens.iter().map(|t| self.inner.vocab.id(t)).collect()
    }

    /// The core model (for the filters of `crate::filter`).
    pub(crate) fn model(&self) -> &NGramModel {
        &self.inner
    }

    fn word(&self, id: u32) -> String {
        self.inner.vocab.word(id).unwrap_or("<unk>").to_string()
    }
}

#[pymethods]
impl NGramLM {
    /// Fit from counts (orders above `order` are left out).
    #[staticmethod]
    fn fit(
        py: Python<'_>,
        counts: &NGramCounts,
        order: usize,
        estimator: EstimatorArgs,
    ) -> PyResult<Self> {
        let (smoothing, entropy) = estimator.into_core()?;
        let counts = counts.core();
        let model = py
            .detach(|| {
                let model = lm::fit_order(&counts, order, &smoothing)?;
                then_prune(model, entropy)
            })
            .py()?;
        Ok(Self::new(model))
    }

    /// Count a corpus and fit, in one go: the counts are never exposed, so
    /// the model takes their arrays over without a copy.
    #[staticmethod]
    fn fit_corpus(
        py: Python<'_>,
        corpus: source::CorpusArgs,
        order: usize,
        tokenizer: &str,
        threads: usize,
        progress: Option<bool>,
        estimator: EstimatorArgs,
    ) -> PyResult<Self> {
        let (smoothing, entropy) = estimator.into_core()?;
        // Bad parameters fail now, not after counting the whole corpus.
        smoothing.check(order).py()?;
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
        let model = job::run(py, "estimate", progress, |control| {
            let model = lm::fit_owned_with(counts, &smoothing, control)?;
            if entropy.is_some() {
                control.set_stage("pruning by relative entropy");
            }
            then_prune(model, entropy)
        })?;
        Ok(Self::new(model))
    }

    /// Open a model file, binary or ARPA (told apart by the core), with the
    /// tokenizer given or the one it records; returns the warnings to raise.
    /// Reading an ARPA file shows progress and stops on Ctrl-C.
    #[staticmethod]
    #[pyo3(signature = (path, tokenizer = None, verify = None, progress = None))]
    fn load(
        py: Python<'_>,
        path: PathBuf,
        tokenizer: Option<&str>,
        verify: Option<bool>,
        progress: Option<bool>,
    ) -> PyResult<(Self, Vec<String>)> {
        let tok = tokenizer.map(CoreTokenizer::from_spec).transpose().py()?;
        let loaded = job::run(py, "loading", progress, |control| {
            lm::load_with(&path, tok, verify, control)
        })?;
        Ok((Self::new(loaded.model), loaded.warnings))
    }

    /// Write the model: ARPA or binary, by the file name (see the core's `lm::save`),
    /// with a progress bar and Ctrl-C (which leaves no file behind).
    /// `layout` (`hash` or `trie`) and `quantize` (bits) choose the binary
    /// layout; None leaves the default (hash, exact values).
    #[pyo3(signature = (path, progress=None, layout=None, quantize=None))]
    fn save(
        &self,
        py: Python<'_>,
        path: PathBuf,
        progress: Option<bool>,
        layout: Option<&str>,
        quantize: Option<i64>,
    ) -> PyResult<()> {
        let layout = match (layout, quantize) {
            (None, None) => None,
            (name, q) => Some(lm::Layout::parse(name.unwrap_or("trie"), q).py()?),
        };
        job::run(py, "saving", progress, |control| {
            lm::save_as(&self.inner, &path, layout, control)
        })
    }

    /// The binary layout the model is held in: `hash` or `trie`.
    #[getter]
    fn layout(&self) -> &'static str {
        match &self.inner.trie {
            Some(t) if !t.hashed => "trie",
            _ => "hash",
        }
    }

    /// This model pruned by relative entropy (see the core's
    /// `lm::entropy_prune`), and the number of n-grams removed per order.
    fn prune_entropy(&self, py: Python<'_>, threshold: f64) -> PyResult<(Self, Vec<usize>)> {
        let (model, stats) = py
            .detach(|| entropy_prune::prune_entropy(&self.inner.hash_layout(), threshold))
            .py()?;
        Ok((Self::new(model), stats.removed))
    }

    /// Stolcke's relative entropy (log10) of removing each n-gram of `order`
    /// alone, in the model's order of that level.
    fn pruning_costs<'py>(
        &self,
        py: Python<'py>,
        order: usize,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let costs = py
            .detach(|| entropy_prune::pruning_costs(&self.inner.hash_layout(), order))
            .py()?;
        Ok(PyArray1::from_vec(py, costs))
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
        self.inner.sizes()
    }

    /// (log10 p, n-gram length, oov) of `word` after `context` tokens.
    fn logprob(&self, word: &str, context: Vec<String>, bos: bool) -> (f32, usize, bool) {
        let id = self.inner.vocab.id(word);
        let s = self.inner.score_next(&self.ids(&context), bos, id);
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
        self.inner
            .predict(&self.ids(&context), bos, k)
            .into_iter()
            .map(|(id, lp)| (self.word(id), lp))
            .collect()
    }

    /// log10 p of every vocabulary id after `context` (float64 array).
    fn next_logprobs<'py>(
        &self,
        py: Python<'py>,
        context: Vec<String>,
        bos: bool,
    ) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.inner.next_logprobs(&self.ids(&context), bos))
    }

    /// Start generating after a prompt of tokens, with the model's exact
    /// streamed sampling.
    fn generation(
        &self,
        prompt: Vec<String>,
        bounds: Bounds,
        params: SamplingArgs,
        rng_state: u64,
    ) -> PyResult<Generation> {
        let prompt = self.ids(&prompt);
        let decoder = NGramDecoder::new(self.inner.clone(), &prompt, bounds.bos);
        let decoder: AnyDecoder = Box::new(decoder);
        let (stop, rng) = (self.ids(&bounds.stop), Rng::new(rng_state));
        let params = params.into_core();
        let max = bounds.max_tokens;
        let inner = CoreGeneration::new(decoder, &prompt, params, stop, max, rng).py()?;
        Ok(Generation::new(inner))
    }

    /// Generate for many prompts in parallel (prompt i uses sequence i of `seed`).
    fn generate_batch(
        &self,
        py: Python<'_>,
        prompts: Vec<Vec<String>>,
        bounds: Bounds,
        params: SamplingArgs,
        seed: u64,
    ) -> PyResult<Vec<Vec<u32>>> {
        let params = params.into_core();
        let prompts: Vec<Vec<u32>> = prompts.iter().map(|t| self.ids(t)).collect();
        let stop = self.ids(&bounds.stop);
        let (bos, max) = (bounds.bos, bounds.max_tokens);
        py.detach(|| {
            self.inner
                .generate_batch(&prompts, bos, max, &params, &stop, seed)
        })
        .py()
    }

    /// Decode ids to tokens.
    fn tokens_of(&self, ids: Vec<u32>) -> Vec<String> {
        ids.into_iter().map(|id| self.word(id)).collect()
    }

    /// Evaluate a corpus: a dict of perplexity, perplexity_excluding_oovs,
    /// logprob, oovs, tokens, sentences.
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
        d.set_item("perplexity", e.perplexity())?;
        d.set_item("perplexity_excluding_oovs", e.perplexity_excluding_oovs())?;
        d.set_item("logprob", e.logprob)?;
        d.set_item("oovs", e.oovs)?;
        d.set_item("tokens", e.tokens)?;
        d.set_item("sentences", e.sentences)?;
        Ok(d)
    }

    /// Per-sentence (log10 p, tokens, oovs) arrays of a corpus, in corpus order.
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

    /// Copy the JSONL records of `corpus` to `output` (stdout when None) with
    /// a perplexity field `out_field` added; returns the number written.
    fn annotate_jsonl(
        &self,
        py: Python<'_>,
        corpus: source::CorpusArgs,
        output: Option<PathBuf>,
        out_field: &str,
        threads: usize,
        progress: Option<bool>,
    ) -> PyResult<u64> {
        let corpus = corpus.into_corpus()?;
        job::run(py, "score", progress, |control| {
            self.inner
                .annotate_jsonl(&corpus, out_field, output.as_deref(), control, threads)
        })
    }
}

/// log10 p, tokens and OOVs per sentence.
type SentenceScores<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u64>>,
);

//! `_core.Vocab`: token <-> id mapping.

use std::path::PathBuf;

use nextword_core::tokenize::{Tokenizer as CoreTokenizer, Vocab as CoreVocab};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::IntoPyResult;
use crate::{job, source};

/// Ids, sentence offsets and reading statistics of an encoded corpus.
type EncodedCorpus<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyDict>,
);

/// A vocabulary with its tokenizer.
#[pyclass(module = "nextword._core", frozen)]
pub struct Vocab {
    pub inner: CoreVocab,
}

#[pymethods]
impl Vocab {
    #[new]
    #[pyo3(signature = (words, tokenizer = "whitespace"))]
    fn new(words: Vec<String>, tokenizer: &str) -> PyResult<Self> {
        Ok(Self {
            inner: CoreVocab::from_words(words, CoreTokenizer::from_spec(tokenizer).py()?),
        })
    }

    /// Build from a corpus (parallel): returns (vocab, stats dict).
    #[staticmethod]
    #[pyo3(signature = (corpus, tokenizer, min_count, max_size, threads, progress))]
    fn build<'py>(
        py: Python<'py>,
        corpus: source::CorpusArgs,
        tokenizer: &str,
        min_count: u64,
        max_size: Option<usize>,
        threads: usize,
        progress: Option<bool>,
    ) -> PyResult<(Self, Bound<'py, PyDict>)> {
        let corpus = corpus.into_corpus()?;
        let tokenizer = CoreTokenizer::from_spec(tokenizer).py()?;
        let (inner, stats) = job::run(py, "vocab", progress, |control| {
            CoreVocab::build(&corpus, tokenizer, min_count, max_size, control, threads)
        })?;
        Ok((Self { inner }, source::stats_dict(py, &stats)?))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __contains__(&self, word: &str) -> bool {
        self.inner.get(word).is_some()
    }

    /// The tokenizer spec.
    #[getter]
    fn tokenizer(&self) -> String {
        self.inner.tokenizer().spec()
    }

    /// Id of `word`, or None.
    fn get(&self, word: &str) -> Option<u32> {
        self.inner.get(word)
    }

    /// Id of `word`, or 0 (`<unk>`).
    fn id(&self, word: &str) -> u32 {
        self.inner.id(word)
    }

    /// Word of `id`.
    fn word(&self, id: u32) -> PyResult<String> {
        self.inner
            .word(id)
            .map(str::to_string)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(format!("id {id} out of range")))
    }

    /// All words in id order.
    fn words(&self) -> Vec<String> {
        self.inner.words().to_vec()
    }

    /// Corpus counts in id order.
    fn counts<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        PyArray1::from_slice(py, self.inner.counts())
    }

    /// Ids of one text.
    #[pyo3(signature = (text, bos = false, eos = false))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        bos: bool,
        eos: bool,
    ) -> Bound<'py, PyArray1<u32>> {
        PyArray1::from_vec(py, self.inner.encode(text, bos, eos))
    }

    /// Text of ids.
    fn decode(&self, ids: PyReadonlyArray1<'_, u32>) -> PyResult<String> {
        self.inner.decode(ids.as_slice()?).py()
    }

    /// Encode a whole corpus in parallel: (ids, offsets, stats).
    #[pyo3(signature = (corpus, bos, eos, threads, progress))]
    fn encode_corpus<'py>(
        &self,
        py: Python<'py>,
        corpus: source::CorpusArgs,
        bos: bool,
        eos: bool,
        threads: usize,
        progress: Option<bool>,
    ) -> PyResult<EncodedCorpus<'py>> {
        let corpus = corpus.into_corpus()?;
        let (ids, offsets, stats) = job::run(py, "encode", progress, |control| {
            self.inner
                .encode_corpus(&corpus, bos, eos, control, threads)
        })?;
        Ok((
            PyArray1::from_vec(py, ids),
            PyArray1::from_vec(py, offsets),
            source::stats_dict(py, &stats)?,
        ))
    }

    /// Save to a file.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path)).py()
    }

    /// Load from a file.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py.detach(|| CoreVocab::load(&path)).py()?;
        Ok(Self { inner })
    }
}

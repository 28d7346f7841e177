//! `_core.BpeTokenizer`: byte-level BPE training, encoding to numpy, decoding,
//! and the tokenizer.json / tiktoken files.

use std::path::PathBuf;
use std::sync::Arc;

use nextword_core::tokenize::bpe::{serialization, trainer, BpeTokenizer as CoreBpe};
use nextword_core::tokenize::Tokenizer as CoreTokenizer;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors::IntoPyResult;
use crate::tokenizer::Tokenizer;
use crate::{job, source};

/// A byte-level BPE tokenizer.
#[pyclass(module = "nextword._core", frozen)]
pub struct BpeTokenizer {
    inner: Arc<CoreBpe>,
}

impl BpeTokenizer {
    fn wrap(inner: CoreBpe) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }
}

#[pymethods]
impl BpeTokenizer {
    /// Learn merges from a corpus: returns (tokenizer, stats dict).
    #[staticmethod]
    #[pyo3(signature = (corpus, vocab_size, min_frequency, special_tokens, pattern, threads, progress))]
    #[allow(clippy::too_many_arguments)]
    fn train<'py>(
        py: Python<'py>,
        corpus: source::CorpusArgs,
        vocab_size: usize,
        min_frequency: u64,
        special_tokens: Vec<String>,
        pattern: String,
        threads: usize,
        progress: Option<bool>,
    ) -> PyResult<(Self, Bound<'py, PyDict>)> {
        let corpus = corpus.into_corpus()?;
        let options = trainer::TrainOptions {
            vocab_size,
            min_frequency,
            special_tokens,
            pattern,
        };
        let (tok, stats) = job::run(py, "bpe", progress, |control| {
            trainer::train(&corpus, &options, control, threads)
        })?;
        Ok((Self::wrap(tok), source::stats_dict(py, &stats)?))
    }

    /// The BPE tokenizer of a `bpe@1:HEX` spec.
    #[staticmethod]
    fn from_spec(spec: &str) -> PyResult<Self> {
        Ok(Self::wrap(CoreBpe::from_spec(spec).py()?))
    }

    /// Read an HF `tokenizer.json` (byte-level BPE).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let tok = py
            .detach(|| serialization::load_tokenizer_json(&path))
            .py()?;
        Ok(Self::wrap(tok))
    }

    /// Write an HF `tokenizer.json`.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| serialization::save_tokenizer_json(&self.inner, &path))
            .py()
    }

    /// Read a tiktoken rank file with its pattern and special tokens.
    #[staticmethod]
    fn load_tiktoken(
        py: Python<'_>,
        path: PathBuf,
        pattern: &str,
        special_tokens: Vec<(String, u32)>,
    ) -> PyResult<Self> {
        let tok = py
            .detach(|| serialization::load_tiktoken(&path, pattern, &special_tokens))
            .py()?;
        Ok(Self::wrap(tok))
    }

    /// Write a tiktoken rank file.
    fn save_tiktoken(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| serialization::save_tiktoken(&self.inner, &path))
            .py()
    }

    /// As a generic tokenizer (for counts, vocabularies, models).
    #[getter]
    fn tokenizer(&self) -> Tokenizer {
        Tokenizer {
            inner: CoreTokenizer::Learned(self.inner.clone()),
        }
    }

    /// The number of ids.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    /// The pre-tokenizer regex.
    #[getter]
    fn pattern(&self) -> String {
        self.inner.pattern().to_string()
    }

    /// The merges, as (left id, right id), in priority order.
    #[getter]
    fn merges(&self) -> Vec<(u32, u32)> {
        self.inner.model().merges().to_vec()
    }

    /// The special tokens and their ids.
    #[getter]
    fn special_tokens(&self) -> Vec<(String, u32)> {
        self.inner.model().specials().to_vec()
    }

    /// The bytes of token `id` (IndexError when out of range).
    fn token_bytes<'py>(&self, py: Python<'py>, id: u32) -> PyResult<Bound<'py, PyBytes>> {
        match self.inner.model().token(id) {
            Some(b) => Ok(PyBytes::new(py, b)),
            None => Err(PyIndexError::new_err(format!("token id {id} out of range"))),
        }
    }

    /// The ids of one text.
    fn encode<'py>(&self, py: Python<'py>, text: &str) -> Bound<'py, PyArray1<u32>> {
        let ids = py.detach(|| self.inner.encode(text));
        PyArray1::from_vec(py, ids)
    }

    /// The ids of many texts, in parallel.
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
    ) -> Vec<Bound<'py, PyArray1<u32>>> {
        let all = py.detach(|| self.inner.encode_batch(&texts));
        all.into_iter()
            .map(|ids| PyArray1::from_vec(py, ids))
            .collect()
    }

    /// The bytes of ids (IndexError for an id out of range).
    fn decode_bytes<'py>(
        &self,
        py: Python<'py>,
        ids: PyReadonlyArray1<'_, u32>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self
            .inner
            .decode_bytes(ids.as_slice()?)
            .map_err(|e| PyIndexError::new_err(e.to_string()))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The text of ids (IndexError for an id out of range).
    fn decode(&self, ids: PyReadonlyArray1<'_, u32>) -> PyResult<String> {
        self.inner
            .decode(ids.as_slice()?)
            .map_err(|e| PyIndexError::new_err(e.to_string()))
    }
}

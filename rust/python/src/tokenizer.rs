//! `_core.Tokenizer`: a built-in tokenizer chosen by its spec string, or a
//! learned one (a word list) whose spec carries its whole record.

use nextword_core::tokenize::vocab_tokenizer::trainer;
use nextword_core::tokenize::{Tokenizer as CoreTokenizer, VocabTokenizer};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::IntoPyResult;
use crate::{job, source};

/// A tokenizer from a spec: `whitespace` (KenLM's split), `unicode-whitespace`,
/// `word[:lower][:nfc|:nfkc]`, `char[:keep-ws]`, or `KIND@VERSION:HEX` (a
/// learned tokenizer's record).
#[pyclass(module = "nextword._core", frozen)]
pub struct Tokenizer {
    pub inner: CoreTokenizer,
}

#[pymethods]
impl Tokenizer {
    #[new]
    fn new(spec: &str) -> PyResult<Self> {
        Ok(Self {
            inner: CoreTokenizer::from_spec(spec).py()?,
        })
    }

    /// A word-list tokenizer: `<unk>`, `<s>`, `</s>`, then `words`.
    #[staticmethod]
    fn vocab(words: Vec<String>) -> Self {
        Self {
            inner: VocabTokenizer::new(words).into_tokenizer(),
        }
    }

    /// Learn a word-list tokenizer from a corpus: returns (tokenizer, stats dict).
    #[staticmethod]
    #[pyo3(signature = (corpus, min_count, max_size, threads, progress))]
    fn learn_vocab<'py>(
        py: Python<'py>,
        corpus: source::CorpusArgs,
        min_count: u64,
        max_size: Option<usize>,
        threads: usize,
        progress: Option<bool>,
    ) -> PyResult<(Self, Bound<'py, PyDict>)> {
        let corpus = corpus.into_corpus()?;
        let (tok, stats) = job::run(py, "vocab", progress, |control| {
            trainer::learn(&corpus, min_count, max_size, control, threads)
        })?;
        let inner = tok.into_tokenizer();
        Ok((Self { inner }, source::stats_dict(py, &stats)?))
    }

    /// The spec string.
    #[getter]
    fn spec(&self) -> String {
        self.inner.spec()
    }

    /// The kind name (`whitespace`, `word`, `vocab`, ...).
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    /// The id -> token table of a tokenizer with fixed ids, else None.
    #[getter]
    fn fixed_vocab(&self) -> Option<Vec<String>> {
        self.inner.fixed_vocab().map(<[String]>::to_vec)
    }

    /// The token ids of one text when the tokenizer fixes ids, else None.
    fn encode_ids(&self, text: &str) -> Option<Vec<u32>> {
        let mut ids = Vec::new();
        self.inner.encode_ids(text, &mut ids).then_some(ids)
    }

    /// The tokens of one text.
    fn tokenize(&self, text: &str) -> Vec<String> {
        self.inner.tokenize(text)
    }

    /// The tokens of many texts (GIL released).
    fn tokenize_batch(&self, py: Python<'_>, texts: Vec<String>) -> Vec<Vec<String>> {
        py.detach(|| texts.iter().map(|t| self.inner.tokenize(t)).collect())
    }
}

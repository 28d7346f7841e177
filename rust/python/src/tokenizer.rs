//! `_core.Tokenizer`: a tokenizer chosen by its spec string.

use nextword_core::tokenize::Tokenizer as CoreTokenizer;
use pyo3::prelude::*;

use crate::errors::IntoPyResult;

/// A tokenizer from a spec: `whitespace` (KenLM's split), `unicode-whitespace`,
/// `word[:lower][:nfc|:nfkc]`, `char[:keep-ws]`.
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

    /// The spec string.
    #[getter]
    fn spec(&self) -> String {
        self.inner.spec()
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

//! `_core.NGramCounts` and `_core.count_ngrams`.

use std::path::PathBuf;
use std::sync::Arc;

use nextword_core::count::{self, CountOptions, NGramCounts as CoreCounts, OrderCounts};
use nextword_core::tokenize::Tokenizer as CoreTokenizer;
use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::errors::IntoPyResult;
use crate::vocab::Vocab;
use crate::{job, source};

/// An id matrix and its counts.
type IdsAndCounts<'py> = (Bound<'py, PyArray2<u32>>, Bound<'py, PyArray1<u64>>);

/// Counted n-grams of orders 1..N.
#[pyclass(module = "nextword._core", frozen)]
pub struct NGramCounts {
    inner: Arc<CoreCounts>,
}

/// Count n-grams of orders 1..=order over a corpus, in parallel, GIL released.
#[pyfunction]
#[pyo3(signature = (corpus, order, tokenizer, pad, threads, progress))]
pub fn count_ngrams(
    py: Python<'_>,
    corpus: source::CorpusArgs,
    order: usize,
    tokenizer: &str,
    pad: bool,
    threads: usize,
    progress: Option<bool>,
) -> PyResult<NGramCounts> {
    let corpus = corpus.into_corpus()?;
    let options = CountOptions {
        order,
        tokenizer: CoreTokenizer::from_spec(tokenizer).py()?,
        pad,
        threads,
    };
    let inner = job::run(py, "count", progress, |control| {
        count::count_ngrams(&corpus, &options, control)
    })?;
    Ok(NGramCounts {
        inner: Arc::new(inner),
    })
}

impl NGramCounts {
    /// The shared core counts.
    pub fn core(&self) -> Arc<CoreCounts> {
        self.inner.clone()
    }

    fn order_table(&self, n: usize) -> PyResult<&OrderCounts> {
        self.inner.get_order(n).py()
    }

    fn words_of<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyTuple>> {
        let words: Vec<&str> = ids
            .iter()
            .map(|&id| self.inner.vocab.word(id).unwrap_or("<unk>"))
            .collect();
        PyTuple::new(py, words)
    }

    fn key_words(key: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        if let Ok(s) = key.extract::<String>() {
            return Ok(vec![s]);
        }
        key.extract::<Vec<String>>()
            .map_err(|_| PyTypeError::new_err("an n-gram is a str or a tuple of str"))
    }
}

#[pymethods]
impl NGramCounts {
    /// The highest order.
    #[getter]
    fn order(&self) -> usize {
        self.inner.order()
    }

    /// Whether sentences were padded with <s> and </s>.
    #[getter]
    fn padded(&self) -> bool {
        self.inner.padded
    }

    /// Tokens read (before padding).
    #[getter]
    fn tokens(&self) -> u64 {
        self.inner.tokens
    }

    /// Tokenizer spec.
    #[getter]
    fn tokenizer(&self) -> String {
        self.inner.vocab.tokenizer().spec()
    }

    /// What reading the corpus saw.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        source::stats_dict(py, &self.inner.stats)
    }

    /// The vocabulary (first-appearance order).
    #[getter]
    fn vocab(&self) -> Vocab {
        Vocab {
            inner: self.inner.vocab.clone(),
        }
    }

    /// Count of an n-gram (str or tuple of str); 0 when unseen.
    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<u64> {
        let words = Self::key_words(key)?;
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        Ok(self.inner.count(&refs))
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.__getitem__(key)? > 0)
    }

    /// Number of distinct n-grams over all orders.
    fn __len__(&self) -> usize {
        self.inner.orders.iter().map(OrderCounts::len).sum()
    }

    /// Sum of counts of order n.
    fn total(&self, n: usize) -> PyResult<u64> {
        Ok(self.order_table(n)?.total())
    }

    /// Distinct n-grams of order n.
    fn num_unique(&self, n: usize) -> PyResult<usize> {
        Ok(self.order_table(n)?.len())
    }

    /// The k most common n-grams of order n: [(tuple, count)], ties by id order.
    fn most_common<'py>(
        &self,
        py: Python<'py>,
        k: usize,
        n: usize,
    ) -> PyResult<Vec<(Bound<'py, PyTuple>, u64)>> {
        let table = self.order_table(n)?;
        let idx = py.detach(|| table.most_common(k));
        idx.into_iter()
            .map(|i| Ok((self.words_of(py, table.key(i))?, table.counts[i])))
            .collect()
    }

    /// {count: number of n-grams with that count} for order n.
    fn count_of_counts(&self, n: usize) -> PyResult<std::collections::BTreeMap<u64, u64>> {
        Ok(self.order_table(n)?.count_of_counts())
    }

    /// (ids uint32 [m, n], counts uint64 [m]) of order n, sorted by ids.
    fn to_numpy<'py>(&self, py: Python<'py>, n: usize) -> PyResult<IdsAndCounts<'py>> {
        let table = self.order_table(n)?;
        let ids = PyArray1::from_slice(py, &table.keys).reshape([table.len(), n])?;
        Ok((ids, PyArray1::from_slice(py, &table.counts)))
    }

    /// The n-grams of order n from index `start`, at most `limit`: [(tuple, count)].
    fn items_slice<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        start: usize,
        limit: usize,
    ) -> PyResult<Vec<(Bound<'py, PyTuple>, u64)>> {
        let table = self.order_table(n)?;
        let end = start.saturating_add(limit).min(table.len());
        (start.min(end)..end)
            .map(|i| Ok((self.words_of(py, table.key(i))?, table.counts[i])))
            .collect()
    }

    /// Counts of both tables added (self's vocabulary first).
    fn merge(&self, py: Python<'_>, other: &NGramCounts) -> PyResult<NGramCounts> {
        let merged = py.detach(|| self.inner.merge(&other.inner)).py()?;
        Ok(NGramCounts {
            inner: Arc::new(merged),
        })
    }

    /// Save in the versioned, checksummed binary format.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path)).py()
    }

    /// Load a file written by `save`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<NGramCounts> {
        let inner = py.detach(|| CoreCounts::load(&path)).py()?;
        Ok(NGramCounts {
            inner: Arc::new(inner),
        })
    }

    /// Id-level lookup: count of the n-gram of these ids.
    fn count_ids(&self, ids: Vec<u32>) -> PyResult<u64> {
        if ids.is_empty() || ids.len() > self.inner.order() {
            return Err(PyKeyError::new_err("n-gram length outside 1..=order"));
        }
        let table = &self.inner.orders[ids.len() - 1];
        Ok(table.find(&ids).map_or(0, |i| table.counts[i]))
    }
}

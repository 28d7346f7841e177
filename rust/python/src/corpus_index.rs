//! `_core.CorpusIndex`: the suffix-array index of a corpus.

use std::path::PathBuf;

use nextword_core::index::file::Tokens;
use nextword_core::index::{self, BuildOptions, CorpusIndex as CoreIndex};
use nextword_core::tokenize::Tokenizer as CoreTokenizer;
use numpy::{PyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::IntoPyResult;
use crate::vocab::Vocab;
use crate::{job, source};

/// The build options as the Python layer passes them (one dict).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct IndexOptions {
    documents: String,
    pad: bool,
    token_width: Option<u8>,
    max_vocab: Option<usize>,
    threads: usize,
    memory: Option<u64>,
    shard_tokens: Option<u64>,
}

impl IndexOptions {
    fn into_core(self) -> PyResult<BuildOptions> {
        Ok(BuildOptions {
            documents: self.documents.parse().py()?,
            pad: self.pad,
            token_width: self.token_width,
            max_vocab: self.max_vocab,
            threads: self.threads,
            memory: self.memory,
            shard_tokens: self.shard_tokens,
        })
    }
}

/// One hit of `find`: position, document, offset, left context, match, right context.
type Hit = (u64, u64, u64, String, String, String);
/// A sparse ∞-gram prediction: ids, counts, total, effective n.
type Sparse<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u64>>,
    u64,
    usize,
);
/// Novelty: longest matches per text, (found, total) per n, median longest match.
type NoveltyResult<'py> = (Vec<Bound<'py, PyArray1<u32>>>, Vec<(u64, u64)>, f64);

/// A memory-mapped corpus index.
#[pyclass(module = "nextword._core", frozen)]
pub struct CorpusIndex {
    inner: CoreIndex,
}

#[pymethods]
impl CorpusIndex {
    /// Build the index of a corpus into `path` (GIL released, progress, Ctrl-C).
    #[staticmethod]
    #[pyo3(signature = (corpus, tokenizer, path, options, progress))]
    fn build(
        py: Python<'_>,
        corpus: source::CorpusArgs,
        tokenizer: &str,
        path: PathBuf,
        options: IndexOptions,
        progress: Option<bool>,
    ) -> PyResult<Self> {
        let corpus = corpus.into_corpus()?;
        let tokenizer = CoreTokenizer::from_spec(tokenizer).py()?;
        let options = options.into_core()?;
        let inner = job::run(py, "index", progress, |control| {
            index::build(&corpus, tokenizer, &options, &path, control)
        })?;
        Ok(Self { inner })
    }

    /// Open an index file (`verify`: check the whole file's checksum).
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf, verify: bool) -> PyResult<Self> {
        let inner = py.detach(|| CoreIndex::open(&path, verify)).py()?;
        Ok(Self { inner })
    }

    /// The vocabulary (a copy; decoded from the file on first use).
    #[getter]
    fn vocab(&self, py: Python<'_>) -> PyResult<Vocab> {
        let inner = py.detach(|| self.inner.vocab().cloned()).py()?;
        Ok(Vocab { inner })
    }

    /// Check the whole file: its checksum, document starts and vocabulary.
    fn verify(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.verify()).py()
    }

    /// Sizes and layout as a dict.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let i = &self.inner;
        let d = PyDict::new(py);
        d.set_item("path", i.path().display().to_string())?;
        d.set_item("tokens", i.tokens())?;
        d.set_item("documents", i.documents())?;
        d.set_item("document_unit", i.document_unit().name())?;
        d.set_item("padded", i.padded())?;
        d.set_item("vocab_size", i.vocab_len())?;
        d.set_item("token_width", i.token_width())?;
        d.set_item("pointer_width", i.pointer_width())?;
        d.set_item("file_bytes", i.file_bytes())?;
        d.set_item("shards", i.shard_count())?;
        Ok(d)
    }

    /// A copy of the token stream (`uint16` or `uint32`; documents separated by the type's maximum).
    fn token_stream<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        // The shards' streams, in order, are the corpus's.
        fn concat<'py, 'a, T: numpy::Element + Copy + 'a>(
            py: Python<'py>,
            parts: impl Iterator<Item = &'a [T]>,
        ) -> Bound<'py, PyAny> {
            PyArray1::from_vec(py, parts.flatten().copied().collect()).into_any()
        }
        let shards = || self.inner.shards().map(|s| s.token_array());
        if self.inner.token_width() == 2 {
            concat(
                py,
                shards().filter_map(|t| match t {
                    Tokens::Narrow(t) => Some(t),
                    Tokens::Wide(_) => None,
                }),
            )
        } else {
            concat(
                py,
                shards().filter_map(|t| match t {
                    Tokens::Wide(t) => Some(t),
                    Tokens::Narrow(_) => None,
                }),
            )
        }
    }

    /// Ids of a text's tokens (unknown words: `ABSENT`).
    fn encode(&self, text: &str) -> PyResult<Vec<u32>> {
        self.inner.encode(text).py()
    }

    /// Ids of tokens (unknown words: `ABSENT`).
    fn ids_of(&self, tokens: Vec<String>) -> PyResult<Vec<u32>> {
        self.inner.ids_of(&tokens).py()
    }

    /// Occurrences of a phrase of ids.
    fn count(&self, py: Python<'_>, ids: Vec<u32>) -> u64 {
        py.detach(|| self.inner.count(&ids))
    }

    /// Occurrences of each text (tokenized here), in parallel.
    fn count_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        threads: usize,
    ) -> PyResult<Bound<'py, PyArray1<u64>>> {
        let counts = py
            .detach(|| {
                let phrases = (texts.iter())
                    .map(|t| self.inner.encode(t))
                    .collect::<nextword_core::Result<Vec<Vec<u32>>>>()?;
                let refs: Vec<&[u32]> = phrases.iter().map(|p| &p[..]).collect();
                self.inner.count_batch(&refs, threads)
            })
            .py()?;
        Ok(PyArray1::from_vec(py, counts))
    }

    /// Occurrences of each row of an id matrix, in parallel.
    fn count_ids<'py>(
        &self,
        py: Python<'py>,
        ids: PyReadonlyArray2<'_, u32>,
        threads: usize,
    ) -> PyResult<Bound<'py, PyArray1<u64>>> {
        let (rows, width) = ids.as_array().dim();
        // A C-contiguous array (the Python layer makes it one) is read in
        // place; anything else is copied once.
        // (`as_slice` also accepts Fortran order, whose flat order is by column.)
        let view = ids.as_array();
        let flat: std::borrow::Cow<'_, [u32]> = match view.as_slice() {
            Some(s) => s.into(),
            None => view.iter().copied().collect::<Vec<u32>>().into(),
        };
        let counts = py
            .detach(|| self.inner.count_rows(&flat, rows, width, threads))
            .py()?;
        Ok(PyArray1::from_vec(py, counts))
    }

    /// Successors of a phrase with counts, most frequent first.
    #[pyo3(signature = (ids, k = None))]
    fn next_counts(&self, py: Python<'_>, ids: Vec<u32>, k: Option<usize>) -> Vec<(u32, u64)> {
        py.detach(|| self.inner.next_counts(&ids, k))
    }

    /// Up to `limit` hits of a phrase with `window` tokens of context each side.
    fn find(
        &self,
        py: Python<'_>,
        ids: Vec<u32>,
        limit: usize,
        window: usize,
    ) -> PyResult<Vec<Hit>> {
        py.detach(|| {
            let hits = self.inner.find(&ids, limit);
            hits.iter()
                .map(|h| {
                    let (l, m, r) = self.inner.kwic(h, ids.len(), window)?;
                    Ok((h.position, h.document, h.offset, l, m, r))
                })
                .collect::<nextword_core::Result<Vec<Hit>>>()
        })
        .py()
    }

    /// The longest match in the corpus at every position of `ids`.
    fn longest_matches<'py>(&self, py: Python<'py>, ids: Vec<u32>) -> Bound<'py, PyArray1<u32>> {
        PyArray1::from_vec(py, py.detach(|| self.inner.longest_matches(&ids)))
    }

    /// Novelty of texts (one sequence each, tokenized here), in parallel.
    fn novelty<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        max_n: usize,
        threads: usize,
    ) -> PyResult<NoveltyResult<'py>> {
        let result = py
            .detach(|| {
                let seqs = (texts.iter())
                    .map(|t| self.inner.encode(t))
                    .collect::<nextword_core::Result<Vec<Vec<u32>>>>()?;
                self.inner.novelty(&seqs, max_n, threads)
            })
            .py()?;
        let longest = result
            .longest
            .into_iter()
            .map(|l| PyArray1::from_vec(py, l))
            .collect();
        Ok((longest, result.found, result.median_longest))
    }

    /// The ∞-gram distribution after a context of ids, dense, and its effective n.
    fn infini_gram<'py>(
        &self,
        py: Python<'py>,
        ids: Vec<u32>,
    ) -> (Bound<'py, PyArray1<f64>>, usize) {
        let (p, n) = py.detach(|| {
            let prediction = self.inner.infini_gram(&ids);
            (prediction.dense(self.inner.vocab_len()), prediction.n)
        });
        (PyArray1::from_vec(py, p), n)
    }

    /// The ∞-gram predictions after many contexts, sparse, in parallel.
    fn infini_gram_batch<'py>(
        &self,
        py: Python<'py>,
        contexts: Vec<Vec<u32>>,
        threads: usize,
    ) -> PyResult<Vec<Sparse<'py>>> {
        let predictions = py
            .detach(|| self.inner.infini_gram_batch(&contexts, threads))
            .py()?;
        Ok(predictions
            .into_iter()
            .map(|p| {
                let (ids, counts): (Vec<u32>, Vec<u64>) = p.counts.into_iter().unzip();
                (
                    PyArray1::from_vec(py, ids),
                    PyArray1::from_vec(py, counts),
                    p.total,
                    p.n,
                )
            })
            .collect())
    }
}

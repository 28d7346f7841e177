//! Word2vec: `_core.train_word2vec`, the word-vector files, and two test hooks
//! that expose the core's update step and sampling rules to the reference tests.

use std::path::PathBuf;

use nextword_core::control::Control;
use nextword_core::embed::shared::SharedMatrix;
use nextword_core::embed::step::{Scratch, Weights};
use nextword_core::embed::subsample::keep_probabilities;
use nextword_core::embed::vocab::NoiseTable;
use nextword_core::embed::{self, word2vec_format, Word2VecParams, WordVectors};
use nextword_core::tokenize::Tokenizer as CoreTokenizer;
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::IntoPyResult;
use crate::{job, source};

/// Words, counts and the `words x dim` matrix, as Python receives them.
type Parts<'py> = (
    Vec<String>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray2<f32>>,
);

/// Two matrices, as the step hook returns them.
type Matrices<'py> = (Bound<'py, PyArray2<f32>>, Bound<'py, PyArray2<f32>>);

/// Three vectors, as the rules hook returns them.
type Rules<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f32>>,
);

/// The settings of `nextword.Word2Vec`, as the dict `Word2Vec._core_params()`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Word2VecArgs {
    dim: usize,
    window: usize,
    negative: usize,
    min_count: u64,
    sg: bool,
    epochs: usize,
    alpha: f64,
    min_alpha: f64,
    sample: f64,
    threads: usize,
    seed: u64,
}

impl From<Word2VecArgs> for Word2VecParams {
    fn from(a: Word2VecArgs) -> Self {
        Self {
            dim: a.dim,
            window: a.window,
            negative: a.negative,
            min_count: a.min_count,
            skip_gram: a.sg,
            epochs: a.epochs,
            alpha: a.alpha,
            min_alpha: a.min_alpha,
            sample: a.sample,
            threads: a.threads,
            seed: a.seed,
        }
    }
}

fn parts(py: Python<'_>, wv: WordVectors) -> PyResult<Parts<'_>> {
    let rows = wv.words.len();
    let matrix = PyArray1::from_vec(py, wv.vectors).reshape([rows, wv.dim])?;
    Ok((wv.words, PyArray1::from_vec(py, wv.counts), matrix))
}

/// Train word2vec on a corpus, GIL released, with progress and Ctrl-C.
#[pyfunction]
#[pyo3(signature = (corpus, tokenizer, params, progress))]
pub fn train_word2vec<'py>(
    py: Python<'py>,
    corpus: source::CorpusArgs,
    tokenizer: &str,
    params: Word2VecArgs,
    progress: Option<bool>,
) -> PyResult<Parts<'py>> {
    let corpus = corpus.into_corpus()?;
    let tokenizer = CoreTokenizer::from_spec(tokenizer).py()?;
    let params = Word2VecParams::from(params);
    let wv = job::run(py, "word2vec", progress, |control: &Control| {
        embed::train(&corpus, tokenizer, &params, control)
    })?;
    parts(py, wv)
}

/// Read word vectors: `format` is "nextword", "word2vec-text" or "word2vec-binary".
#[pyfunction]
pub fn load_word_vectors<'py>(
    py: Python<'py>,
    path: PathBuf,
    format: &str,
) -> PyResult<Parts<'py>> {
    let wv = py
        .detach(|| match format {
            "nextword" => WordVectors::load(&path),
            "word2vec-text" => word2vec_format::load_text(&path),
            "word2vec-binary" => word2vec_format::load_binary(&path),
            other => Err(nextword_core::Error::InvalidArgument(format!(
                "unknown vectors format {other:?}"
            ))),
        })
        .py()?;
    parts(py, wv)
}

/// Write word vectors in `format` (as [`load_word_vectors`]), atomically.
#[pyfunction]
pub fn save_word_vectors(
    py: Python<'_>,
    path: PathBuf,
    format: &str,
    words: Vec<String>,
    counts: Vec<u64>,
    vectors: PyReadonlyArray2<'_, f32>,
) -> PyResult<()> {
    let dim = vectors.shape()[1];
    let wv = WordVectors {
        words,
        counts,
        dim,
        vectors: vectors.as_array().iter().copied().collect(),
    };
    py.detach(|| match format {
        "nextword" => wv.save(&path),
        "word2vec-text" => word2vec_format::save_text(&wv, &path),
        "word2vec-binary" => word2vec_format::save_binary(&wv, &path),
        other => Err(nextword_core::Error::InvalidArgument(format!(
            "unknown vectors format {other:?}"
        ))),
    })
    .py()
}

/// Test hook: one core update on copies of `syn0` and `syn1neg`, for one
/// `example` = (context ids, target id, negative ids). Skip-gram when the
/// context holds one id and `sg` is true (that id is the input), CBOW
/// otherwise. Returns the updated copies.
#[pyfunction]
pub fn word2vec_step<'py>(
    py: Python<'py>,
    syn0: PyReadonlyArray2<'py, f32>,
    syn1neg: PyReadonlyArray2<'py, f32>,
    sg: bool,
    example: (Vec<u32>, u32, Vec<u32>),
    alpha: f32,
) -> PyResult<Matrices<'py>> {
    let (context, target, negatives) = example;
    let (rows, dim) = (syn0.shape()[0], syn0.shape()[1]);
    if syn1neg.shape() != syn0.shape()
        || dim == 0
        || context
            .iter()
            .chain(&negatives)
            .chain([&target])
            .any(|&i| i as usize >= rows)
        || (sg && context.len() != 1)
    {
        return Err(PyValueError::new_err("shapes or ids out of range"));
    }
    let s0 = SharedMatrix::from_vec(syn0.as_array().iter().copied().collect(), dim);
    let s1 = SharedMatrix::from_vec(syn1neg.as_array().iter().copied().collect(), dim);
    let weights = Weights {
        syn0: &s0,
        syn1neg: &s1,
    };
    let mut scratch = Scratch::new(dim);
    if sg {
        weights.skip_gram(context[0], target, &negatives, alpha, &mut scratch);
    } else {
        weights.cbow(&context, target, &negatives, alpha, &mut scratch);
    }
    Ok((
        PyArray1::from_vec(py, s0.into_vec()).reshape([rows, dim])?,
        PyArray1::from_vec(py, s1.into_vec()).reshape([rows, dim])?,
    ))
}

/// Test hook: the noise table's cumulative sums, the keep probabilities, and
/// the initial vectors of `dim` seeded with `seed`, for `counts`.
#[pyfunction]
pub fn word2vec_rules<'py>(
    py: Python<'py>,
    counts: PyReadonlyArray1<'py, u64>,
    sample: f64,
    dim: usize,
    seed: u64,
) -> PyResult<Rules<'py>> {
    let counts = counts.as_slice()?;
    let table = NoiseTable::new(counts);
    Ok((
        PyArray1::from_slice(py, table.cumulative()),
        PyArray1::from_vec(py, keep_probabilities(counts, sample)),
        PyArray1::from_vec(py, embed::trainer::initial_vectors(counts.len(), dim, seed)),
    ))
}

//! The filtering functions of `_core`: perplexity filtering, exact and span
//! deduplication (`nextword.filter` wraps them).

use std::path::PathBuf;

use nextword_core::filter::{self, Bucketing, FilterOptions, ReadCounts};
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::IntoPyResult;
use crate::ngram_lm::NGramLM;
use crate::{job, source};

/// Filtering options as `nextword.filter` describes them (a dict).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct FilterArgs {
    unit: Option<String>,
    cutoffs: Vec<f64>,
    names: Vec<String>,
    keep: Vec<bool>,
    min_words: u64,
    keep_short: bool,
    field: String,
    bucket_field: String,
    lines_as_jsonl: bool,
}

fn unit(u: Option<String>) -> PyResult<Option<filter::Unit>> {
    u.map(|u| u.parse()).transpose().py()
}

fn read_dict<'py>(py: Python<'py>, r: &ReadCounts) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("lines", r.lines)?;
    d.set_item("replaced_utf8", r.replaced_utf8)?;
    d.set_item("skipped_utf8", r.skipped_utf8)?;
    d.set_item("skipped_json", r.skipped_json)?;
    d.set_item("skipped_field", r.skipped_field)?;
    d.set_item("blank_records", r.blank_records)?;
    Ok(d)
}

/// Score every document of `corpus` with `model` and write the kept ones to
/// `output`; returns the summary as a dict.
#[pyfunction]
pub fn filter_by_perplexity<'py>(
    py: Python<'py>,
    model: &NGramLM,
    corpus: source::CorpusArgs,
    output: PathBuf,
    options: FilterArgs,
    threads: usize,
    progress: Option<bool>,
) -> PyResult<Bound<'py, PyDict>> {
    let corpus = corpus.into_corpus()?;
    let options = FilterOptions {
        unit: unit(options.unit)?,
        bucketing: Bucketing {
            cutoffs: options.cutoffs,
            names: options.names,
            keep: options.keep,
        },
        min_words: options.min_words,
        keep_short: options.keep_short,
        field: options.field,
        bucket_field: options.bucket_field,
        lines_as_jsonl: options.lines_as_jsonl,
    };
    let s = job::run(py, "filter", progress, |control| {
        model
            .model()
            .filter_by_perplexity(&corpus, &options, &output, control, threads)
    })?;
    let d = PyDict::new(py);
    let buckets: Vec<(u64, u64, u64)> = s
        .buckets
        .iter()
        .map(|b| (b.documents, b.words, b.tokens))
        .collect();
    d.set_item("buckets", buckets)?;
    d.set_item("kept", (s.kept.documents, s.kept.words, s.kept.tokens))?;
    d.set_item("oov_words", s.oov_words)?;
    d.set_item("read", read_dict(py, &s.read)?)?;
    Ok(d)
}

/// Perplexities and word counts of the documents of `corpus` (the first
/// `limit` with at least `min_words` words, or all).
#[pyfunction]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn document_perplexities<'py>(
    py: Python<'py>,
    model: &NGramLM,
    corpus: source::CorpusArgs,
    unit_name: Option<String>,
    min_words: u64,
    limit: Option<usize>,
    threads: usize,
    progress: Option<bool>,
) -> PyResult<(
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyDict>,
)> {
    let corpus = corpus.into_corpus()?;
    let unit = unit(unit_name)?;
    let (ppl, words, read) = job::run(py, "score", progress, |control| {
        model
            .model()
            .document_perplexities(&corpus, unit, min_words, limit, control, threads)
    })?;
    Ok((
        PyArray1::from_vec(py, ppl),
        PyArray1::from_vec(py, words),
        read_dict(py, &read)?,
    ))
}

/// The values at `percentiles` of `values` (numpy's linear rule).
#[pyfunction]
pub fn percentile_cutoffs(values: Vec<f64>, percentiles: Vec<f64>) -> PyResult<Vec<f64>> {
    filter::percentile_cutoffs(&values, &percentiles).py()
}

/// Remove (or mark) exact duplicates; `output` None only counts.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn dedup_exact<'py>(
    py: Python<'py>,
    corpus: source::CorpusArgs,
    output: Option<PathBuf>,
    unit: &str,
    mark: bool,
    lengths: bool,
    threads: usize,
    progress: Option<bool>,
) -> PyResult<Bound<'py, PyDict>> {
    let corpus = corpus.into_corpus()?;
    let options = filter::DedupOptions {
        unit: unit.parse().py()?,
        mark,
        lengths,
    };
    let s = job::run(py, "dedup", progress, |control| {
        filter::dedup_exact(&corpus, &options, output.as_deref(), control, threads)
    })?;
    let d = PyDict::new(py);
    d.set_item("documents", s.documents)?;
    d.set_item("lines", s.lines)?;
    d.set_item("words", s.words)?;
    d.set_item("duplicate_documents", s.duplicate_documents)?;
    d.set_item("duplicate_lines", s.duplicate_lines)?;
    d.set_item("duplicate_words", s.duplicate_words)?;
    d.set_item("distinct", s.distinct)?;
    d.set_item("read", read_dict(py, &s.read)?)?;
    d.set_item("lengths", PyArray1::from_vec(py, s.lengths))?;
    Ok(d)
}

/// Remove (or mark) repeated spans of at least `min_tokens` tokens.
#[pyfunction]
pub fn dedup_spans<'py>(
    py: Python<'py>,
    corpus: source::CorpusArgs,
    output: PathBuf,
    min_tokens: usize,
    mark: bool,
    threads: usize,
    progress: Option<bool>,
) -> PyResult<Bound<'py, PyDict>> {
    let corpus = corpus.into_corpus()?;
    let options = filter::SpanOptions { min_tokens, mark };
    let s = job::run(py, "spans", progress, |control| {
        filter::dedup_spans(&corpus, &options, &output, control, threads)
    })?;
    let d = PyDict::new(py);
    d.set_item("documents", s.documents)?;
    d.set_item("words", s.words)?;
    d.set_item("duplicate_words", s.duplicate_words)?;
    d.set_item("spans", s.spans)?;
    d.set_item("emptied_documents", s.emptied_documents)?;
    d.set_item("read", read_dict(py, &s.read)?)?;
    Ok(d)
}

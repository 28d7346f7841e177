//! `train_arpa`: corpus to ARPA file within a memory budget (the core's
//! streaming Kneser-Ney pipeline), with the GIL released, progress and Ctrl-C.

use std::path::PathBuf;

use nextword_core::count::CountOptions;
use nextword_core::lm::kneser_ney::stream::{self, StreamOptions};
use nextword_core::lm::kneser_ney::KneserNeyOptions;
use nextword_core::tokenize::Tokenizer as CoreTokenizer;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::IntoPyResult;
use crate::{job, source};

/// Count `corpus`, estimate Kneser-Ney of `order` and write ARPA to `path`,
/// holding about `memory` bytes; returns a report dict.
#[pyfunction]
#[pyo3(signature = (corpus, path, order, tokenizer, memory, temp_dir=None, interpolate_unigrams=true, discounts=None, threads=0, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn train_arpa<'py>(
    py: Python<'py>,
    corpus: source::CorpusArgs,
    path: PathBuf,
    order: usize,
    tokenizer: &str,
    memory: usize,
    temp_dir: Option<PathBuf>,
    interpolate_unigrams: bool,
    discounts: Option<Vec<[f64; 3]>>,
    threads: usize,
    progress: Option<bool>,
) -> PyResult<Bound<'py, PyDict>> {
    let options = KneserNeyOptions {
        interpolate_unigrams,
        discounts,
        prune: None,
    };
    options.check(order).py()?;
    let corpus = corpus.into_corpus()?;
    let count = CountOptions {
        order,
        tokenizer: CoreTokenizer::from_spec(tokenizer).py()?,
        pad: true,
        threads,
    };
    let stream_options = StreamOptions { memory, temp_dir };
    let report = job::run(py, "train", progress, |control| {
        stream::train_arpa(&corpus, &count, &options, &stream_options, &path, control)
    })?;
    let out = PyDict::new(py);
    out.set_item("sizes", report.sizes)?;
    out.set_item("discounts", report.discounts)?;
    out.set_item("warnings", report.warnings)?;
    out.set_item("tokens", report.tokens)?;
    out.set_item("sentences", report.stats.sentences)?;
    out.set_item("temp_bytes", report.temp_bytes)?;
    Ok(out)
}

/// Bytes of a memory size given as text (`2G`, `512M`, `80%`).
#[pyfunction]
pub fn parse_memory(text: &str) -> PyResult<usize> {
    stream::parse_memory(text).py()
}

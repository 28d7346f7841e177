//! Building a core `Corpus` from the arguments the Python layer normalised.

use std::path::PathBuf;
use std::sync::Arc;

use nextword_core::corpus::{Corpus, CorpusOptions, FileFormat, Source};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A corpus as the Python layer describes it: the dict of
/// `nextword.Corpus.core_args()` (paths and/or texts plus reading options).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct CorpusArgs {
    paths: Vec<PathBuf>,
    texts: Option<Vec<String>>,
    errors: String,
    skip_blank: bool,
    format: String,
    text_field: String,
}

impl CorpusArgs {
    /// The core corpus, checking the option values.
    pub fn into_corpus(self) -> PyResult<Corpus> {
        corpus(
            self.paths,
            self.texts,
            &self.errors,
            self.skip_blank,
            &self.format,
            &self.text_field,
        )
    }
}

/// A corpus from paths and/or texts plus the reading options.
pub fn corpus(
    paths: Vec<PathBuf>,
    texts: Option<Vec<String>>,
    errors: &str,
    skip_blank: bool,
    format: &str,
    text_field: &str,
) -> PyResult<Corpus> {
    let mut sources: Vec<Source> = paths.into_iter().map(Source::Path).collect();
    if let Some(texts) = texts {
        sources.push(Source::Texts(Arc::new(texts)));
    }
    let format = match format {
        "auto" => FileFormat::Auto,
        "text" => FileFormat::Text,
        "jsonl" => FileFormat::Jsonl,
        other => {
            return Err(PyValueError::new_err(format!(
                "format must be 'auto', 'text' or 'jsonl', not {other:?}"
            )))
        }
    };
    Ok(Corpus {
        sources,
        options: CorpusOptions {
            errors: errors.parse().map_err(crate::errors::to_py)?,
            skip_blank,
            format,
            text_field: text_field.to_string(),
        },
    })
}

/// The `CorpusStats` as a Python dict.
pub fn stats_dict<'py>(
    py: Python<'py>,
    stats: &nextword_core::corpus::CorpusStats,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    d.set_item("lines", stats.lines)?;
    d.set_item("sentences", stats.sentences)?;
    d.set_item("blank_lines", stats.blank_lines)?;
    d.set_item("bad_lines", stats.bad_lines)?;
    d.set_item("bytes", stats.bytes)?;
    Ok(d)
}

/// Set the target size of a corpus chunk for every later read (0 restores
/// `CHUNK_BYTES`). For tests only: small chunks make small corpora cross chunk
/// edges and reach the parallel reader and the merge of worker states.
#[pyfunction]
pub fn set_chunk_bytes(bytes: usize) {
    nextword_core::corpus::read::set_chunk_bytes(bytes);
}

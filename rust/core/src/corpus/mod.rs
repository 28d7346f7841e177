//! Corpus input: where text comes from and how it is cut into sentences.
//!
//! A [`Corpus`] is a list of sources (files, directories, globs, in-memory texts)
//! and the [`CorpusOptions`] that say how to read them. [`read`] opens files
//! (plain, gzip, zstd; detected by their magic bytes) and cuts them into
//! [`Chunk`]s of whole lines; [`lines`] walks the sentences of a chunk, applying
//! the UTF-8 policy and extracting the JSONL text field; [`parallel`] runs a
//! job over all chunks on worker threads with bounded memory.
//!
//! One line is one sentence. As in KenLM's `lmplz`, only `\n` ends a line; a
//! `\r` right before it is part of the line end (CRLF), and a lone `\r` stays in
//! the line, where every tokenizer treats it as whitespace. A blank line (empty
//! or only NUL, tab, `\r` and space: see [`crate::tokenize::is_blank`]) is a
//! sentence of no words, `<s> </s>` once padded, as lmplz counts it and KenLM's
//! `query` scores it; [`CorpusOptions::skip_blank`] drops such lines instead.

pub mod lines;
pub mod parallel;
pub mod read;
pub mod source;

pub use lines::{Chunk, CorpusStats};
pub use parallel::process;
pub use source::{Input, InputFormat};

use std::path::PathBuf;
use std::sync::Arc;

use crate::{Error, Result};

/// What to do with a line that is not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Utf8Policy {
    /// Stop with [`Error::Corpus`] naming the file, line and byte (the default).
    #[default]
    Strict,
    /// Replace bad bytes by U+FFFD and go on, counting the line.
    Replace,
    /// Skip the line and go on, counting it.
    Skip,
}

impl std::str::FromStr for Utf8Policy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "strict" => Ok(Self::Strict),
            "replace" => Ok(Self::Replace),
            "skip" | "ignore" => Ok(Self::Skip),
            other => Err(Error::InvalidArgument(format!(
                "errors must be 'strict', 'replace' or 'skip', not {other:?}"
            ))),
        }
    }
}

/// How files are interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FileFormat {
    /// JSONL for `.jsonl`/`.ndjson` names (before any `.gz`/`.zst`), text otherwise.
    #[default]
    Auto,
    /// Plain text, one sentence per line.
    Text,
    /// One JSON object per line; the sentence text is in the text field.
    Jsonl,
}

/// Options of a corpus read.
#[derive(Debug, Clone)]
pub struct CorpusOptions {
    /// UTF-8 policy.
    pub errors: Utf8Policy,
    /// Skip blank lines (empty or only NUL, tab, `\r`, space; default false:
    /// lmplz counts a blank line as the sentence `<s> </s>`).
    pub skip_blank: bool,
    /// Text or JSONL.
    pub format: FileFormat,
    /// The JSONL field holding the text (default `"text"`).
    pub text_field: String,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        Self {
            errors: Utf8Policy::Strict,
            skip_blank: false,
            format: FileFormat::Auto,
            text_field: "text".to_string(),
        }
    }
}

/// One source as the user named it.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file, a directory (read recursively) or a glob pattern.
    Path(PathBuf),
    /// In-memory texts (each may hold several lines), for small data and tests.
    Texts(Arc<Vec<String>>),
}

/// A corpus: sources plus reading options.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// The sources, read in this order.
    pub sources: Vec<Source>,
    /// How to read them.
    pub options: CorpusOptions,
}

impl Corpus {
    /// A corpus of the given paths (files, directories or globs) with default options.
    pub fn from_paths<P: Into<PathBuf>>(paths: impl IntoIterator<Item = P>) -> Self {
        Self {
            sources: paths.into_iter().map(|p| Source::Path(p.into())).collect(),
            options: CorpusOptions::default(),
        }
    }

    /// A corpus of in-memory texts with default options.
    pub fn from_texts(texts: Vec<String>) -> Self {
        Self {
            sources: vec![Source::Texts(Arc::new(texts))],
            options: CorpusOptions::default(),
        }
    }

    /// Resolve the sources into concrete inputs (files sorted within a directory or
    /// glob), checking that every path exists.
    pub fn inputs(&self) -> Result<Vec<Input>> {
        source::resolve(&self.sources, &self.options)
    }
}

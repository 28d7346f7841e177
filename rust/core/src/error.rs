//! The error type of the core library.
//!
//! Every error that input can cause is a variant here; the Python bindings map each
//! variant onto one exception class (`CorpusError`, `ModelFormatError`, ...).

use std::path::PathBuf;

/// Where in a corpus something went wrong: the source, the 1-based line and the
/// 0-based byte offset in the (decompressed) stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Display name of the source (a path, or `<iterable>`).
    pub source: String,
    /// 1-based line number.
    pub line: u64,
    /// 0-based byte offset of the offending byte in the decompressed stream.
    pub byte: u64,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, line {}, byte {}", self.source, self.line, self.byte)
    }
}

/// All errors of `nextword-core`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad bytes or bad structure in a corpus (invalid UTF-8, bad JSON, missing field).
    #[error("{location}: {message}")]
    Corpus {
        /// Where the problem is.
        location: Location,
        /// What the problem is.
        message: String,
    },
    /// A corpus that yields no sentence at all.
    #[error("empty corpus: {0}")]
    EmptyCorpus(String),
    /// A path that does not exist.
    #[error("no such file or directory: {}", .0.display())]
    NotFound(PathBuf),
    /// A directory or glob that matched no file.
    #[error("{0}")]
    NoFiles(String),
    /// An I/O error on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A saved file (counts, vocabulary, model) that is corrupt, truncated or of
    /// another format or version.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An argument out of its domain (order 0, unknown tokenizer, ...).
    #[error("{0}")]
    InvalidArgument(String),
    /// The work was cancelled (Ctrl-C).
    #[error("cancelled")]
    Cancelled,
    /// An error raised by code plugged in from outside (a model written in
    /// Python that the generation loop calls), carried back to its caller as is.
    #[error("{0}")]
    External(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// An I/O error on `path`, mapping "not found" to [`Error::NotFound`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound(path)
        } else {
            Error::Io { path, source }
        }
    }

    /// A format error on `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// The result type of `nextword-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

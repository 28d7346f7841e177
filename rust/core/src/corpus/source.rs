//! Resolving sources (paths, directories, globs, texts) into concrete inputs.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{CorpusOptions, FileFormat, Source};
use crate::{Error, Result};

/// How one input file is to be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// One sentence per line.
    Text,
    /// One JSON object per line.
    Jsonl,
}

/// A concrete input: one file, or one list of in-memory texts.
#[derive(Debug, Clone)]
pub enum Input {
    /// A file on disk (compression is detected when it is opened).
    File {
        /// Its path.
        path: PathBuf,
        /// Text or JSONL.
        format: InputFormat,
        /// Its size on disk, for progress.
        size: u64,
    },
    /// In-memory texts.
    Texts(Arc<Vec<String>>),
}

impl Input {
    /// The name used in error messages.
    pub fn name(&self) -> String {
        match self {
            Input::File { path, .. } => path.display().to_string(),
            Input::Texts(_) => "<texts>".to_string(),
        }
    }
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The format of a file from its name: `.jsonl`/`.ndjson`, possibly followed by
/// `.gz`/`.zst`, is JSONL.
fn format_of(path: &Path, options: &CorpusOptions) -> InputFormat {
    match options.format {
        FileFormat::Text => InputFormat::Text,
        FileFormat::Jsonl => InputFormat::Jsonl,
        FileFormat::Auto => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            let stem = name
                .strip_suffix(".gz")
                .or_else(|| name.strip_suffix(".zst"))
                .or_else(|| name.strip_suffix(".zstd"))
                .unwrap_or(&name);
            if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
                InputFormat::Jsonl
            } else {
                InputFormat::Text
            }
        }
    }
}

fn file_input(path: PathBuf, options: &CorpusOptions) -> Result<Input> {
    let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
    Ok(Input::File {
        format: format_of(&path, options),
        size: meta.len(),
        path,
    })
}

/// Every regular, non-hidden file below `dir`, sorted by path. Symbolic links
/// are followed, but each directory is read once, so a link loop ends.
fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>) -> Result<()> {
    let real = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    if !seen.insert(real) {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk_dir(&path, out, seen)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Resolve sources into inputs, in order. Directories are read recursively
/// (hidden files skipped) and globs expanded, both sorted by path so the order
/// never depends on the file system.
pub fn resolve(sources: &[Source], options: &CorpusOptions) -> Result<Vec<Input>> {
    let mut inputs = Vec::new();
    for source in sources {
        match source {
            Source::Texts(texts) => inputs.push(Input::Texts(texts.clone())),
            Source::Path(path) => {
                if path.is_dir() {
                    let mut files = Vec::new();
                    walk_dir(path, &mut files, &mut HashSet::new())?;
                    if files.is_empty() {
                        return Err(Error::NoFiles(format!(
                            "directory {} contains no files",
                            path.display()
                        )));
                    }
                    for f in files {
                        inputs.push(file_input(f, options)?);
                    }
                } else if path.exists() {
                    inputs.push(file_input(path.clone(), options)?);
                } else if is_glob(&path.to_string_lossy()) {
                    let pattern = path.to_string_lossy();
                    // Like a shell, `*` does not match a leading dot (hidden files).
                    let match_options = glob::MatchOptions {
                        require_literal_leading_dot: true,
                        ..Default::default()
                    };
                    let paths = glob::glob_with(&pattern, match_options).map_err(|e| {
                        Error::InvalidArgument(format!("bad glob pattern {pattern:?}: {e}"))
                    })?;
                    let mut files: Vec<PathBuf> = paths
                        .filter_map(|p| p.ok())
                        .filter(|p| p.is_file())
                        .collect();
                    files.sort();
                    if files.is_empty() {
                        return Err(Error::NoFiles(format!(
                            "pattern {pattern:?} matched no files"
                        )));
                    }
                    for f in files {
                        inputs.push(file_input(f, options)?);
                    }
                } else {
                    return Err(Error::NotFound(path.clone()));
                }
            }
        }
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_detected_through_compression_suffix() {
        let o = CorpusOptions::default();
        assert_eq!(format_of(Path::new("a/b.jsonl.gz"), &o), InputFormat::Jsonl);
        assert_eq!(format_of(Path::new("b.JSONL.zst"), &o), InputFormat::Jsonl);
        assert_eq!(format_of(Path::new("b.txt.gz"), &o), InputFormat::Text);
    }

    #[test]
    fn missing_path_is_not_found() {
        let err = resolve(
            &[Source::Path("/no/such/file.txt".into())],
            &CorpusOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::NotFound(_)));
    }
}

//! Repeated spans: every run of at least `N` tokens that occurred earlier in
//! the corpus is removed or marked, as Lee et al. (2022)'s ExactSubstr does
//! with a suffix array.
//!
//! The stages:
//! 1. [`crate::index::build`]: the corpus index (KenLM's whitespace split,
//!    one document per filter document, its lines joined, no padding), of a
//!    temporary flattened copy, in a temporary file;
//! 2. [`repeated_positions`]: suffixes that share their first `N` tokens are
//!    adjacent in the suffix array; in each such group every position but the
//!    first in corpus order starts a repeat, which covers its `N` tokens;
//! 3. the rewrite: the corpus is read again in order and each sentence loses
//!    its covered tokens (and the spaces between them); a line or record
//!    left without words is dropped.
//!
//! Unlike Lee et al., who drop every copy of a repeated span, the first
//! occurrence stays: the text it came from is kept once. A match never
//! crosses a document (a line of text input, a JSONL record) but may cross
//! the lines of a record's text. Memory: the index (mapped) and one bit per
//! token; disk: a flattened copy of the text and the index, both removed.

use std::io::Write;
use std::path::Path;

use super::documents::{for_each_doc, sentences, ReadCounts};
use super::ordered::map_ordered;
use crate::control::Control;
use crate::corpus::{Corpus, Input};
use crate::index::search::{with_view, Token, View};
use crate::index::{BuildOptions, CorpusIndex, Documents, SEP};
use crate::tokenize::Tokenizer;
use crate::{Error, Result};

/// A bit per position.
pub struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Self(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    /// Whether bit `i` is set.
    pub fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
}

/// Whether the suffixes at `a` and `b` share their first `n` tokens, none a separator.
fn share<T: Token>(v: &View<'_, T>, a: usize, b: usize, n: usize) -> bool {
    (0..n).all(|j| {
        let t = v.at(a + j);
        t != SEP && t == v.at(b + j)
    })
}

/// The positions of the index's token stream covered by a repeat: a span of
/// `n` tokens that also starts at an earlier position.
pub fn repeated_positions(index: &CorpusIndex, n: usize) -> Bits {
    // The filter's own index is built without a memory budget: one shard.
    debug_assert_eq!(index.shard_count(), 1);
    let shard = index.shard(0);
    with_view!(shard, v => covered(&v, n))
}

fn covered<T: Token>(v: &View<'_, T>, n: usize) -> Bits {
    let rows = v.rows;
    let mut starts = Bits::new(rows);
    let mut group = 0;
    for row in 1..=rows {
        if row < rows && share(v, v.suffix(row - 1), v.suffix(row), n) {
            continue;
        }
        if row - group >= 2 {
            let positions: Vec<usize> = (group..row).map(|r| v.suffix(r)).collect();
            let first = positions.iter().copied().min().unwrap_or(0);
            for p in positions.into_iter().filter(|&p| p != first) {
                starts.set(p);
            }
        }
        group = row;
    }
    let mut out = Bits::new(rows);
    let mut reach = 0;
    for p in 0..rows {
        if starts.get(p) {
            reach = reach.max(p + n);
        }
        if p < reach {
            out.set(p);
        }
    }
    out
}

/// Options of a span deduplication.
#[derive(Debug, Clone)]
pub struct SpanOptions {
    /// The shortest repeat removed, in tokens (Lee et al.: 50).
    pub min_tokens: usize,
    /// Mark (JSONL: `"duplicate_spans"`, [start, end) character offsets in the
    /// text) instead of removing.
    pub mark: bool,
}

/// What a span deduplication did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanSummary {
    /// Documents read.
    pub documents: u64,
    /// Words read (KenLM's whitespace split).
    pub words: u64,
    /// Words inside repeated spans.
    pub duplicate_words: u64,
    /// Repeated spans (maximal runs of covered words within a line).
    pub spans: u64,
    /// Documents dropped because nothing but repeats was left (remove only).
    pub emptied_documents: u64,
    /// What reading saw.
    pub read: ReadCounts,
}

/// One sentence rewritten: the kept text, the removed byte ranges.
fn rewrite(
    line: &str,
    covered: &Bits,
    cursor: &mut usize,
    s: &mut SpanSummary,
) -> (String, Vec<(usize, usize)>) {
    let mut tokens = Vec::new();
    crate::tokenize::whitespace::for_each_token(line, |t| {
        let start = t.as_ptr() as usize - line.as_ptr() as usize;
        tokens.push((start, start + t.len()));
    });
    if tokens.is_empty() {
        return (line.to_string(), Vec::new());
    }
    let flags: Vec<bool> = (0..tokens.len())
        .map(|i| covered.get(*cursor + i))
        .collect();
    *cursor += tokens.len();
    s.words += tokens.len() as u64;
    let mut removed = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !flags[i] {
            i += 1;
            continue;
        }
        let run = i;
        while i < tokens.len() && flags[i] {
            i += 1;
        }
        s.duplicate_words += (i - run) as u64;
        s.spans += 1;
        // Up to the next kept word; at the end of the line, from the last kept one.
        let range = if i < tokens.len() {
            (tokens[run].0, tokens[i].0)
        } else if run > 0 {
            (tokens[run - 1].1, line.len())
        } else {
            (0, line.len())
        };
        removed.push(range);
    }
    let mut kept = String::with_capacity(line.len());
    let mut at = 0;
    for &(a, b) in &removed {
        kept.push_str(&line[at..a]);
        at = b;
    }
    kept.push_str(&line[at..]);
    (kept, removed)
}

/// Remove or mark repeated spans of `corpus` into `output` (see the module docs).
pub fn dedup_spans(
    corpus: &Corpus,
    options: &SpanOptions,
    output: &Path,
    control: &Control,
    threads: usize,
) -> Result<SpanSummary> {
    if options.min_tokens == 0 {
        return Err(Error::InvalidArgument(
            "a repeated span is at least 1 token long".into(),
        ));
    }
    let inputs = corpus.inputs()?;
    if options.mark {
        super::documents::require_jsonl(&inputs, "marking spans")?;
    }
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let index_path = output.with_file_name(format!(".{name}.spans{}.idx", std::process::id()));
    let flat_path = output.with_file_name(format!(".{name}.spans{}.txt", std::process::id()));
    let flat = flatten(&inputs, corpus, &flat_path, control, threads);
    let flat_corpus = Corpus {
        sources: vec![crate::corpus::Source::Path(flat_path.clone())],
        options: crate::corpus::CorpusOptions {
            format: crate::corpus::FileFormat::Text,
            ..Default::default()
        },
    };
    let build = BuildOptions {
        documents: Documents::Lines,
        pad: false,
        threads,
        ..BuildOptions::default()
    };
    control
        .passes
        .store(3, std::sync::atomic::Ordering::Relaxed);
    let index = flat.and_then(|()| {
        crate::index::build(
            &flat_corpus,
            Tokenizer::Whitespace,
            &build,
            &index_path,
            control,
        )
    });
    let _ = std::fs::remove_file(&flat_path);
    let _ = std::fs::remove_file(&index_path); // the mapping stays valid on Unix
    let index = index?;
    let covered = repeated_positions(&index, options.min_tokens);
    let stream_len = index.stream_len();
    drop(index);

    let mut summary = SpanSummary::default();
    let mut failure = None;
    let written = crate::binfmt::write_atomic(output, |w| {
        match rewrite_corpus(&inputs, corpus, options, &covered, w, control, threads) {
            Ok((s, cursor)) if cursor == stream_len => {
                summary = s;
                w.flush()
            }
            Ok((_, cursor)) => {
                failure = Some(Error::InvalidArgument(format!(
                    "the corpus changed while it was deduplicated ({cursor} tokens read again, {stream_len} indexed)"
                )));
                Err(std::io::Error::other("deduplication failed"))
            }
            Err(e) => {
                failure = Some(e);
                Err(std::io::Error::other("deduplication failed"))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    written?;
    Ok(summary)
}

/// Stage 0: every document as one line (its lines joined by spaces, which
/// the whitespace split treats as the line ends it replaces), so that the
/// index's documents are the filter's and a span may cross a record's lines.
fn flatten(
    inputs: &[Input],
    corpus: &Corpus,
    path: &Path,
    control: &Control,
    threads: usize,
) -> Result<()> {
    let mut failure = None;
    let written = crate::binfmt::write_atomic(path, |w| {
        let run = map_ordered(
            inputs,
            control,
            threads,
            |chunk| -> Result<Vec<u8>> {
                let mut out = Vec::with_capacity(chunk.data.len());
                let mut read = ReadCounts::default();
                for_each_doc(chunk, &corpus.options, &mut read, |d| {
                    for (i, line) in sentences(&d.text, &corpus.options).enumerate() {
                        if i > 0 {
                            out.push(b' ');
                        }
                        out.extend_from_slice(line.as_bytes());
                    }
                    out.push(b'\n');
                    Ok(())
                })?;
                Ok(out)
            },
            |_, bytes| {
                w.write_all(&bytes).map_err(|e| Error::io(path, e))?;
                Ok(true)
            },
        );
        match run {
            Ok(()) => Ok(()),
            Err(e) => {
                failure = Some(e);
                Err(std::io::Error::other("flattening failed"))
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None => written,
    }
}

type Parsed = Vec<(String, Option<serde_json::Map<String, serde_json::Value>>)>;

fn rewrite_corpus(
    inputs: &[Input],
    corpus: &Corpus,
    options: &SpanOptions,
    covered: &Bits,
    out: &mut dyn Write,
    control: &Control,
    threads: usize,
) -> Result<(SpanSummary, usize)> {
    let mut s = SpanSummary::default();
    let mut cursor = 0usize;
    let field = corpus.options.text_field.clone();
    let io = |e| Error::io("<output>", e);
    map_ordered(
        inputs,
        control,
        threads,
        |chunk| -> Result<(Parsed, ReadCounts)> {
            let mut read = ReadCounts::default();
            let mut docs = Vec::new();
            for_each_doc(chunk, &corpus.options, &mut read, |d| {
                docs.push((d.text.into_owned(), d.record));
                Ok(())
            })?;
            Ok((docs, read))
        },
        |_, (docs, read)| {
            s.read.merge(&read);
            for (text, record) in docs {
                s.documents += 1;
                let before = s.duplicate_words;
                let words_before = s.words;
                let mut kept_lines = Vec::new();
                let mut marks = Vec::new();
                let mut char_base = 0usize;
                // Every sentence of the text, as the index read it; blank
                // lines dropped by skip_blank are written back unchanged.
                let mut it = sentences(&text, &corpus.options).peekable();
                for (_, raw) in crate::corpus::lines::split_lines(text.as_bytes()) {
                    let line = std::str::from_utf8(raw).unwrap_or_default();
                    let is_sentence = it.peek().is_some_and(|l| l.as_ptr() == line.as_ptr());
                    if is_sentence {
                        it.next();
                        let (kept, removed) = rewrite(line, covered, &mut cursor, &mut s);
                        for (a, b) in removed {
                            let ca = char_base + line[..a].chars().count();
                            marks.push(vec![ca, ca + line[a..b].chars().count()]);
                        }
                        kept_lines.push(kept);
                    } else {
                        kept_lines.push(line.to_string());
                    }
                    char_base += line.chars().count() + 1;
                }
                drop(it);
                let words = s.words - words_before;
                if words > 0 {
                    cursor += 1; // the separator after the document
                }
                let emptied = words > 0 && s.duplicate_words - before == words;
                control.add_tokens(words);
                match record {
                    Some(mut r) if options.mark => {
                        r.insert("duplicate_spans".into(), marks.into());
                        let line = serde_json::to_vec(&r)
                            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                        out.write_all(&line).map_err(io)?;
                        out.write_all(b"\n").map_err(io)?;
                    }
                    _ if emptied => s.emptied_documents += 1,
                    Some(mut r) => {
                        let joined = if s.duplicate_words == before {
                            text
                        } else {
                            kept_lines.join("\n")
                        };
                        r.insert(field.clone(), joined.into());
                        let line = serde_json::to_vec(&r)
                            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                        out.write_all(&line).map_err(io)?;
                        out.write_all(b"\n").map_err(io)?;
                    }
                    None => {
                        out.write_all(kept_lines.join("\n").as_bytes())
                            .map_err(io)?;
                        out.write_all(b"\n").map_err(io)?;
                    }
                }
            }
            Ok(true)
        },
    )?;
    Ok((s, cursor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_copies_of_long_spans_go() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("a.txt");
        std::fs::write(
            &input,
            "x a b c d y\nq r\nz a b c d\n  a b c   w\na b c d e\n",
        )
        .unwrap();
        let corpus = Corpus::from_paths([&input]);
        let out = dir.path().join("out.txt");
        let options = SpanOptions {
            min_tokens: 3,
            mark: false,
        };
        for threads in [1, 2] {
            let s = dedup_spans(&corpus, &options, &out, &Control::new(), threads).unwrap();
            let got = std::fs::read_to_string(&out).unwrap();
            // "a b c d" first occurs in line 1; "a b c" later are repeats; "e" stays.
            assert_eq!(got, "x a b c d y\nq r\nz\n  w\ne\n");
            assert_eq!(
                (s.documents, s.words, s.duplicate_words, s.spans),
                (5, 22, 11, 3)
            );
        }
        assert!(!dir.path().read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".idx")));
    }
}

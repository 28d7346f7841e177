//! Exact deduplication: a document (or a line) whose normal form
//! ([`super::normalize`]) was seen before is removed or marked.
//!
//! Input: a corpus; the unit compared (whole documents, or each line of a
//! document's text, as CCNet deduplicates paragraphs); remove or mark.
//! Output: the documents in input order, the first occurrence of each text
//! kept, written atomically; a [`DedupSummary`] (documents, lines and words
//! removed, words counted by KenLM's whitespace split).
//!
//! Normalising, hashing and deciding (a set of 128-bit hashes, sharded and
//! filled in corpus order: [`super::seen`]) run on the worker threads, so
//! the first occurrence is the one kept whatever the thread count; writing
//! runs on one thread in corpus order, copying runs of kept lines whole.
//! Memory is the set: 16 bytes and its table overhead per distinct text,
//! nothing per duplicate.

use std::io::Write;
use std::path::Path;

use super::documents::{for_each_doc_as, Parse, ReadCounts};
use super::normalize::text_hash_words;
use super::ordered::map_numbered;
use super::seen::OrderedSeen;
use crate::control::Control;
use crate::corpus::lines::split_lines;
use crate::corpus::source::InputFormat;
use crate::corpus::{Chunk, Corpus};
use crate::{Error, Result};

/// What two texts must share to be duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DedupUnit {
    /// Whole documents (a line of text input, a JSONL record's text).
    Documents,
    /// Each line of a document's text (for text input, the same as documents).
    Lines,
}

impl std::str::FromStr for DedupUnit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "documents" | "document" | "docs" => Ok(Self::Documents),
            "lines" | "line" => Ok(Self::Lines),
            other => Err(Error::InvalidArgument(format!(
                "exact deduplication compares 'documents' or 'lines', not {other:?}"
            ))),
        }
    }
}

/// Options of an exact deduplication.
#[derive(Debug, Clone)]
pub struct DedupOptions {
    /// What is compared.
    pub unit: DedupUnit,
    /// Mark duplicates (JSONL: `"duplicate": true`, or `"duplicate_lines"`
    /// with the 0-based indexes of the repeated lines) instead of removing them.
    pub mark: bool,
    /// Also return the word count of every document (for statistics).
    pub lengths: bool,
}

/// What a deduplication did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DedupSummary {
    /// Documents read.
    pub documents: u64,
    /// Lines of document text read.
    pub lines: u64,
    /// Words read (KenLM's whitespace split).
    pub words: u64,
    /// Documents found repeated (documents unit) or left empty by removing
    /// their repeated lines (lines unit).
    pub duplicate_documents: u64,
    /// Lines found repeated (lines unit).
    pub duplicate_lines: u64,
    /// Words in the repeated documents or lines.
    pub duplicate_words: u64,
    /// Distinct texts seen (the size of the hash set).
    pub distinct: u64,
    /// What reading saw (bad records by the `errors=` policy).
    pub read: ReadCounts,
    /// Words per document, in input order, when asked for.
    pub lengths: Vec<u32>,
}

/// Words of `text` by KenLM's split.
pub fn count_words(text: &str) -> u64 {
    let mut n = 0;
    crate::tokenize::whitespace::for_each_token(text, |_| n += 1);
    n
}

/// One document as the workers saw it.
struct Entry {
    /// The raw line: its range in the chunk.
    start: usize,
    end: usize,
    /// The text when it differs from the raw line (a record's field, a
    /// replaced line), and the record, for rewriting.
    text: Option<String>,
    record: Option<serde_json::Map<String, serde_json::Value>>,
    /// Its compared units: a range of [`Hashed::hashes`] and [`Hashed::words`].
    units: std::ops::Range<usize>,
}

/// A chunk as the workers leave it: no allocation per line for text input,
/// the units of all its documents side by side.
struct Hashed {
    entries: Vec<Entry>,
    /// Per unit: its hash (None: blank, never a duplicate) ...
    hashes: Vec<Option<u128>>,
    /// ... its words ...
    words: Vec<u64>,
    /// ... and whether it was seen before (from [`OrderedSeen::check`]).
    repeated: Vec<bool>,
    read: ReadCounts,
}

fn hash_chunk(chunk: &Chunk, corpus: &Corpus, options: &DedupOptions) -> Result<Hashed> {
    let mut buf = Vec::new();
    let mut hashed = Hashed {
        entries: Vec::new(),
        hashes: Vec::new(),
        words: Vec::new(),
        repeated: Vec::new(),
        read: ReadCounts::default(),
    };
    let lines = options.unit == DedupUnit::Lines && chunk.format == InputFormat::Jsonl;
    let Hashed {
        entries,
        hashes,
        words,
        read,
        ..
    } = &mut hashed;
    let mut unit = |text: &str, hashes: &mut Vec<Option<u128>>| {
        let (hash, n) = text_hash_words(text, &mut buf);
        hashes.push(hash);
        words.push(n);
    };
    // A whole record is parsed only when it may be rewritten.
    let parse = if lines || options.mark {
        Parse::Record
    } else {
        Parse::Text { watch: &[] }
    };
    for_each_doc_as(chunk, &corpus.options, read, parse, |doc| {
        let first = hashes.len();
        if lines {
            for (_, l) in split_lines(doc.text.as_bytes()) {
                // split_lines cuts at ASCII bytes only, so each piece is UTF-8.
                unit(std::str::from_utf8(l).unwrap_or_default(), hashes);
            }
        } else {
            unit(&doc.text, hashes);
        }
        let owned = matches!(doc.text, std::borrow::Cow::Owned(_));
        entries.push(Entry {
            start: doc.offset,
            end: doc.offset + doc.raw.len(),
            // A replaced line is written as replaced; a record as it was
            // (its text is needed to rewrite it without repeated lines).
            text: (owned && (lines || !doc.is_record)).then(|| doc.text.into_owned()),
            record: if lines || options.mark {
                doc.record
            } else {
                None
            },
            units: first..hashes.len(),
        });
        Ok(())
    })?;
    Ok(hashed)
}

fn write_record(
    record: &serde_json::Map<String, serde_json::Value>,
    out: &mut dyn Write,
) -> Result<()> {
    let mut line = serde_json::to_vec(record).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    line.push(b'\n');
    out.write_all(&line).map_err(|e| Error::io("<output>", e))
}

/// Kept lines copied as they are, gathered into runs of adjacent bytes of
/// the chunk so that a mostly kept chunk is written in a few large writes.
struct Runs<'a> {
    data: &'a [u8],
    start: usize,
    end: usize,
}

impl Runs<'_> {
    /// Keep the line `data[start..end]` and its line end.
    fn keep(&mut self, start: usize, end: usize, out: &mut dyn Write) -> Result<()> {
        // Only a line that ends in a bare `\n` is copied with it; a CRLF or
        // an unterminated last line is written with a `\n` of its own.
        if self.data.get(end) != Some(&b'\n') {
            self.flush(out)?;
            return write_line(&self.data[start..end], out);
        }
        if start != self.end {
            self.flush(out)?;
            self.start = start;
        }
        self.end = end + 1;
        Ok(())
    }

    fn flush(&mut self, out: &mut dyn Write) -> Result<()> {
        let run = &self.data[self.start..self.end];
        self.start = self.end;
        out.write_all(run).map_err(|e| Error::io("<output>", e))
    }
}

fn write_line(line: &[u8], out: &mut dyn Write) -> Result<()> {
    out.write_all(line)
        .and_then(|_| out.write_all(b"\n"))
        .map_err(|e| Error::io("<output>", e))
}

/// Count the units of one hashed chunk into `s` and write what is kept (or
/// marked), in order; returns the chunk's words (for progress).
fn reduce_chunk(
    chunk: &Chunk,
    hashed: Hashed,
    corpus: &Corpus,
    options: &DedupOptions,
    s: &mut DedupSummary,
    out: &mut dyn Write,
) -> Result<u64> {
    let Hashed {
        entries,
        words,
        repeated,
        read,
        ..
    } = hashed;
    s.read.merge(&read);
    let mut runs = Runs {
        data: &chunk.data,
        start: 0,
        end: 0,
    };
    let mut chunk_words = 0;
    for mut entry in entries {
        s.documents += 1;
        s.lines += entry.units.len() as u64;
        let unit_words = &words[entry.units.clone()];
        let repeated = &repeated[entry.units.clone()];
        let doc_words: u64 = unit_words.iter().sum();
        s.words += doc_words;
        chunk_words += doc_words;
        if options.lengths {
            s.lengths.push(doc_words.min(u32::MAX as u64) as u32);
        }
        s.duplicate_words += unit_words
            .iter()
            .zip(repeated)
            .filter(|(_, &r)| r)
            .map(|(w, _)| w)
            .sum::<u64>();
        if options.unit == DedupUnit::Documents || entry.record.is_none() {
            let dup = repeated.first().copied().unwrap_or(false);
            s.duplicate_documents += dup as u64;
            if options.mark {
                if let Some(r) = entry.record.as_mut() {
                    r.insert("duplicate".into(), dup.into());
                    runs.flush(out)?;
                    write_record(r, out)?;
                }
            } else if !dup {
                match &entry.text {
                    None => runs.keep(entry.start, entry.end, out)?,
                    Some(t) => {
                        runs.flush(out)?;
                        write_line(t.as_bytes(), out)?;
                    }
                }
            }
            continue;
        }
        // Lines of a JSONL record.
        let dup_lines = repeated.iter().filter(|&&r| r).count() as u64;
        s.duplicate_lines += dup_lines;
        let all = dup_lines > 0 && dup_lines == entry.units.len() as u64;
        if !options.mark && all {
            s.duplicate_documents += 1;
        }
        let Some(mut record) = entry.record.take() else {
            continue;
        };
        if options.mark {
            let marked: Vec<u64> = (0..repeated.len() as u64)
                .filter(|&i| repeated[i as usize])
                .collect();
            record.insert("duplicate_lines".into(), marked.into());
            runs.flush(out)?;
            write_record(&record, out)?;
        } else if dup_lines == 0 {
            runs.keep(entry.start, entry.end, out)?;
        } else if !all {
            let text = entry.text.take().unwrap_or_default();
            let kept: Vec<&[u8]> = split_lines(text.as_bytes())
                .zip(repeated)
                .filter(|(_, &r)| !r)
                .map(|((_, l), _)| l)
                .collect();
            let joined = String::from_utf8_lossy(&kept.join(&b'\n')).into_owned();
            record.insert(corpus.options.text_field.clone(), joined.into());
            runs.flush(out)?;
            write_record(&record, out)?;
        }
    }
    runs.flush(out)?;
    Ok(chunk_words)
}

/// Remove or mark exact duplicates of `corpus`, writing to `output` (None:
/// only count, for statistics). See the module docs.
pub fn dedup_exact(
    corpus: &Corpus,
    options: &DedupOptions,
    output: Option<&Path>,
    control: &Control,
    threads: usize,
) -> Result<DedupSummary> {
    let inputs = corpus.inputs()?;
    if options.mark {
        super::documents::require_jsonl(&inputs, "marking duplicates")?;
    }
    let run = |out: &mut dyn Write| -> Result<DedupSummary> {
        let seen = OrderedSeen::new(control);
        let mut s = DedupSummary::default();
        // Hashing and deciding run on the workers (see `seen`); this thread
        // only counts and writes, in corpus order.
        let outcome = map_numbered(
            &inputs,
            control,
            threads,
            |seq, chunk| {
                let mut hashed =
                    hash_chunk(chunk, corpus, options).inspect_err(|_| seen.fail(seq))?;
                hashed.repeated = seen.check(seq, &hashed.hashes)?;
                Ok(hashed)
            },
            |chunk, hashed| {
                let words = reduce_chunk(chunk, hashed, corpus, options, &mut s, out)
                    .inspect_err(|_| seen.abandon())?;
                control.add_tokens(words);
                Ok(true)
            },
        );
        seen.abandon();
        outcome?;
        s.distinct = seen.len() as u64;
        if s.documents == 0 {
            return Err(Error::EmptyCorpus(
                "the input holds no document to deduplicate".into(),
            ));
        }
        Ok(s)
    };
    match output {
        None => run(&mut std::io::sink()),
        Some(path) => {
            let mut result = None;
            let written = crate::binfmt::write_atomic(path, |w| match run(w) {
                Ok(s) => {
                    result = Some(Ok(s));
                    w.flush()
                }
                Err(e) => {
                    result = Some(Err(e));
                    Err(std::io::Error::other("deduplication failed"))
                }
            });
            match result {
                Some(Err(e)) => Err(e),
                Some(Ok(s)) => written.map(|_| s),
                None => written.map(|_| DedupSummary::default()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus_file(dir: &Path, name: &str, text: &str) -> Corpus {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        Corpus::from_paths([path])
    }

    #[test]
    fn first_occurrence_kept_in_every_thread_count() {
        let dir = tempfile::tempdir().unwrap();
        // Digits all normalise to 0: name the lines with letters.
        let name = |i: usize| -> String {
            i.to_string()
                .bytes()
                .map(|d| (d - b'0' + b'a') as char)
                .collect()
        };
        let text: String = (0..3000)
            .map(|i| format!("Line {}, here.\n", name(i % 700)))
            .collect();
        let corpus = corpus_file(dir.path(), "a.txt", &text);
        let out = dir.path().join("out.txt");
        let options = DedupOptions {
            unit: DedupUnit::Documents,
            mark: false,
            lengths: false,
        };
        let _settings = crate::corpus::read::settings_lock();
        crate::corpus::read::set_chunk_bytes(500);
        for threads in [1, 2, 4] {
            let s = dedup_exact(&corpus, &options, Some(&out), &Control::new(), threads).unwrap();
            assert_eq!(
                (s.documents, s.duplicate_documents, s.distinct),
                (3000, 2300, 700)
            );
            assert_eq!(s.duplicate_words, 2300 * 3);
            let got = std::fs::read_to_string(&out).unwrap();
            let want: String = (0..700)
                .map(|i| format!("Line {}, here.\n", name(i)))
                .collect();
            assert_eq!(got, want);
        }
        crate::corpus::read::set_chunk_bytes(0);
    }

    #[test]
    fn lines_of_records_removed_or_marked() {
        let dir = tempfile::tempdir().unwrap();
        let text = "{\"id\": 1, \"text\": \"a b\\nc d\"}\n{\"id\": 2, \"text\": \"C d!\\ne\"}\n{\"id\": 3, \"text\": \"A  B\"}\n";
        let corpus = corpus_file(dir.path(), "a.jsonl", text);
        let out = dir.path().join("out.jsonl");
        let mut options = DedupOptions {
            unit: DedupUnit::Lines,
            mark: false,
            lengths: true,
        };
        let s = dedup_exact(&corpus, &options, Some(&out), &Control::new(), 1).unwrap();
        assert_eq!(
            (s.duplicate_lines, s.duplicate_documents, s.duplicate_words),
            (2, 1, 4)
        );
        assert_eq!(s.lengths, [4, 3, 2]);
        let got = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            got,
            // A record without repeats is copied byte for byte.
            "{\"id\": 1, \"text\": \"a b\\nc d\"}\n{\"id\":2,\"text\":\"e\"}\n"
        );
        options.mark = true;
        dedup_exact(&corpus, &options, Some(&out), &Control::new(), 1).unwrap();
        let got = std::fs::read_to_string(&out).unwrap();
        assert!(
            got.contains("\"id\":2,\"text\":\"C d!\\ne\",\"duplicate_lines\":[0]"),
            "{got}"
        );
        let texts = Corpus::from_texts(vec!["x".into()]);
        assert!(dedup_exact(&texts, &options, None, &Control::new(), 1).is_err());
    }
}

//! Exact deduplication: a document (or a line) whose normal form
//! ([`super::normalize`]) was seen before is removed or marked.
//!
//! Input: a corpus; the unit compared (whole documents, or each line of a
//! document's text, as CCNet deduplicates paragraphs); remove or mark.
//! Output: the documents in input order, the first occurrence of each text
//! kept, written atomically; a [`DedupSummary`] (documents, lines and words
//! removed, words counted by KenLM's whitespace split).
//!
//! Hashing runs on the worker threads; deciding (a set of 128-bit hashes)
//! and writing run on one thread in corpus order, so the first occurrence is
//! the one kept whatever the thread count. Memory is the set: 16 bytes and
//! its table overhead per distinct text, nothing per duplicate.

use std::io::Write;
use std::path::Path;

use hashbrown::HashSet;

use super::documents::{for_each_doc, ReadCounts};
use super::normalize::text_hash;
use super::ordered::map_ordered;
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
    /// Per compared unit: hash (None: blank, never a duplicate) and words.
    units: Vec<(Option<u128>, u64)>,
}

struct Hashed {
    entries: Vec<Entry>,
    read: ReadCounts,
}

fn hash_chunk(chunk: &Chunk, corpus: &Corpus, options: &DedupOptions) -> Result<Hashed> {
    let mut buf = Vec::new();
    let mut entries = Vec::new();
    let mut read = ReadCounts::default();
    let lines = options.unit == DedupUnit::Lines && chunk.format == InputFormat::Jsonl;
    for_each_doc(chunk, &corpus.options, &mut read, |doc| {
        let units = if lines {
            split_lines(doc.text.as_bytes())
                .map(|(_, l)| {
                    let l = std::str::from_utf8(l).unwrap_or_default();
                    (text_hash(l, &mut buf), count_words(l))
                })
                .collect()
        } else {
            vec![(text_hash(&doc.text, &mut buf), count_words(&doc.text))]
        };
        let owned = matches!(doc.text, std::borrow::Cow::Owned(_));
        entries.push(Entry {
            start: doc.offset,
            end: doc.offset + doc.raw.len(),
            text: (owned && (lines || doc.record.is_none())).then(|| doc.text.into_owned()),
            record: if lines || options.mark {
                doc.record
            } else {
                None
            },
            units,
        });
        Ok(())
    })?;
    Ok(Hashed { entries, read })
}

fn write_record(
    record: &serde_json::Map<String, serde_json::Value>,
    out: &mut dyn Write,
) -> Result<()> {
    let mut line = serde_json::to_vec(record).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    line.push(b'\n');
    out.write_all(&line).map_err(|e| Error::io("<output>", e))
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
        let mut seen: HashSet<u128> = HashSet::new();
        let mut s = DedupSummary::default();
        map_ordered(
            &inputs,
            control,
            threads,
            |chunk| hash_chunk(chunk, corpus, options),
            |chunk, hashed| {
                s.read.merge(&hashed.read);
                for mut entry in hashed.entries {
                    s.documents += 1;
                    s.lines += entry.units.len() as u64;
                    let words: u64 = entry.units.iter().map(|u| u.1).sum();
                    s.words += words;
                    if options.lengths {
                        s.lengths.push(words.min(u32::MAX as u64) as u32);
                    }
                    control.add_tokens(words);
                    // Which units were seen before (a blank one never was).
                    let repeated: Vec<bool> = entry
                        .units
                        .iter()
                        .map(|(h, _)| h.is_some_and(|h| !seen.insert(h)))
                        .collect();
                    let dup_words: u64 = entry
                        .units
                        .iter()
                        .zip(&repeated)
                        .filter(|(_, &r)| r)
                        .map(|(u, _)| u.1)
                        .sum();
                    s.duplicate_words += dup_words;
                    let raw = &chunk.data[entry.start..entry.end];
                    if options.unit == DedupUnit::Documents || entry.record.is_none() {
                        let dup = repeated.first().copied().unwrap_or(false);
                        s.duplicate_documents += dup as u64;
                        if options.mark {
                            if let Some(r) = entry.record.as_mut() {
                                r.insert("duplicate".into(), dup.into());
                                write_record(r, out)?;
                            }
                        } else if !dup {
                            let bytes = entry.text.as_ref().map_or(raw, |t| t.as_bytes());
                            out.write_all(bytes)
                                .and_then(|_| out.write_all(b"\n"))
                                .map_err(|e| Error::io("<output>", e))?;
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
                        write_record(&record, out)?;
                    } else if dup_lines == 0 {
                        out.write_all(raw)
                            .and_then(|_| out.write_all(b"\n"))
                            .map_err(|e| Error::io("<output>", e))?;
                    } else if !all {
                        let text = entry.text.take().unwrap_or_default();
                        let kept: Vec<&[u8]> = split_lines(text.as_bytes())
                            .zip(&repeated)
                            .filter(|(_, &r)| !r)
                            .map(|((_, l), _)| l)
                            .collect();
                        let joined = String::from_utf8_lossy(&kept.join(&b'\n')).into_owned();
                        record.insert(corpus.options.text_field.clone(), joined.into());
                        write_record(&record, out)?;
                    }
                }
                Ok(true)
            },
        )?;
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

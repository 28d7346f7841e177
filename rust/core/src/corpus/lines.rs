//! Chunks of whole lines and the sentences in them.

use std::borrow::Cow;
use std::sync::Arc;

use super::source::InputFormat;
use super::{CorpusOptions, Utf8Policy};
use crate::tokenize::is_blank;
use crate::{Error, Location, Result};

/// Whole lines cut from one input, with what is needed to name a line in an error.
#[derive(Debug)]
pub struct Chunk {
    /// Display name of the input.
    pub source: Arc<str>,
    /// Text or JSONL.
    pub format: InputFormat,
    /// (input index, chunk index within the input): the chunk's place in corpus order.
    pub seq: (usize, u32),
    /// The chunk's place among all chunks of the corpus, 0, 1, 2, ... with
    /// no gap (set by [`super::parallel::process`]; 0 elsewhere).
    pub ordinal: u64,
    /// 1-based line number of the first line.
    pub first_line: u64,
    /// Byte offset of the first line in the decompressed input.
    pub byte_offset: u64,
    /// The bytes, line terminators included.
    pub data: Vec<u8>,
}

/// What reading saw, summed over chunks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CorpusStats {
    /// Lines read (JSONL: records read).
    pub lines: u64,
    /// Sentences handed on (non-blank lines, or all lines when blanks are kept).
    pub sentences: u64,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Lines with invalid UTF-8 that were replaced or skipped.
    pub bad_lines: u64,
    /// Bytes of (decompressed) text read.
    pub bytes: u64,
}

impl CorpusStats {
    /// Add another worker's stats into this one.
    pub fn merge(&mut self, other: &CorpusStats) {
        self.lines += other.lines;
        self.sentences += other.sentences;
        self.blank_lines += other.blank_lines;
        self.bad_lines += other.bad_lines;
        self.bytes += other.bytes;
    }
}

/// Split `data` into lines at `\n`, yielding (offset, line) with the line end
/// removed. A `\r` right before a `\n` (or right at the end of `data`) is part
/// of the line end, so CRLF text reads as lines; any other `\r` stays inside
/// its line, where every tokenizer treats it as whitespace (KenLM's `lmplz`
/// ends lines at `\n` only). A final line without terminator is yielded too.
pub fn split_lines(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= data.len() {
            return None;
        }
        let start = pos;
        let end = match memchr::memchr(b'\n', &data[pos..]) {
            Some(i) => start + i,
            None => data.len(),
        };
        pos = end + 1;
        let line = &data[start..end];
        Some((start, line.strip_suffix(b"\r").unwrap_or(line)))
    })
}

impl Chunk {
    /// A chunk.
    pub fn new(
        source: &Arc<str>,
        format: InputFormat,
        seq: (usize, u32),
        first_line: u64,
        byte_offset: u64,
        data: Vec<u8>,
    ) -> Self {
        Self {
            source: source.clone(),
            format,
            seq,
            ordinal: 0,
            first_line,
            byte_offset,
            data,
        }
    }

    fn location(&self, line_index: u64, byte_in_chunk: usize) -> Location {
        Location {
            source: self.source.to_string(),
            line: self.first_line + line_index,
            byte: self.byte_offset + byte_in_chunk as u64,
        }
    }

    /// Call `f` on every sentence of the chunk, in order, applying the UTF-8
    /// policy, blank-line skipping and (for JSONL) text-field extraction.
    pub fn for_each_sentence(
        &self,
        options: &CorpusOptions,
        stats: &mut CorpusStats,
        mut f: impl FnMut(&str),
    ) -> Result<()> {
        self.for_each_sentence_ended(options, stats, |text, _| f(text))
    }

    /// [`Chunk::for_each_sentence`], telling `f` also whether the sentence's
    /// line ends with a `\n`. Only a text file's last line can lack one, and
    /// KenLM gives such a line no `</s>`: `lmplz` counts its words but not
    /// the end of sentence, and `query` scores them without it ("If people
    /// don't have a newline after their last query, this won't add a </s>",
    /// `lm/ngram_query.hh`). Texts passed as strings and JSONL records always
    /// end their lines.
    pub fn for_each_sentence_ended(
        &self,
        options: &CorpusOptions,
        stats: &mut CorpusStats,
        mut f: impl FnMut(&str, bool),
    ) -> Result<()> {
        stats.bytes += self.data.len() as u64;
        // Where the unterminated last line starts, if there is one.
        let open_line = match self.format {
            InputFormat::Text if !self.data.is_empty() && !self.data.ends_with(b"\n") => {
                memchr::memrchr(b'\n', &self.data).map_or(0, |i| i + 1)
            }
            _ => usize::MAX,
        };
        // One check of the whole chunk (the common case: all of it valid)
        // costs less than one per line; a chunk that fails is checked line
        // by line, which finds where.
        let valid = std::str::from_utf8(&self.data).is_ok();
        for (index, (offset, raw)) in split_lines(&self.data).enumerate() {
            stats.lines += 1;
            let ended = offset != open_line;
            let checked = if valid {
                // SAFETY: a line is cut from valid UTF-8 at ASCII bytes (`\n`,
                // `\r`), so it is valid UTF-8 too.
                Ok(unsafe { std::str::from_utf8_unchecked(raw) })
            } else {
                std::str::from_utf8(raw)
            };
            let text: Cow<str> = match checked {
                Ok(s) => Cow::Borrowed(s),
                Err(e) => match options.errors {
                    Utf8Policy::Strict => {
                        return Err(Error::Corpus {
                            location: self.location(index as u64, offset + e.valid_up_to()),
                            message: format!(
                                "invalid UTF-8 (byte 0x{:02x}); pass errors=\"replace\" or \"skip\" to go on",
                                raw[e.valid_up_to()]
                            ),
                        })
                    }
                    Utf8Policy::Replace => {
                        stats.bad_lines += 1;
                        String::from_utf8_lossy(raw)
                    }
                    Utf8Policy::Skip => {
                        stats.bad_lines += 1;
                        continue;
                    }
                },
            };
            match self.format {
                InputFormat::Text => emit_line(&text, options, stats, &mut |t: &str| f(t, ended)),
                InputFormat::Jsonl => {
                    if is_blank(&text) {
                        stats.blank_lines += 1;
                        continue;
                    }
                    match json_field(&text, &options.text_field) {
                        Ok(doc) => {
                            for (_, line) in split_lines(doc.as_bytes()) {
                                // split_lines cuts a str at ASCII bytes only, so each piece is UTF-8.
                                let line = std::str::from_utf8(line).unwrap_or_default();
                                emit_line(line, options, stats, &mut |t: &str| f(t, true));
                            }
                        }
                        Err(message) => {
                            if options.errors == Utf8Policy::Skip {
                                stats.bad_lines += 1;
                                continue;
                            }
                            return Err(Error::Corpus {
                                location: self.location(index as u64, offset),
                                message,
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn emit_line(
    line: &str,
    options: &CorpusOptions,
    stats: &mut CorpusStats,
    f: &mut impl FnMut(&str),
) {
    if options.skip_blank && is_blank(line) {
        stats.blank_lines += 1;
        return;
    }
    stats.sentences += 1;
    f(line);
}

/// The string value of `field` in the JSON object `line`.
fn json_field(line: &str, field: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let serde_json::Value::Object(mut object) = value else {
        return Err("a JSONL line must be a JSON object".to_string());
    };
    match object.remove(field) {
        Some(serde_json::Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "field {field:?} is not a string but {}",
            match &other {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::Array(_) => "an array",
                _ => "an object",
            }
        )),
        None => Err(format!("no field {field:?} in this record")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(data: &[u8], options: &CorpusOptions, format: InputFormat) -> Result<Vec<String>> {
        let chunk = Chunk::new(&Arc::from("t"), format, (0, 0), 1, 0, data.to_vec());
        let mut out = Vec::new();
        let mut stats = CorpusStats::default();
        chunk.for_each_sentence(options, &mut stats, |s| out.push(s.to_string()))?;
        Ok(out)
    }

    fn ended(data: &[u8], format: InputFormat) -> Vec<(String, bool)> {
        let chunk = Chunk::new(&Arc::from("t"), format, (0, 0), 1, 0, data.to_vec());
        let mut out = Vec::new();
        let mut stats = CorpusStats::default();
        chunk
            .for_each_sentence_ended(&CorpusOptions::default(), &mut stats, |s, e| {
                out.push((s.to_string(), e))
            })
            .unwrap();
        out
    }

    /// Only a last line without `\n` is unterminated (KenLM gives it no
    /// `</s>`); a trailing `\r` does not end it, and JSONL records always end.
    #[test]
    fn the_last_line_without_a_newline_is_not_ended() {
        let own = |v: &[(&str, bool)]| -> Vec<(String, bool)> {
            v.iter().map(|(s, e)| (s.to_string(), *e)).collect()
        };
        let text = InputFormat::Text;
        assert_eq!(ended(b"a b\nc", text), own(&[("a b", true), ("c", false)]));
        assert_eq!(ended(b"a b\nc\n", text), own(&[("a b", true), ("c", true)]));
        assert_eq!(ended(b"a\r\nb\r", text), own(&[("a", true), ("b", false)]));
        assert_eq!(
            ended(b"a\n\n  ", text),
            own(&[("a", true), ("", true), ("  ", false)])
        );
        assert_eq!(ended(b"only", text), own(&[("only", false)]));
        assert_eq!(ended(b"", text), own(&[]));
        let jsonl = br#"{"text": "x\ny"}"#;
        assert_eq!(
            ended(jsonl, InputFormat::Jsonl),
            own(&[("x", true), ("y", true)])
        );
    }

    #[test]
    fn line_ends_and_blank_lines() {
        let text = b"a b\r\nc\rd\n\n  \n\r\r\n\r\ne\r";
        // A lone '\r' stays in its line; "\r\r\n" is a line holding one '\r'.
        // Blank lines are sentences by default (as in lmplz), dropped on request.
        let kept = sentences(text, &CorpusOptions::default(), InputFormat::Text);
        assert_eq!(kept.unwrap(), ["a b", "c\rd", "", "  ", "\r", "", "e"]);
        let options = CorpusOptions {
            skip_blank: true,
            ..CorpusOptions::default()
        };
        let skipped = sentences(text, &options, InputFormat::Text);
        assert_eq!(skipped.unwrap(), ["a b", "c\rd", "e"]);
    }

    #[test]
    fn strict_utf8_names_line_and_byte() {
        let err = sentences(
            b"ok\nbad \xa3 here\n",
            &CorpusOptions::default(),
            InputFormat::Text,
        )
        .unwrap_err();
        match err {
            Error::Corpus { location, .. } => {
                assert_eq!(location.line, 2);
                assert_eq!(location.byte, 7);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn jsonl_field_and_errors() {
        let o = CorpusOptions::default();
        let got = sentences(
            b"{\"text\": \"a b\\nc\"}\n{\"text\": \"d\"}\n",
            &o,
            InputFormat::Jsonl,
        );
        assert_eq!(got.unwrap(), ["a b", "c", "d"]);
        let err = sentences(
            b"{\"text\": \"a\"}\n{\"body\": 1}\n",
            &o,
            InputFormat::Jsonl,
        );
        assert!(err.unwrap_err().to_string().contains("line 2"));
    }
}

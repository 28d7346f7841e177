//! What a document is, and reading the documents of a chunk.
//!
//! A filter keeps or drops documents: a line of a text file, a JSONL record
//! (its text field, which may hold several lines), or a whole file. Bad
//! records follow the corpus's `errors=` policy, as every corpus read does:
//! invalid UTF-8 stops the run (`strict`, naming file, line and byte), is
//! replaced (`replace`) or leaves the line out (`skip`); a line that is not a
//! JSON object, or a record without a string text field, stops the run
//! unless the policy is `skip`. Each case is counted in [`ReadCounts`].

use std::borrow::Cow;

use crate::corpus::lines::split_lines;
use crate::corpus::source::InputFormat;
use crate::corpus::{Chunk, CorpusOptions, Utf8Policy};
use crate::tokenize::is_blank;
use crate::{Error, Location, Result};

/// What one document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Each line of a text file (the default for text input).
    Lines,
    /// Each JSONL record, its text field (the default for JSONL input).
    Records,
    /// Each input file.
    Files,
}

impl std::str::FromStr for Unit {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "line" | "lines" => Ok(Self::Lines),
            "record" | "records" => Ok(Self::Records),
            "file" | "files" => Ok(Self::Files),
            other => Err(Error::InvalidArgument(format!(
                "a document is a 'line', a 'record' or a 'file', not {other:?}"
            ))),
        }
    }
}

impl Unit {
    /// The unit of a chunk when the caller asked for none: records for JSONL, else lines.
    pub fn of(asked: Option<Unit>, format: InputFormat) -> Unit {
        asked.unwrap_or(match format {
            InputFormat::Jsonl => Unit::Records,
            InputFormat::Text => Unit::Lines,
        })
    }
}

/// What reading saw, beside the documents themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCounts {
    /// Lines read (JSONL: records and blank lines).
    pub lines: u64,
    /// Lines whose invalid UTF-8 was replaced by U+FFFD (`errors="replace"`).
    pub replaced_utf8: u64,
    /// Lines left out for invalid UTF-8 (`errors="skip"`).
    pub skipped_utf8: u64,
    /// JSONL lines left out for not being a JSON object (`errors="skip"`).
    pub skipped_json: u64,
    /// JSONL records left out for having no string text field (`errors="skip"`).
    pub skipped_field: u64,
    /// Blank JSONL lines (no record; left out).
    pub blank_records: u64,
}

impl ReadCounts {
    /// Add another count into this one.
    pub fn merge(&mut self, o: &ReadCounts) {
        self.lines += o.lines;
        self.replaced_utf8 += o.replaced_utf8;
        self.skipped_utf8 += o.skipped_utf8;
        self.skipped_json += o.skipped_json;
        self.skipped_field += o.skipped_field;
        self.blank_records += o.blank_records;
    }
}

/// One document of a chunk (for [`Unit::Files`]: one line of the file's document).
pub struct Doc<'a> {
    /// The raw line as read (line end removed).
    pub raw: &'a [u8],
    /// The text to score: the line, or the record's text field.
    pub text: Cow<'a, str>,
    /// The parsed record, for JSONL input read with [`Parse::Record`].
    pub record: Option<serde_json::Map<String, serde_json::Value>>,
    /// Whether the line is a JSONL record (parsed or not).
    pub is_record: bool,
    /// Whether invalid UTF-8 in the line was replaced (`raw` is not UTF-8).
    pub replaced: bool,
    /// With [`Parse::Text`]: bit `i` set when the record has the key `watch[i]`.
    pub watched: u32,
    /// Where the line is (for error messages).
    pub line_index: usize,
    /// Its byte offset in the chunk.
    pub offset: usize,
}

/// Where line `index` at `offset` of `chunk` is.
pub fn location(chunk: &Chunk, index: usize, offset: usize) -> Location {
    Location {
        source: chunk.source.to_string(),
        line: chunk.first_line + index as u64,
        byte: chunk.byte_offset + offset as u64,
    }
}

/// How much of a JSONL record a caller needs.
#[derive(Debug, Clone, Copy)]
pub enum Parse<'w> {
    /// The whole record as a map (to rewrite it).
    Record,
    /// Only its text, and which of the keys `watch` (at most 32) it has: no
    /// map is built, the other values are skipped unparsed (for callers
    /// that copy or extend the raw line).
    Text {
        /// Keys whose presence is reported in [`Doc::watched`].
        watch: &'w [&'w str],
    },
}

/// Call `f` on every document (line or record) of `chunk`, in order,
/// applying the `errors=` policy of `options` (see the module docs), each
/// record parsed whole.
pub fn for_each_doc<'a>(
    chunk: &'a Chunk,
    options: &CorpusOptions,
    counts: &mut ReadCounts,
    f: impl FnMut(Doc<'a>) -> Result<()>,
) -> Result<()> {
    for_each_doc_as(chunk, options, counts, Parse::Record, f)
}

/// A JSONL line read with [`Parse::Text`]: the text field's value (None:
/// absent) and the watched keys present.
struct TextOnly {
    text: Option<serde_json::Value>,
    watched: u32,
}

/// A key, borrowed from the line when it holds no escape.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads a JSON object's text field and watched keys, skipping the rest.
struct TextVisitor<'f> {
    field: &'f str,
    watch: &'f [&'f str],
}

impl<'de> serde::de::Visitor<'de> for TextVisitor<'_> {
    type Value = TextOnly;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<TextOnly, A::Error> {
        let mut found = TextOnly {
            text: None,
            watched: 0,
        };
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if let Some(i) = self.watch.iter().position(|w| *w == key) {
                found.watched |= 1 << i;
            }
            if key == self.field {
                // The last of repeated keys wins, as in a parsed map.
                found.text = Some(map.next_value()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// A parsed JSONL line: the record (with [`Parse::Record`]), the text
/// field's value (None: absent) and the watched keys present.
type Parsed = (
    Option<serde_json::Map<String, serde_json::Value>>,
    Option<serde_json::Value>,
    u32,
);

/// Parse a JSONL line as [`Parse`] asks: the record, or only its text.
fn parse_record(text: &str, parse: Parse<'_>, field: &str) -> serde_json::Result<Parsed> {
    match parse {
        Parse::Record => {
            let mut record: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(text)?;
            let value = record.get_mut(field).map(std::mem::take);
            Ok((Some(record), value, 0))
        }
        Parse::Text { watch } => {
            use serde::Deserializer as _;
            let mut de = serde_json::Deserializer::from_str(text);
            let found = de.deserialize_map(TextVisitor { field, watch })?;
            de.end()?;
            Ok((None, found.text, found.watched))
        }
    }
}

/// [`for_each_doc`], each record parsed as `parse` says.
pub fn for_each_doc_as<'a>(
    chunk: &'a Chunk,
    options: &CorpusOptions,
    counts: &mut ReadCounts,
    parse: Parse<'_>,
    mut f: impl FnMut(Doc<'a>) -> Result<()>,
) -> Result<()> {
    for (index, (offset, raw)) in split_lines(&chunk.data).enumerate() {
        counts.lines += 1;
        let text: Cow<'a, str> = match std::str::from_utf8(raw) {
            Ok(s) => Cow::Borrowed(s),
            Err(e) => match options.errors {
                Utf8Policy::Strict => {
                    return Err(Error::Corpus {
                        location: location(chunk, index, offset + e.valid_up_to()),
                        message: format!(
                            "invalid UTF-8 (byte 0x{:02x}); pass errors=\"replace\" or \"skip\" to go on",
                            raw[e.valid_up_to()]
                        ),
                    })
                }
                Utf8Policy::Replace => {
                    counts.replaced_utf8 += 1;
                    String::from_utf8_lossy(raw)
                }
                Utf8Policy::Skip => {
                    counts.skipped_utf8 += 1;
                    continue;
                }
            },
        };
        let replaced = matches!(text, Cow::Owned(_));
        match chunk.format {
            InputFormat::Text => f(Doc {
                raw,
                text,
                record: None,
                is_record: false,
                replaced,
                watched: 0,
                line_index: index,
                offset,
            })?,
            InputFormat::Jsonl => {
                if is_blank(&text) {
                    counts.blank_records += 1;
                    continue;
                }
                let skip = options.errors == Utf8Policy::Skip;
                let field = &options.text_field;
                let (record, value, watched) = match parse_record(&text, parse, field) {
                    Ok(parsed) => parsed,
                    Err(_) if skip => {
                        counts.skipped_json += 1;
                        continue;
                    }
                    Err(e) => {
                        return Err(Error::Corpus {
                            location: location(chunk, index, offset),
                            message: format!(
                            "not a JSON object: {e}; pass errors=\"skip\" to leave such lines out"
                        ),
                        })
                    }
                };
                let (body, mut record) = match (value, record) {
                    (Some(serde_json::Value::String(s)), mut record) => {
                        // Put the text back where it was taken from.
                        if let Some(r) = record.as_mut() {
                            r.insert(field.clone(), serde_json::Value::String(s.clone()));
                        }
                        (s, record)
                    }
                    _ if skip => {
                        counts.skipped_field += 1;
                        continue;
                    }
                    (other, _) => {
                        let what = match other {
                            None => "no field".to_string(),
                            Some(v) => format!("a non-string ({v}) in field"),
                        };
                        return Err(Error::Corpus {
                            location: location(chunk, index, offset),
                            message: format!(
                                "{what} {field:?} in this record; pass errors=\"skip\" to leave such records out"
                            ),
                        });
                    }
                };
                f(Doc {
                    raw,
                    text: Cow::Owned(body),
                    record: record.take(),
                    is_record: true,
                    replaced,
                    watched,
                    line_index: index,
                    offset,
                })?
            }
        }
    }
    Ok(())
}

/// Refuse inputs that are not JSONL files where marks are written into records.
pub fn require_jsonl(inputs: &[crate::corpus::Input], what: &str) -> Result<()> {
    let text = inputs.iter().find(|i| {
        !matches!(
            i,
            crate::corpus::Input::File {
                format: InputFormat::Jsonl,
                ..
            }
        )
    });
    match text {
        Some(i) => Err(Error::InvalidArgument(format!(
            "{}: {what} writes a field into JSONL records, but this input is text; \
             remove them instead",
            i.name()
        ))),
        None => Ok(()),
    }
}

/// The sentences of a document's text: its lines (blank ones left out when
/// `skip_blank`), as every corpus read cuts them.
pub fn sentences<'t>(text: &'t str, options: &CorpusOptions) -> impl Iterator<Item = &'t str> {
    let skip_blank = options.skip_blank;
    split_lines(text.as_bytes())
        // split_lines cuts at ASCII bytes only, so each piece is UTF-8.
        .map(|(_, l)| std::str::from_utf8(l).unwrap_or_default())
        .filter(move |l| !(skip_blank && is_blank(l)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn docs(
        data: &[u8],
        format: InputFormat,
        errors: Utf8Policy,
    ) -> Result<(Vec<String>, ReadCounts)> {
        let chunk = Chunk::new(&Arc::from("t"), format, (0, 0), 1, 0, data.to_vec());
        let options = CorpusOptions {
            errors,
            ..CorpusOptions::default()
        };
        let mut counts = ReadCounts::default();
        let mut out = Vec::new();
        for_each_doc(&chunk, &options, &mut counts, |d| {
            out.push(d.text.into_owned());
            Ok(())
        })?;
        Ok((out, counts))
    }

    #[test]
    fn bad_records_follow_the_policy() {
        let data = b"{\"text\": \"a b\"}\nnot json\n{\"body\": 1}\n\n{\"text\": \"c\\nd\"}\n";
        let err = docs(data, InputFormat::Jsonl, Utf8Policy::Strict).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let (out, counts) = docs(data, InputFormat::Jsonl, Utf8Policy::Skip).unwrap();
        assert_eq!(out, ["a b", "c\nd"]);
        assert_eq!(
            (
                counts.skipped_json,
                counts.skipped_field,
                counts.blank_records
            ),
            (1, 1, 1)
        );
        let (out, counts) = docs(b"a\xffb\nc\n", InputFormat::Text, Utf8Policy::Replace).unwrap();
        assert_eq!(out, ["a\u{fffd}b", "c"]);
        assert_eq!(counts.replaced_utf8, 1);
        let err = docs(b"ok\na\xffb\n", InputFormat::Text, Utf8Policy::Strict).unwrap_err();
        assert!(err.to_string().contains("line 2, byte 4"), "{err}");
    }
}

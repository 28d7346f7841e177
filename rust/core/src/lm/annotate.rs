//! Perplexity filtering of JSONL data, as CCNet-style filters use KenLM:
//! records copied with a perplexity field added, in input order.

use std::path::Path;

use super::model::NGramModel;
use super::perplexity::{Evaluation, Scratch};
use crate::control::Control;
use crate::corpus::{self, Corpus};
use crate::{Error, Result};

impl NGramModel {
    /// Copy the JSONL records of `corpus` to `output` (stdout when `None`),
    /// adding to each a field `out_field` with the perplexity of its text (see
    /// below). A file is written to a temporary name and renamed into place, so
    /// a failed run leaves an existing output file as it was. Returns the
    /// number of records written.
    pub fn annotate_jsonl(
        &self,
        corpus: &Corpus,
        out_field: &str,
        output: Option<&Path>,
        control: &Control,
        threads: usize,
    ) -> Result<u64> {
        let Some(path) = output else {
            let stdout = std::io::stdout();
            return self.annotate_jsonl_into(
                corpus,
                out_field,
                &mut stdout.lock(),
                control,
                threads,
            );
        };
        let mut records = 0;
        let mut failure = None;
        crate::binfmt::write_atomic(path, |w| {
            match self.annotate_jsonl_into(corpus, out_field, w, control, threads) {
                Ok(n) => {
                    records = n;
                    Ok(())
                }
                Err(e) => {
                    failure = Some(e);
                    Err(std::io::Error::other("annotation failed"))
                }
            }
        })
        .map_err(|e| failure.take().unwrap_or(e))?;
        Ok(records)
    }

    /// Copy JSONL records to `out`, adding to each a field `out_field` with the
    /// perplexity of its `text_field` (all its lines, each scored as a
    /// sentence, OOVs included), as CCNet-style data filters use KenLM.
    /// Records keep their key order; output order is input order. A record
    /// that is not a JSON object with a string `text_field` raises
    /// [`Error::Corpus`] naming its line, or is left out when the
    /// corpus's policy is `errors="skip"`.
    fn annotate_jsonl_into(
        &self,
        corpus: &Corpus,
        out_field: &str,
        out: &mut dyn std::io::Write,
        control: &Control,
        threads: usize,
    ) -> Result<u64> {
        type Piece = ((usize, u32), Vec<u8>, u64);
        let field = corpus.options.text_field.clone();
        let parts = corpus::process(
            corpus,
            control,
            threads,
            || (Vec::<Piece>::new(), Scratch::default()),
            |(pieces, scratch), chunk| {
                let mut buf = Vec::with_capacity(chunk.data.len() + chunk.data.len() / 8);
                let mut records = 0;
                for (index, (offset, raw)) in corpus::lines::split_lines(&chunk.data).enumerate() {
                    if raw.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let location = || crate::Location {
                        source: chunk.source.to_string(),
                        line: chunk.first_line + index as u64,
                        byte: chunk.byte_offset + offset as u64,
                    };
                    // A bad record stops the run, or with errors="skip" is left out.
                    let skip = corpus.options.errors == corpus::Utf8Policy::Skip;
                    let mut record: serde_json::Map<String, serde_json::Value> =
                        match serde_json::from_slice(raw) {
                            Ok(r) => r,
                            Err(_) if skip => continue,
                            Err(e) => {
                                return Err(Error::Corpus {
                                    location: location(),
                                    message: format!("invalid JSON object: {e}"),
                                })
                            }
                        };
                    let text = match record.get(&field) {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        _ if skip => continue,
                        _ => {
                            return Err(Error::Corpus {
                                location: location(),
                                message: format!("no string field {field:?} in this record"),
                            })
                        }
                    };
                    let mut total = Evaluation::default();
                    for (_, line) in corpus::lines::split_lines(text.as_bytes()) {
                        let line = std::str::from_utf8(line).unwrap_or_default();
                        if !(corpus.options.skip_blank && crate::tokenize::is_blank(line)) {
                            total.add(&self.evaluate_sentence(line, true, true, scratch));
                        }
                    }
                    let ppl = if total.tokens > 0 {
                        total.perplexity()
                    } else {
                        f64::NAN
                    };
                    let value = serde_json::Number::from_f64(ppl)
                        .map_or(serde_json::Value::Null, serde_json::Value::Number);
                    record.insert(out_field.to_string(), value);
                    serde_json::to_writer(&mut buf, &record)
                        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                    buf.push(b'\n');
                    records += 1;
                }
                control.add_tokens(records);
                pieces.push((chunk.seq, buf, records));
                Ok(())
            },
        )?;
        let mut pieces: Vec<Piece> = parts.into_iter().flat_map(|(p, _)| p).collect();
        pieces.sort_by_key(|p| p.0);
        let mut records = 0;
        for (_, bytes, n) in pieces {
            out.write_all(&bytes)
                .map_err(|e| Error::io("<output>", e))?;
            records += n;
        }
        out.flush().map_err(|e| Error::io("<output>", e))?;
        Ok(records)
    }
}

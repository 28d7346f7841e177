//! Perplexity filtering, as CCNet does it with KenLM: score every document
//! with an n-gram model and keep it, or put it in a bucket, by its perplexity.
//!
//! Input: a model, a corpus, a [`Bucketing`] (ascending perplexity cutoffs
//! and a name and keep flag per bucket). Output: the kept documents in input
//! order, each JSONL record with its perplexity and bucket added (every other
//! field kept, in its place), written atomically; a [`FilterSummary`].
//!
//! Length normalisation is CCNet's: a document's perplexity is
//! 10^(-sum of log10 p / tokens) over all its lines, each line scored as a
//! sentence from `<s>` with its `</s>` counted as a token (KenLM's `query`).
//! Documents with fewer than `min_words` words go to the bucket `short`,
//! dropped or written (marked). Documents are scored in parallel and written
//! as they come ([`super::ordered`]): memory does not grow with the corpus.

use std::io::Write;
use std::path::Path;

use super::documents::{for_each_doc_as, sentences, Doc, Parse, ReadCounts, Unit};
use super::ordered::map_ordered;
use crate::control::Control;
use crate::corpus::source::InputFormat;
use crate::corpus::{Chunk, Corpus};
use crate::lm::perplexity::{Evaluation, Scratch};
use crate::lm::NGramModel;
use crate::{Error, Result};

/// The name of the bucket of documents shorter than the minimum length.
pub const SHORT: &str = "short";

/// How many words must be scored before a model that knows none of them is refused.
const OOV_CHECK_WORDS: u64 = 1000;

/// Perplexity buckets: document `d` is in bucket `i`, the number of cutoffs
/// below its perplexity (so `ppl <= cutoffs[0]` is bucket 0).
#[derive(Debug, Clone)]
pub struct Bucketing {
    /// Ascending perplexity cutoffs, each finite and at least 1.
    pub cutoffs: Vec<f64>,
    /// One name per bucket (`cutoffs.len() + 1`).
    pub names: Vec<String>,
    /// Whether each bucket is written.
    pub keep: Vec<bool>,
}

impl Bucketing {
    /// Refuse cutoffs no perplexity can meet and mismatched lists.
    pub fn check(&self) -> Result<()> {
        for &c in &self.cutoffs {
            if !(c.is_finite() && c >= 1.0) {
                return Err(Error::InvalidArgument(format!(
                    "a perplexity threshold must be a finite number >= 1 (a perplexity is never below 1), not {c}"
                )));
            }
        }
        if self.cutoffs.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::InvalidArgument(format!(
                "perplexity cutoffs must rise strictly: {:?}",
                self.cutoffs
            )));
        }
        if self.names.len() != self.cutoffs.len() + 1 || self.keep.len() != self.names.len() {
            return Err(Error::InvalidArgument(format!(
                "{} cutoffs make {} buckets, but {} names and {} keep flags were given",
                self.cutoffs.len(),
                self.cutoffs.len() + 1,
                self.names.len(),
                self.keep.len()
            )));
        }
        if self.names.iter().any(|n| n == SHORT) {
            return Err(Error::InvalidArgument(format!(
                "{SHORT:?} is the bucket of short documents; name the others otherwise"
            )));
        }
        Ok(())
    }

    /// The bucket of a perplexity.
    pub fn bucket(&self, perplexity: f64) -> usize {
        self.cutoffs.iter().take_while(|&&c| c < perplexity).count()
    }
}

/// The cutoffs at `percentiles` (0 < p < 100, rising) of `values`, by
/// linear interpolation between order statistics (numpy's default rule).
pub fn percentile_cutoffs(values: &[f64], percentiles: &[f64]) -> Result<Vec<f64>> {
    if percentiles
        .iter()
        .any(|p| !(p.is_finite() && *p > 0.0 && *p < 100.0))
        || percentiles.windows(2).any(|w| w[0] >= w[1])
    {
        return Err(Error::InvalidArgument(format!(
            "percentiles must rise strictly within (0, 100), not {percentiles:?}"
        )));
    }
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return Err(Error::EmptyCorpus(
            "no document long enough to compute perplexity percentiles on".into(),
        ));
    }
    sorted.sort_by(f64::total_cmp);
    let last = (sorted.len() - 1) as f64;
    Ok(percentiles
        .iter()
        .map(|p| {
            let at = p / 100.0 * last;
            let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
        })
        .collect())
}

/// Options of a filtering run.
#[derive(Debug, Clone)]
pub struct FilterOptions {
    /// What a document is (None: records for JSONL input, lines for text).
    pub unit: Option<Unit>,
    /// The buckets.
    pub bucketing: Bucketing,
    /// Documents with fewer words go to the bucket [`SHORT`].
    pub min_words: u64,
    /// Write short documents (marked with bucket [`SHORT`]) instead of dropping them.
    pub keep_short: bool,
    /// The field the perplexity is written to.
    pub field: String,
    /// The field the bucket name is written to.
    pub bucket_field: String,
    /// Write lines of text input as JSONL records (`{"text": ..., field, bucket}`)
    /// instead of the kept lines as they were.
    pub lines_as_jsonl: bool,
}

/// Documents and their sizes in one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketCount {
    /// Documents.
    pub documents: u64,
    /// Words (tokens without `</s>`).
    pub words: u64,
    /// Tokens scored (words plus one `</s>` per line).
    pub tokens: u64,
}

impl BucketCount {
    fn add(&mut self, words: u64, tokens: u64) {
        self.documents += 1;
        self.words += words;
        self.tokens += tokens;
    }

    fn merge(&mut self, o: &BucketCount) {
        self.documents += o.documents;
        self.words += o.words;
        self.tokens += o.tokens;
    }
}

/// What a filtering run did.
#[derive(Debug, Clone, Default)]
pub struct FilterSummary {
    /// Per bucket, in [`Bucketing::names`] order, then [`SHORT`] last.
    pub buckets: Vec<BucketCount>,
    /// Documents and words written.
    pub kept: BucketCount,
    /// Words the model did not know (scored as `<unk>`).
    pub oov_words: u64,
    /// What reading saw (bad records by the `errors=` policy).
    pub read: ReadCounts,
}

impl FilterSummary {
    fn new(buckets: usize) -> Self {
        Self {
            buckets: vec![BucketCount::default(); buckets + 1],
            ..Self::default()
        }
    }

    fn merge(&mut self, o: &FilterSummary) {
        for (a, b) in self.buckets.iter_mut().zip(&o.buckets) {
            a.merge(b);
        }
        self.kept.merge(&o.kept);
        self.oov_words += o.oov_words;
        self.read.merge(&o.read);
    }

    /// Documents read.
    pub fn documents(&self) -> u64 {
        self.buckets.iter().map(|b| b.documents).sum()
    }

    /// Words read.
    pub fn words(&self) -> u64 {
        self.buckets.iter().map(|b| b.words).sum()
    }
}

/// Score the sentences of `text` into one evaluation.
fn score_text(
    model: &NGramModel,
    text: &str,
    corpus: &Corpus,
    scratch: &mut Scratch,
) -> Evaluation {
    let mut e = Evaluation::default();
    for line in sentences(text, &corpus.options) {
        e.add(&model.evaluate_sentence(line, true, true, scratch));
    }
    e
}

/// Refuse a model that has known none of the words scored so far (its
/// vocabulary and the text's tokens do not meet: another tokenizer, another
/// language, a model of ids).
fn check_vocabulary(words: u64, oovs: u64, done: bool) -> Result<()> {
    if (words >= OOV_CHECK_WORDS || (done && words > 0)) && oovs == words {
        return Err(Error::InvalidArgument(format!(
            "the model knows none of the first {words} words of the text: every one is scored as \
             <unk>. Was it trained with another tokenizer (pass the tokenizer it was trained with)?"
        )));
    }
    Ok(())
}

/// The per-chunk result of scoring.
struct Piece {
    bytes: Vec<u8>,
    summary: FilterSummary,
    words: u64,
    /// For [`Unit::Files`]: the chunk's lines, summed.
    file_part: Evaluation,
}

/// Perplexity, words and tokens of an evaluation (NaN without tokens).
fn figures(e: &Evaluation) -> (f64, u64, u64) {
    let ppl = if e.tokens > 0 {
        e.perplexity()
    } else {
        f64::NAN
    };
    (ppl, e.tokens - e.sentences, e.tokens)
}

fn json_number(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

impl FilterOptions {
    /// The bucket of a document: [`Bucketing::names`]' index, or the short bucket.
    fn bucket_of(&self, ppl: f64, words: u64) -> usize {
        if words < self.min_words || ppl.is_nan() {
            self.bucketing.names.len()
        } else {
            self.bucketing.bucket(ppl)
        }
    }

    fn name(&self, bucket: usize) -> &str {
        self.bucketing
            .names
            .get(bucket)
            .map_or(SHORT, String::as_str)
    }

    fn writes(&self, bucket: usize) -> bool {
        self.bucketing
            .keep
            .get(bucket)
            .copied()
            .unwrap_or(self.keep_short)
    }

    /// Write a kept document of line or record unit.
    fn write_doc(&self, doc: Doc<'_>, ppl: f64, bucket: usize, out: &mut Vec<u8>) -> Result<()> {
        let name = self.name(bucket);
        if doc.is_record && doc.record.is_none() && doc.watched == 0 && !doc.replaced {
            // A record without either field: its line as it was, the two
            // fields added before its closing brace (no map is built).
            if let Some(head) = doc.raw.trim_ascii_end().strip_suffix(b"}") {
                out.extend_from_slice(head);
                for (key, value) in [
                    (&self.field, json_number(ppl)),
                    (
                        &self.bucket_field,
                        serde_json::Value::String(name.to_string()),
                    ),
                ] {
                    out.push(b',');
                    serde_json::to_writer(&mut *out, key)
                        .and_then(|_| {
                            out.push(b':');
                            serde_json::to_writer(&mut *out, &value)
                        })
                        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                }
                out.extend_from_slice(b"}\n");
                return Ok(());
            }
        }
        let record = match doc.record {
            Some(r) => Some(r),
            // A record that has one of the fields already (replaced in
            // place) or had its bad UTF-8 replaced: parsed whole.
            None if doc.is_record => Some(
                serde_json::from_str(&String::from_utf8_lossy(doc.raw))
                    .map_err(|e| Error::InvalidArgument(e.to_string()))?,
            ),
            None if self.lines_as_jsonl => {
                let mut r = serde_json::Map::new();
                r.insert(
                    "text".into(),
                    serde_json::Value::String(doc.text.to_string()),
                );
                Some(r)
            }
            None => None,
        };
        match record {
            Some(mut r) => {
                r.insert(self.field.clone(), json_number(ppl));
                r.insert(
                    self.bucket_field.clone(),
                    serde_json::Value::String(name.to_string()),
                );
                serde_json::to_writer(&mut *out, &r)
                    .map_err(|e| Error::InvalidArgument(e.to_string()))?;
            }
            None => match doc.text {
                // A replaced line is written as replaced.
                std::borrow::Cow::Owned(s) => out.extend_from_slice(s.as_bytes()),
                std::borrow::Cow::Borrowed(_) => out.extend_from_slice(doc.raw),
            },
        }
        out.push(b'\n');
        Ok(())
    }
}

impl NGramModel {
    /// Score every document of `corpus` and write those of the kept buckets to
    /// `output` (see the module docs). An input without any document is an
    /// [`Error::EmptyCorpus`]; a model that knows none of the first words is
    /// refused ([`Error::InvalidArgument`]).
    pub fn filter_by_perplexity(
        &self,
        corpus: &Corpus,
        options: &FilterOptions,
        output: &Path,
        control: &Control,
        threads: usize,
    ) -> Result<FilterSummary> {
        options.bucketing.check()?;
        let inputs = corpus.inputs()?;
        let mut summary = FilterSummary::new(options.bucketing.names.len());
        let mut failure = None;
        let written = crate::binfmt::write_atomic(output, |w| {
            match self.filter_into(&inputs, corpus, options, w, control, threads) {
                Ok(s) => {
                    summary = s;
                    Ok(())
                }
                Err(e) => {
                    failure = Some(e);
                    Err(std::io::Error::other("filtering failed"))
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        written?;
        Ok(summary)
    }

    fn filter_into(
        &self,
        inputs: &[crate::corpus::Input],
        corpus: &Corpus,
        options: &FilterOptions,
        out: &mut dyn Write,
        control: &Control,
        threads: usize,
    ) -> Result<FilterSummary> {
        let buckets = options.bucketing.names.len();
        let mut total = FilterSummary::new(buckets);
        let (mut words, mut oovs) = (0u64, 0u64);
        // Files: the open document (its input index and sums so far).
        let mut file: Option<(usize, Evaluation)> = None;
        let names: Vec<String> = inputs.iter().map(|i| i.name()).collect();
        let finish_file =
            |file: Option<(usize, Evaluation)>, total: &mut FilterSummary, out: &mut dyn Write| {
                let Some((index, e)) = file else {
                    return Ok(());
                };
                let (ppl, w, t) = figures(&e);
                let bucket = options.bucket_of(ppl, w);
                total.buckets[bucket].add(w, t);
                total.oov_words += e.oovs;
                if options.writes(bucket) {
                    total.kept.add(w, t);
                    let mut r = serde_json::Map::new();
                    r.insert("path".into(), names[index].clone().into());
                    r.insert("words".into(), w.into());
                    r.insert(options.field.clone(), json_number(ppl));
                    r.insert(options.bucket_field.clone(), options.name(bucket).into());
                    let mut line = serde_json::to_vec(&r)
                        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                    line.push(b'\n');
                    out.write_all(&line).map_err(|e| Error::io("<output>", e))?;
                }
                Ok::<(), Error>(())
            };
        map_ordered(
            inputs,
            control,
            threads,
            |chunk| self.filter_chunk(chunk, corpus, options),
            |chunk: &Chunk, piece: Piece| {
                words += piece.words;
                oovs += piece.summary.oov_words + piece.file_part.oovs;
                check_vocabulary(words, oovs, false)?;
                if Unit::of(options.unit, chunk.format) == Unit::Files {
                    if file.as_ref().is_some_and(|f| f.0 != chunk.seq.0) {
                        finish_file(file.take(), &mut total, out)?;
                    }
                    let (_, e) = file.get_or_insert((chunk.seq.0, Evaluation::default()));
                    e.add(&piece.file_part);
                } else {
                    out.write_all(&piece.bytes)
                        .map_err(|e| Error::io("<output>", e))?;
                }
                total.merge(&piece.summary);
                control.add_tokens(piece.words);
                Ok(true)
            },
        )?;
        finish_file(file.take(), &mut total, out)?;
        check_vocabulary(words, oovs, true)?;
        if total.documents() == 0 {
            return Err(Error::EmptyCorpus(
                "the input holds no document to filter".into(),
            ));
        }
        out.flush().map_err(|e| Error::io("<output>", e))?;
        Ok(total)
    }

    fn filter_chunk(
        &self,
        chunk: &Chunk,
        corpus: &Corpus,
        options: &FilterOptions,
    ) -> Result<Piece> {
        let unit = Unit::of(options.unit, chunk.format);
        if unit == Unit::Records && chunk.format == InputFormat::Text {
            return Err(Error::InvalidArgument(format!(
                "{}: a record is a JSONL document, but this input is read as text",
                chunk.source
            )));
        }
        let mut piece = Piece {
            bytes: Vec::with_capacity(chunk.data.len() + chunk.data.len() / 4),
            summary: FilterSummary::new(options.bucketing.names.len()),
            words: 0,
            file_part: Evaluation::default(),
        };
        let mut scratch = Scratch::default();
        let mut read = ReadCounts::default();
        // Records are not parsed whole: their text is read, and a kept one
        // is written as its line plus the two fields (see `write_doc`).
        let watch = [options.field.as_str(), options.bucket_field.as_str()];
        let parse = Parse::Text { watch: &watch };
        for_each_doc_as(chunk, &corpus.options, &mut read, parse, |doc| {
            let e = score_text(self, &doc.text, corpus, &mut scratch);
            piece.words += e.tokens - e.sentences;
            if unit == Unit::Files {
                piece.file_part.add(&e);
                return Ok(());
            }
            let (ppl, w, t) = figures(&e);
            let bucket = options.bucket_of(ppl, w);
            piece.summary.buckets[bucket].add(w, t);
            piece.summary.oov_words += e.oovs;
            if options.writes(bucket) {
                piece.summary.kept.add(w, t);
                options.write_doc(doc, ppl, bucket, &mut piece.bytes)?;
            }
            Ok(())
        })?;
        piece.summary.read = read;
        Ok(piece)
    }

    /// The perplexity and word count of the documents of `corpus`, in order:
    /// all of them, or the first `limit` with at least `min_words` words (the
    /// sample CCNet computes its percentile cutoffs on).
    pub fn document_perplexities(
        &self,
        corpus: &Corpus,
        unit: Option<Unit>,
        min_words: u64,
        limit: Option<usize>,
        control: &Control,
        threads: usize,
    ) -> Result<(Vec<f64>, Vec<u64>, ReadCounts)> {
        let inputs = corpus.inputs()?;
        let (mut ppls, mut lens) = (Vec::new(), Vec::new());
        let mut read = ReadCounts::default();
        let (mut words, mut oovs) = (0u64, 0u64);
        let mut file: Option<(usize, Evaluation)> = None;
        let limit = limit.unwrap_or(usize::MAX);
        let push = |e: &Evaluation, ppls: &mut Vec<f64>, lens: &mut Vec<u64>| {
            let (ppl, w, _) = figures(e);
            if w >= min_words && ppls.len() < limit {
                ppls.push(ppl);
                lens.push(w);
            }
        };
        type Scored = (Vec<Evaluation>, ReadCounts, bool);
        map_ordered(
            &inputs,
            control,
            threads,
            |chunk| -> Result<Scored> {
                let files = Unit::of(unit, chunk.format) == Unit::Files;
                let mut scratch = Scratch::default();
                let mut read = ReadCounts::default();
                let mut out = Vec::new();
                let parse = Parse::Text { watch: &[] };
                for_each_doc_as(chunk, &corpus.options, &mut read, parse, |doc| {
                    out.push(score_text(self, &doc.text, corpus, &mut scratch));
                    Ok(())
                })?;
                Ok((out, read, files))
            },
            |chunk, (evals, r, files)| {
                read.merge(&r);
                for e in &evals {
                    words += e.tokens - e.sentences;
                    oovs += e.oovs;
                }
                check_vocabulary(words, oovs, false)?;
                control.add_tokens(evals.iter().map(|e| e.tokens).sum());
                if files {
                    if file.as_ref().is_some_and(|f| f.0 != chunk.seq.0) {
                        if let Some((_, e)) = file.take() {
                            push(&e, &mut ppls, &mut lens);
                        }
                    }
                    let (_, sum) = file.get_or_insert((chunk.seq.0, Evaluation::default()));
                    evals.iter().for_each(|e| sum.add(e));
                } else {
                    evals.iter().for_each(|e| push(e, &mut ppls, &mut lens));
                }
                Ok(ppls.len() < limit)
            },
        )?;
        if let Some((_, e)) = file.take() {
            push(&e, &mut ppls, &mut lens);
        }
        check_vocabulary(words, oovs, true)?;
        Ok((ppls, lens, read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_percentiles() {
        let b = Bucketing {
            cutoffs: vec![10.0, 20.0],
            names: vec!["head".into(), "middle".into(), "tail".into()],
            keep: vec![true, true, false],
        };
        b.check().unwrap();
        assert_eq!(
            [5.0, 10.0, 10.5, 20.0, 99.0].map(|p| b.bucket(p)),
            [0, 0, 1, 1, 2]
        );
        let bad = Bucketing {
            cutoffs: vec![0.5],
            ..b.clone()
        };
        assert!(bad.check().unwrap_err().to_string().contains(">= 1"));
        let values: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(
            percentile_cutoffs(&values, &[30.0, 60.0]).unwrap(),
            [4.0, 7.0]
        );
        assert!(percentile_cutoffs(&values, &[60.0, 30.0]).is_err());
        assert!(percentile_cutoffs(&values, &[100.0]).is_err());
    }
}

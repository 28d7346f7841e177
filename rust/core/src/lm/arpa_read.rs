//! Reading the text of an ARPA file into flat per-order arrays, fast.
//!
//! Contract: [`read_sections`] takes any file [`crate::corpus::read::open`]
//! opens (plain, `.gz`, `.zst`) and returns the vocabulary (unigrams in file
//! order after `<unk>`, `<s>`, `</s>`), the counts the header declares and,
//! per order, every n-gram's ids and values in file order, with what is needed
//! to name the file line of any of them later ([`Section::line_of`]). Any
//! malformed line is refused with the line number the first such line has in
//! the file, whatever the thread count.
//!
//! Why it is fast: the file is read in big blocks (never line by line);
//! a block's run of n-gram lines (everything up to the next line starting with
//! a backslash) is split at line ends into pieces parsed in parallel (rayon),
//! each piece counting its lines so that errors get their line numbers back;
//! a line is parsed in place (no `String` per line or per n-gram) and a word
//! equal to the previous line's word at the same position reuses its id
//! without hashing (lmplz sorts each order by its last words, so most do).
//! Lines that start with a backslash (section headers, `\end\`) and the
//! header are handled one at a time, exactly as the format says.

use crate::corpus::read::{cut_point, fill};
use std::path::Path;

use rayon::prelude::*;

use super::arpa_words::{same, ArpaWords};
use crate::control::Control;
use crate::tokenize::{Tokenizer, Vocab};
use crate::{Error, Result};

/// The comment line before `\data\` that records a tokenizer other than the
/// default (KenLM skips `#` lines there, so the file stays KenLM's).
pub(crate) const TOKENIZER_NOTE: &str = "# nextword tokenizer: ";

/// Pieces of a block parsed in parallel are this big (bytes): the corpus
/// reader's chunk size (tests shrink it to cross piece and block edges).
fn piece_bytes() -> usize {
    crate::corpus::read::chunk_bytes().max(1)
}

/// A block read at once holds this many pieces.
const PIECES_PER_BLOCK: usize = 64;

/// The n-grams of one order, in file order.
#[derive(Debug, Default)]
pub(crate) struct Section {
    /// The n.
    pub n: usize,
    /// `n + 1` values per n-gram: its ids, then its rank in the section (what
    /// sorting carries along to find the line again).
    pub records: Vec<u32>,
    /// log10 probability of each n-gram.
    pub logprob: Vec<f32>,
    /// log10 backoff of each n-gram (0 when the line gives none).
    pub backoff: Vec<f32>,
    /// Where its lines are.
    pub lines: SectionLines,
}

impl Section {
    /// Number of n-grams read.
    pub fn len(&self) -> usize {
        self.logprob.len()
    }

    /// Its lines apart from its n-grams (those can go to be sorted).
    pub fn split(mut self) -> (SectionLines, Section) {
        (std::mem::take(&mut self.lines), self)
    }
}

/// Where the lines of a section are: enough to name the line of any n-gram.
#[derive(Debug, Default)]
pub(crate) struct SectionLines {
    /// The line after the section header.
    first_line: usize,
    /// Blank lines inside the section, ascending.
    blank_lines: Vec<usize>,
}

impl SectionLines {
    /// The file line of the n-gram of rank `rank` (its place in the section).
    pub fn line_of(&self, rank: usize) -> usize {
        let mut line = self.first_line + rank;
        for &blank in &self.blank_lines {
            if blank <= line {
                line += 1;
            } else {
                break;
            }
        }
        line
    }
}

/// What [`read_sections`] found.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The unigrams' words (ids in file order after the three specials).
    pub words: Vocab,
    /// The tokenizer spec a `# nextword tokenizer:` comment records.
    pub recorded: Option<String>,
    /// The n-gram count the header declares for each order.
    pub declared: Vec<usize>,
    /// The line of each of those declarations.
    pub declared_at: Vec<usize>,
    /// The n-grams of each order read.
    pub sections: Vec<Section>,
}

/// Parse a log10 value as the ARPA format writes it: `-inf` (also
/// `-Infinity`) for zero, else a decimal; +inf and NaN are refused.
pub(crate) fn parse_f32(s: &str) -> Option<f32> {
    match s {
        "-inf" | "-Infinity" => Some(f32::NEG_INFINITY),
        // +inf (an overflowing "1e999") or NaN is no log-probability.
        _ => s
            .parse::<f32>()
            .ok()
            .filter(|v| !v.is_nan() && *v != f32::INFINITY),
    }
}

/// How a piece maps words to ids: unigrams are new words (ids given later, in
/// file order), higher orders look theirs up.
#[derive(Clone, Copy)]
enum Words<'v> {
    New,
    Known(&'v ArpaWords),
}

/// The parse of one piece of a section's lines.
#[derive(Default)]
struct Piece {
    records: Vec<u32>,
    logprob: Vec<f32>,
    backoff: Vec<f32>,
    /// For unigrams: each word's byte span in the piece.
    spans: Vec<(usize, usize)>,
    /// Lines read (those before the error, if any).
    lines: usize,
    /// 0-based lines of the piece that are blank.
    blanks: Vec<usize>,
    /// The first bad line: its 0-based number in the piece, and why.
    error: Option<(usize, String)>,
}

/// One n-gram line (`\r` and `\n` already cut): its values, its ids pushed
/// onto `ids` (or, for new words, placeholders and their spans, relative to
/// `base`). `previous` caches the last line's words by position; `words`
/// and `hashes` are scratch space.
///
/// The words of a line are split out and hashed first, and their table
/// slots prefetched, so that their cache misses overlap; errors still come
/// in the order of the fields (a word that is no unigram before too few words).
#[allow(clippy::too_many_arguments)]
fn parse_line<'t>(
    line: &'t str,
    n: usize,
    table: Words<'_>,
    previous: &mut [(&'t str, u32)],
    words: &mut Vec<&'t str>,
    hashes: &mut Vec<u64>,
    ids: &mut Vec<u32>,
    spans: &mut Vec<(usize, usize)>,
    base: usize,
) -> std::result::Result<(f32, f32), String> {
    let mut fields = line.split(['\t', ' ']).filter(|f| !f.is_empty());
    let logprob = fields
        .next()
        .and_then(parse_f32)
        .ok_or_else(|| format!("bad probability in {line:?}"))?;
    words.clear();
    words.extend(fields.by_ref().take(n));
    match table {
        Words::New => {
            for word in words.iter() {
                let start = base + (word.as_ptr() as usize - line.as_ptr() as usize);
                spans.push((start, start + word.len()));
                ids.push(0);
            }
        }
        Words::Known(table) => {
            hashes.clear();
            for (word, slot) in words.iter().zip(previous.iter()) {
                // Comparing with the last line's word is cheaper than hashing.
                let hash = if same(slot.0.as_bytes(), word.as_bytes()) {
                    0
                } else {
                    let hash = ArpaWords::hash(word);
                    table.prefetch(hash);
                    hash
                };
                hashes.push(hash);
            }
            for ((word, &hash), slot) in words.iter().zip(hashes.iter()).zip(previous.iter_mut()) {
                if hash != 0 {
                    let id = table
                        .get_hashed(word, hash)
                        .ok_or_else(|| format!("word {word:?} is not a unigram"))?;
                    *slot = (word, id);
                }
                ids.push(slot.1);
            }
        }
    }
    if words.len() < n {
        return Err(format!("expected {n} words in {line:?}"));
    }
    let backoff = match fields.next() {
        Some(f) => parse_f32(f).ok_or_else(|| format!("bad backoff in {line:?}"))?,
        None => 0.0,
    };
    if fields.next().is_some() {
        return Err(format!("too many fields in {line:?}"));
    }
    Ok((logprob, backoff))
}

/// How KenLM's binary models begin (`lm/binary_format.cc`'s magic line).
const KENLM_BINARY: &str = "mmap lm http://kheafield.com/code";

/// The message for a line that is not UTF-8 (as the line reader said it).
const NOT_UTF8: &str = "invalid UTF-8 or compressed data: stream did not contain valid UTF-8";

/// Parse the whole lines of `text` as n-grams of order `n`.
fn parse_piece(text: &[u8], n: usize, words: Words<'_>) -> Piece {
    let mut piece = Piece::default();
    let (valid, bad_utf8) = match std::str::from_utf8(text) {
        Ok(s) => (s, false),
        Err(e) => {
            // Parse the lines before the one holding the bad byte: an error
            // there comes first in the file.
            let cut = memchr::memrchr(b'\n', &text[..e.valid_up_to()]).map_or(0, |i| i + 1);
            (std::str::from_utf8(&text[..cut]).unwrap_or(""), true)
        }
    };
    let lines = valid.len() / (8 * n + 8) + 1;
    piece.records.reserve(lines * (n + 1));
    piece.logprob.reserve(lines);
    piece.backoff.reserve(lines);
    let mut previous = vec![("", 0u32); n];
    let (mut words_of_line, mut hashes) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut start = 0;
    while start < valid.len() {
        let end =
            memchr::memchr(b'\n', &valid.as_bytes()[start..]).map_or(valid.len(), |i| start + i);
        let line = valid[start..end].trim_end_matches(['\r', '\n']);
        let at = piece.lines;
        piece.lines += 1;
        if line.trim().is_empty() {
            piece.blanks.push(at);
        } else {
            let before = piece.records.len();
            match parse_line(
                line,
                n,
                words,
                &mut previous,
                &mut words_of_line,
                &mut hashes,
                &mut piece.records,
                &mut piece.spans,
                start,
            ) {
                Ok((logprob, backoff)) => {
                    piece.records.push(0); // the rank, set when pieces are joined
                    piece.logprob.push(logprob);
                    piece.backoff.push(backoff);
                }
                Err(message) => {
                    piece.records.truncate(before);
                    piece.error = Some((at, message));
                    return piece;
                }
            }
        }
        start = end + 1;
    }
    if bad_utf8 {
        piece.error = Some((piece.lines, NOT_UTF8.to_string()));
    }
    piece
}

/// The reader's state between lines.
struct Reader<'p> {
    path: &'p Path,
    /// Lines consumed so far.
    lineno: usize,
    seen_data: bool,
    /// 0 = header, n = in `\n-grams:`.
    section: usize,
    ended: bool,
    parsed: Parsed,
    /// Bytes of the input when known (bounds what a header count reserves).
    size: Option<u64>,
    /// The lookup of the unigrams' words, made once they are all read.
    table: Option<ArpaWords>,
}

impl Reader<'_> {
    fn bad(&self, line: usize, msg: impl Into<String>) -> Error {
        Error::format(self.path, format!("line {line}: {}", msg.into()))
    }

    /// Handle one line outside a run of n-gram lines (the header, a section
    /// header, `\end\`, or a line of a section that starts with a backslash).
    fn special_line(&mut self, raw: &[u8], words_vocab: &mut Vocab) -> Result<()> {
        let lineno = self.lineno;
        let Ok(text) = std::str::from_utf8(raw) else {
            return Err(self.bad(lineno, NOT_UTF8));
        };
        let line = text.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            if self.section > 0 {
                if let Some(s) = self.parsed.sections.last_mut() {
                    s.lines.blank_lines.push(lineno);
                }
            }
            return Ok(());
        }
        if !self.seen_data {
            if line == "\\data\\" {
                self.seen_data = true;
            } else if let Some(spec) = line.strip_prefix(TOKENIZER_NOTE) {
                self.parsed.recorded = Some(spec.trim().to_string());
            } else if line.starts_with(KENLM_BINARY) {
                return Err(self.bad(
                    lineno,
                    "a KenLM binary model (build_binary's format), not an ARPA file: \
                     load the ARPA file it was built from",
                ));
            } else if !line.starts_with('#') {
                return Err(self.bad(
                    lineno,
                    "not an ARPA file (no \\data\\ header; only blank and # lines may precede it)",
                ));
            }
            return Ok(());
        }
        if line == "\\end\\" {
            self.ended = true;
            return Ok(());
        }
        if let Some(rest) = line
            .strip_prefix('\\')
            .and_then(|r| r.strip_suffix("-grams:"))
        {
            let n: usize = rest
                .parse()
                .map_err(|_| self.bad(lineno, format!("bad section header {line:?}")))?;
            let declared = &self.parsed.declared;
            if n != self.section + 1 || n > declared.len() {
                return Err(self.bad(lineno, format!("unexpected section \\{n}-grams:")));
            }
            self.section = n;
            // Reserve what the header declares, but no more than the input
            // could hold (a corrupt count must not exhaust memory).
            let most = self
                .size
                .map_or(1 << 24, |s| (s as usize) / (2 * n + 2))
                .max(1);
            let want = declared[n - 1].min(most);
            self.parsed.sections.push(Section {
                n,
                records: Vec::with_capacity(want * (n + 1)),
                logprob: Vec::with_capacity(want),
                backoff: Vec::with_capacity(want),
                lines: SectionLines {
                    first_line: lineno + 1,
                    blank_lines: Vec::new(),
                },
            });
            return Ok(());
        }
        if self.section == 0 {
            let spec = line
                .strip_prefix("ngram ")
                .and_then(|r| r.split_once('='))
                .ok_or_else(|| self.bad(lineno, format!("bad header line {line:?}")))?;
            let n: usize = spec
                .0
                .trim()
                .parse()
                .map_err(|_| self.bad(lineno, "bad order"))?;
            let count: usize = spec
                .1
                .trim()
                .parse()
                .map_err(|_| self.bad(lineno, "bad count"))?;
            if n != self.parsed.declared.len() + 1 {
                return Err(self.bad(lineno, format!("header declares order {n} out of sequence")));
            }
            self.parsed.declared.push(count);
            self.parsed.declared_at.push(lineno);
            return Ok(());
        }
        // An n-gram line that starts with a backslash: parsed as any other
        // (it fails: no probability starts so), counted back as one line.
        self.lineno -= 1;
        self.ngram_lines(raw, words_vocab)
    }

    /// Parse a run of whole n-gram lines of the current section, in parallel
    /// pieces, and append them in file order.
    fn ngram_lines(&mut self, text: &[u8], vocab: &mut Vocab) -> Result<()> {
        let n = self.section;
        // Piece edges: at the first line end after every `piece_bytes()`.
        let step = piece_bytes();
        let mut edges = vec![0];
        let mut at = 0;
        while at + step < text.len() {
            match memchr::memchr(b'\n', &text[at + step..]) {
                Some(i) => {
                    at += step + i + 1;
                    edges.push(at);
                }
                None => break,
            }
        }
        if *edges.last().unwrap_or(&0) < text.len() {
            edges.push(text.len());
        }
        if n > 1 && self.table.is_none() {
            let table = ArpaWords::new(vocab)
                .ok_or_else(|| Error::format(self.path, "the unigrams' words pass 4 GiB"))?;
            self.table = Some(table);
        }
        let words = match &self.table {
            Some(table) if n > 1 => Words::Known(table),
            _ => Words::New,
        };
        let pieces: Vec<Piece> = edges
            .par_windows(2)
            .map(|w| parse_piece(&text[w[0]..w[1]], n, words))
            .collect();
        let Some(section) = self.parsed.sections.last_mut() else {
            return Err(Error::format(self.path, "n-gram lines outside a section"));
        };
        for (piece, w) in pieces.into_iter().zip(edges.windows(2)) {
            if let Some((at, message)) = piece.error {
                let line = self.lineno + at + 1;
                return Err(Error::format(self.path, format!("line {line}: {message}")));
            }
            section
                .lines
                .blank_lines
                .extend(piece.blanks.iter().map(|b| self.lineno + b + 1));
            let rank0 = section.logprob.len();
            let first = section.records.len();
            section.records.extend_from_slice(&piece.records);
            for (j, record) in section.records[first..].chunks_exact_mut(n + 1).enumerate() {
                record[n] = (rank0 + j) as u32;
                if n == 1 {
                    // Unigrams: new words get their ids now, in file order.
                    let (a, b) = piece.spans[j];
                    let word = std::str::from_utf8(&text[w[0] + a..w[0] + b]).unwrap_or("");
                    record[0] = vocab.add(word, 0);
                }
            }
            section.logprob.extend_from_slice(&piece.logprob);
            section.backoff.extend_from_slice(&piece.backoff);
            self.lineno += piece.lines;
            if section.logprob.len() > u32::MAX as usize {
                return Err(Error::format(
                    self.path,
                    format!("more than {} {n}-grams", u32::MAX),
                ));
            }
        }
        Ok(())
    }

    /// Handle the whole lines of `block`, stopping at `\end\`.
    fn block(&mut self, block: &[u8], vocab: &mut Vocab) -> Result<()> {
        let mut pos = 0;
        while pos < block.len() && !self.ended {
            if self.section > 0 && block[pos] != b'\\' {
                // A run of n-gram lines: up to the next line starting with `\`.
                let end = memchr::memmem::find(&block[pos..], b"\n\\")
                    .map_or(block.len(), |i| pos + i + 1);
                self.ngram_lines(&block[pos..end], vocab)?;
                pos = end;
                continue;
            }
            let end = memchr::memchr(b'\n', &block[pos..]).map_or(block.len(), |i| pos + i + 1);
            self.lineno += 1;
            let line = &block[pos..end];
            self.special_line(line.strip_suffix(b"\n").unwrap_or(line), vocab)?;
            pos = end;
        }
        Ok(())
    }
}

/// Read the header and every n-gram line of the ARPA file at `path` (see the
/// module docs), counting its bytes on `control` and stopping when it is
/// cancelled. Checks the structure (header, sections in order, `\end\`, the
/// declared counts); what the n-grams mean is checked later.
pub(crate) fn read_sections(path: &Path, control: &Control) -> Result<Parsed> {
    let mut input = crate::corpus::read::open(path, control)?;
    let size = std::fs::metadata(path).ok().map(|m| m.len());
    let mut reader = Reader {
        path,
        lineno: 0,
        seen_data: false,
        section: 0,
        ended: false,
        parsed: Parsed {
            words: Vocab::new(Tokenizer::default()),
            recorded: None,
            declared: Vec::new(),
            declared_at: Vec::new(),
            sections: Vec::new(),
        },
        size,
        table: None,
    };
    let mut vocab = Vocab::new(Tokenizer::default());
    let block_bytes = piece_bytes() * PIECES_PER_BLOCK;
    let mut buf: Vec<u8> = Vec::with_capacity(block_bytes);
    let mut eof = false;
    while !eof && !reader.ended {
        control.check()?;
        // Fill the block; a read error is raised once the whole lines before
        // it are handled (their errors come first in the file).
        let want = buf.len().max(block_bytes / 2) + block_bytes / 2;
        let failed = match fill(&mut input, &mut buf, want) {
            Ok(more) => {
                eof = !more;
                None
            }
            Err(e) => Some(e),
        };
        let end = if eof {
            buf.len()
        } else {
            match cut_point(&buf) {
                Some(i) => i,
                // One line longer than a block: read on.
                None if failed.is_none() => continue,
                None => 0,
            }
        };
        reader.block(&buf[..end], &mut vocab)?;
        if reader.ended {
            break;
        }
        if let Some(e) = failed {
            let line = reader.lineno + 1;
            return Err(reader.bad(
                line,
                match e.kind() {
                    std::io::ErrorKind::InvalidData => {
                        format!("invalid UTF-8 or compressed data: {e}")
                    }
                    // A truncated or corrupt .gz/.zst fails mid-read: the file is bad.
                    _ => format!("cannot read: {e}"),
                },
            ));
        }
        buf.drain(..end);
    }
    if !reader.seen_data {
        return Err(Error::format(path, "not an ARPA file (no \\data\\ header)"));
    }
    if !reader.ended {
        return Err(Error::format(
            path,
            "truncated ARPA file: no \\end\\ marker",
        ));
    }
    let mut parsed = reader.parsed;
    if parsed.sections.len() != parsed.declared.len() || parsed.declared.is_empty() {
        return Err(Error::format(
            path,
            "ARPA file misses n-gram sections its header declares",
        ));
    }
    for (k, section) in parsed.sections.iter().enumerate() {
        if section.len() != parsed.declared[k] {
            return Err(Error::format(
                path,
                format!(
                    "line {}: header declares {} {}-grams, file holds {}",
                    parsed.declared_at[k],
                    parsed.declared[k],
                    k + 1,
                    section.len()
                ),
            ));
        }
    }
    parsed.words = vocab;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\\data\\\nngram 1=3\nngram 2=1\n\n\\1-grams:\n-1\t<unk>\t0\n-0.5\ta\t-0.25\n-0.75\tb\n\n\\2-grams:\n-0.1\ta b\n\n\\end\\\n";

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_sections_and_words() {
        let f = file(TEXT);
        let parsed = read_sections(f.path(), &Control::new()).unwrap();
        assert_eq!(parsed.declared, vec![3, 1]);
        assert_eq!(parsed.declared_at, vec![2, 3]);
        let (a, b) = (
            parsed.words.get("a").unwrap(),
            parsed.words.get("b").unwrap(),
        );
        assert_eq!(parsed.sections[1].records, vec![a, b, 0]);
        assert_eq!(parsed.sections[0].backoff, vec![0.0, -0.25, 0.0]);
        assert_eq!(parsed.sections[1].lines.line_of(0), 11);
    }

    #[test]
    fn a_cancelled_read_stops() {
        let f = file(TEXT);
        let control = Control::new();
        control.cancel();
        assert!(matches!(
            read_sections(f.path(), &control),
            Err(Error::Cancelled)
        ));
    }

    #[test]
    fn lines_skip_the_blank_ones() {
        let lines = SectionLines {
            first_line: 10,
            blank_lines: vec![10, 13, 14],
        };
        // Lines 11, 12, 15, 16: ranks 0..4.
        let got: Vec<usize> = (0..4).map(|r| lines.line_of(r)).collect();
        assert_eq!(got, vec![11, 12, 15, 16]);
    }
}

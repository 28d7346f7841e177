//! Stage 3: the index file, written atomically and memory-mapped back.
//!
//! Layout (little-endian): a 128-byte header, then 8-aligned sections: the
//! vocabulary (with its tokenizer record and unigram counts), the token
//! stream (`u16` or `u32` per token, the separator as the type's maximum),
//! the document starts (one per document plus the stream's length, in the
//! pointer width, with 8 bytes of padding),
//! and the packed suffix array (see [`super::suffix_array`]) with its 8
//! bytes of padding.
//!
//! Header: magic `NWINDEX\0`, u32 version, u8 token width, u8 pointer width,
//! u8 document unit, u8 padded; u64 tokens, u64 documents; (offset, length)
//! of the four sections; u64 file length; u32 CRC-32 of every byte after the
//! header; reserved bytes; u32 CRC-32 of the header before it.
//!
//! Opening checks everything that a query relies on to stay in bounds (magic,
//! version, header checksum, file length, section bounds and sizes, the
//! vocabulary's layout and size) and maps the arrays without reading them; it
//! reads the unigram counts (8 bytes a type) but decodes the vocabulary's
//! words only when they are first needed, so it takes milliseconds whatever
//! the corpus size. `verify` also checks the body's checksum, the document
//! starts and the words (a pass over the file). Queries read every array
//! through checked accessors, so corrupt contents give wrong answers at
//! worst (or a format error when the words are decoded), never a crash.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::stream::{Documents, TokenStream};
use super::SEP;
use crate::binfmt::{self, Reader, Writer};
use crate::control::Control;
use crate::tokenize::Vocab;
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"NWINDEX\0";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
const HEADER: usize = 128;

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// What the header says, checked.
#[derive(Debug, Clone, Copy)]
struct Header {
    token_width: u8,
    pointer_width: u8,
    documents: Documents,
    padded: bool,
    tokens: u64,
    docs: u64,
    sections: [(usize, usize); 4],
    body_crc: u32,
}

const VOCAB: usize = 0;
const TOKENS: usize = 1;
const STARTS: usize = 2;
const SUFFIXES: usize = 3;

/// How the arrays of an index are laid out.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// What a document is.
    pub documents: Documents,
    /// Whether sentences are padded with `<s>` and `</s>`.
    pub padded: bool,
    /// 32-bit tokens (else 16-bit).
    pub wide: bool,
    /// Bytes per suffix-array entry.
    pub pointer_width: u8,
}

/// Write an index file atomically from its parts.
pub fn write(
    path: &Path,
    vocab: &Vocab,
    stream: &TokenStream,
    layout: Layout,
    suffixes: &[u8],
    control: &Control,
) -> Result<()> {
    let Layout {
        documents,
        padded,
        wide,
        pointer_width,
    } = layout;
    if cfg!(target_endian = "big") {
        return Err(Error::InvalidArgument(
            "corpus index files are little-endian: this machine cannot write them".into(),
        ));
    }
    let mut w = Writer::new();
    vocab.write(&mut w);
    let vocab_bytes = w.into_bytes();
    let tokens: Vec<u8> = if wide {
        stream.ids.iter().flat_map(|t| t.to_le_bytes()).collect()
    } else {
        let narrow = stream.ids.iter().map(|&t| super::suffix_array::to_u16(t));
        narrow.flat_map(|t| t.to_le_bytes()).collect()
    };
    // Starts are positions: they take the suffix array's width, not 8 bytes
    // (a line-per-document index has a start every dozen tokens).
    let width = pointer_width as usize;
    let mut starts: Vec<u8> = (stream.starts.iter())
        .flat_map(|s| s.to_le_bytes().into_iter().take(width))
        .collect();
    starts.extend_from_slice(&[0u8; 8]);
    let parts: [&[u8]; 4] = [&vocab_bytes, &tokens, &starts, suffixes];
    let mut sections = [(0usize, 0usize); 4];
    let mut at = HEADER;
    let mut crc = crc32fast::Hasher::new();
    for (i, part) in parts.iter().enumerate() {
        sections[i] = (at, part.len());
        let pad = align8(part.len()) - part.len();
        crc.update(part);
        crc.update(&[0u8; 8][..pad]);
        at += part.len() + pad;
    }
    let file_len = at;
    let mut head = Vec::with_capacity(HEADER);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&VERSION.to_le_bytes());
    head.extend_from_slice(&[
        if wide { 4 } else { 2 },
        pointer_width,
        documents as u8,
        padded as u8,
    ]);
    head.extend_from_slice(&(stream.ids.len() as u64).to_le_bytes());
    head.extend_from_slice(&(stream.starts.len() as u64 - 1).to_le_bytes());
    for (off, len) in sections {
        head.extend_from_slice(&(off as u64).to_le_bytes());
        head.extend_from_slice(&(len as u64).to_le_bytes());
    }
    head.extend_from_slice(&(file_len as u64).to_le_bytes());
    head.extend_from_slice(&crc.finalize().to_le_bytes());
    head.resize(HEADER - 4, 0);
    let head_crc = crc32fast::hash(&head);
    head.extend_from_slice(&head_crc.to_le_bytes());
    let written = binfmt::write_atomic(path, |file| {
        use std::io::Write;
        file.write_all(&head)?;
        for part in parts {
            // Ctrl-C between sections (a section is one write).
            if control.is_cancelled() {
                return Err(std::io::Error::from(std::io::ErrorKind::Interrupted));
            }
            file.write_all(part)?;
            file.write_all(&[0u8; 8][..align8(part.len()) - part.len()])?;
        }
        Ok(())
    });
    control.check()?;
    written
}

fn parse_header(map: &[u8], path: &Path) -> Result<Header> {
    let bad = |m: &str| Error::format(path, m.to_string());
    if map.len() < HEADER || &map[..8] != MAGIC {
        if let Some(e) = crate::binfmt::wrong_kind(path, map, "a corpus index") {
            return Err(e);
        }
        return Err(bad("not a nextword corpus index (bad magic number)"));
    }
    let mut r = Reader::new(&map[8..HEADER], path);
    let version = r.u32()?;
    if version != VERSION {
        return Err(bad(&format!(
            "corpus index format version {version}; this nextword reads version {VERSION}"
        )));
    }
    let stored = u32::from_le_bytes([map[124], map[125], map[126], map[127]]);
    if crc32fast::hash(&map[..HEADER - 4]) != stored {
        return Err(bad("corrupt header (checksum mismatch)"));
    }
    let (token_width, pointer_width, documents, padded) = (r.u8()?, r.u8()?, r.u8()?, r.u8()?);
    let tokens = r.u64()?;
    let docs = r.u64()?;
    let mut sections = [(0usize, 0usize); 4];
    for s in &mut sections {
        let (off, len) = (r.u64()?, r.u64()?);
        *s = (
            usize::try_from(off).unwrap_or(usize::MAX),
            usize::try_from(len).unwrap_or(usize::MAX),
        );
    }
    let file_len = r.u64()?;
    let body_crc = r.u32()?;
    if file_len != map.len() as u64 {
        return Err(bad(&format!(
            "truncated or padded corpus index: header says {file_len} bytes, file holds {}",
            map.len()
        )));
    }
    if !matches!(token_width, 2 | 4) || !(1..=8).contains(&pointer_width) || padded > 1 {
        return Err(bad("bad token or pointer width in the header"));
    }
    let documents = match documents {
        0 => Documents::Lines,
        1 => Documents::Files,
        _ => return Err(bad("bad document unit in the header")),
    };
    let expect = |n: u64, w: u64| n.checked_mul(w).and_then(|b| usize::try_from(b).ok());
    let sizes = [
        None,
        expect(tokens, token_width as u64),
        expect(docs.saturating_add(1), pointer_width as u64).and_then(|b| b.checked_add(8)),
        expect(tokens, pointer_width as u64).and_then(|b| b.checked_add(8)),
    ];
    let mut end = HEADER;
    for (i, &(off, len)) in sections.iter().enumerate() {
        let fits =
            off % 8 == 0 && off >= end && off.checked_add(len).is_some_and(|e| e <= map.len());
        if !fits || sizes[i].is_some_and(|s| s != len) {
            return Err(bad(&format!(
                "section {i} out of bounds or of the wrong size"
            )));
        }
        end = off + len;
    }
    if tokens == 0 || docs == 0 || docs > tokens {
        return Err(bad("an index of no token or no document"));
    }
    Ok(Header {
        token_width,
        pointer_width,
        documents,
        padded: padded == 1,
        tokens,
        docs,
        sections,
        body_crc,
    })
}

/// An open, memory-mapped corpus index.
pub struct CorpusIndex {
    map: memmap2::Mmap,
    path: PathBuf,
    header: Header,
    // Unigram counts, read at open.
    counts: Vec<u64>,
    // The first row of each first token's suffixes, one more for the end:
    // where a search starts (empty when the counts are inconsistent).
    starts: Vec<u64>,
    vocab: OnceLock<std::result::Result<Vocab, String>>,
}

/// The first suffix-array row of each token's suffixes and the end of the
/// last: the prefix sums of the unigram counts, when they add up to the
/// corpus's `tokens` (else empty: a corrupt file then searches every row).
fn first_token_starts(counts: &[u64], tokens: u64) -> Vec<u64> {
    let mut starts = Vec::with_capacity(counts.len() + 1);
    let mut at = 0u64;
    starts.push(0);
    for &c in counts {
        at = at.saturating_add(c);
        starts.push(at);
    }
    if at == tokens {
        starts
    } else {
        Vec::new()
    }
}

impl std::fmt::Debug for CorpusIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CorpusIndex({}, {} tokens)",
            self.path.display(),
            self.header.tokens
        )
    }
}

/// The token stream as mapped: 16 or 32 bits a token.
#[derive(Debug, Clone, Copy)]
pub enum Tokens<'a> {
    /// 16-bit tokens, the separator as `u16::MAX`.
    Narrow(&'a [u16]),
    /// 32-bit tokens, the separator as `u32::MAX`.
    Wide(&'a [u32]),
}

impl CorpusIndex {
    /// Open an index file; `verify` also checks the body's checksum and the
    /// document starts (reads the whole file).
    pub fn open(path: &Path, verify: bool) -> Result<Self> {
        if cfg!(target_endian = "big") {
            return Err(Error::format(path, "corpus index files are little-endian"));
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the mapping is read-only and owned by the index. As with every
        // memory-mapped format, another process truncating the file while it is
        // open is outside what we can guard against.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let header = parse_header(&map, path)?;
        // The vocabulary's layout and counts only: its words and tokenizer are
        // decoded on first use (for a large vocabulary that took most of the
        // time of opening, and queries by ids never need them).
        let (off, len) = header.sections[VOCAB];
        let mut r = Reader::new(&map[off..off + len], path);
        let counts = Vocab::read_counts(&mut r)?;
        r.finish()?;
        let limit = if header.token_width == 2 {
            u16::MAX as usize
        } else {
            SEP as usize - 1
        };
        if counts.len() > limit {
            return Err(Error::format(
                path,
                "vocabulary too large for the token width",
            ));
        }
        let starts = first_token_starts(&counts, header.tokens - header.docs);
        let index = Self {
            map,
            path: path.to_path_buf(),
            header,
            counts,
            starts,
            vocab: OnceLock::new(),
        };
        if verify {
            index.verify()?;
        }
        Ok(index)
    }

    /// Check the body's checksum, that document starts rise from 0 to the
    /// stream's length, and decode the vocabulary.
    pub fn verify(&self) -> Result<()> {
        if crc32fast::hash(&self.map[HEADER..]) != self.header.body_crc {
            return Err(Error::format(
                &self.path,
                "corrupt corpus index (checksum mismatch)",
            ));
        }
        let n = self.starts_len();
        let ok = self.doc_start(0) == Some(0)
            && self.doc_start(n - 1) == Some(self.header.tokens)
            && (1..n).all(|i| self.doc_start(i - 1) < self.doc_start(i));
        if !ok {
            return Err(Error::format(&self.path, "corrupt document starts"));
        }
        self.vocab()?;
        Ok(())
    }

    /// The vocabulary (ids, words, unigram counts, tokenizer), decoded on
    /// first use; a corrupt one is a format error then.
    pub fn vocab(&self) -> Result<&Vocab> {
        let parsed = self.vocab.get_or_init(|| {
            let (off, len) = self.header.sections[VOCAB];
            let mut r = Reader::new(&self.map[off..off + len], &self.path);
            let vocab = Vocab::read(&mut r).and_then(|v| r.finish().map(|()| v));
            vocab.map_err(|e| e.to_string())
        });
        match parsed {
            Ok(v) => Ok(v),
            Err(e) => Err(Error::format(&self.path, e.clone())),
        }
    }

    /// The number of vocabulary entries (known without decoding the words).
    pub fn vocab_len(&self) -> usize {
        self.counts.len()
    }

    /// How often each id occurs in the corpus (the unigram counts).
    pub fn unigram_counts(&self) -> &[u64] {
        &self.counts
    }

    /// The first suffix-array row of each first token's suffixes, and the
    /// end of the last: the prefix sums of the unigram counts (suffixes sort
    /// by their first token, the separator last). Empty when the counts do
    /// not add up to the corpus's tokens (a corrupt file).
    pub fn first_token_starts(&self) -> &[u64] {
        &self.starts
    }

    fn section(&self, i: usize) -> &[u8] {
        let (off, len) = self.header.sections[i];
        &self.map[off..off + len]
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Length of the token stream, separators included.
    pub fn stream_len(&self) -> usize {
        self.header.tokens as usize
    }

    /// Number of documents.
    pub fn documents(&self) -> u64 {
        self.header.docs
    }

    /// What a document is in this index.
    pub fn document_unit(&self) -> Documents {
        self.header.documents
    }

    /// Whether sentences were padded with `<s>` and `</s>`.
    pub fn padded(&self) -> bool {
        self.header.padded
    }

    /// Tokens in the corpus (separators excluded).
    pub fn tokens(&self) -> u64 {
        self.header.tokens - self.header.docs
    }

    /// Bytes per token of the stream (2 or 4).
    pub fn token_width(&self) -> u8 {
        self.header.token_width
    }

    /// Bytes per suffix-array entry.
    pub fn pointer_width(&self) -> u8 {
        self.header.pointer_width
    }

    /// Size of the file in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.map.len() as u64
    }

    /// The token stream.
    pub fn token_array(&self) -> Tokens<'_> {
        let bytes = self.section(TOKENS);
        // The section is 8-aligned in a page-aligned mapping, and its length a
        // multiple of the width (checked at open): the casts cannot fail.
        if self.header.token_width == 2 {
            Tokens::Narrow(bytemuck::try_cast_slice(bytes).unwrap_or(&[]))
        } else {
            Tokens::Wide(bytemuck::try_cast_slice(bytes).unwrap_or(&[]))
        }
    }

    /// The packed suffix array (with its 8 bytes of padding).
    pub fn suffix_bytes(&self) -> &[u8] {
        self.section(SUFFIXES)
    }

    fn starts_len(&self) -> usize {
        self.header.docs as usize + 1
    }

    /// Start of document `i` in the stream (`i == documents()` gives the end).
    pub fn doc_start(&self, i: usize) -> Option<u64> {
        let width = self.header.pointer_width as usize;
        let b = self.section(STARTS).get(i * width..i * width + 8)?;
        let mask = u64::MAX >> (64 - 8 * width as u32);
        Some(u64::from_le_bytes(b.try_into().ok()?) & mask)
    }

    /// The document holding stream position `pos`, its start and its end
    /// (the position of its separator).
    pub fn document_of(&self, pos: u64) -> (u64, u64, u64) {
        let (mut lo, mut hi) = (0usize, self.header.docs as usize);
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if self.doc_start(mid).unwrap_or(u64::MAX) <= pos {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let start = self.doc_start(lo).unwrap_or(0).min(pos);
        let end = self
            .doc_start(lo + 1)
            .unwrap_or(self.header.tokens)
            .saturating_sub(1);
        (lo as u64, start, end.max(pos))
    }
}

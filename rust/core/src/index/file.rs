//! Stage 3: the index file, written atomically as its shards are sorted, and
//! memory-mapped back.
//!
//! An index is one or more shards: runs of whole documents in corpus order,
//! each with its own suffix array. A build within a memory budget cuts the
//! corpus into shards small enough to sort within it (infini-gram's design
//! for corpora larger than memory); a phrase's count is the sum over shards,
//! since no match crosses a document and no document crosses a shard.
//! Positions and document numbers are global: shard `s`'s stream starts
//! where shard `s - 1`'s ends, so the concatenated streams are the stream an
//! unsharded build of the same corpus holds.
//!
//! Layout, version 2 (little-endian): a 128-byte header, then 8-aligned
//! sections: for every shard its token stream (`u16` or `u32` per token, the
//! separator as the type's maximum), its document starts (one per document
//! plus the shard's length, in the shard's pointer width, then 8 bytes of
//! padding), its packed suffix array (see [`super::suffix_array`], with its
//! 8 bytes of padding) and the first suffix-array row of each token's
//! suffixes plus the end (`u64`, one more than the vocabulary); then the
//! vocabulary (with its tokenizer record and the corpus's unigram counts);
//! then the shard table, 64 bytes a shard: tokens, documents, pointer width
//! and the offsets of its four sections (`u64` each, one reserved).
//!
//! Header: magic `NWINDEX\0`, u32 version, u8 token width, u8 pointer width
//! (the widest shard's), u8 document unit, u8 padded; u64 tokens, u64
//! documents, u64 shards; (offset, length) of the vocabulary and of the shard
//! table; u64 file length; u32 CRC-32 of every byte after the header;
//! reserved bytes; u32 CRC-32 of the header before it. Version 1 files (one
//! shard, its sections named in the header, the row table computed from the
//! unigram counts at opening) are still read.
//!
//! Opening checks everything that a query relies on to stay in bounds (magic,
//! version, header checksum, file length, section bounds and sizes, shard
//! sums, the vocabulary's layout and size) and maps the arrays without
//! reading them; it reads the unigram counts (8 bytes a type) but decodes the
//! vocabulary's words only when they are first needed, so it takes
//! milliseconds whatever the corpus size. `verify` also checks the body's
//! checksum, the document starts, the row tables and the words (a pass over
//! the file). Queries read every array through checked accessors, so corrupt
//! contents give wrong answers at worst (or a format error when the words are
//! decoded), never a crash.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::stream::{Documents, TokenStream};
use super::SEP;
use crate::binfmt::{self, Reader};
use crate::control::Control;
use crate::tokenize::Vocab;
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"NWINDEX\0";
/// The format version this build writes.
pub const VERSION: u32 = 2;
/// The oldest version read: 1, a single shard.
const OLDEST: u32 = 1;
const HEADER: usize = 128;
/// Bytes of a shard-table entry.
const ENTRY: usize = 64;

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
    vocab: (usize, usize),
    body_crc: u32,
}

/// Where one shard's arrays lie, checked at opening.
#[derive(Debug, Clone)]
struct ShardMeta {
    tokens: u64,
    docs: u64,
    pointer_width: u8,
    token_offset: u64,
    doc_offset: u64,
    /// (offset, length) of the tokens, document starts and suffix array.
    sections: [(usize, usize); 3],
    /// (offset, length) of the row table; None in version 1 (computed).
    rows: Option<(usize, usize)>,
}

/// How the arrays of an index are laid out.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// What a document is.
    pub documents: Documents,
    /// Whether sentences are padded with `<s>` and `</s>`.
    pub padded: bool,
    /// 32-bit tokens (else 16-bit).
    pub wide: bool,
}

/// Writes an index file section by section, a shard at a time: the header
/// is written last, over the zeros it starts with.
pub struct IndexWriter<'f, W: Write + Seek> {
    out: &'f mut W,
    layout: Layout,
    at: usize,
    crc: crc32fast::Hasher,
    shards: Vec<ShardMeta>,
    tokens: u64,
    docs: u64,
}

/// Tokens converted per write.
const BLOCK: usize = 1 << 16;

impl<'f, W: Write + Seek> IndexWriter<'f, W> {
    /// Start a file in `out` (positioned at its start).
    pub fn new(out: &'f mut W, layout: Layout) -> std::io::Result<Self> {
        if cfg!(target_endian = "big") {
            return Err(std::io::Error::other(
                "corpus index files are little-endian: this machine cannot write them",
            ));
        }
        out.write_all(&[0u8; HEADER])?;
        Ok(Self {
            out,
            layout,
            at: HEADER,
            crc: crc32fast::Hasher::new(),
            shards: Vec::new(),
            tokens: 0,
            docs: 0,
        })
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.crc.update(bytes);
        self.at += bytes.len();
        Ok(())
    }

    /// Pad to 8 bytes; the offset where the next section starts.
    fn align(&mut self) -> std::io::Result<usize> {
        let pad = align8(self.at) - self.at;
        self.put(&[0u8; 8][..pad])?;
        Ok(self.at)
    }

    /// Append a shard: its stream (documents ended by [`SEP`], `starts` one
    /// per document plus the length), its packed suffix array of
    /// `pointer_width` bytes an entry, and its row table. Ctrl-C is seen
    /// between blocks of the write.
    pub fn add_shard(
        &mut self,
        stream: &TokenStream,
        suffixes: &[u8],
        pointer_width: u8,
        rows: &[u64],
        control: &Control,
    ) -> std::io::Result<()> {
        let interrupted = || std::io::Error::from(std::io::ErrorKind::Interrupted);
        let tokens_at = self.align()?;
        let mut buf = Vec::with_capacity(BLOCK * 4);
        for block in stream.ids.chunks(BLOCK) {
            if control.is_cancelled() {
                return Err(interrupted());
            }
            buf.clear();
            if self.layout.wide {
                block.iter().for_each(|t| buf.extend(t.to_le_bytes()));
            } else {
                let narrow = block.iter().map(|&t| super::suffix_array::to_u16(t));
                narrow.for_each(|t| buf.extend(t.to_le_bytes()));
            }
            self.put(&buf)?;
        }
        // Starts are positions: they take the suffix array's width, not 8 bytes
        // (a line-per-document index has a start every dozen tokens).
        let starts_at = self.align()?;
        let width = pointer_width as usize;
        for block in stream.starts.chunks(BLOCK) {
            buf.clear();
            block
                .iter()
                .for_each(|s| buf.extend_from_slice(&s.to_le_bytes()[..width]));
            self.put(&buf)?;
        }
        self.put(&[0u8; 8])?;
        if control.is_cancelled() {
            return Err(interrupted());
        }
        let suffixes_at = self.align()?;
        for block in suffixes.chunks(BLOCK * 8) {
            if control.is_cancelled() {
                return Err(interrupted());
            }
            self.put(block)?;
        }
        let rows_at = self.align()?;
        buf.clear();
        rows.iter().for_each(|r| buf.extend(r.to_le_bytes()));
        self.put(&buf)?;
        let (tokens, docs) = (stream.ids.len() as u64, stream.starts.len() as u64 - 1);
        let tw = if self.layout.wide { 4 } else { 2 };
        self.shards.push(ShardMeta {
            tokens,
            docs,
            pointer_width,
            token_offset: self.tokens,
            doc_offset: self.docs,
            sections: [
                (tokens_at, tokens as usize * tw),
                (starts_at, (docs as usize + 1) * width + 8),
                (suffixes_at, suffixes.len()),
            ],
            rows: Some((rows_at, rows.len() * 8)),
        });
        self.tokens += tokens;
        self.docs += docs;
        Ok(())
    }

    /// Write the vocabulary (with the corpus's unigram counts), the shard
    /// table and the header.
    pub fn finish(mut self, vocab: &Vocab) -> std::io::Result<()> {
        let mut w = binfmt::Writer::new();
        vocab.write(&mut w);
        let vocab_bytes = w.into_bytes();
        let vocab_at = self.align()?;
        self.put(&vocab_bytes)?;
        let table_at = self.align()?;
        let mut table = Vec::with_capacity(self.shards.len() * ENTRY);
        for s in &self.shards {
            let fields = [
                s.tokens,
                s.docs,
                s.pointer_width as u64,
                s.sections[0].0 as u64,
                s.sections[1].0 as u64,
                s.sections[2].0 as u64,
                s.rows.map_or(0, |r| r.0 as u64),
                0,
            ];
            fields.iter().for_each(|f| table.extend(f.to_le_bytes()));
        }
        self.put(&table)?;
        let file_len = self.at;
        let pointer_width = self.shards.iter().map(|s| s.pointer_width).max();
        let mut head = Vec::with_capacity(HEADER);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&VERSION.to_le_bytes());
        head.extend_from_slice(&[
            if self.layout.wide { 4 } else { 2 },
            pointer_width.unwrap_or(1),
            self.layout.documents as u8,
            self.layout.padded as u8,
        ]);
        let fields = [
            self.tokens,
            self.docs,
            self.shards.len() as u64,
            vocab_at as u64,
            vocab_bytes.len() as u64,
            table_at as u64,
            table.len() as u64,
            file_len as u64,
        ];
        fields.iter().for_each(|f| head.extend(f.to_le_bytes()));
        head.extend_from_slice(&self.crc.clone().finalize().to_le_bytes());
        head.resize(HEADER - 4, 0);
        let head_crc = crc32fast::hash(&head);
        head.extend_from_slice(&head_crc.to_le_bytes());
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&head)?;
        self.out.seek(SeekFrom::End(0))?;
        Ok(())
    }
}

/// Whether `(off, len)` is an 8-aligned section past the header, inside a
/// file of `file_len` bytes.
fn fits((off, len): (usize, usize), file_len: usize) -> bool {
    off % 8 == 0 && off >= HEADER && off.checked_add(len).is_some_and(|e| e <= file_len)
}

fn as_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn parse_header(map: &[u8], path: &Path) -> Result<(Header, Vec<ShardMeta>)> {
    let bad = |m: &str| Error::format(path, m.to_string());
    if map.len() < HEADER || &map[..8] != MAGIC {
        if let Some(e) = crate::binfmt::wrong_kind(path, map, "a corpus index") {
            return Err(e);
        }
        return Err(bad("not a nextword corpus index (bad magic number)"));
    }
    let mut r = Reader::new(&map[8..HEADER], path);
    let version = r.u32()?;
    if !(OLDEST..=VERSION).contains(&version) {
        return Err(bad(&format!(
            "corpus index format version {version}; this nextword reads versions {OLDEST} to {VERSION}"
        )));
    }
    let stored = u32::from_le_bytes([map[124], map[125], map[126], map[127]]);
    if crc32fast::hash(&map[..HEADER - 4]) != stored {
        return Err(bad("corrupt header (checksum mismatch)"));
    }
    let (token_width, pointer_width, documents, padded) = (r.u8()?, r.u8()?, r.u8()?, r.u8()?);
    let tokens = r.u64()?;
    let docs = r.u64()?;
    if !matches!(token_width, 2 | 4) || !(1..=8).contains(&pointer_width) || padded > 1 {
        return Err(bad("bad token or pointer width in the header"));
    }
    let documents = match documents {
        0 => Documents::Lines,
        1 => Documents::Files,
        _ => return Err(bad("bad document unit in the header")),
    };
    if tokens == 0 || docs == 0 || docs > tokens {
        return Err(bad("an index of no token or no document"));
    }
    let (vocab, shards, file_len, body_crc) = if version == 1 {
        // One shard: (offset, length) of vocabulary, tokens, starts, suffixes.
        let mut s = [(0usize, 0usize); 4];
        for x in &mut s {
            *x = (as_usize(r.u64()?), as_usize(r.u64()?));
        }
        let (file_len, body_crc) = (r.u64()?, r.u32()?);
        let shard = ShardMeta {
            tokens,
            docs,
            pointer_width,
            token_offset: 0,
            doc_offset: 0,
            sections: [s[1], s[2], s[3]],
            rows: None,
        };
        (s[0], vec![shard], file_len, body_crc)
    } else {
        let count = r.u64()?;
        let vocab = (as_usize(r.u64()?), as_usize(r.u64()?));
        let table = (as_usize(r.u64()?), as_usize(r.u64()?));
        let (file_len, body_crc) = (r.u64()?, r.u32()?);
        if file_len != map.len() as u64
            || !fits(table, map.len())
            || count == 0
            || count > tokens
            || Some(table.1) != as_usize(count).checked_mul(ENTRY)
        {
            return Err(bad("bad shard table in the header"));
        }
        let mut t = Reader::new(&map[table.0..table.0 + table.1], path);
        let mut shards = Vec::with_capacity(as_usize(count));
        let (mut token_offset, mut doc_offset) = (0u64, 0u64);
        for _ in 0..count {
            let (n, d, w) = (t.u64()?, t.u64()?, t.u64()?);
            let offs = [t.u64()?, t.u64()?, t.u64()?, t.u64()?];
            t.u64()?;
            if !(1..=8).contains(&w) || w > pointer_width as u64 || n == 0 || d == 0 || d > n {
                return Err(bad("bad shard in the shard table"));
            }
            shards.push(ShardMeta {
                tokens: n,
                docs: d,
                pointer_width: w as u8,
                token_offset,
                doc_offset,
                sections: [
                    (as_usize(offs[0]), 0),
                    (as_usize(offs[1]), 0),
                    (as_usize(offs[2]), 0),
                ],
                rows: Some((as_usize(offs[3]), 0)),
            });
            token_offset = token_offset.saturating_add(n);
            doc_offset = doc_offset.saturating_add(d);
        }
        if token_offset != tokens || doc_offset != docs {
            return Err(bad(
                "the shards do not add up to the header's tokens and documents",
            ));
        }
        (vocab, shards, file_len, body_crc)
    };
    if file_len != map.len() as u64 {
        return Err(bad(&format!(
            "truncated or padded corpus index: header says {file_len} bytes, file holds {}",
            map.len()
        )));
    }
    if !fits(vocab, map.len()) {
        return Err(bad("vocabulary section out of bounds"));
    }
    let mut shards = shards;
    let expect = |n: u64, w: u64| n.checked_mul(w).and_then(|b| usize::try_from(b).ok());
    for (i, s) in shards.iter_mut().enumerate() {
        let w = s.pointer_width as u64;
        let sizes = [
            expect(s.tokens, token_width as u64),
            expect(s.docs.saturating_add(1), w).and_then(|b| b.checked_add(8)),
            expect(s.tokens, w).and_then(|b| b.checked_add(8)),
        ];
        for (section, size) in s.sections.iter_mut().zip(sizes) {
            let Some(size) = size else {
                return Err(bad(&format!("shard {i}: a section of impossible size")));
            };
            if version == 1 && section.1 != size {
                return Err(bad(&format!(
                    "section of shard {i} out of bounds or of the wrong size"
                )));
            }
            section.1 = size;
            if !fits(*section, map.len()) {
                return Err(bad(&format!("shard {i}: a section out of bounds")));
            }
        }
        if let Some(rows) = &mut s.rows {
            // The vocabulary's size is checked against this once it is read.
            rows.1 = 0;
            if !fits(*rows, map.len()) {
                return Err(bad(&format!("shard {i}: row table out of bounds")));
            }
        }
    }
    let header = Header {
        token_width,
        pointer_width,
        documents,
        padded: padded == 1,
        tokens,
        docs,
        vocab,
        body_crc,
    };
    Ok((header, shards))
}

/// An open, memory-mapped corpus index.
pub struct CorpusIndex {
    map: memmap2::Mmap,
    path: PathBuf,
    header: Header,
    shards: Vec<ShardMeta>,
    // Unigram counts, read at open.
    counts: Vec<u64>,
    // Version 1: the row table, computed from the counts (empty when they are
    // inconsistent).
    computed_rows: Vec<u64>,
    vocab: OnceLock<std::result::Result<Vocab, String>>,
}

/// The first suffix-array row of each token's suffixes and the end of the
/// last: the prefix sums of the unigram counts, when they add up to `tokens`
/// (else empty: a corrupt file then searches every row).
pub fn first_token_starts(counts: &[u64], tokens: u64) -> Vec<u64> {
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
            "CorpusIndex({}, {} tokens, {} shards)",
            self.path.display(),
            self.header.tokens,
            self.shards.len()
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

/// One shard of an open index: a run of whole documents and their suffix
/// array. Its positions and document numbers are its own; add
/// [`Shard::token_offset`] and [`Shard::doc_offset`] for the index's.
#[derive(Clone, Copy)]
pub struct Shard<'a> {
    index: &'a CorpusIndex,
    meta: &'a ShardMeta,
}

impl<'a> Shard<'a> {
    fn section(&self, i: usize) -> &'a [u8] {
        let (off, len) = self.meta.sections[i];
        &self.index.map[off..off + len]
    }

    /// The shard's token stream.
    pub fn token_array(&self) -> Tokens<'a> {
        let bytes = self.section(0);
        // The section is 8-aligned in a page-aligned mapping, and its length a
        // multiple of the width (checked at open): the casts cannot fail.
        if self.index.header.token_width == 2 {
            Tokens::Narrow(bytemuck::try_cast_slice(bytes).unwrap_or(&[]))
        } else {
            Tokens::Wide(bytemuck::try_cast_slice(bytes).unwrap_or(&[]))
        }
    }

    /// The packed suffix array (with its 8 bytes of padding).
    pub fn suffix_bytes(&self) -> &'a [u8] {
        self.section(2)
    }

    /// Bytes per suffix-array entry.
    pub fn pointer_width(&self) -> u8 {
        self.meta.pointer_width
    }

    /// The first suffix-array row of each first token's suffixes, and the
    /// end of the last (suffixes sort by their first token, the separator
    /// last). Empty when unknown (a corrupt version-1 file).
    pub fn first_token_starts(&self) -> &'a [u64] {
        match self.meta.rows {
            Some((off, len)) => {
                bytemuck::try_cast_slice(&self.index.map[off..off + len]).unwrap_or(&[])
            }
            None => &self.index.computed_rows,
        }
    }

    /// Length of the shard's stream, separators included.
    pub fn stream_len(&self) -> usize {
        self.meta.tokens as usize
    }

    /// Number of the shard's documents.
    pub fn documents(&self) -> u64 {
        self.meta.docs
    }

    /// Where the shard's stream starts in the index's.
    pub fn token_offset(&self) -> u64 {
        self.meta.token_offset
    }

    /// The index's number of the shard's first document.
    pub fn doc_offset(&self) -> u64 {
        self.meta.doc_offset
    }

    /// Start of the shard's document `i` in its stream (`i == documents()`
    /// gives the end).
    pub fn doc_start(&self, i: usize) -> Option<u64> {
        let width = self.meta.pointer_width as usize;
        let b = self.section(1).get(i * width..i * width + 8)?;
        let mask = u64::MAX >> (64 - 8 * width as u32);
        Some(u64::from_le_bytes(b.try_into().ok()?) & mask)
    }

    /// The document holding the shard's position `pos`, its start and its end
    /// (the position of its separator), all the shard's own.
    pub fn document_of(&self, pos: u64) -> (u64, u64, u64) {
        let (mut lo, mut hi) = (0usize, self.meta.docs as usize);
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
            .unwrap_or(self.meta.tokens)
            .saturating_sub(1);
        (lo as u64, start, end.max(pos))
    }

    fn verify(&self, vocab_len: usize) -> bool {
        let n = self.meta.docs as usize + 1;
        let starts_ok = self.doc_start(0) == Some(0)
            && self.doc_start(n - 1) == Some(self.meta.tokens)
            && (1..n).all(|i| self.doc_start(i - 1) < self.doc_start(i));
        let rows = self.first_token_starts();
        let rows_ok = self.meta.rows.is_none()
            || (rows.len() == vocab_len + 1
                && rows.first() == Some(&0)
                && rows.last() == Some(&(self.meta.tokens - self.meta.docs))
                && rows.windows(2).all(|w| w[0] <= w[1]));
        starts_ok && rows_ok
    }
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
        let (header, mut shards) = parse_header(&map, path)?;
        // The vocabulary's layout and counts only: its words and tokenizer are
        // decoded on first use (for a large vocabulary that took most of the
        // time of opening, and queries by ids never need them).
        let (off, len) = header.vocab;
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
        for rows in shards.iter_mut().filter_map(|s| s.rows.as_mut()) {
            rows.1 = (counts.len() + 1) * 8;
            if !fits(*rows, map.len()) {
                return Err(Error::format(path, "a shard's row table out of bounds"));
            }
        }
        let computed_rows = match shards.first() {
            Some(s) if s.rows.is_none() => first_token_starts(&counts, s.tokens - s.docs),
            _ => Vec::new(),
        };
        let index = Self {
            map,
            path: path.to_path_buf(),
            header,
            shards,
            counts,
            computed_rows,
            vocab: OnceLock::new(),
        };
        if verify {
            index.verify()?;
        }
        Ok(index)
    }

    /// Check the body's checksum, that every shard's document starts rise
    /// from 0 to its length and its row table from 0 to its tokens, and
    /// decode the vocabulary.
    pub fn verify(&self) -> Result<()> {
        if crc32fast::hash(&self.map[HEADER..]) != self.header.body_crc {
            return Err(Error::format(
                &self.path,
                "corrupt corpus index (checksum mismatch)",
            ));
        }
        let vocab_len = self.vocab_len();
        if let Some(i) = (0..self.shards.len()).find(|&i| !self.shard(i).verify(vocab_len)) {
            return Err(Error::format(
                &self.path,
                format!("corrupt document starts or row table in shard {i}"),
            ));
        }
        self.vocab()?;
        Ok(())
    }

    /// The vocabulary (ids, words, unigram counts, tokenizer), decoded on
    /// first use; a corrupt one is a format error then.
    pub fn vocab(&self) -> Result<&Vocab> {
        let parsed = self.vocab.get_or_init(|| {
            let (off, len) = self.header.vocab;
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

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Shard `i` (panics past the last: `i < shard_count()`).
    pub fn shard(&self, i: usize) -> Shard<'_> {
        Shard {
            index: self,
            meta: &self.shards[i],
        }
    }

    /// Every shard, in corpus order.
    pub fn shards(&self) -> impl Iterator<Item = Shard<'_>> + '_ {
        self.shards
            .iter()
            .map(move |meta| Shard { index: self, meta })
    }

    /// The shard holding the index's position `pos` (the last for a position
    /// past the end).
    pub fn shard_at(&self, pos: u64) -> Shard<'_> {
        let i = self.shards.partition_point(|s| s.token_offset <= pos);
        self.shard(i.saturating_sub(1))
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

    /// Bytes per suffix-array entry (the widest shard's).
    pub fn pointer_width(&self) -> u8 {
        self.header.pointer_width
    }

    /// Size of the file in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.map.len() as u64
    }

    /// The document holding stream position `pos`, its start and its end
    /// (the position of its separator).
    pub fn document_of(&self, pos: u64) -> (u64, u64, u64) {
        let shard = self.shard_at(pos);
        let at = shard.token_offset();
        let (doc, start, end) = shard.document_of(pos.saturating_sub(at));
        (doc + shard.doc_offset(), start + at, end + at)
    }
}

//! The binary model format (`.nwlm`): opened by memory-mapping, in O(1) of
//! the model size, and shared between processes through the page cache.
//!
//! Layout (little-endian): magic `NWLMBIN\0`, version u32, byte-order mark
//! u32, metadata length u64, metadata (estimator, tokenizer, vocabulary, and
//! for every order its sizes and the offset, length and CRC-32 of each
//! array), the CRC-32 of everything so far, then the arrays, each 8-byte
//! aligned. Opening checks magic, version, byte order, the metadata checksum
//! and that every array lies inside the file; the arrays' own checksums are
//! checked too unless the caller skips it for speed on very large files.
//! Queries bounds-check every index they read, so a corrupt array gives wrong
//! numbers at worst, never a crash.
//!
//! Version 6 holds the tokenizer as a [`crate::tokenize::TokenizerRecord`];
//! version 5 held its spec string, and is still read (and written by
//! [`save_version`] for the test that proves it).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use super::array::Array;
use super::level::Level;
use super::model::{NGramModel, Remainder};
use crate::binfmt::{Reader, Writer};
use crate::tokenize::record::{read_legacy_spec, read_tokenizer};
use crate::tokenize::Vocab;
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"NWLMBIN\0";
const VERSION: u32 = 6;
/// The oldest version read: 5, with the tokenizer's spec string.
const OLDEST: u32 = 5;
const BYTE_ORDER: u32 = 0x0102_0304;
const HEAD: usize = 24;

fn align8(x: usize) -> usize {
    x.div_ceil(8) * 8
}

/// Whether `bytes` start like a binary model file.
pub fn is_binary_model(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

struct Section<'a> {
    bytes: &'a [u8],
    len: usize,
}

fn section<T: bytemuck::Pod>(v: &[T]) -> Section<'_> {
    Section {
        bytes: bytemuck::cast_slice(v),
        len: v.len(),
    }
}

fn sections(level: &Level) -> [Section<'_>; 8] {
    let (s32, f32s) = (section::<u32>, section::<f32>);
    [
        s32(&level.keys),
        f32s(&level.logprob),
        f32s(&level.backoff),
        section::<[u32; 5]>(level.index()),
        s32(&level.child_start),
        s32(&level.child_end),
        s32(&level.by_prob),
        f32s(&level.cum),
    ]
}

fn metadata(model: &NGramModel, offsets: &[[(u64, u64, u32); 8]], version: u32) -> Vec<u8> {
    let mut w = Writer::new();
    w.str(&model.smoothing);
    w.u8(model.normalized as u8);
    match model.remainder {
        Remainder::LowerOrder { unseen_context } => {
            w.u8(0);
            w.u32(unseen_context.to_bits());
            w.u32(0);
        }
        Remainder::Uniform {
            unseen_unigram,
            uniform,
        } => {
            w.u8(1);
            w.u32(unseen_unigram.to_bits());
            w.u32(uniform.to_bits());
        }
    }
    if version == OLDEST {
        w.str(&model.vocab.tokenizer().spec());
    } else {
        model.vocab.tokenizer().to_record().write(&mut w);
    }
    w.u64(model.vocab.len() as u64);
    for (word, count) in model.vocab.words().iter().zip(model.vocab.counts()) {
        w.str(word);
        w.u64(*count);
    }
    w.u64(model.warnings.len() as u64);
    for warning in &model.warnings {
        w.str(warning);
    }
    w.u64(model.order() as u64);
    for (k, level) in model.levels.iter().enumerate() {
        w.u64(level.n as u64);
        let d = model.discounts.get(k).copied().unwrap_or([0.0; 3]);
        for x in d {
            w.u32(x.to_bits());
        }
        for &(offset, len, crc) in &offsets[k] {
            w.u64(offset);
            w.u64(len);
            w.u32(crc);
        }
    }
    w.into_bytes()
}

/// Write `model` to `path` in the binary format (atomically).
pub fn save(model: &NGramModel, path: &Path) -> Result<()> {
    save_version(model, path, VERSION)
}

/// Write `model` in format `version` (5 or 6): the previous version stays
/// writable so tests can prove it stays readable.
pub fn save_version(model: &NGramModel, path: &Path, version: u32) -> Result<()> {
    if !(OLDEST..=VERSION).contains(&version) {
        return Err(Error::InvalidArgument(format!(
            "binary model format version {version}: versions {OLDEST} to {VERSION} exist"
        )));
    }
    let zero = vec![[(0u64, 0u64, 0u32); 8]; model.order()];
    let meta_len = metadata(model, &zero, version).len();
    let mut pos = align8(HEAD + meta_len + 4);
    let mut offsets = Vec::with_capacity(model.order());
    for level in &model.levels {
        let mut entry = [(0u64, 0u64, 0u32); 8];
        for (slot, sec) in entry.iter_mut().zip(sections(level)) {
            *slot = (pos as u64, sec.len as u64, crc32fast::hash(sec.bytes));
            pos = align8(pos + sec.bytes.len());
        }
        offsets.push(entry);
    }
    let meta = metadata(model, &offsets, version);
    crate::binfmt::write_atomic(path, |out| {
        let mut head = Vec::with_capacity(HEAD + meta.len());
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&version.to_le_bytes());
        head.extend_from_slice(&BYTE_ORDER.to_le_bytes());
        head.extend_from_slice(&(meta.len() as u64).to_le_bytes());
        head.extend_from_slice(&meta);
        let crc = crc32fast::hash(&head);
        out.write_all(&head)?;
        out.write_all(&crc.to_le_bytes())?;
        let mut written = head.len() + 4;
        for level in &model.levels {
            for sec in sections(level) {
                let at = align8(written);
                out.write_all(&vec![0u8; at - written])?;
                out.write_all(sec.bytes)?;
                written = at + sec.bytes.len();
            }
        }
        Ok(())
    })
}

/// Open a binary model. `verify` checks every array's CRC-32 (about 0.1 s per GB).
pub fn load(path: &Path, verify: bool) -> Result<NGramModel> {
    if cfg!(target_endian = "big") {
        return Err(Error::format(
            path,
            "binary models are little-endian; use the ARPA file on this machine",
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    // SAFETY: the mapping is read-only and never outlives its Arc. As with every
    // memory-mapped format, another process truncating the file while it is
    // open is outside what we can guard against.
    let map = Arc::new(unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?);
    let bad = |m: &str| Error::format(path, m.to_string());
    if map.len() < HEAD + 4 || !is_binary_model(&map) {
        return Err(bad("not a nextword binary model (bad magic number)"));
    }
    let word = |at: usize| u32::from_le_bytes([map[at], map[at + 1], map[at + 2], map[at + 3]]);
    let version = word(8);
    if !(OLDEST..=VERSION).contains(&version) {
        return Err(bad(&format!(
            "model format version {version}; this nextword reads versions {OLDEST} to {VERSION}"
        )));
    }
    if word(12) != BYTE_ORDER {
        return Err(bad("byte order mark mismatch"));
    }
    let meta_len = u64::from_le_bytes(map[16..24].try_into().unwrap_or_default());
    let meta_end = (HEAD as u64).saturating_add(meta_len);
    if meta_end.saturating_add(4) > map.len() as u64 {
        return Err(bad("truncated model file (metadata runs past the end)"));
    }
    let meta_end = meta_end as usize;
    if crc32fast::hash(&map[..meta_end]) != word(meta_end) {
        return Err(bad("model file is corrupt (metadata checksum mismatch)"));
    }
    let mut r = Reader::new(&map[HEAD..meta_end], path);
    let smoothing = r.str()?.to_string();
    let normalized = r.u8()? != 0;
    let kind = r.u8()?;
    let (a, b) = (f32::from_bits(r.u32()?), f32::from_bits(r.u32()?));
    let remainder = match kind {
        0 => Remainder::LowerOrder { unseen_context: a },
        1 => Remainder::Uniform {
            unseen_unigram: a,
            uniform: b,
        },
        _ => return Err(r.error("unknown remainder kind")),
    };
    let tokenizer = if version == OLDEST {
        read_legacy_spec(&mut r)?
    } else {
        read_tokenizer(&mut r)?
    };
    let nwords = r.len(16)?;
    let mut vocab = Vocab::new(tokenizer);
    for i in 0..nwords {
        let w = r.str()?;
        let c = r.u64()?;
        // Ids are positions: <unk>, <s>, </s> first, then each word once.
        if vocab.add(w, c) as usize != i {
            return Err(r.error("vocabulary out of order or with a duplicate word"));
        }
    }
    if nwords < 3 {
        return Err(r.error("vocabulary lacks <unk>, <s>, </s>"));
    }
    let nwarnings = r.len(8)?;
    let mut warnings = Vec::with_capacity(nwarnings);
    for _ in 0..nwarnings {
        warnings.push(r.str()?.to_string());
    }
    let order = r.len(12 + 8 * 20)?;
    let mut levels = Vec::with_capacity(order);
    let mut discounts = Vec::with_capacity(order);
    for k in 0..order {
        let n = r.u64()? as usize;
        if n != k + 1 {
            return Err(r.error(format!("order {} is stored as order {n}", k + 1)));
        }
        discounts.push([
            f32::from_bits(r.u32()?),
            f32::from_bits(r.u32()?),
            f32::from_bits(r.u32()?),
        ]);
        let mut spans = [(0usize, 0usize, 0u32); 8];
        for span in spans.iter_mut() {
            *span = (r.u64()? as usize, r.u64()? as usize, r.u32()?);
        }
        macro_rules! array {
            ($i:expr) => {{
                let (offset, len, crc) = spans[$i];
                let a = Array::mapped(&map, offset, len).ok_or_else(|| {
                    bad(&format!(
                        "order {n}: array {} lies outside the file (truncated?)",
                        $i
                    ))
                })?;
                if verify {
                    let bytes: &[u8] = bytemuck::cast_slice(&a[..]);
                    if crc32fast::hash(bytes) != crc {
                        return Err(bad(&format!(
                            "model file is corrupt (order {n}, array {} checksum mismatch)",
                            $i
                        )));
                    }
                }
                a
            }};
        }
        let level = Level::from_arrays(
            n,
            array!(0),
            array!(1),
            array!(2),
            array!(3),
            array!(4),
            array!(5),
            array!(6),
            array!(7),
        )
        .map_err(|e| bad(&e))?;
        levels.push(level);
    }
    r.finish()?;
    if levels.is_empty() {
        return Err(bad("model has no orders"));
    }
    let mut model = NGramModel::from_linked(vocab, levels, remainder, &smoothing, normalized);
    model.discounts = if smoothing == "kneser-ney" {
        discounts
    } else {
        Vec::new()
    };
    model.warnings = warnings;
    Ok(model)
}

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
//! Version 7 adds a layout byte after the order count: 0 for the hash layout
//! (the arrays above), 1 for the trie ([`super::trie`]: per order its size,
//! the widths of its packed arrays and how its values are stored, then eight
//! arrays, see `trie_sections`). Version 6 holds the tokenizer as a
//! [`crate::tokenize::TokenizerRecord`]; version 5 held its spec string. Both
//! are still read (and written by [`save_version`] for the test that proves it).
//! Version 8 adds to each trie order the rankings of its long sibling ranges
//! ([`super::ranking`]): two u32 in its metadata (`stored_from`,
//! `cum_every`) and three arrays (directory, permutations, running sums).
//! Version 7 tries are still read; their queries sort every range.
//! Version 9 adds layout 2, what the hash layout is now written as: the exact
//! trie of version 8 whose orders 2 and up keep, instead of their values, the
//! number of a record in a hash table holding them ([`super::slots`]: the
//! table's size, record width and seed in the order's metadata, its records
//! as one more array). Scoring probes the tables by n-gram hash, as layout 0
//! did, at a third of its size (Gutenberg 5-gram: 2.3 GB against 7.29 GB;
//! KenLM's probing binary is 2.40 GB). Layout 0 is still read, and still
//! written for models the trie cannot hold (n-grams whose context is
//! missing). Tries are still written as version 8.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::array::Array;
use super::binary_trie::{trie_arrays, trie_level_meta, trie_sections, TrieShape, HASHED_VERSION};
use super::level::Level;
use super::model::{NGramModel, Remainder};
use super::trie::Trie;
use crate::binfmt::{Reader, Writer};
use crate::control::Control;
use crate::tokenize::record::{read_legacy_spec, read_tokenizer};
use crate::tokenize::Vocab;
use crate::{Error, Result};

const MAGIC: &[u8; 8] = b"NWLMBIN\0";
const VERSION: u32 = HASHED_VERSION;
/// The version layout 0 (sorted keys and a hash index per order) is written
/// in: later versions changed only the others, so such files stay readable by
/// the nextword releases that read version 7.
const LEVELS_VERSION: u32 = 7;
/// The version tries are written in (version 9 only added layout 2).
const TRIE_VERSION: u32 = 8;
/// The oldest version read: 5, with the tokenizer's spec string.
const OLDEST: u32 = 5;
const BYTE_ORDER: u32 = 0x0102_0304;
const HEAD: usize = 24;

fn align8(x: usize) -> usize {
    x.div_ceil(8) * 8
}

/// How a binary model file holds its n-grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Sorted keys and a hash index per order: the fastest to query.
    #[default]
    Hash,
    /// A sorted trie with bit-packed ids and pointers, values optionally
    /// quantized to this many bits (1..=16): the smallest.
    Trie {
        /// Bits per probability and backoff of orders 2 and up (None: exact).
        quantize: Option<u8>,
    },
}

impl Layout {
    /// The layout named `name` (`hash` or `trie`), quantized to `quantize` bits.
    pub fn parse(name: &str, quantize: Option<i64>) -> Result<Self> {
        let quantize = match quantize {
            Some(q) => {
                let bits = u8::try_from(q).unwrap_or(0);
                super::quantize::check_bits(bits).map_err(|_| {
                    Error::InvalidArgument(format!(
                        "quantize must be a number of bits in 1..={}, not {q}",
                        super::quantize::MAX_BITS
                    ))
                })?;
                Some(bits)
            }
            None => None,
        };
        match name {
            "hash" if quantize.is_some() => Err(Error::InvalidArgument(
                "quantize needs layout=\"trie\" (the hash layout stores exact values)".into(),
            )),
            "hash" => Ok(Layout::Hash),
            "trie" => Ok(Layout::Trie { quantize }),
            other => Err(Error::InvalidArgument(format!(
                "layout must be \"hash\" or \"trie\", not {other:?}"
            ))),
        }
    }
}

/// Whether `bytes` start like a binary model file.
pub fn is_binary_model(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

pub(super) struct Section<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) len: usize,
}

pub(super) fn section<T: bytemuck::Pod>(v: &[T]) -> Section<'_> {
    Section {
        bytes: bytemuck::cast_slice(v),
        len: v.len(),
    }
}

fn sections(level: &Level) -> Vec<Section<'_>> {
    let (s32, f32s) = (section::<u32>, section::<f32>);
    vec![
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

/// How many arrays an order of the hash layout has (the trie's: `trie_arrays`).
const HASH_ARRAYS: usize = 8;

fn metadata(
    model: &NGramModel,
    trie: Option<&Trie>,
    offsets: &[Vec<(u64, u64, u32)>],
    version: u32,
) -> Vec<u8> {
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
    w.u64(offsets.len() as u64);
    if version >= 7 {
        w.u8(match trie {
            None => 0,
            Some(t) if t.hashed => 2,
            Some(_) => 1,
        });
    }
    for k in 0..offsets.len() {
        w.u64(k as u64 + 1);
        let d = model.discounts.get(k).copied().unwrap_or([0.0; 3]);
        for x in d {
            w.u32(x.to_bits());
        }
        if let Some(t) = trie {
            trie_level_meta(&mut w, &t.levels[k], version);
        }
        for &(offset, len, crc) in &offsets[k] {
            w.u64(offset);
            w.u64(len);
            w.u32(crc);
        }
    }
    w.into_bytes()
}

/// Write `model` to `path` in the binary format (atomically), hash layout.
pub fn save(model: &NGramModel, path: &Path) -> Result<()> {
    save_layout(model, path, Layout::Hash)
}

/// Write `model` to `path` in the binary format with `layout` (atomically).
pub fn save_layout(model: &NGramModel, path: &Path, layout: Layout) -> Result<()> {
    save_layout_with(model, path, layout, &Control::new())
}

/// [`save_layout`], reporting the megabytes written to `control` and
/// stopping once it is cancelled (no file is left behind then).
pub fn save_layout_with(
    model: &NGramModel,
    path: &Path,
    layout: Layout,
    control: &Control,
) -> Result<()> {
    match layout {
        Layout::Hash => save_hashed(model, path, control),
        Layout::Trie { quantize } => {
            let stored_from = super::ranking::STORED_FROM;
            save_trie(model, path, quantize, stored_from, TRIE_VERSION, control)
        }
    }
}

/// Write `model` in the hash layout: layout 2 (a trie with its values in
/// hash tables), or layout 0 for a model the trie cannot hold (an n-gram
/// whose context is missing, as a hand-written ARPA file can have).
fn save_hashed(model: &NGramModel, path: &Path, control: &Control) -> Result<()> {
    if let Some(t) = model.trie.as_ref().filter(|t| t.hashed) {
        return write_trie(model, t, path, HASHED_VERSION, control);
    }
    control.set_stage("building the trie");
    let levels = model.hash_layout();
    let stored_from = super::ranking::STORED_FROM;
    let Ok(trie) = Trie::hashed_from_levels(&levels.levels, stored_from) else {
        let all: Vec<Vec<Section<'_>>> = levels.levels.iter().map(sections).collect();
        return write_file(&levels, None, all, path, LEVELS_VERSION, control);
    };
    control.check()?;
    let mut trace = super::kneser_ney::stream::Trace::new();
    write_trie(model, &trie, path, HASHED_VERSION, control)?;
    trace.lap("writing the model");
    Ok(())
}

/// Write `trie` (the n-grams of `model`) in format `version`.
fn write_trie(
    model: &NGramModel,
    trie: &Trie,
    path: &Path,
    version: u32,
    control: &Control,
) -> Result<()> {
    control.set_stage("writing the model");
    let sections: Vec<Vec<Section<'_>>> = trie
        .levels
        .iter()
        .map(|l| trie_sections(l, version))
        .collect();
    write_file(model, Some(trie), sections, path, version, control)
}

/// Write `model` as a trie in format `version` (7 or later), storing the
/// rankings of sibling ranges of at least `stored_from` entries (version 8 on).
pub(crate) fn save_trie(
    model: &NGramModel,
    path: &Path,
    quantize: Option<u8>,
    stored_from: usize,
    version: u32,
    control: &Control,
) -> Result<()> {
    if !(7..=TRIE_VERSION).contains(&version) {
        return Err(Error::InvalidArgument(format!(
            "the trie layout is written in format versions 7 to {TRIE_VERSION}, not {version}"
        )));
    }
    control.set_stage("building the trie");
    let hashed = model.hash_layout();
    let trie = Trie::from_levels_ranked(&hashed.levels, quantize, stored_from)?;
    control.check()?;
    write_trie(model, &trie, path, version, control)
}

/// Write `model` in format `version` (5 or 6): the previous version stays
/// writable so tests can prove it stays readable.
pub fn save_version(model: &NGramModel, path: &Path, version: u32) -> Result<()> {
    if !(OLDEST..=LEVELS_VERSION).contains(&version) {
        return Err(Error::InvalidArgument(format!(
            "binary model format version {version}: layout 0 is written in versions {OLDEST} to {LEVELS_VERSION}"
        )));
    }
    let hashed = model.hash_layout();
    let all: Vec<Vec<Section<'_>>> = hashed.levels.iter().map(sections).collect();
    write_file(&hashed, None, all, path, version, &Control::new())
}

/// Arrays are written in pieces of this many bytes, with the progress and
/// the cancel flag looked at between them.
const WRITE_PIECE: usize = 4 << 20;

/// Write the header, metadata and every order's arrays (megabytes counted
/// to `control`, which can stop the write).
fn write_file(
    model: &NGramModel,
    trie: Option<&Trie>,
    all: Vec<Vec<Section<'_>>>,
    path: &Path,
    version: u32,
    control: &Control,
) -> Result<()> {
    let zero: Vec<Vec<(u64, u64, u32)>> = all.iter().map(|l| vec![(0, 0, 0); l.len()]).collect();
    let meta_len = metadata(model, trie, &zero, version).len();
    let mut pos = align8(HEAD + meta_len + 4);
    let mut offsets = Vec::with_capacity(all.len());
    for level in &all {
        let mut entry = vec![(0u64, 0u64, 0u32); level.len()];
        for (slot, sec) in entry.iter_mut().zip(level) {
            *slot = (pos as u64, sec.len as u64, crc32fast::hash(sec.bytes));
            pos = align8(pos + sec.bytes.len());
        }
        offsets.push(entry);
    }
    let meta = metadata(model, trie, &offsets, version);
    let megabytes = pos.div_ceil(1_000_000) as u64;
    control.start_steps(megabytes, "MB");
    crate::binfmt::write_atomic_unless_cancelled(path, control, |out| {
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
        for level in &all {
            for sec in level {
                let at = align8(written);
                out.write_all(&vec![0u8; at - written])?;
                written = at;
                for piece in sec.bytes.chunks(WRITE_PIECE) {
                    if control.is_cancelled() {
                        return Err(std::io::ErrorKind::Interrupted.into());
                    }
                    out.write_all(piece)?;
                    written += piece.len();
                    let done = written.div_ceil(1_000_000) as u64;
                    control.steps_done.store(done, Ordering::Relaxed);
                }
            }
        }
        control.steps_done.store(megabytes, Ordering::Relaxed);
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
            "model format version {version}; this nextword reads versions {OLDEST} to {VERSION}: \
             re-save the model (from its ARPA file, or with the nextword that wrote it) in this version"
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
    let (is_trie, hashed) = match (version >= 7).then(|| r.u8()).transpose()? {
        None | Some(0) => (false, false),
        Some(1) => (true, false),
        Some(2) if version >= HASHED_VERSION => (true, true),
        Some(other) => return Err(r.error(format!("unknown layout {other}"))),
    };
    let mut levels = Vec::with_capacity(order);
    let mut trie = Trie::default();
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
        let shape = if is_trie {
            Some(TrieShape::read(&mut r, version)?)
        } else {
            None
        };
        let mut spans = [(0usize, 0usize, 0u32); 13];
        let spans = &mut spans[..if is_trie {
            trie_arrays(version)
        } else {
            HASH_ARRAYS
        }];
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
        if let Some(shape) = shape {
            let level = shape
                .build(
                    k == 0,
                    k + 1 == order,
                    array!(0),
                    array!(1),
                    array!(2),
                    array!(3),
                    array!(4),
                    array!(5),
                    array!(6),
                    array!(7),
                    array!(8),
                    if spans.len() > 9 {
                        Some((array!(9), array!(10), array!(11)))
                    } else {
                        None
                    },
                    if spans.len() > 12 {
                        array!(12)
                    } else {
                        Array::default()
                    },
                )
                .map_err(|e| bad(&format!("order {n}: {e}")))?;
            if k > 0 && hashed != level.slots.is_some() {
                return Err(bad(&format!(
                    "order {n}: layout {} with{} a slot table",
                    if hashed { 2 } else { 1 },
                    if hashed { "out" } else { "" }
                )));
            }
            trie.levels.push(level);
            continue;
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
    trie.hashed = hashed;
    if order == 0 {
        return Err(bad("model has no orders"));
    }
    let mut model = if is_trie {
        if verify {
            trie.validate()
                .map_err(|e| bad(&format!("model file is corrupt ({e})")))?;
        }
        NGramModel::from_trie(vocab, trie, remainder, &smoothing, normalized)
    } else {
        NGramModel::from_linked(vocab, levels, remainder, &smoothing, normalized)
    };
    model.discounts = if smoothing == "kneser-ney" {
        discounts
    } else {
        Vec::new()
    };
    model.warnings = warnings;
    Ok(model)
}

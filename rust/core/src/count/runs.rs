//! Sorted runs on disk and their k-way merge: the external sort behind
//! counting and Kneser-Ney estimation within a memory budget.
//!
//! A record is `k` ids and one u64 value. Records are compared by their ids
//! as stored, lexicographically: a caller that wants another order (lmplz's
//! suffix order, its context order) stores the ids permuted, so one plain
//! comparison serves every stage. A [`Sorter`] gathers records in a buffer of
//! bounded size; a full buffer is sorted in parallel and written as a run;
//! [`Sorter::finish`] merges the runs and the last
//! buffer into one sorted stream, optionally summing the values of equal keys
//! (counts from several runs). Files live in a [`Spill`] directory that is
//! removed when it is dropped: on success, on error and on Ctrl-C alike.
//!
//! Runs are compressed with a codec made for sorted records (front coding):
//! each record stores how many leading ids it shares with the one before,
//! then the other ids and the value as prefix varints (the length in the
//! first byte's trailing zeros). Sorted n-grams share long prefixes and ids
//! are small (frequent words come first), so a 5-gram record of 28 bytes
//! takes about 6; encoding and decoding are a few instructions per value,
//! where a general compressor (zstd level 1 was used first) cost a quarter
//! of the pipeline's CPU time.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

use super::sorted::{Packed, Wide};
use super::table::MAX_ORDER;
use crate::{Error, Result};

/// Hand memory freed by a stage just ended back to the system. glibc keeps
/// freed blocks in its arenas (the counting tables are many blocks of up to a
/// few MB, below its mmap threshold), so without this the resident size after
/// a stage stays at the stage's peak and the next stage's memory comes on top:
/// the budget would be exceeded by that much.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the allocator's arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The process's resident memory in bytes, where the system says (Linux),
/// less what the allocator's pool holds (freed blocks kept for reuse: free
/// for the next tables, see [`crate::alloc`]).
pub fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let resident = pages * usize::try_from(page).ok()?;
    Some(resident.saturating_sub(crate::alloc::pooled_bytes()))
}

/// What of a budget of `memory` bytes the next stage's tables and buffers may
/// plan for: what is not yet resident (the vocabulary, the interpreter, what
/// earlier stages keep), less a fifth for what planning does not see (the
/// allocator's slack, merge buffers, thread stacks: measured, see
/// docs/scaling.md), and at least a quarter of the budget.
pub fn unused_budget(memory: usize) -> usize {
    let used = resident_bytes().unwrap_or(0);
    (memory.saturating_sub(used) / 5 * 4).max(memory / 4)
}

/// A temporary directory for runs, removed with everything in it on drop.
pub struct Spill {
    dir: tempfile::TempDir,
    parent: PathBuf,
    next: AtomicU64,
    written: AtomicU64,
}

impl Spill {
    /// A fresh directory inside `parent` (the system's temporary directory
    /// when None).
    pub fn new(parent: Option<&Path>) -> Result<Arc<Self>> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let dir = tempfile::Builder::new()
            .prefix("nextword-")
            .tempdir_in(&parent)
            .map_err(|e| spill_error(&parent, e))?;
        Ok(Arc::new(Self {
            dir,
            parent,
            next: AtomicU64::new(0),
            written: AtomicU64::new(0),
        }))
    }

    /// A new file name in the directory.
    pub fn file(&self, what: &str) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.dir.path().join(format!("{what}-{n}"))
    }

    /// The directory the spill lives in (as given by the user).
    pub fn parent(&self) -> &Path {
        &self.parent
    }

    /// Bytes written to temporary files so far (compressed).
    pub fn bytes_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// The error of a failed write or read of a temporary file: names the
    /// directory (a full disk is the usual cause) and the option that moves it.
    pub fn error(&self, e: std::io::Error) -> Error {
        spill_error(&self.parent, e)
    }
}

fn spill_error(dir: &Path, e: std::io::Error) -> Error {
    let hint = if e.raw_os_error() == Some(libc::ENOSPC) {
        " (the disk is full: free space there or choose another with --temp-dir / temp_dir=)"
    } else {
        ""
    };
    Error::Io {
        path: dir.to_path_buf(),
        source: std::io::Error::new(
            e.kind(),
            format!("temporary files of the memory-bounded pipeline: {e}{hint}"),
        ),
    }
}

/// Bytes of a run file's buffer, for reading and for writing.
const IO_BUFFER: usize = 1 << 18;

/// The longest encoding of one record: the shared-prefix byte, `MAX_ORDER`
/// ids of at most 5 bytes and a value of at most 9 (a varint's long form),
/// and 7 bytes of room for the 8-byte store of the last varint.
const MAX_RECORD: usize = 1 + 5 * MAX_ORDER + 9 + 7;

/// Append `v` as a prefix varint: a value of at most 7n bits (n <= 8) takes
/// n bytes, the first of which has its lowest set bit at n - 1, the value in
/// the bits above; larger values take a zero byte and 8 bytes. Written with
/// one 8-byte store cut back to its length (the writer keeps room for it).
#[inline]
fn put_varint(out: &mut Vec<u8>, v: u64) {
    if v < 1 << 56 {
        let n = (64 - (v | 1).leading_zeros()).div_ceil(7);
        let word = (v << n) | (1 << (n - 1));
        let end = out.len() + n as usize;
        out.extend_from_slice(&word.to_le_bytes());
        out.truncate(end);
        return;
    }
    out.push(0);
    out.extend_from_slice(&v.to_le_bytes());
}

/// Decode a varint at `*at` in `buf`; None when it runs past the end (a
/// damaged file). The length is in the first byte, so a value of up to 8
/// bytes decodes from one load, a count of trailing zeros and two shifts.
#[inline]
fn get_varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let rest = buf.get(*at..)?;
    let first = *rest.first()?;
    if first == 0 {
        let bytes = rest.get(1..9)?;
        *at += 9;
        return Some(u64::from_le_bytes(bytes.try_into().ok()?));
    }
    let n = first.trailing_zeros() + 1;
    let x = match rest.first_chunk::<8>() {
        Some(word) => u64::from_le_bytes(*word),
        None => {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(word)
        }
    };
    if n as usize > rest.len() {
        return None;
    }
    *at += n as usize;
    Some((x << (64 - 8 * n)) >> (64 - 7 * n))
}

/// How a run stores its records' values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// Prefix varints: counts, mostly small.
    Varint,
    /// The low 32 bits as 4 bytes (an f32's bits: a varint would take 5).
    Bits32,
    /// 8 bytes (two f32s' bits: a varint would take 9 or 10).
    Bits64,
}

impl Values {
    #[inline]
    fn put(self, out: &mut Vec<u8>, v: u64) {
        match self {
            Values::Varint => put_varint(out, v),
            Values::Bits32 => out.extend_from_slice(&(v as u32).to_le_bytes()),
            Values::Bits64 => out.extend_from_slice(&v.to_le_bytes()),
        }
    }

    #[inline]
    fn get(self, buf: &[u8], at: &mut usize) -> Option<u64> {
        match self {
            Values::Varint => get_varint(buf, at),
            Values::Bits32 => {
                let bytes = buf.get(*at..)?.first_chunk::<4>()?;
                *at += 4;
                Some(u64::from(u32::from_le_bytes(*bytes)))
            }
            Values::Bits64 => {
                let bytes = buf.get(*at..)?.first_chunk::<8>()?;
                *at += 8;
                Some(u64::from_le_bytes(*bytes))
            }
        }
    }
}

/// Writes records to a file, front-coded (see the module's note).
pub struct RunWriter {
    file: File,
    buf: Vec<u8>,
    prev: [u32; MAX_ORDER],
    k: usize,
    values: Values,
    records: u64,
    bytes: u64,
    /// Every id written, or-ed together: bounds the bits an id needs.
    ids: u32,
    path: PathBuf,
    spill: Arc<Spill>,
}

impl RunWriter {
    /// A new run of `k`-id records in `spill`, named after `what`, values
    /// stored as varints.
    pub fn create(spill: &Arc<Spill>, what: &str, k: usize) -> Result<Self> {
        Self::create_with(spill, what, k, Values::Varint)
    }

    /// [`RunWriter::create`] with values stored as `values` says.
    pub fn create_with(spill: &Arc<Spill>, what: &str, k: usize, values: Values) -> Result<Self> {
        let path = spill.file(what);
        let file = File::create(&path).map_err(|e| spill.error(e))?;
        Ok(Self {
            file,
            buf: Vec::with_capacity(IO_BUFFER),
            prev: [0; MAX_ORDER],
            k,
            values,
            records: 0,
            bytes: 0,
            ids: 0,
            path,
            spill: spill.clone(),
        })
    }

    /// Append one record.
    #[inline]
    pub fn push(&mut self, key: &[u32], value: u64) -> Result<()> {
        debug_assert_eq!(key.len(), self.k);
        // The first record shares nothing: its prefix count is 0 whatever `prev` holds.
        let shared = if self.records == 0 {
            0
        } else {
            key.iter()
                .zip(&self.prev)
                .take_while(|(a, b)| a == b)
                .count()
        };
        self.buf.push(shared as u8);
        for &id in &key[shared..] {
            self.ids |= id;
            put_varint(&mut self.buf, u64::from(id));
        }
        self.values.put(&mut self.buf, value);
        self.prev[..key.len()].copy_from_slice(key);
        self.records += 1;
        if self.buf.len() + MAX_RECORD > IO_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.file
            .write_all(&self.buf)
            .map_err(|e| self.spill.error(e))?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Finish the file; returns the run.
    pub fn finish(mut self) -> Result<Run> {
        self.flush()?;
        self.spill.written.fetch_add(self.bytes, Ordering::Relaxed);
        Ok(Run {
            path: self.path,
            k: self.k,
            values: self.values,
            records: self.records,
            bits: id_bits(self.ids),
            spill: self.spill,
        })
    }
}

/// A finished file of records (sorted or not, as its writer made it).
pub struct Run {
    path: PathBuf,
    k: usize,
    values: Values,
    records: u64,
    /// Bits enough for every id in it.
    bits: u32,
    spill: Arc<Spill>,
}

/// Bits that hold every id of which `ids` is the bitwise or (at least 1).
fn id_bits(ids: u32) -> u32 {
    (u32::BITS - ids.leading_zeros()).max(1)
}

impl Run {
    /// Number of records.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Read it from the start.
    pub fn reader(&self) -> Result<RunReader> {
        let file = File::open(&self.path).map_err(|e| self.spill.error(e))?;
        Ok(RunReader {
            file,
            buf: vec![0; IO_BUFFER],
            at: 0,
            end: 0,
            eof: false,
            k: self.k,
            values: self.values,
            left: self.records,
            bits: self.bits,
            key: [0; MAX_ORDER],
            value: 0,
            path: self.path.clone(),
            spill: self.spill.clone(),
        })
    }

    /// Delete the file now (it is deleted with the spill otherwise).
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads a [`Run`] record by record.
pub struct RunReader {
    file: File,
    buf: Vec<u8>,
    at: usize,
    end: usize,
    eof: bool,
    k: usize,
    values: Values,
    left: u64,
    bits: u32,
    key: [u32; MAX_ORDER],
    value: u64,
    path: PathBuf,
    spill: Arc<Spill>,
}

impl RunReader {
    /// Make sure a whole record (at most [`MAX_RECORD`] bytes) is buffered,
    /// unless the file ends first.
    fn fill(&mut self) -> Result<()> {
        self.buf.copy_within(self.at..self.end, 0);
        self.end -= self.at;
        self.at = 0;
        while !self.eof && self.end < self.buf.len() {
            let n = self
                .file
                .read(&mut self.buf[self.end..])
                .map_err(|e| self.spill.error(e))?;
            self.eof = n == 0;
            self.end += n;
        }
        Ok(())
    }

    fn damaged(&self) -> Error {
        Error::Io {
            path: self.path.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a temporary file of the memory-bounded pipeline ends early or is damaged",
            ),
        }
    }

    /// The next record, or None at the end.
    #[inline]
    pub fn next_record(&mut self) -> Result<Option<(&[u32], u64)>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        if self.end - self.at < MAX_RECORD && !self.eof {
            self.fill()?;
        }
        let buf = &self.buf[..self.end];
        let mut at = self.at;
        let shared = match buf.get(at) {
            Some(&s) if (s as usize) <= self.k => s as usize,
            _ => return Err(self.damaged()),
        };
        at += 1;
        for i in shared..self.k {
            match get_varint(buf, &mut at) {
                Some(id) if id <= u64::from(u32::MAX) => self.key[i] = id as u32,
                _ => return Err(self.damaged()),
            }
        }
        let Some(value) = self.values.get(buf, &mut at) else {
            return Err(self.damaged());
        };
        self.at = at;
        self.value = value;
        Ok(Some((&self.key[..self.k], self.value)))
    }
}

/// A source of records sorted by key: what every stage reads.
pub trait Stream {
    /// The next record, or None at the end.
    fn next_record(&mut self) -> Result<Option<(&[u32], u64)>>;

    /// The next record's key copied into the first k ids of `key`, and its
    /// value (what a merge reads; readers with the key at hand in an array of
    /// that size copy it whole).
    fn next_into(&mut self, key: &mut [u32; MAX_ORDER]) -> Result<Option<u64>> {
        Ok(self.next_record()?.map(|(k, v)| {
            key[..k.len()].copy_from_slice(k);
            v
        }))
    }

    /// Bits enough for every id the stream holds (32 when it does not know).
    fn id_bits(&self) -> u32 {
        u32::BITS
    }
}

impl Stream for RunReader {
    fn next_record(&mut self) -> Result<Option<(&[u32], u64)>> {
        RunReader::next_record(self)
    }

    #[inline]
    fn next_into(&mut self, key: &mut [u32; MAX_ORDER]) -> Result<Option<u64>> {
        if self.next_record()?.is_none() {
            return Ok(None);
        }
        *key = self.key;
        Ok(Some(self.value))
    }

    fn id_bits(&self) -> u32 {
        self.bits
    }
}

/// The k-way merge of sorted sources (runs on disk, the last buffer in memory).
///
/// A tournament tree of losers over the sources: each source's current
/// record stays in place (`keys`, `values`), and taking the smallest record
/// replays one path from its leaf to the root, one comparison per level.
/// When the sources' ids fit (k times their bits, plus the bits of a source
/// index, below 128: n-grams of up to 5 words over a vocabulary of up to
/// 2^24 words), each key is also packed into one integer, first id highest
/// and the source's index lowest, whose order is the keys' order with ties
/// broken by source: a comparison is then one integer comparison instead of
/// a walk over ids. Equal keys come out in source order.
pub struct Merge {
    sources: Vec<Box<dyn Stream + Send>>,
    /// The current key of source i (slots past the sources stay empty).
    keys: Vec<[u32; MAX_ORDER]>,
    /// The current key of source i packed, when `bits` is not 0; `u128::MAX`
    /// once the source is exhausted.
    packed: Vec<u128>,
    /// Whether source i is exhausted (every slot past the sources is).
    done: Vec<bool>,
    values: Vec<u64>,
    /// `tree[0]` is the source of the smallest record; `tree[1..]` the
    /// losers of the matches of a complete binary tree over the slots.
    tree: Vec<u32>,
    k: usize,
    /// Bits per id of the packed keys; 0 when they do not fit.
    bits: u32,
    /// Bits of the source index below the packed ids.
    shift: u32,
    /// Bits enough for every id of every source.
    id_bits: u32,
    combine: bool,
    key: [u32; MAX_ORDER],
    value: u64,
}

impl Merge {
    /// Merge `sources` (each sorted) of `k`-id records; with `combine`, equal
    /// keys come out once with their values summed.
    pub fn new(k: usize, mut sources: Vec<Box<dyn Stream + Send>>, combine: bool) -> Result<Self> {
        // A single source is read through (it is sorted, and combined when
        // it came from a combining sorter or a counting spill).
        let n = sources.len();
        let id_bits = sources.iter().map(|s| s.id_bits()).max().unwrap_or(1);
        let slots = if n > 1 { n.next_power_of_two() } else { 0 };
        let shift = slots.max(2).trailing_zeros();
        let bits = if k as u32 * id_bits + shift < u128::BITS {
            id_bits
        } else {
            0
        };
        let mut merge = Self {
            sources: Vec::new(),
            keys: vec![[0; MAX_ORDER]; slots],
            packed: vec![u128::MAX; slots],
            done: vec![true; slots],
            values: vec![0; slots],
            tree: vec![0; slots],
            k,
            bits,
            shift,
            id_bits,
            combine,
            key: [0; MAX_ORDER],
            value: 0,
        };
        for (i, s) in sources.iter_mut().enumerate().filter(|_| n > 1) {
            if let Some(value) = s.next_into(&mut merge.keys[i])? {
                merge.values[i] = value;
                merge.done[i] = false;
                merge.pack(i);
            }
        }
        merge.sources = sources;
        if slots > 1 {
            merge.tree[0] = merge.play(1);
        }
        Ok(merge)
    }

    /// The winner of the matches below `node`, recording their losers.
    fn play(&mut self, node: usize) -> u32 {
        let slots = self.tree.len();
        if node >= slots {
            return (node - slots) as u32;
        }
        let left = self.play(2 * node);
        let right = self.play(2 * node + 1);
        let (winner, loser) = if self.less(right, left) {
            (right, left)
        } else {
            (left, right)
        };
        self.tree[node] = loser;
        winner
    }

    /// Pack source i's current key (when keys pack).
    #[inline]
    fn pack(&mut self, i: usize) {
        if self.bits > 0 {
            let bits = self.bits;
            let key = self.keys[i][..self.k]
                .iter()
                .fold(0u128, |p, &id| (p << bits) | u128::from(id));
            self.packed[i] = (key << self.shift) | i as u128;
        }
    }

    /// Whether source `a`'s record comes before source `b`'s (an exhausted
    /// source comes after every other).
    #[inline(always)]
    fn less(&self, a: u32, b: u32) -> bool {
        let (a, b) = (a as usize, b as usize);
        if self.bits > 0 {
            return self.packed[a] < self.packed[b];
        }
        match (self.done[a], self.done[b]) {
            (true, _) => false,
            (false, true) => true,
            _ => match self.keys[a][..self.k].cmp(&self.keys[b][..self.k]) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Greater => false,
                std::cmp::Ordering::Equal => a < b,
            },
        }
    }

    /// Take the smallest record into `key`/`value` and move its source on;
    /// then, when combining, add the values of the records with the same key.
    fn pop(&mut self) -> Result<bool> {
        let Some(&top) = self.tree.first() else {
            return Ok(false);
        };
        let i = top as usize;
        if self.done[i] {
            return Ok(false);
        }
        self.key = self.keys[i];
        self.value = self.values[i];
        let packed = self.packed[i] >> self.shift;
        self.advance(i)?;
        if self.combine {
            loop {
                let j = self.tree[0] as usize;
                let same = if self.bits > 0 {
                    self.packed[j] >> self.shift == packed
                } else {
                    !self.done[j] && self.keys[j][..self.k] == self.key[..self.k]
                };
                if !same {
                    break;
                }
                self.value += self.values[j];
                self.advance(j)?;
            }
        }
        Ok(true)
    }

    /// Source i (the winner) reads its next record, and the matches on its
    /// path to the root are played again.
    #[inline]
    fn advance(&mut self, i: usize) -> Result<()> {
        match self.sources[i].next_into(&mut self.keys[i])? {
            Some(v) => {
                self.values[i] = v;
                self.pack(i);
            }
            None => {
                self.done[i] = true;
                self.packed[i] = u128::MAX;
            }
        }
        let mut winner = i as u32;
        let mut node = (i + self.tree.len()) >> 1;
        while node > 0 {
            let other = self.tree[node];
            if self.less(other, winner) {
                self.tree[node] = winner;
                winner = other;
            }
            node >>= 1;
        }
        self.tree[0] = winner;
        Ok(())
    }
}

impl Stream for Merge {
    fn next_record(&mut self) -> Result<Option<(&[u32], u64)>> {
        if self.sources.len() == 1 {
            // One source: already sorted and combined, so read it through.
            return self.sources[0].next_record();
        }
        if !self.pop()? {
            return Ok(None);
        }
        Ok(Some((&self.key[..self.k], self.value)))
    }

    fn next_into(&mut self, key: &mut [u32; MAX_ORDER]) -> Result<Option<u64>> {
        if self.sources.len() == 1 {
            return self.sources[0].next_into(key);
        }
        if !self.pop()? {
            return Ok(None);
        }
        *key = self.key;
        Ok(Some(self.value))
    }

    fn id_bits(&self) -> u32 {
        self.id_bits
    }
}

/// A sorted buffer of records in memory, as a [`Stream`].
struct MemoryRun {
    keys: Vec<u32>,
    values: Vec<u64>,
    k: usize,
    at: usize,
    bits: u32,
}

impl Stream for MemoryRun {
    fn next_record(&mut self) -> Result<Option<(&[u32], u64)>> {
        if self.at >= self.values.len() {
            return Ok(None);
        }
        let i = self.at;
        self.at += 1;
        Ok(Some((
            &self.keys[i * self.k..(i + 1) * self.k],
            self.values[i],
        )))
    }

    fn id_bits(&self) -> u32 {
        self.bits
    }
}

/// Gathers records, sorts them within a memory budget, and merges.
pub struct Sorter {
    k: usize,
    keys: Vec<u32>,
    values: Vec<u64>,
    /// Records packed as they come, when [`Sorter::packing`] says they fit
    /// (`keys` and `values` stay empty then).
    packed: PackedBuffer,
    /// Bits per id of the packed keys.
    bits: u32,
    budget: usize,
    capacity: usize,
    combine: bool,
    spill: Arc<Spill>,
    runs: Vec<Run>,
    what: String,
    coding: Values,
}

impl Sorter {
    /// A sorter of `k`-id records holding at most `budget` bytes in memory
    /// (sorting needs as much again for a moment), spilling runs to `spill`.
    pub fn new(k: usize, budget: usize, combine: bool, spill: &Arc<Spill>, what: &str) -> Self {
        let capacity = (budget / flat_record_bytes(k)).max(1024);
        Self {
            k,
            keys: Vec::new(),
            values: Vec::new(),
            packed: PackedBuffer::None,
            bits: u32::BITS,
            budget,
            capacity,
            combine,
            spill: spill.clone(),
            runs: Vec::new(),
            what: what.to_string(),
            coding: Values::Varint,
        }
    }

    /// Store the values of its runs as `coding` says (varints by default).
    pub fn storing(mut self, coding: Values) -> Self {
        self.coding = coding;
        self
    }

    /// Pack each key into one integer as it is pushed when its ids, of at
    /// most `bits` bits each, fit 64 or 128 bits: a record then takes 16 or
    /// 24 bytes where the flat buffer and the copy its sort packs took
    /// 4k + 8 and about as much again, so a buffer holds 2 to 2.5 times the
    /// records (half the runs or fewer to merge), is sorted in place and is
    /// reused from one run to the next (no fresh pages to fault in). An id
    /// past `bits` (none is expected) turns the buffer back into the flat one.
    pub fn packing(mut self, bits: u32) -> Self {
        let bits = bits.clamp(1, u32::BITS);
        let total = self.k as u32 * bits;
        let (packed, record) = if total <= 64 {
            (PackedBuffer::Narrow(Vec::new()), size_of::<(u64, u64)>())
        } else if total <= 128 {
            (PackedBuffer::Wide(Vec::new()), size_of::<(Wide, u64)>())
        } else {
            return self;
        };
        self.packed = packed;
        self.bits = bits;
        self.capacity = (self.budget / record).max(1024);
        self
    }

    /// Add a record.
    #[inline]
    pub fn push(&mut self, key: &[u32], value: u64) -> Result<()> {
        let full = match &mut self.packed {
            PackedBuffer::None => return self.push_flat(key, value),
            PackedBuffer::Narrow(records) => {
                push_packed(records, self.capacity, key, self.bits, value)
            }
            PackedBuffer::Wide(records) => {
                push_packed(records, self.capacity, key, self.bits, value)
            }
        };
        match full {
            Some(true) => self.spill_buffer(),
            Some(false) => Ok(()),
            None => self.unpack_then_push(key, value),
        }
    }

    #[inline]
    fn push_flat(&mut self, key: &[u32], value: u64) -> Result<()> {
        if self.values.capacity() == 0 {
            // Exactly the budget's share: growing by doubling would overshoot
            // it (pages not yet written cost no memory).
            self.keys.reserve_exact(self.capacity * self.k);
            self.values.reserve_exact(self.capacity);
        }
        self.keys.extend_from_slice(key);
        self.values.push(value);
        if self.values.len() >= self.capacity {
            self.spill_buffer()?;
        }
        Ok(())
    }

    /// A key did not pack: go on with the flat buffer, the records packed
    /// so far moved into it.
    #[cold]
    fn unpack_then_push(&mut self, key: &[u32], value: u64) -> Result<()> {
        self.unpack();
        self.push(key, value)
    }

    /// Move the packed records into the flat buffer and stop packing.
    fn unpack(&mut self) {
        let (k, bits) = (self.k, self.bits);
        match std::mem::replace(&mut self.packed, PackedBuffer::None) {
            PackedBuffer::None => return,
            PackedBuffer::Narrow(records) => {
                unpack_into(&records, k, bits, &mut self.keys, &mut self.values)
            }
            PackedBuffer::Wide(records) => {
                unpack_into(&records, k, bits, &mut self.keys, &mut self.values)
            }
        }
        self.capacity = (self.budget / flat_record_bytes(k))
            .max(1024)
            .max(self.values.len() + 1);
    }

    /// Records buffered, not yet in a run.
    fn buffered(&self) -> usize {
        match &self.packed {
            PackedBuffer::None => self.values.len(),
            PackedBuffer::Narrow(records) => records.len(),
            PackedBuffer::Wide(records) => records.len(),
        }
    }

    fn sort_buffer(&mut self) {
        sort_records(self.k, &mut self.keys, &mut self.values, self.combine);
    }

    fn spill_buffer(&mut self) -> Result<()> {
        let mut run = RunWriter::create_with(&self.spill, &self.what, self.k, self.coding)?;
        let (k, bits, combine) = (self.k, self.bits, self.combine);
        let packed = match &mut self.packed {
            PackedBuffer::None => false,
            PackedBuffer::Narrow(records) => {
                write_packed(records, k, bits, combine, &mut run)?;
                true
            }
            PackedBuffer::Wide(records) => {
                write_packed(records, k, bits, combine, &mut run)?;
                true
            }
        };
        if packed {
            self.runs.push(run.finish()?);
            return Ok(());
        }
        let keys = std::mem::take(&mut self.keys);
        let values = std::mem::take(&mut self.values);
        macro_rules! dispatch {
            ($($n:literal)*) => {
                match self.k {
                    $($n => write_sorted::<$n>(keys, values, self.combine, &mut run)?,)*
                    k => panic!("record width {k} outside 1..={MAX_ORDER}"),
                }
            };
        }
        dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
        self.runs.push(run.finish()?);
        Ok(())
    }

    /// Add an already sorted run (from elsewhere) to be merged with the rest.
    pub fn add_run(&mut self, run: Run) {
        self.runs.push(run);
    }

    /// All records as sorted runs on disk (the last buffer spilled too), to be
    /// merged later by [`SortedRuns::open`]: nothing stays in memory.
    pub fn finish_on_disk(mut self) -> Result<SortedRuns> {
        if self.buffered() > 0 || self.runs.is_empty() {
            self.spill_buffer()?;
        }
        Ok(SortedRuns {
            k: self.k,
            combine: self.combine,
            runs: std::mem::take(&mut self.runs),
        })
    }

    /// All records, sorted (and combined when asked).
    pub fn finish(mut self) -> Result<Merge> {
        self.unpack();
        self.sort_buffer();
        let mut sources: Vec<Box<dyn Stream + Send>> = Vec::with_capacity(self.runs.len() + 1);
        for run in &self.runs {
            sources.push(Box::new(run.reader()?));
        }
        let ids = self.keys.iter().fold(0, |all, &id| all | id);
        sources.push(Box::new(MemoryRun {
            bits: id_bits(ids),
            keys: std::mem::take(&mut self.keys),
            values: std::mem::take(&mut self.values),
            k: self.k,
            at: 0,
        }));
        // Readers hold the files open; the names can go (the data stays until closed).
        for run in self.runs.drain(..) {
            run.remove();
        }
        Merge::new(self.k, sources, self.combine)
    }
}

/// Bytes a record of `k` ids takes in a [`Sorter`]'s flat buffer (ids and
/// values apart), with the typed copy its sort makes (ids and value side by
/// side, aligned to 8 bytes).
fn flat_record_bytes(k: usize) -> usize {
    (4 * k + 8) + (4 * k).div_ceil(8) * 8 + 8
}

/// A [`Sorter`]'s buffer of packed records (see [`Sorter::packing`]).
enum PackedBuffer {
    /// Not packing: the flat buffer is in use.
    None,
    Narrow(Vec<(u64, u64)>),
    Wide(Vec<(Wide, u64)>),
}

/// Pack `key` (ids of `bits` bits each) and append it with `value`; whether
/// the buffer is now full, or None when an id does not fit.
#[inline(always)]
fn push_packed<K: Packed>(
    records: &mut Vec<(K, u64)>,
    capacity: usize,
    key: &[u32],
    bits: u32,
    value: u64,
) -> Option<bool> {
    let all = key.iter().fold(0u32, |a, &id| a | id);
    if u64::from(all) >> bits != 0 {
        return None;
    }
    if records.capacity() == 0 {
        records.reserve_exact(capacity);
    }
    let keep = key.len() as u32 * bits;
    let packed = key
        .iter()
        .fold(K::ZERO, |p, &id| p.shift_in(id, bits, keep));
    records.push((packed, value));
    Some(records.len() >= capacity)
}

/// The ids of a packed key (`k` ids of `bits` bits, first id highest).
#[inline(always)]
fn unpack_key<K: Packed>(packed: K, k: usize, bits: u32, key: &mut [u32; MAX_ORDER]) {
    for (j, id) in key[..k].iter_mut().enumerate() {
        *id = packed.id(k - 1 - j, bits);
    }
}

/// Append packed records to flat keys and values.
fn unpack_into<K: Packed>(
    records: &[(K, u64)],
    k: usize,
    bits: u32,
    keys: &mut Vec<u32>,
    values: &mut Vec<u64>,
) {
    let mut key = [0u32; MAX_ORDER];
    keys.reserve(records.len() * k);
    values.reserve(records.len());
    for &(packed, value) in records {
        unpack_key(packed, k, bits, &mut key);
        keys.extend_from_slice(&key[..k]);
        values.push(value);
    }
}

/// Sort packed records in place and write them to `run`, equal keys folded
/// into one with their values summed when `combine`; the buffer is left
/// empty, its memory kept for the next run.
fn write_packed<K: Packed>(
    records: &mut Vec<(K, u64)>,
    k: usize,
    bits: u32,
    combine: bool,
    run: &mut RunWriter,
) -> Result<()> {
    records.par_sort_unstable_by_key(|e| e.0);
    let mut key = [0u32; MAX_ORDER];
    let mut i = 0;
    while i < records.len() {
        let (packed, mut value) = records[i];
        i += 1;
        while combine && i < records.len() && records[i].0 == packed {
            value += records[i].1;
            i += 1;
        }
        unpack_key(packed, k, bits, &mut key);
        run.push(&key[..k], value)?;
    }
    records.clear();
    Ok(())
}

/// Sorted runs waiting to be merged (see [`Sorter::finish_on_disk`]).
pub struct SortedRuns {
    k: usize,
    combine: bool,
    runs: Vec<Run>,
}

impl SortedRuns {
    /// Their merge, from the start (may be opened more than once).
    pub fn open(&self) -> Result<Merge> {
        let readers = self
            .runs
            .iter()
            .map(|r| r.reader().map(|r| Box::new(r) as Box<dyn Stream + Send>))
            .collect::<Result<Vec<_>>>()?;
        Merge::new(self.k, readers, self.combine)
    }

    /// Records in all runs (before combining).
    pub fn len(&self) -> u64 {
        self.runs.iter().map(Run::len).sum()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Delete the files now.
    pub fn remove(self) {
        for run in self.runs {
            run.remove();
        }
    }
}

/// Sort flat records (`k` ids each, then a value) by key, in parallel; with
/// `combine`, equal keys are folded into one with their values summed.
pub fn sort_records(k: usize, keys: &mut Vec<u32>, values: &mut Vec<u64>, combine: bool) {
    macro_rules! dispatch {
        ($($n:literal)*) => {
            match k {
                $($n => sort_fixed::<$n>(keys, values, combine),)*
                _ => panic!("record width {k} outside 1..={MAX_ORDER}"),
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
}

/// Sort a spilled buffer and write it to `run` straight from the sorted
/// records (no copy back into flat vectors), combining equal keys when asked.
fn write_sorted<const N: usize>(
    keys: Vec<u32>,
    values: Vec<u64>,
    combine: bool,
    run: &mut RunWriter,
) -> Result<()> {
    for_each_combined::<N>(keys, values, combine, |key, value| run.push(key, value))
}

/// Sort flat records by key and hand them to `f` in order, equal keys
/// folded into one with their values summed when `combine`.
fn for_each_combined<const N: usize>(
    keys: Vec<u32>,
    values: Vec<u64>,
    combine: bool,
    mut f: impl FnMut(&[u32; N], u64) -> Result<()>,
) -> Result<()> {
    let mut pending: Option<([u32; N], u64)> = None;
    for_each_sorted::<N>(keys, values, |key, value| {
        match pending.as_mut() {
            Some(p) if combine && p.0 == *key => p.1 += value,
            _ => {
                if let Some((k, v)) = pending.replace((*key, value)) {
                    f(&k, v)?;
                }
            }
        }
        Ok(())
    })?;
    match pending {
        Some((k, v)) => f(&k, v),
        None => Ok(()),
    }
}

/// Sort flat records (the flat vectors are freed once copied) and hand them
/// to `f` in key order. Keys whose ids fit 64 or 128 bits sort packed into
/// one integer (ids are word ids, mostly small): comparing integers is much
/// cheaper than comparing arrays id by id.
fn for_each_sorted<const N: usize>(
    keys: Vec<u32>,
    values: Vec<u64>,
    mut f: impl FnMut(&[u32; N], u64) -> Result<()>,
) -> Result<()> {
    let max = keys.iter().copied().max().unwrap_or(0);
    let bits = (u32::BITS - max.leading_zeros()).max(1);
    if N as u32 * bits <= 64 {
        return for_each_packed::<u64, N>(keys, values, bits, f);
    }
    if N as u32 * bits <= 128 {
        return for_each_packed::<Wide, N>(keys, values, bits, f);
    }
    let mut records: Vec<([u32; N], u64)> = keys
        .chunks_exact(N)
        .zip(values.iter())
        .map(|(k, &v)| {
            let mut key = [0u32; N];
            key.copy_from_slice(k);
            (key, v)
        })
        .collect();
    drop(keys);
    drop(values);
    records.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    records.iter().try_for_each(|(key, v)| f(key, *v))
}

/// [`for_each_sorted`] with keys packed into `K`, `bits` bits per id.
fn for_each_packed<K: Packed, const N: usize>(
    keys: Vec<u32>,
    values: Vec<u64>,
    bits: u32,
    mut f: impl FnMut(&[u32; N], u64) -> Result<()>,
) -> Result<()> {
    let keep = N as u32 * bits;
    let mut records: Vec<(K, u64)> = keys
        .chunks_exact(N)
        .zip(values.iter())
        .map(|(k, &v)| {
            let key = k.iter().fold(K::ZERO, |p, &id| p.shift_in(id, bits, keep));
            (key, v)
        })
        .collect();
    drop(keys);
    drop(values);
    records.par_sort_unstable_by_key(|e| e.0);
    let mut key = [0u32; N];
    for &(packed, v) in &records {
        for (j, id) in key.iter_mut().enumerate() {
            *id = packed.id(N - 1 - j, bits);
        }
        f(&key, v)?;
    }
    Ok(())
}

fn sort_fixed<const N: usize>(keys: &mut Vec<u32>, values: &mut Vec<u64>, combine: bool) {
    let (flat, vals) = (std::mem::take(keys), std::mem::take(values));
    let n = vals.len();
    let sorted = for_each_combined::<N>(flat, vals, combine, |key, v| {
        // Reserved once the flat input is freed (it is, before the first record).
        if values.capacity() == 0 {
            keys.reserve_exact(n * N);
            values.reserve_exact(n);
        }
        keys.extend_from_slice(key);
        values.push(v);
        Ok(())
    });
    // The closure never fails.
    debug_assert!(sorted.is_ok());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(mut m: Merge) -> Vec<(Vec<u32>, u64)> {
        let mut out = Vec::new();
        while let Some((k, v)) = m.next_record().unwrap() {
            out.push((k.to_vec(), v));
        }
        out
    }

    /// Records through many tiny runs come out sorted and combined, exactly as
    /// a sort of everything in memory gives them; the files go with the spill.
    #[test]
    fn runs_merge_to_the_in_memory_sort() {
        let spill = Spill::new(None).unwrap();
        let dir = spill.dir.path().to_path_buf();
        let mut rng = 12345u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        // Small ids (packed into a u64), ids up to 2^32 (a u64 for pairs,
        // 128 bits for triples) and 5-grams past 128 bits (arrays).
        for (k, top) in [
            (3, 7u64),
            (2, 1 << 32),
            (3, 1 << 32),
            (5, 1 << 25),
            (5, 1 << 32),
        ] {
            // Flat; packed as pushed (when the ids fit 128 bits), finished
            // in memory and on disk; packed with too few bits, so that the
            // buffer turns flat after its first runs.
            for variant in 0..4 {
                let mut expected = std::collections::BTreeMap::<Vec<u32>, u64>::new();
                let mut sorter = Sorter::new(k, 3000, true, &spill, "t");
                sorter = match variant {
                    1 | 2 => sorter.packing(id_bits((top - 1) as u32)),
                    3 => sorter.packing(3),
                    _ => sorter,
                };
                for i in 0..20_000 {
                    // Few distinct ids, spread up to `top`: keys repeat.
                    let mut key: Vec<u32> = (0..k)
                        .map(|j| ((next() % (7 - j as u64 % 3)) * ((top - 1) / 6)) as u32)
                        .collect();
                    if variant == 3 && i < 10_000 {
                        key.iter_mut().for_each(|id| *id %= 8);
                    }
                    let v = next() % 10;
                    *expected.entry(key.clone()).or_default() += v;
                    sorter.push(&key, v).unwrap();
                }
                assert!(sorter.runs.len() > 10, "the budget forces many runs");
                let got = if variant == 2 {
                    let runs = sorter.finish_on_disk().unwrap();
                    let got = collect(runs.open().unwrap());
                    runs.remove();
                    got
                } else {
                    collect(sorter.finish().unwrap())
                };
                let want: Vec<(Vec<u32>, u64)> = expected.into_iter().collect();
                assert_eq!(got, want, "k {k}, ids below {top}, variant {variant}");
            }
        }
        assert!(spill.bytes_written() > 0);
        drop(spill);
        assert!(!dir.exists(), "the spill directory is removed on drop");
    }

    /// Without combining, equal keys stay apart (all values kept).
    #[test]
    fn merge_keeps_duplicates_unless_combining() {
        let spill = Spill::new(None).unwrap();
        let mut sorter = Sorter::new(1, 0, false, &spill, "t");
        for v in 0..3000u64 {
            sorter.push(&[(v % 2) as u32], v).unwrap();
        }
        let got = collect(sorter.finish().unwrap());
        assert_eq!(got.len(), 3000);
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(
            got.iter().map(|r| r.1).sum::<u64>(),
            (0..3000u64).sum::<u64>()
        );
    }

    /// Varints of every bit length decode to themselves through the 8-byte
    /// path (bytes to spare) and the byte-by-byte one (at the buffer's end).
    #[test]
    fn varints_round_trip_on_both_paths() {
        let values: Vec<u64> = (0..64)
            .flat_map(|b| [1u64 << b, (1u64 << b) - 1, (1u64 << b) | 1])
            .chain([u64::MAX, 0])
            .collect();
        for &v in &values {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            let bits = 64 - (v | 1).leading_zeros();
            assert_eq!(
                buf.len(),
                if bits <= 56 {
                    bits.div_ceil(7) as usize
                } else {
                    9
                }
            );
            let mut at = 0;
            assert_eq!(get_varint(&buf, &mut at), Some(v), "end of buffer");
            assert_eq!(at, buf.len());
            let len = buf.len();
            buf.extend_from_slice(&[0xff; 9]);
            let mut at = 0;
            assert_eq!(get_varint(&buf, &mut at), Some(v), "bytes to spare");
            assert_eq!(at, len);
        }
        // Lengths that run past the end of the buffer.
        assert_eq!(get_varint(&[0x80; 7], &mut 0), None);
        assert_eq!(get_varint(&[0, 1, 2, 3, 4, 5, 6, 7], &mut 0), None);
        assert_eq!(get_varint(&[], &mut 0), None);
    }

    /// Front coding round-trips any records, sorted or not, with ids and
    /// values at their extremes; a cut file is an error, not a panic.
    #[test]
    fn front_coding_round_trips_and_refuses_a_cut_file() {
        let spill = Spill::new(None).unwrap();
        let mut rng = 99u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut records: Vec<([u32; 4], u64)> = (0..50_000)
            .map(|i| {
                let r = next();
                let key = match i % 5 {
                    0 => [u32::MAX, 0, (r % 3) as u32, u32::MAX],
                    1 => [0; 4],
                    // Ids of every byte length.
                    _ => [
                        (r % 4) as u32,
                        (r >> 8) as u32 % 9,
                        (r >> (r % 32)) as u32,
                        7,
                    ],
                };
                let value = match i % 4 {
                    0 => u64::MAX,
                    1 => 0,
                    // Every bit length, 56 and 57 (the fast path's edge) among them.
                    2 => next() >> (i / 4 % 64),
                    _ => (1u64 << (i / 4 % 64)) - 1,
                };
                (key, value)
            })
            .collect();
        for (sorted, coding) in [
            (false, Values::Varint),
            (true, Values::Varint),
            (true, Values::Bits64),
            (true, Values::Bits32),
        ] {
            if sorted {
                records.sort();
            }
            if coding == Values::Bits32 {
                for r in &mut records {
                    r.1 &= u64::from(u32::MAX);
                }
            }
            let mut w = RunWriter::create_with(&spill, "t", 4, coding).unwrap();
            for (key, v) in &records {
                w.push(key, *v).unwrap();
            }
            let run = w.finish().unwrap();
            let mut r = run.reader().unwrap();
            let mut got = Vec::new();
            while let Some((key, v)) = r.next_record().unwrap() {
                got.push((<[u32; 4]>::try_from(key).unwrap(), v));
            }
            assert_eq!(got, records);
            let size = std::fs::metadata(&run.path).unwrap().len();
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&run.path)
                .unwrap();
            file.set_len(size / 2).unwrap();
            let mut r = run.reader().unwrap();
            let err = loop {
                match r.next_record() {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("a cut file read to its end"),
                    Err(e) => break e,
                }
            };
            assert!(err.to_string().contains("damaged"), "{err}");
        }
    }

    /// A temporary directory that cannot be created is an error naming it.
    #[test]
    fn unusable_temp_dir_is_named() {
        let Err(err) = Spill::new(Some(Path::new("/nonexistent/nextword-tmp"))) else {
            panic!("created a spill in a missing directory");
        };
        assert!(
            err.to_string().contains("/nonexistent/nextword-tmp"),
            "{err}"
        );
    }
}

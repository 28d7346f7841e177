//! Sorted runs on disk and their k-way merge: the external sort behind
//! counting and Kneser-Ney estimation within a memory budget.
//!
//! A record is `k` ids and one u64 value. Records are compared by their ids
//! as stored, lexicographically: a caller that wants another order (lmplz's
//! suffix order, its context order) stores the ids permuted, so one plain
//! comparison serves every stage. A [`Sorter`] gathers records in a buffer of
//! bounded size; a full buffer is sorted in parallel and written as a run
//! (zstd-compressed, level 1); [`Sorter::finish`] merges the runs and the last
//! buffer into one sorted stream, optionally summing the values of equal keys
//! (counts from several runs). Files live in a [`Spill`] directory that is
//! removed when it is dropped: on success, on error and on Ctrl-C alike.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

use super::table::MAX_ORDER;
use crate::{Error, Result};

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

/// Writes records to a file, zstd-compressed.
pub struct RunWriter {
    /// Records are buffered before the encoder: zstd's streaming call costs
    /// far more than a record's bytes when made per record.
    out: BufWriter<zstd::stream::write::Encoder<'static, BufWriter<File>>>,
    k: usize,
    records: u64,
    path: PathBuf,
    spill: Arc<Spill>,
}

impl RunWriter {
    /// A new run of `k`-id records in `spill`, named after `what`.
    pub fn create(spill: &Arc<Spill>, what: &str, k: usize) -> Result<Self> {
        let path = spill.file(what);
        let file = File::create(&path).map_err(|e| spill.error(e))?;
        let encoder = zstd::stream::write::Encoder::new(BufWriter::with_capacity(1 << 18, file), 1)
            .map_err(|e| spill.error(e))?;
        let out = BufWriter::with_capacity(1 << 16, encoder);
        Ok(Self {
            out,
            k,
            records: 0,
            path,
            spill: spill.clone(),
        })
    }

    /// Append one record.
    #[inline]
    pub fn push(&mut self, key: &[u32], value: u64) -> Result<()> {
        debug_assert_eq!(key.len(), self.k);
        let mut buf = [0u8; MAX_ORDER * 4 + 8];
        let mut at = 0;
        for &id in key {
            buf[at..at + 4].copy_from_slice(&id.to_le_bytes());
            at += 4;
        }
        buf[at..at + 8].copy_from_slice(&value.to_le_bytes());
        self.records += 1;
        self.out
            .write_all(&buf[..at + 8])
            .map_err(|e| self.spill.error(e))
    }

    /// Finish the file; returns the run.
    pub fn finish(self) -> Result<Run> {
        let spill = self.spill;
        let encoder = self
            .out
            .into_inner()
            .map_err(|e| spill.error(e.into_error()))?;
        let inner = encoder.finish().map_err(|e| spill.error(e))?;
        let file = inner
            .into_inner()
            .map_err(|e| spill.error(e.into_error()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        spill.written.fetch_add(size, Ordering::Relaxed);
        Ok(Run {
            path: self.path,
            k: self.k,
            records: self.records,
            spill,
        })
    }
}

/// A finished file of records (sorted or not, as its writer made it).
pub struct Run {
    path: PathBuf,
    k: usize,
    records: u64,
    spill: Arc<Spill>,
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
        let input = zstd::stream::read::Decoder::new(file).map_err(|e| self.spill.error(e))?;
        Ok(RunReader {
            input: BufReader::with_capacity(1 << 16, input),
            k: self.k,
            left: self.records,
            key: [0; MAX_ORDER],
            value: 0,
            spill: self.spill.clone(),
        })
    }

    /// Delete the file now (it is deleted with the spill otherwise).
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

type Decoder = zstd::stream::read::Decoder<'static, BufReader<File>>;

/// Reads a [`Run`] record by record.
pub struct RunReader {
    input: BufReader<Decoder>,
    k: usize,
    left: u64,
    key: [u32; MAX_ORDER],
    value: u64,
    spill: Arc<Spill>,
}

impl RunReader {
    /// The next record, or None at the end.
    #[inline]
    pub fn next_record(&mut self) -> Result<Option<(&[u32], u64)>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let mut buf = [0u8; MAX_ORDER * 4 + 8];
        let len = self.k * 4 + 8;
        self.input
            .read_exact(&mut buf[..len])
            .map_err(|e| self.spill.error(e))?;
        for (i, id) in self.key[..self.k].iter_mut().enumerate() {
            *id = u32::from_le_bytes([buf[4 * i], buf[4 * i + 1], buf[4 * i + 2], buf[4 * i + 3]]);
        }
        let mut v = [0u8; 8];
        v.copy_from_slice(&buf[self.k * 4..len]);
        self.value = u64::from_le_bytes(v);
        Ok(Some((&self.key[..self.k], self.value)))
    }
}

/// A source of records sorted by key: what every stage reads.
pub trait Stream {
    /// The next record, or None at the end.
    fn next_record(&mut self) -> Result<Option<(&[u32], u64)>>;
}

impl Stream for RunReader {
    fn next_record(&mut self) -> Result<Option<(&[u32], u64)>> {
        RunReader::next_record(self)
    }
}

/// A key padded to the largest order, for the merge heap.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct HeapKey([u32; MAX_ORDER]);

/// The k-way merge of sorted sources (runs on disk, the last buffer in memory).
pub struct Merge {
    sources: Vec<Box<dyn Stream + Send>>,
    /// Min-heap of (key, source, value).
    heap: BinaryHeap<std::cmp::Reverse<(HeapKey, usize, u64)>>,
    k: usize,
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
        let sources_len = sources.len();
        let mut heap = BinaryHeap::with_capacity(sources.len());
        for (i, s) in sources.iter_mut().enumerate().filter(|_| sources_len > 1) {
            if let Some((key, value)) = s.next_record()? {
                heap.push(std::cmp::Reverse((pad(key), i, value)));
            }
        }
        Ok(Self {
            sources,
            heap,
            k,
            combine,
            key: [0; MAX_ORDER],
            value: 0,
        })
    }

    fn next_single(&mut self) -> Result<Option<(&[u32], u64)>> {
        // One source: already sorted and combined, so read it through.
        self.sources[0].next_record()
    }

    fn pop(&mut self) -> Result<Option<(HeapKey, u64)>> {
        let Some(std::cmp::Reverse((key, i, value))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some((next, v)) = self.sources[i].next_record()? {
            self.heap.push(std::cmp::Reverse((pad(next), i, v)));
        }
        Ok(Some((key, value)))
    }
}

#[inline]
fn pad(key: &[u32]) -> HeapKey {
    let mut k = [0u32; MAX_ORDER];
    k[..key.len()].copy_from_slice(key);
    HeapKey(k)
}

impl Stream for Merge {
    fn next_record(&mut self) -> Result<Option<(&[u32], u64)>> {
        if self.sources.len() == 1 {
            return self.next_single();
        }
        let Some((key, mut value)) = self.pop()? else {
            return Ok(None);
        };
        if self.combine {
            while let Some(std::cmp::Reverse((next, _, _))) = self.heap.peek() {
                if *next != key {
                    break;
                }
                if let Some((_, v)) = self.pop()? {
                    value += v;
                }
            }
        }
        self.key = key.0;
        self.value = value;
        Ok(Some((&self.key[..self.k], self.value)))
    }
}

/// A sorted buffer of records in memory, as a [`Stream`].
struct MemoryRun {
    keys: Vec<u32>,
    values: Vec<u64>,
    k: usize,
    at: usize,
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
}

/// Gathers records, sorts them within a memory budget, and merges.
pub struct Sorter {
    k: usize,
    keys: Vec<u32>,
    values: Vec<u64>,
    capacity: usize,
    combine: bool,
    spill: Arc<Spill>,
    runs: Vec<Run>,
    what: String,
}

impl Sorter {
    /// A sorter of `k`-id records holding at most `budget` bytes in memory
    /// (sorting needs as much again for a moment), spilling runs to `spill`.
    pub fn new(k: usize, budget: usize, combine: bool, spill: &Arc<Spill>, what: &str) -> Self {
        let record = 4 * k + 8;
        // The buffer, and the typed copy the sort makes of it.
        let capacity = (budget / (2 * record)).max(1024);
        Self {
            k,
            keys: Vec::new(),
            values: Vec::new(),
            capacity,
            combine,
            spill: spill.clone(),
            runs: Vec::new(),
            what: what.to_string(),
        }
    }

    /// Add a record.
    #[inline]
    pub fn push(&mut self, key: &[u32], value: u64) -> Result<()> {
        self.keys.extend_from_slice(key);
        self.values.push(value);
        if self.values.len() >= self.capacity {
            self.spill_buffer()?;
        }
        Ok(())
    }

    fn sort_buffer(&mut self) {
        sort_records(self.k, &mut self.keys, &mut self.values, self.combine);
    }

    fn spill_buffer(&mut self) -> Result<()> {
        self.sort_buffer();
        let mut run = RunWriter::create(&self.spill, &self.what, self.k)?;
        for (key, &v) in self.keys.chunks_exact(self.k).zip(&self.values) {
            run.push(key, v)?;
        }
        self.runs.push(run.finish()?);
        self.keys = Vec::new();
        self.values = Vec::new();
        Ok(())
    }

    /// Add an already sorted run (from elsewhere) to be merged with the rest.
    pub fn add_run(&mut self, run: Run) {
        self.runs.push(run);
    }

    /// All records as sorted runs on disk (the last buffer spilled too), to be
    /// merged later by [`SortedRuns::open`]: nothing stays in memory.
    pub fn finish_on_disk(mut self) -> Result<SortedRuns> {
        if !self.values.is_empty() || self.runs.is_empty() {
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
        self.sort_buffer();
        let mut sources: Vec<Box<dyn Stream + Send>> = Vec::with_capacity(self.runs.len() + 1);
        for run in &self.runs {
            sources.push(Box::new(run.reader()?));
        }
        sources.push(Box::new(MemoryRun {
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

fn sort_fixed<const N: usize>(keys: &mut Vec<u32>, values: &mut Vec<u64>, combine: bool) {
    let mut records: Vec<([u32; N], u64)> = keys
        .chunks_exact(N)
        .zip(values.iter())
        .map(|(k, &v)| {
            let mut key = [0u32; N];
            key.copy_from_slice(k);
            (key, v)
        })
        .collect();
    keys.clear();
    keys.shrink_to_fit();
    values.clear();
    values.shrink_to_fit();
    records.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    keys.reserve_exact(records.len() * N);
    values.reserve_exact(records.len());
    for (key, v) in records {
        if combine && values.last().is_some() && keys[keys.len() - N..] == key {
            if let Some(last) = values.last_mut() {
                *last += v;
            }
            continue;
        }
        keys.extend_from_slice(&key);
        values.push(v);
    }
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
        let mut expected = std::collections::BTreeMap::<Vec<u32>, u64>::new();
        let mut sorter = Sorter::new(3, 3000, true, &spill, "t");
        for _ in 0..20_000 {
            let key = [
                (next() % 5) as u32,
                (next() % 7) as u32,
                (next() % 3) as u32,
            ];
            let v = next() % 10;
            *expected.entry(key.to_vec()).or_default() += v;
            sorter.push(&key, v).unwrap();
        }
        assert!(sorter.runs.len() > 10, "the budget forces many runs");
        let got = collect(sorter.finish().unwrap());
        let want: Vec<(Vec<u32>, u64)> = expected.into_iter().collect();
        assert_eq!(got, want);
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

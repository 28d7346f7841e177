//! Kneser-Ney from a corpus to an ARPA file within a memory budget, streaming
//! sorted files through disk as lmplz does.
//!
//! The stages are those of the in-memory pipeline ([`super`]), each reading
//! and writing records sorted so that what it needs is adjacent:
//!
//! 1. *Count* ([`crate::count::spill`]): runs of each order in suffix order
//!    (ids stored reversed, so a plain comparison is lmplz's suffix order).
//! 2. *Adjust*: order k in suffix order beside order k + 1 in suffix order:
//!    the (k+1)-grams ending with a k-gram x follow one another, so x's
//!    continuation count is the length of that stretch. Count-of-counts as
//!    lmplz's (its quirk on the last n-gram included). Each record goes to a
//!    sorter in *context order* (the context's ids reversed, then the word).
//! 3. *Discounts* from the count-of-counts.
//! 4. *Initial probabilities*: in context order the n-grams of one context h
//!    are adjacent: u(w|h) and gamma(h) as in memory. Records go to a sorter in
//!    suffix order carrying (u, gamma(h)); gamma(h) also goes to a file of the
//!    order below, where contexts come out in h's suffix order.
//! 5. *Interpolate and write*, order by order: p(w|h) = u + gamma(h) p(w|h'),
//!    where h'w, the n-gram's suffix, is read from the order below's
//!    probabilities in the same suffix order; the backoff of an n-gram is the
//!    gamma of the file above. Lines are formatted in parallel blocks and
//!    written in lmplz's order straight into the output.
//!
//! Arithmetic is the in-memory pipeline's, operation for operation, so the
//! file is byte-identical to the in-memory path's (and to lmplz's).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::{discounts, KneserNeyOptions};
use crate::control::Control;
use crate::corpus::{Corpus, CorpusStats};
use crate::count::runs::{
    release_freed_memory, unused_budget, Run, RunReader, RunWriter, SortedRuns, Sorter, Spill,
    Stream, Values,
};
use crate::count::spill::{count_spilled, SpilledCounts};
use crate::count::CountOptions;
use crate::lm::arpa::{save_arpa_file, write_header};
use crate::lm::arpa_text::{push_line, write_pipelined, ValueText, WordTable, PREFETCH_LINES};
use crate::tokenize::{BOS_ID, EOS_ID, UNK_ID};
use crate::{Error, Result};

/// How the memory-bounded pipeline may use memory and disk.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Bytes of memory the tables and sort buffers may hold (the process
    /// also holds the vocabulary and a few buffers beside them).
    pub memory: usize,
    /// Where temporary files go (the system's temporary directory when None).
    pub temp_dir: Option<PathBuf>,
}

/// What a memory-bounded estimation did.
#[derive(Debug, Clone)]
pub struct StreamReport {
    /// N-grams written per order.
    pub sizes: Vec<usize>,
    /// Discounts (D1, D2, D3+) per order.
    pub discounts: Vec<[f32; 3]>,
    /// Discount fallbacks, as the in-memory estimator reports them.
    pub warnings: Vec<String>,
    /// What reading the corpus saw.
    pub stats: CorpusStats,
    /// Tokens read.
    pub tokens: u64,
    /// Bytes written to temporary files (compressed).
    pub temp_bytes: u64,
}

/// Parse a memory size: `2G`, `512M`, `1.5GB`, `800k`, a plain number of
/// bytes, or a percentage of physical memory (`80%`).
pub fn parse_memory(text: &str) -> Result<usize> {
    let t = text.trim();
    let bad = || {
        Error::InvalidArgument(format!(
            "memory {text:?}: expected a size such as 2G, 512M, 1.5GB or 80% (of physical memory)"
        ))
    };
    if let Some(pct) = t.strip_suffix('%') {
        let p: f64 = pct.trim().parse().map_err(|_| bad())?;
        if !(p > 0.0 && p <= 100.0) {
            return Err(bad());
        }
        return Ok((physical_memory() as f64 * p / 100.0) as usize);
    }
    let upper = t.to_ascii_uppercase();
    let upper = upper
        .strip_suffix("IB")
        .or(upper.strip_suffix('B').filter(|s| !s.is_empty()))
        .map_or(upper.as_str(), |s| s);
    let (number, scale) = match upper.chars().last() {
        Some('K') => (&upper[..upper.len() - 1], 1u64 << 10),
        Some('M') => (&upper[..upper.len() - 1], 1 << 20),
        Some('G') => (&upper[..upper.len() - 1], 1 << 30),
        Some('T') => (&upper[..upper.len() - 1], 1 << 40),
        _ => (upper, 1),
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    if !(value.is_finite() && value > 0.0) {
        return Err(bad());
    }
    Ok((value * scale as f64) as usize)
}

/// Physical memory in bytes (8 GiB when the system does not say).
pub fn physical_memory() -> usize {
    // SAFETY: sysconf only reads system configuration.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages > 0 && size > 0 {
        pages as usize * size as usize
    } else {
        8 << 30
    }
}

/// The smallest budget accepted: below it the sort buffers would be too
/// small to make progress in reasonable time.
pub const MIN_MEMORY: usize = 16 << 20;

/// Count `corpus`, estimate Kneser-Ney of `count.order` and write the ARPA
/// file at `path` (atomically; gzipped when it ends in `.gz`), holding about
/// `stream.memory` bytes.
pub fn train_arpa(
    corpus: &Corpus,
    count: &CountOptions,
    options: &KneserNeyOptions,
    stream: &StreamOptions,
    path: &Path,
    control: &Control,
) -> Result<StreamReport> {
    if stream.memory < MIN_MEMORY {
        return Err(Error::InvalidArgument(format!(
            "a memory budget of {} bytes is too small: give at least {} MB",
            stream.memory,
            MIN_MEMORY >> 20
        )));
    }
    train_arpa_within(corpus, count, options, stream, path, control)
}

/// [`train_arpa`] without the lower bound on the budget (tests force spills
/// with tiny budgets).
fn train_arpa_within(
    corpus: &Corpus,
    count: &CountOptions,
    options: &KneserNeyOptions,
    stream: &StreamOptions,
    path: &Path,
    control: &Control,
) -> Result<StreamReport> {
    options.check(count.order)?;
    // Within a budget: the allocator's pool starts empty (see `alloc`).
    crate::alloc::begin_budget();
    if options.prune.is_some() {
        return Err(Error::InvalidArgument(
            "count pruning is not in the streaming pipeline yet: train in memory".into(),
        ));
    }
    let mut trace = Trace::new();
    let spill = Spill::new(stream.temp_dir.as_deref())?;
    let counts = count_spilled(corpus, count, stream.memory, &spill, control)?;
    let order = counts.order();
    let memory = stream.memory;

    // (count_spilled has handed its tables' memory back already.)
    trace.lap("count (two passes, spilling)");
    control.set_stage("adjusting counts, initial probabilities");

    // Stages 2 to 4, order by order: adjusted counts into a context-ordered
    // sorter, the order's discounts from its count-of-counts, then its
    // initial probabilities. Orders are independent here: as many run at
    // once as there are threads, sharing the budget, and an order goes on to
    // its initial probabilities without waiting for the others' adjusting.
    let at_once = rayon::current_num_threads().clamp(1, order);
    // What the budget leaves after the vocabulary and the interpreter.
    let share = unused_budget(memory) / at_once;
    let given = options.discounts.as_deref();
    type Done = (SortedRuns, Option<Run>, usize, [f32; 3], Option<String>);
    let done: Vec<Done> = (1..=order)
        .into_par_iter()
        .map(|k| {
            let (contexts, size, coc) = adjust(&counts, k, share, &spill, control)?;
            let (d, warning) = discounts::choose_order(k, coc, given);
            let (initial, gamma) = initial_probabilities(k, contexts, &d, share, &spill, control)?;
            Ok((initial, gamma, size, d, warning))
        })
        .collect::<Result<_>>()?;
    let SpilledCounts {
        vocab,
        runs,
        stats,
        tokens,
        ..
    } = counts;
    drop(runs);
    let mut initial: Vec<SortedRuns> = Vec::with_capacity(order);
    let mut gammas: Vec<Option<Run>> = (0..order).map(|_| None).collect();
    let mut sizes = Vec::with_capacity(order);
    let mut discounts = Vec::with_capacity(order);
    let mut warnings = Vec::new();
    for (i, (run, gamma, size, d, warning)) in done.into_iter().enumerate() {
        initial.push(run);
        if i > 0 {
            gammas[i - 1] = gamma;
        }
        sizes.push(size);
        discounts.push(d);
        warnings.extend(warning);
    }
    release_freed_memory();
    trace.lap("adjust, discounts, initial probabilities");

    // Stage 5: interpolate order by order, straight into the file.
    let words = &WordTable::new(vocab.words());
    let uniform = (1.0 / sizes[0].saturating_sub(1).max(1) as f32 as f64) as f32;
    let total: usize = sizes.iter().sum();
    control.set_stage("interpolating and writing");
    control.start_steps(total as u64, "n-grams");
    let mut failure: Option<Error> = None;
    save_arpa_file(path, vocab.tokenizer(), control, |out| {
        let mut body = || -> Result<()> {
            write_header(out, vocab.tokenizer(), &sizes).map_err(|e| Error::io(path, e))?;
            let mut lower: Option<Run> = None;
            for (k, run) in (1..=order).zip(initial.drain(..)) {
                control.check()?;
                writeln!(out, "\n\\{k}-grams:").map_err(|e| Error::io(path, e))?;
                let interp = Interpolation {
                    k,
                    top: k == order,
                    uniform,
                    interpolate_unigrams: options.interpolate_unigrams,
                };
                lower = interpolate_and_write(
                    &interp,
                    run,
                    lower.take(),
                    gammas[k - 1].take(),
                    words,
                    out,
                    path,
                    &spill,
                    control,
                )?;
            }
            writeln!(out, "\n\\end\\").map_err(|e| Error::io(path, e))?;
            Ok(())
        };
        body().map_err(|e| {
            let io = std::io::Error::other(e.to_string());
            failure = Some(e);
            io
        })
    })
    .map_err(|e| failure.take().unwrap_or(e))?;
    trace.lap("interpolate and write");
    Ok(StreamReport {
        sizes,
        discounts,
        warnings,
        stats,
        tokens,
        temp_bytes: spill.bytes_written(),
    })
}

/// Stage timings on stderr when `NEXTWORD_TRACE` is set (a profiling aid).
pub(crate) struct Trace {
    on: bool,
    at: std::time::Instant,
    cpu: f64,
}

impl Trace {
    pub(crate) fn new() -> Self {
        Self {
            on: std::env::var_os("NEXTWORD_TRACE").is_some(),
            at: std::time::Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    /// Wall time, CPU time and peak resident memory of the stage just ended
    /// (the peak is reset for the next stage, where Linux allows it).
    pub(crate) fn lap(&mut self, stage: &str) {
        if self.on {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let field = |name: &str| -> String {
                status
                    .lines()
                    .find(|l| l.starts_with(name))
                    .map(|l| l[name.len()..].trim().to_string())
                    .unwrap_or_default()
            };
            let cpu = cpu_seconds();
            eprintln!(
                "[trace] {stage}: {:.2?} wall, {:.1} s CPU, peak {} (now {})",
                self.at.elapsed(),
                cpu - self.cpu,
                field("VmHWM:"),
                field("VmRSS:")
            );
            self.cpu = cpu;
            let _ = std::fs::write("/proc/self/clear_refs", "5");
        }
        self.at = std::time::Instant::now();
    }
}

/// User and system CPU seconds of the process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given; zeroed is a valid start.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to a rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Stage 2 for order k: returns the context-ordered sorter's stream (as a
/// run), the number of n-grams and their count-of-counts n1..n4.
fn adjust(
    counts: &SpilledCounts,
    k: usize,
    memory: usize,
    spill: &Arc<Spill>,
    control: &Control,
) -> Result<(SortedRuns, usize, [u64; 4])> {
    let top = k == counts.order();
    let mut own = counts.stream(k)?;
    let mut above = if top {
        None
    } else {
        Some(counts.stream(k + 1)?)
    };
    // The first k ids of the record of `above` read but not yet matched
    // (one buffer reused: no allocation per record).
    let mut pending = vec![0u32; k];
    let mut has_pending = false;
    let mut done_above = false;
    let mut sorter = Sorter::new(k, memory, false, spill, "context").packing(own.id_bits());
    let mut coc = [0u64; 4];
    let mut size = 0usize;
    // The n-gram before: (adjusted count, raw count, left out of the tally).
    // Below the top order, lmplz's final flush tallies the last n-gram in
    // suffix order with its raw count: the quirk kept to match its discounts.
    let mut previous: Option<(u64, u64, bool)> = None;
    let mut ctx_key = vec![0u32; k];
    while let Some((rev, raw)) = own.next_record()? {
        size += 1;
        if size.is_multiple_of(1 << 20) {
            control.check()?;
        }
        let starts_with_bos = rev[k - 1] == BOS_ID;
        let adjusted = match above.as_mut() {
            Some(stream) if !starts_with_bos => {
                // The (k+1)-grams whose reversed first k ids equal `rev`.
                let mut n = 0u64;
                loop {
                    if !has_pending && !done_above {
                        match stream.next_record()? {
                            Some((key, _)) => {
                                pending.copy_from_slice(&key[..k]);
                                has_pending = true;
                            }
                            None => done_above = true,
                        }
                    }
                    if !has_pending {
                        break;
                    }
                    match pending.as_slice().cmp(rev) {
                        std::cmp::Ordering::Less => has_pending = false,
                        std::cmp::Ordering::Equal => {
                            n += 1;
                            has_pending = false;
                        }
                        std::cmp::Ordering::Greater => break,
                    }
                }
                n
            }
            _ => raw,
        };
        if let Some((a, _, skip)) = previous.take() {
            tally(&mut coc, a, skip);
        }
        previous = Some((adjusted, raw, k == 1 && rev[0] == BOS_ID));
        // Context order: the context's ids reversed, then the word.
        ctx_key[..k - 1].copy_from_slice(&rev[1..]);
        ctx_key[k - 1] = rev[0];
        sorter.push(&ctx_key, adjusted)?;
    }
    if let Some((a, raw, skip)) = previous {
        tally(&mut coc, if top { a } else { raw }, skip);
    }
    Ok((sorter.finish_on_disk()?, size, coc))
}

fn tally(coc: &mut [u64; 4], count: u64, skip: bool) {
    if !skip && (1..=4).contains(&count) {
        coc[count as usize - 1] += 1;
    }
}

/// Stage 4 for order k: reads `sorted` (context order, adjusted counts) and
/// returns the suffix-ordered run of (u, gamma) and, for k > 1, the run of
/// gamma per context (ids reversed: the order below's suffix order).
fn initial_probabilities(
    k: usize,
    sorted: SortedRuns,
    d: &[f32; 3],
    memory: usize,
    spill: &Arc<Spill>,
    control: &Control,
) -> Result<(SortedRuns, Option<Run>)> {
    let mut input = sorted.open()?;
    // Values are f32 bits: (u, gamma) in 8 bytes, gamma in 4.
    let mut sorter = Sorter::new(k, memory, false, spill, "initial")
        .storing(Values::Bits64)
        .packing(input.id_bits());
    let mut gammas = if k > 1 {
        Some(RunWriter::create_with(
            spill,
            "gamma",
            k - 1,
            Values::Bits32,
        )?)
    } else {
        None
    };
    let mut group_keys: Vec<u32> = Vec::new();
    let mut group_counts: Vec<u64> = Vec::new();
    let mut rev = vec![0u32; k];
    let mut seen = 0usize;
    let mut flush = |keys: &mut Vec<u32>,
                     counts: &mut Vec<u64>,
                     sorter: &mut Sorter,
                     gammas: &mut Option<RunWriter>|
     -> Result<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let is_event = |i: usize| !(k == 1 && keys[i * k + k - 1] == BOS_ID);
        let mut sum = 0u64;
        let mut nj = [0u64; 3];
        for (i, &a) in counts.iter().enumerate() {
            if !is_event(i) {
                continue;
            }
            sum += a;
            match a {
                0 => {}
                1 => nj[0] += 1,
                2 => nj[1] += 1,
                _ => nj[2] += 1,
            }
        }
        let den = sum as f32;
        let gamma = if sum == 0 {
            1.0f32
        } else {
            let mut g = 0f32;
            for j in 0..3 {
                g += d[j] * nj[j] as f32;
            }
            g / den
        };
        for (i, &a) in counts.iter().enumerate() {
            let ctx = &keys[i * k..(i + 1) * k];
            let u = if sum == 0 || !is_event(i) {
                0.0f32
            } else {
                (a as f32 - discount(d, a)) / den
            };
            rev[0] = ctx[k - 1];
            rev[1..].copy_from_slice(&ctx[..k - 1]);
            let value = u64::from(u.to_bits()) | (u64::from(gamma.to_bits()) << 32);
            sorter.push(&rev, value)?;
        }
        if let Some(g) = gammas.as_mut() {
            g.push(&keys[..k - 1], u64::from(gamma.to_bits()))?;
        }
        keys.clear();
        counts.clear();
        Ok(())
    };
    while let Some((ctx, a)) = input.next_record()? {
        seen += 1;
        if seen.is_multiple_of(1 << 20) {
            control.check()?;
        }
        if !group_counts.is_empty() && group_keys[..k - 1] != ctx[..k - 1] {
            flush(&mut group_keys, &mut group_counts, &mut sorter, &mut gammas)?;
        }
        group_keys.extend_from_slice(ctx);
        group_counts.push(a);
    }
    flush(&mut group_keys, &mut group_counts, &mut sorter, &mut gammas)?;
    drop(input);
    sorted.remove();
    let gammas = gammas.map(RunWriter::finish).transpose()?;
    Ok((sorter.finish_on_disk()?, gammas))
}

/// The discount of an n-gram with adjusted count `a`.
fn discount(d: &[f32; 3], a: u64) -> f32 {
    match a {
        0 => 0.0,
        1 => d[0],
        2 => d[1],
        _ => d[2],
    }
}

/// What stage 5 needs to know of the order it finishes.
struct Interpolation {
    k: usize,
    top: bool,
    uniform: f32,
    interpolate_unigrams: bool,
}

/// Records formatted per parallel block.
const BLOCK: usize = 1 << 15;

/// A joined stream read in step with a driving one: the value at the key
/// equal to the one asked for, skipping smaller keys.
struct Lookup {
    reader: Option<RunReader>,
    key: Vec<u32>,
    value: u64,
    valid: bool,
    done: bool,
}

impl Lookup {
    fn new(run: Option<&Run>) -> Result<Self> {
        Ok(Self {
            reader: run.map(Run::reader).transpose()?,
            key: Vec::new(),
            value: 0,
            valid: false,
            done: run.is_none(),
        })
    }

    /// The value stored at `key`, if any (keys must be asked in order).
    fn get(&mut self, key: &[u32]) -> Result<Option<u64>> {
        loop {
            if !self.valid {
                if self.done {
                    return Ok(None);
                }
                let Some(reader) = self.reader.as_mut() else {
                    return Ok(None);
                };
                match reader.next_record()? {
                    Some((k, v)) => {
                        self.key.clear();
                        self.key.extend_from_slice(k);
                        self.value = v;
                        self.valid = true;
                    }
                    None => {
                        self.done = true;
                        return Ok(None);
                    }
                }
            }
            match self.key.as_slice().cmp(key) {
                std::cmp::Ordering::Less => self.valid = false,
                std::cmp::Ordering::Equal => return Ok(Some(self.value)),
                std::cmp::Ordering::Greater => return Ok(None),
            }
        }
    }
}

/// Stage 5 for one order: probabilities from `initial` and the order below's
/// (`lower`), backoffs from `gammas`; writes the order's ARPA lines and
/// returns its probabilities for the order above (None for the top order).
#[allow(clippy::too_many_arguments)]
fn interpolate_and_write(
    step: &Interpolation,
    initial: SortedRuns,
    lower: Option<Run>,
    gammas: Option<Run>,
    words: &WordTable,
    out: &mut dyn Write,
    path: &Path,
    spill: &Arc<Spill>,
    control: &Control,
) -> Result<Option<Run>> {
    let k = step.k;
    let mut input = initial.open()?;
    let mut below = Lookup::new(lower.as_ref())?;
    let mut backoffs = Lookup::new(gammas.as_ref())?;
    // lmplz hands the gammas out in order, not by key (see `unended.rs`):
    // the same thing until an n-gram that is no context takes one; from then
    // on a second reader of the gammas, `walked` records in, gives them.
    let mut walked: u64 = 0;
    let mut in_order: Option<crate::count::runs::RunReader> = None;
    let gamma_run = gammas.as_ref();
    let mut probabilities = if step.top {
        None
    } else {
        Some(RunWriter::create_with(spill, "prob", k, Values::Bits32)?)
    };
    let batch = BLOCK * rayon::current_num_threads().max(1) * 2;
    // One thread reads and interpolates (a sequential merge-join), handing
    // batches to a second, which formats them on the pool, and this one
    // writes: the three overlap.
    type Batch = (Vec<u32>, Vec<(f32, f32)>);
    let (tx, rx) = crossbeam_channel::bounded::<Batch>(2);
    let produce = move || -> Result<Option<Run>> {
        let mut keys: Vec<u32> = Vec::with_capacity(batch * k);
        let mut values: Vec<(f32, f32)> = Vec::with_capacity(batch);
        while let Some((rev, packed)) = input.next_record()? {
            let u = f32::from_bits(packed as u32);
            let g = f32::from_bits((packed >> 32) as u32);
            let p = if k == 1 {
                let w = rev[0];
                if w == BOS_ID {
                    1.0
                } else if step.interpolate_unigrams {
                    u + g * step.uniform
                } else if w == UNK_ID {
                    u + g
                } else {
                    u
                }
            } else {
                let p_lower = below
                    .get(&rev[..k - 1])?
                    .map_or(0.0, |v| f32::from_bits(v as u32));
                u + g * p_lower
            };
            if let Some(w) = probabilities.as_mut() {
                w.push(rev, u64::from(p.to_bits()))?;
            }
            // The backoff's gamma (1 where there is none: log10 makes it 0).
            let backoff = if step.top {
                1.0
            } else {
                let own = backoffs.get(rev)?;
                let mut gamma = None;
                if own.is_some() || (rev[0] != EOS_ID && rev[0] != UNK_ID) {
                    if own.is_none() && in_order.is_none() {
                        if let Some(run) = gamma_run {
                            let mut reader = run.reader()?;
                            for _ in 0..walked {
                                reader.next_record()?;
                            }
                            in_order = Some(reader);
                        }
                    }
                    gamma = match in_order.as_mut() {
                        Some(reader) => reader.next_record()?.map(|(_, v)| v),
                        None => own,
                    };
                    walked += 1;
                }
                gamma.map_or(1.0, |v| f32::from_bits(v as u32))
            };
            keys.extend_from_slice(rev);
            // Logarithms are taken by the formatting threads, in parallel.
            values.push((p, backoff));
            if values.len() >= batch {
                let full = (std::mem::take(&mut keys), std::mem::take(&mut values));
                if tx.send(full).is_err() {
                    // The writer stopped (its error is the one reported).
                    return Ok(None);
                }
                keys.reserve(batch * k);
                values.reserve(batch);
            }
        }
        if !values.is_empty() {
            let _ = tx.send((keys, values));
        }
        drop(tx);
        drop(input);
        drop(below);
        drop(backoffs);
        probabilities.map(RunWriter::finish).transpose()
    };
    let (produced, written) = std::thread::scope(|scope| {
        let producer = scope.spawn(produce);
        // The formatter owns the reader's channel: when a write fails, it
        // stops, and the channel it drops stops the reader.
        let (written, formatted) = write_pipelined(out, control, |sink| -> Result<()> {
            let rx = rx;
            for (keys, values) in rx.iter() {
                control.check()?;
                let texts: Vec<Vec<u8>> = keys
                    .par_chunks(BLOCK * k)
                    .zip(values.par_chunks(BLOCK))
                    .map(|(keys, values)| {
                        let mut text = sink.buffer(values.len() * (12 + 8 * k));
                        let mut texts = ValueText::new();
                        for (i, (rev, &(p, gamma))) in keys.chunks_exact(k).zip(values).enumerate()
                        {
                            words.prefetch_line(keys, k, i + PREFETCH_LINES);
                            let logprob = p.log10().min(0.0);
                            let backoff = (!step.top).then(|| gamma.log10());
                            let key = rev.iter().rev().copied();
                            push_line(&mut text, logprob, key, backoff, words, &mut texts);
                        }
                        text
                    })
                    .collect();
                if !sink.send(texts, values.len() as u64) {
                    break;
                }
            }
            Ok(())
        });
        let written = written.map_err(|e| Error::io(path, e)).and(formatted);
        let produced = producer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (produced, written)
    });
    written?;
    let next = produced?;
    initial.remove();
    if let Some(run) = lower {
        run.remove();
    }
    if let Some(run) = gammas {
        run.remove();
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lm::arpa::write_arpa;
    use crate::lm::kneser_ney::estimate;

    #[test]
    fn memory_sizes_parse() {
        assert_eq!(parse_memory("2G").unwrap(), 2 << 30);
        assert_eq!(parse_memory("512m").unwrap(), 512 << 20);
        assert_eq!(parse_memory("1.5GB").unwrap(), 3 << 29);
        assert_eq!(parse_memory("800KiB").unwrap(), 800 << 10);
        assert_eq!(parse_memory("4096").unwrap(), 4096);
        assert!(parse_memory("50%").unwrap() > 0);
        for bad in ["", "G", "-1G", "0", "lots", "150%", "nan"] {
            assert!(parse_memory(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// The streamed ARPA file is byte for byte the in-memory path's, with
    /// runs spilled at every chunk.
    #[test]
    fn streamed_arpa_equals_in_memory_arpa() {
        let texts: Vec<String> = (0..30_000)
            .map(|i: usize| {
                let words: Vec<String> = (0..(i % 11))
                    .map(|j| format!("w{}", (i * 7 + j * j * 3) % 53))
                    .collect();
                words.join(" ")
            })
            .collect();
        let corpus = Corpus::from_texts(texts);
        let count = CountOptions {
            order: 4,
            threads: 2,
            ..Default::default()
        };
        let control = Control::new();
        let counts = crate::count::count_ngrams(&corpus, &count, &control).unwrap();
        let model = estimate(&counts, &KneserNeyOptions::default()).unwrap();
        let mut expected = Vec::new();
        write_arpa(&model, &mut expected).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.arpa");
        let stream = StreamOptions {
            memory: 1,
            temp_dir: Some(dir.path().to_path_buf()),
        };
        let report = train_arpa_within(
            &corpus,
            &count,
            &KneserNeyOptions::default(),
            &stream,
            &path,
            &control,
        )
        .unwrap();
        let got = std::fs::read(&path).unwrap();
        assert!(
            got == expected,
            "streamed ARPA differs from the in-memory one"
        );
        assert_eq!(report.discounts, model.discounts);
        // Only the output is left in the directory: temporary files are gone.
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }
}

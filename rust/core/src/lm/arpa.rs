//! ARPA files: write (plain or `.gz`) and read, interoperable with KenLM and SRILM.
//!
//! Values are written as the shortest decimal that reads back as the same f32
//! (what lmplz prints). A zero probability is written as `-inf`, which KenLM
//! reads as minus infinity (SRILM's finite `-99` would make an impossible
//! event merely unlikely). A zero backoff weight (an MLE model's) has no
//! form KenLM accepts, so such a model refuses ARPA and is saved as `.nwlm`.
//!
//! Reading follows KenLM's rules for files from other tools (see [`load_arpa`]).
//!
//! The tokenizer: nothing for KenLM's whitespace split (files stay
//! byte-identical to lmplz's), a `# nextword tokenizer: SPEC` comment for a
//! built-in one, and for a learned one (whose record has a payload ARPA cannot
//! hold) the comment naming its kind plus a sidecar file `NAME.tokenizer`
//! holding the checksummed record ([`TokenizerRecord::sidecar_path`]).

use std::io::Write;
use std::path::Path;

use super::arpa_gaps::{self, Completion, Ranks};
use super::arpa_read::{self, TOKENIZER_NOTE};
use super::arpa_sort;
#[cfg(test)]
use super::arpa_text::push_value;
use super::arpa_text::{
    push_line, write_pipelined, TextSink, ValueText, WordTable, PREFETCH_LINES,
};
use super::level::Level;
use super::model::{NGramModel, Remainder};
use crate::control::Control;
use crate::tokenize::{Tokenizer, TokenizerRecord};
use crate::{Error, Result};

/// The ARPA text of a log10 value: the shortest decimal that reads back as
/// the same f32, in plain notation (`-1.2345`, `0`, `-inf`), and in
/// exponent notation (`-1.5e-7`) below 1e-6, ties to the even digit as
/// lmplz (double-conversion) prints them.
#[cfg(test)]
fn fmt(v: f32) -> String {
    let mut out = Vec::new();
    push_value(&mut out, v, &mut ryu::Buffer::new());
    String::from_utf8(out).expect("ASCII")
}

/// N-grams formatted per block: blocks are formatted in parallel and written in order.
const WRITE_BLOCK: usize = 1 << 15;

/// The entries of `level` in lmplz's order: by last word, then the word before
/// it, and so on. Sorted on as many of the last words as fit in a u64 (one
/// compare decides most pairs, without touching the keys), the words before
/// them breaking ties.
fn suffix_order(level: &Level, vocab_size: usize) -> Vec<u32> {
    use rayon::prelude::*;
    let n = level.n;
    let bits = (usize::BITS - vocab_size.max(2).saturating_sub(1).leading_zeros()) as usize;
    let packed = n.min(64 / bits);
    let mut keyed: Vec<(u64, u32)> = (0..level.len())
        .into_par_iter()
        .map(|i| {
            let key = level.key(i);
            let prefix = key[n - packed..]
                .iter()
                .rev()
                .fold(0u64, |acc, &id| (acc << bits) | u64::from(id));
            (prefix, i as u32)
        })
        .collect();
    keyed.par_sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            if packed == n {
                return std::cmp::Ordering::Equal;
            }
            let ka = &level.key(a.1 as usize)[..n - packed];
            let kb = &level.key(b.1 as usize)[..n - packed];
            ka.iter().rev().cmp(kb.iter().rev())
        })
    });
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// The `\\data\\` section: the n-gram count of every order (`sizes[k - 1]`
/// for order k), after a note of the tokenizer when it is not KenLM's.
pub(crate) fn write_header(
    out: &mut dyn Write,
    tokenizer: &Tokenizer,
    sizes: &[usize],
) -> std::io::Result<()> {
    if *tokenizer != Tokenizer::default() {
        // Only a non-default tokenizer is noted, so lmplz-style models stay
        // byte-identical to lmplz's files.
        writeln!(out, "{TOKENIZER_NOTE}{}\n", note(tokenizer))?;
    }
    writeln!(out, "\\data\\")?;
    for (k, n) in sizes.iter().enumerate() {
        writeln!(out, "ngram {}={}", k + 1, n)?;
    }
    Ok(())
}

/// Write `model` as ARPA to `out`.
pub fn write_arpa(model: &NGramModel, out: &mut dyn Write) -> std::io::Result<()> {
    write_arpa_with(model, out, &Control::default())
}

/// Write `model` as ARPA to `out`, reporting progress to (and stopping on) `control`.
pub fn write_arpa_with(
    model: &NGramModel,
    out: &mut dyn Write,
    control: &Control,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    // A trie holds no full keys: write from the hash layout's.
    let hashed = model.hash_layout();
    let model: &NGramModel = &hashed;
    let words = model.vocab.words();
    let sizes: Vec<usize> = model.levels.iter().map(Level::len).collect();
    write_header(out, model.vocab.tokenizer(), &sizes)?;
    let top = model.order();
    let table = WordTable::new(words);
    let total: usize = model.levels.iter().map(Level::len).sum();
    control.start_steps(total as u64, "n-grams");
    let batch = WRITE_BLOCK * rayon::current_num_threads().max(1) * 2;
    for level in &model.levels {
        writeln!(out, "\n\\{}-grams:", level.n)?;
        let order = suffix_order(level, words.len());
        let n = level.n;
        let format_block = |sink: &TextSink, block: &[u32]| -> Vec<u8> {
            // Gather first: the entries are scattered, and loads that do not
            // wait on each other overlap their cache misses.
            let mut keys = Vec::with_capacity(block.len() * n);
            let mut values = Vec::with_capacity(block.len());
            for &i in block {
                let i = i as usize;
                keys.extend_from_slice(level.key(i));
                values.push((level.logprob[i], level.backoff[i]));
            }
            let mut text = sink.buffer(block.len() * (12 + 8 * n));
            let mut texts = ValueText::new();
            for (i, (key, &(logprob, backoff))) in keys.chunks_exact(n).zip(&values).enumerate() {
                table.prefetch_line(&keys, n, i + PREFETCH_LINES);
                push_line(
                    &mut text,
                    logprob,
                    key.iter().copied(),
                    (n < top).then_some(backoff),
                    &table,
                    &mut texts,
                );
            }
            text
        };
        let (written, filled) = write_pipelined(out, control, |sink| {
            for group in order.chunks(batch) {
                if control.is_cancelled() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::Interrupted,
                        "interrupted while writing ARPA",
                    ));
                }
                let texts: Vec<Vec<u8>> = group
                    .par_chunks(WRITE_BLOCK)
                    .map(|block| format_block(sink, block))
                    .collect();
                if !sink.send(texts, group.len() as u64) {
                    break;
                }
            }
            Ok(())
        });
        written?;
        filled?;
    }
    writeln!(out, "\n\\end\\")?;
    Ok(())
}

/// Write `model` as ARPA to `path` (gzipped when it ends in `.gz`), atomically.
///
/// ARPA's backoff semantics cannot express add-k's uniform remainder or
/// stupid backoff's alpha for unseen contexts: those models refuse, and are
/// saved in the binary format instead.
pub fn save_arpa(model: &NGramModel, path: &Path, control: &Control) -> Result<()> {
    let expressible = matches!(model.remainder, Remainder::LowerOrder { unseen_context } if unseen_context == 0.0);
    if !expressible {
        return Err(Error::InvalidArgument(format!(
            "a {} model cannot be written as ARPA (its backoff rule is not ARPA's); save it as .nwlm",
            model.smoothing
        )));
    }
    let top = model.order();
    if model.levels[..top - 1]
        .iter()
        .any(|level| level.backoff.contains(&f32::NEG_INFINITY))
    {
        return Err(Error::InvalidArgument(format!(
            "a {} model has zero backoff weights (log10 0), which ARPA readers such as \
             KenLM refuse (and SRILM's -99 would turn into a finite penalty); save it as .nwlm",
            model.smoothing
        )));
    }
    save_arpa_file(path, model.vocab.tokenizer(), control, |out| {
        write_arpa_with(model, out, control)
    })
}

/// Write an ARPA file at `path` with `fill`, atomically (gzipped when the
/// name ends in `.gz`); a learned tokenizer's sidecar is written first.
pub(crate) fn save_arpa_file(
    path: &Path,
    tokenizer: &Tokenizer,
    control: &Control,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    if tokenizer.has_payload() {
        // The sidecar first: an ARPA file naming a learned kind never lacks it.
        tokenizer
            .to_record()
            .save(&TokenizerRecord::sidecar_path(path))?;
    }
    let gzip = path.to_string_lossy().ends_with(".gz");
    // Stopped: the temporary file is gone and nothing was renamed into place.
    crate::binfmt::write_atomic_unless_cancelled(path, control, |out| {
        if gzip {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::new(6));
            fill(&mut gz)?;
            gz.finish()?.flush()
        } else {
            fill(out)
        }
    })
}

/// What the comment says of `tokenizer`: its spec, or for a learned one
/// (whose record lives in the sidecar) its kind.
pub(crate) fn note(tokenizer: &Tokenizer) -> String {
    if tokenizer.has_payload() {
        tokenizer.kind().to_string()
    } else {
        tokenizer.spec()
    }
}

/// The tokenizer an ARPA file's comment names: a built-in spec, or a learned
/// kind whose record is read from the sidecar beside `path`.
fn recorded_tokenizer(path: &Path, spec: &str) -> Result<Tokenizer> {
    let sidecar = TokenizerRecord::sidecar_path(path);
    if sidecar.exists() {
        let record = TokenizerRecord::load(&sidecar)?;
        if record.kind == spec {
            return Tokenizer::from_record(&record)
                .map_err(|e| Error::format(&sidecar, e.to_string()));
        }
    }
    Tokenizer::from_spec(spec).map_err(|e| {
        Error::format(
            path,
            format!(
                "recorded tokenizer {spec:?}: {e} (a learned tokenizer's record belongs in {}; is it missing?)",
                sidecar.display()
            ),
        )
    })
}

/// A model read from an ARPA file, with what reading it noticed.
#[derive(Debug)]
pub struct ArpaModel {
    /// The model, its n-grams completed as KenLM completes them.
    pub model: NGramModel,
    /// The tokenizer the file records (None: none recorded, the default).
    pub recorded_tokenizer: Option<String>,
    /// What completing the file's n-grams added.
    pub completion: Completion,
    /// What the caller should tell the user (a missing `<unk>`, a tokenizer
    /// other than the one the file records).
    pub warnings: Vec<String>,
}

/// Read an ARPA file (plain, `.gz` or `.zst`). Tokens are mapped through a
/// vocabulary built from the unigrams in file order after `<unk>`, `<s>`, `</s>`.
///
/// Lines before `\\data\\` must be blank or comments (`#`), as KenLM requires;
/// a `# nextword tokenizer: SPEC` comment there names the tokenizer the model
/// was trained with, used when `tokenizer` is None (a learned kind is read
/// from the sidecar `NAME.tokenizer`). Files from other tools are
/// completed by KenLM's rules (see [`super::arpa_gaps`]): blanks for missing
/// suffixes, `<unk>` at log10 p = -100 when absent; an n-gram without its
/// context is refused with its line. The lines of a section may come in any
/// order (lmplz sorts them by their last words, SRILM by their first).
pub fn load_arpa(path: &Path, tokenizer: Option<Tokenizer>) -> Result<ArpaModel> {
    load_arpa_with(path, tokenizer, &Control::new())
}

/// [`load_arpa`], counting the bytes read on `control` (progress) and
/// stopping with [`Error::Cancelled`] when it is cancelled.
///
/// The text is parsed in parallel (see `arpa_read`); the orders are then
/// sorted (`arpa_sort`), checked for duplicates and indexed in parallel, and
/// completed ([`super::arpa_gaps`]). Besides the model being built, the
/// memory holds the file rank of each n-gram of the orders that had to be
/// sorted until completion is done (4 bytes an n-gram).
pub fn load_arpa_with(
    path: &Path,
    tokenizer: Option<Tokenizer>,
    control: &Control,
) -> Result<ArpaModel> {
    use rayon::prelude::*;
    let timer = StageTimer::new();
    if let Ok(meta) = std::fs::metadata(path) {
        control
            .bytes_total
            .store(meta.len(), std::sync::atomic::Ordering::Relaxed);
    }
    control.set_stage("reading ARPA");
    let arpa_read::Parsed {
        words,
        recorded,
        sections,
        ..
    } = arpa_read::read_sections(path, control)?;
    timer.mark("read");
    control.check()?;
    control.set_stage("sorting and indexing n-grams");
    let bad = |line: usize, msg: String| Error::format(path, format!("line {line}: {msg}"));
    // What names the lines of each section stays; the n-grams go to be sorted.
    let (lines, bodies): (Vec<_>, Vec<_>) = sections.into_iter().map(|s| s.split()).unzip();
    // In file order, before sorting: where one merge pass proves an order's
    // suffixes present, completion looks none of them up.
    let proved: Vec<bool> = (0..bodies.len())
        .into_par_iter()
        .map(|k| {
            k >= 2
                && arpa_gaps::suffixes_in_order(
                    &bodies[k].records,
                    k + 1,
                    &bodies[k - 1].records,
                    k,
                )
        })
        .collect();
    timer.mark("suffix merge");
    let sorted: Vec<Result<(Level, Ranks)>> = bodies
        .into_par_iter()
        .enumerate()
        .map(|(k, section)| {
            control.check()?;
            let s = arpa_sort::sort_section(section);
            let n = s.n;
            let rank = |i: usize| s.ranks.as_ref().map_or(i, |r| r[i] as usize);
            let key = |i: usize| &s.keys[i * n..(i + 1) * n];
            if let Some(i) = (1..s.logprob.len())
                .into_par_iter()
                .find_first(|&i| key(i - 1) == key(i))
            {
                let (a, b) = (lines[k].line_of(rank(i - 1)), lines[k].line_of(rank(i)));
                return Err(bad(
                    a.max(b),
                    format!("duplicate {n}-gram (also on line {})", a.min(b)),
                ));
            }
            Ok((Level::new(n, s.keys, s.logprob, s.backoff), s.ranks))
        })
        .collect();
    // The first error by order, as a reader going line by line meets them.
    let (mut levels, mut ranks): (Vec<Level>, Vec<Ranks>) = sorted
        .into_iter()
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    timer.mark("sort + index");
    let completion = arpa_gaps::complete(&mut levels, &mut ranks, &proved, words.words())
        .map_err(|(k, rank, msg)| bad(lines[k].line_of(rank as usize), msg))?;
    drop(ranks);
    timer.mark("complete");
    let mut warnings = Vec::new();
    let name = path.display();
    if completion.unk_added {
        warnings.push(format!(
            "{name} has no <unk>: unknown words score log10 p = {}, as in KenLM",
            arpa_gaps::UNKNOWN_MISSING_LOGPROB
        ));
    }
    let tokenizer = match (tokenizer, &recorded) {
        (Some(given), Some(spec)) => {
            warnings.extend(super::file::tokenizer_mismatch(path, spec, &note(&given)));
            given
        }
        (Some(given), None) => given,
        (None, Some(spec)) => recorded_tokenizer(path, spec)?,
        (None, None) => Tokenizer::default(),
    };
    let mut vocab = words;
    vocab.set_tokenizer(tokenizer);
    control.check()?;
    control.set_stage("linking orders");
    // <s> and </s> missing from the file stay in the vocabulary without a
    // unigram: they score as -inf.
    let model = NGramModel::from_levels(
        vocab,
        levels,
        Remainder::LowerOrder {
            unseen_context: 0.0,
        },
        "arpa",
        true,
    );
    timer.mark("link");
    Ok(ArpaModel {
        model,
        recorded_tokenizer: recorded,
        completion,
        warnings,
    })
}

/// Seconds per stage of [`load_arpa_with`] on stderr when the environment
/// sets `NEXTWORD_ARPA_TIMES` (for profiling; off by default).
struct StageTimer {
    on: bool,
    last: std::cell::Cell<std::time::Instant>,
}

impl StageTimer {
    fn new() -> Self {
        Self {
            on: std::env::var_os("NEXTWORD_ARPA_TIMES").is_some(),
            last: std::cell::Cell::new(std::time::Instant::now()),
        }
    }

    fn mark(&self, stage: &str) {
        if self.on {
            let now = std::time::Instant::now();
            let seconds = now.duration_since(self.last.get()).as_secs_f64();
            eprintln!("arpa {stage}: {seconds:.3} s");
            self.last.set(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_lmplz() {
        // -2.14453125 is exactly halfway between -2.1445312 and -2.1445313.
        assert_eq!(fmt(-(2.0 + 37.0 / 256.0)), "-2.1445312");
        assert_eq!(fmt(-1.0664062), "-1.0664062");
        assert_eq!(fmt(-0.92275405), "-0.92275405");
        assert_eq!(fmt(0.0), "0");
        assert_eq!(fmt(f32::NEG_INFINITY), "-inf");
        assert_eq!(fmt(-100.0), "-100");
    }

    /// The printing rule spelled out slowly: Rust's shortest round-trip decimal,
    /// then an exact tie (the true value halfway between two shortest
    /// candidates) moved to the even digit, as double-conversion does.
    fn slow_fmt(v: f32) -> String {
        if v == f32::NEG_INFINITY {
            return "-inf".to_string();
        }
        if v == 0.0 {
            return "0".to_string();
        }
        if v.abs() < 1e-6 {
            return format!("{v:e}");
        }
        let shortest = format!("{v}");
        let Some((_, frac)) = shortest.split_once('.') else {
            return shortest;
        };
        let digits = frac.len();
        let exact = format!("{:.80}", v as f64);
        let (int_part, exact_frac) = exact.split_once('.').unwrap();
        let rest = &exact_frac[digits..];
        let tie = rest.starts_with('5') && rest[1..].bytes().all(|b| b == b'0');
        if !tie {
            return shortest;
        }
        let trunc = format!("{int_part}.{}", &exact_frac[..digits]);
        let last = trunc.bytes().last().unwrap() - b'0';
        if last.is_multiple_of(2) {
            return trunc;
        }
        if last == 9 {
            return shortest;
        }
        let mut up = trunc.into_bytes();
        let n = up.len();
        up[n - 1] += 1;
        String::from_utf8(up).unwrap()
    }

    #[test]
    fn fast_printing_equals_the_slow_rule() {
        // Random bit patterns across the whole range (log-probabilities and
        // backoffs live in [-100, 10]), plus every float near a few values.
        let mut rng = crate::sample::Rng::new(7);
        let mut checked = 0;
        let mut ties = 0;
        let mut check = |v: f32| {
            let slow = slow_fmt(v);
            assert_eq!(fmt(v), slow, "{v:?} (bits {:#x})", v.to_bits());
            assert_eq!(slow.parse::<f32>().unwrap_or(f32::NEG_INFINITY), v);
            if slow != format!("{v}") && v.abs() >= 1e-6 {
                ties += 1;
            }
            checked += 1;
        };
        for _ in 0..200_000 {
            let bits = (rng.next_u64() >> 32) as u32;
            let v = f32::from_bits(bits);
            if v.is_finite() {
                check(v);
            }
        }
        for _ in 0..200_000 {
            let v = -((rng.next_u64() % 100_000_000) as f32) / 1e6;
            check(v);
        }
        for centre in [-2.0f32, -1.0, -0.3, -100.0, 0.5, 3.0] {
            for d in -20_000i32..20_000 {
                check(f32::from_bits((centre.to_bits() as i32 + d) as u32));
            }
        }
        assert!(checked > 500_000);
        // Ties do occur among these, and the fast path breaks them to even.
        assert!(ties > 0, "no tie was exercised");
    }
}

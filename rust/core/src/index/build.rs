//! Building an index: the stages wired together.
//!
//! 1. the vocabulary: the tokenizer's own ids when it fixes them (BPE, word
//!    lists), else every word of the corpus by descending count (at most
//!    `max_vocab`, rarer words becoming `<unk>`);
//! 2. the token width: 16 bits when the vocabulary and the separator fit,
//!    else 32; a width asked for that cannot hold the vocabulary is refused
//!    here, before the corpus is encoded;
//! 3. the shard size: no limit, or the largest stream whose sort fits the
//!    memory budget ([`shard_limit`], from [`sort_memory`]);
//! 4. [`super::stream::encode_shards`]: the token stream, cut into shards of
//!    whole documents as it is read; for each shard in turn, its unigram
//!    counts, [`super::suffix_array::build`] (the sorted, packed suffix
//!    array) and [`super::file::IndexWriter::add_shard`];
//! 5. the vocabulary with the corpus's unigram counts, the shard table and
//!    the header, and the file renamed into place.
//!
//! Memory: the vocabulary, one shard's stream and sort ([`sort_memory`]), and
//! a few chunks of text; the budget covers the process's peak, as counting's
//! does. Progress is the corpus read (stages 1 and 4, two passes); Ctrl-C
//! stops between chunks, during a sort (which is left to finish in the
//! background, see [`sort`]) and between blocks of the write, leaving no
//! file. A full disk or any other error leaves no file either.

use std::path::Path;

use super::file::{self, CorpusIndex, IndexWriter, Layout};
pub use super::stream::Documents;
use super::stream::TokenStream;
use super::{stream, suffix_array, SEP};
use crate::binfmt;
use crate::control::Control;
use crate::corpus::Corpus;
use crate::tokenize::{Tokenizer, Vocab};
use crate::{Error, Result};

/// How to build an index.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// What a document is.
    pub documents: Documents,
    /// Pad each sentence with `<s>` and `</s>` (as counting does).
    pub pad: bool,
    /// Bytes per token, 2 or 4 (None: the smallest that fits).
    pub token_width: Option<u8>,
    /// At most this many vocabulary entries, specials included.
    pub max_vocab: Option<usize>,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// A budget in bytes for the whole process's peak: the corpus is cut into
    /// shards whose sort fits what it leaves (None: one shard, no limit).
    pub memory: Option<u64>,
    /// At most this many tokens a shard, separators included (None: as
    /// `memory` says).
    pub shard_tokens: Option<u64>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            documents: Documents::Lines,
            pad: true,
            token_width: None,
            max_vocab: None,
            threads: 0,
            memory: None,
            shard_tokens: None,
        }
    }
}

/// The peak bytes of the suffix sort and the write for a stream of `n`
/// tokens (separators included): the stream (4 bytes a token), the sort's
/// input (2 bytes a token when `wide` is false, else 4, or 8 past 2 G
/// tokens), libsais's suffix array (4, or 8 past 2 G tokens) and the packed
/// array (its pointer width) during the sort; the stream, the packed array
/// and the token bytes of the file (2 or 4) while writing.
pub fn sort_memory(n: u64, wide: bool) -> u64 {
    let large = n >= i32::MAX as u64;
    let sa = if large { 8 } else { 4 };
    let text = match (wide, large) {
        (false, _) => 2,
        (true, false) => 4,
        (true, true) => 8,
    };
    let packed = suffix_array::pointer_width(n) as u64;
    let sort = 4 + text + sa + packed;
    let write = 4 + packed + if wide { 4 } else { 2 };
    n.saturating_mul(sort.max(write))
}

fn gib(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / 1e9)
}

/// The largest vocabulary a 16-bit index holds: `u16::MAX` is the separator.
pub const NARROW_VOCAB: usize = u16::MAX as usize;

/// Whether tokens are stored in 32 bits, for a vocabulary of `len` entries.
pub fn wide_tokens(len: usize, asked: Option<u8>) -> Result<bool> {
    match asked {
        None => Ok(len > NARROW_VOCAB),
        Some(2) if len > NARROW_VOCAB => Err(Error::InvalidArgument(format!(
            "a vocabulary of {len} entries does not fit 16-bit tokens (at most {NARROW_VOCAB}): \
             use token_width=4 or max_vocab"
        ))),
        Some(2) => Ok(false),
        Some(4) if len >= SEP as usize - 1 => Err(Error::InvalidArgument(format!(
            "a vocabulary of {len} entries does not fit 32-bit tokens"
        ))),
        Some(4) => Ok(true),
        Some(w) => Err(Error::InvalidArgument(format!(
            "token_width must be 2 or 4, not {w}"
        ))),
    }
}

/// The most tokens a shard holds: `shard_tokens` when set, else the
/// largest stream whose sort fits what `memory` leaves unused (see
/// [`crate::count::runs::unused_budget`]), else no limit.
pub fn shard_limit(options: &BuildOptions, wide: bool) -> Result<usize> {
    if let Some(t) = options.shard_tokens {
        if t < 2 {
            return Err(Error::InvalidArgument(format!(
                "shard_tokens must be at least 2, not {t}"
            )));
        }
        return Ok(usize::try_from(t).unwrap_or(usize::MAX));
    }
    let Some(budget) = options.memory else {
        return Ok(usize::MAX);
    };
    let room = crate::count::runs::unused_budget(usize::try_from(budget).unwrap_or(usize::MAX));
    let (mut lo, mut hi) = (0u64, 1u64 << 42);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if sort_memory(mid, wide) <= room as u64 {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    if lo < MIN_SHARD {
        return Err(Error::InvalidArgument(format!(
            "memory={} leaves room to sort only {lo} tokens at a time (a shard needs about \
             {} bytes a token, and at least {MIN_SHARD} tokens): raise the budget",
            gib(budget),
            sort_memory(1 << 20, wide) >> 20
        )));
    }
    Ok(usize::try_from(lo).unwrap_or(usize::MAX))
}

/// The fewest tokens a shard sized by a memory budget holds.
const MIN_SHARD: u64 = 4096;

/// The packed suffix array of `ids`, sorted on its own thread so that
/// Ctrl-C returns at once: libsais's one call cannot be interrupted, so a
/// cancelled sort is left to finish in the background and its memory is
/// freed when it does. Gives the ids back with the array.
fn sort(
    ids: Vec<u32>,
    alphabet: u32,
    wide: bool,
    threads: usize,
    control: &Control,
) -> Result<(Vec<u32>, Vec<u8>, u8)> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("nextword-sais".into())
        .spawn(move || {
            let sorted = suffix_array::build(&ids, alphabet, wide, threads);
            let _ = tx.send(sorted.map(|(sa, w)| (ids, sa, w)));
        })
        .map_err(|e| Error::InvalidArgument(format!("cannot start the sort: {e}")))?;
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok(sorted) => return sorted,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => control.check()?,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Err(Error::InvalidArgument(
                    "the suffix sort stopped without a result".into(),
                ))
            }
        }
    }
}

/// Build the index of `corpus` into `path` and open it.
pub fn build(
    corpus: &Corpus,
    tokenizer: Tokenizer,
    options: &BuildOptions,
    path: &Path,
    control: &Control,
) -> Result<CorpusIndex> {
    let threads = options.threads;
    // Within a budget: the allocator's pool starts empty (see `alloc`).
    crate::alloc::begin_budget();
    if options.max_vocab.is_some() && tokenizer.fixed_vocab().is_some() {
        return Err(Error::InvalidArgument(
            "max_vocab cannot cut a tokenizer that fixes its own ids".into(),
        ));
    }
    let passes = if tokenizer.fixed_vocab().is_some() {
        1
    } else {
        2
    };
    control
        .passes
        .store(passes, std::sync::atomic::Ordering::Relaxed);
    let vocab = match Vocab::of_fixed(&tokenizer, &[])? {
        Some(v) => v,
        None => Vocab::build(corpus, tokenizer, 1, options.max_vocab, control, threads)?.0,
    };
    let wide = wide_tokens(vocab.len(), options.token_width)?;
    // The vocabulary pass's freed tables back to the system, so that the
    // budget's room is measured on what stays.
    crate::count::runs::release_freed_memory();
    let limit = shard_limit(options, wide)?;
    control.check()?;
    let shape = stream::Shape {
        documents: options.documents,
        pad: options.pad,
        limit,
    };
    let layout = Layout {
        documents: options.documents,
        padded: options.pad,
        wide,
    };
    let mut unigrams = vec![0u64; vocab.len()];
    // A typed error from inside the write (the file is then removed).
    let mut failure: Option<Error> = None;
    let written = binfmt::write_atomic_unless_cancelled(path, control, |file| {
        let mut writer = IndexWriter::new(file, layout)?;
        let mut io_failure = None;
        let encoded = stream::encode_shards(corpus, &vocab, shape, control, threads, |stream| {
            let mut counts = vec![0u64; vocab.len()];
            for &t in &stream.ids {
                if let Some(c) = counts.get_mut(t as usize) {
                    *c += 1;
                }
            }
            unigrams.iter_mut().zip(&counts).for_each(|(u, c)| *u += c);
            let docs = stream.starts.len() as u64 - 1;
            let rows = file::first_token_starts(&counts, stream.ids.len() as u64 - docs);
            control.check()?;
            let starts = stream.starts;
            let (ids, suffixes, width) =
                sort(stream.ids, vocab.len() as u32, wide, threads, control)?;
            control.check()?;
            let stream = TokenStream { ids, starts };
            writer
                .add_shard(&stream, &suffixes, width, &rows, control)
                .map_err(|e| {
                    io_failure = Some(e);
                    Error::Cancelled
                })
        });
        if let Some(e) = io_failure {
            return Err(e);
        }
        if let Err(e) = encoded {
            failure = Some(e);
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let mut counted = Vocab::new(vocab.tokenizer().clone());
        for (word, &c) in vocab.words().iter().zip(&unigrams) {
            counted.add(word, c);
        }
        writer.finish(&counted)
    });
    if let Some(e) = failure {
        return Err(e);
    }
    written?;
    CorpusIndex::open(path, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_chosen_and_checked() {
        assert!(!wide_tokens(100, None).unwrap());
        assert!(wide_tokens(100, Some(4)).unwrap());
        assert!(wide_tokens(70_000, None).unwrap());
        let e = wide_tokens(70_000, Some(2)).unwrap_err().to_string();
        assert!(e.contains("does not fit 16-bit"), "{e}");
        assert!(wide_tokens(10, Some(3)).is_err());
    }

    #[test]
    fn a_memory_budget_sizes_the_shards() {
        assert_eq!(sort_memory(1000, false), 1000 * (4 + 2 + 4 + 2));
        assert_eq!(sort_memory(1 << 20, true), (1 << 20) * (4 + 4 + 4 + 3));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.idx");
        let corpus = Corpus::from_texts(vec!["a b a b c".into(); 100]);
        let options = |memory| BuildOptions {
            memory: Some(memory),
            ..BuildOptions::default()
        };
        let run =
            |o: &BuildOptions| build(&corpus, Tokenizer::Whitespace, o, &path, &Control::new());
        let e = run(&options(1000)).unwrap_err().to_string();
        assert!(e.contains("leaves room to sort only"), "{e}");
        assert!(!path.exists());
        assert_eq!(run(&options(1 << 30)).unwrap().shard_count(), 1);
        // A shard of at most 20 tokens holds 2 sentences of 7 and their separators.
        let small = BuildOptions {
            shard_tokens: Some(20),
            ..BuildOptions::default()
        };
        let sharded = run(&small).unwrap();
        assert_eq!(sharded.shard_count(), 50);
        assert_eq!(sharded.count(&sharded.encode("a b").unwrap()), 200);
        let too_small = BuildOptions {
            shard_tokens: Some(7),
            ..BuildOptions::default()
        };
        let e = run(&too_small).unwrap_err().to_string();
        assert!(e.contains("holds more than the 6 tokens"), "{e}");
        // Cancelled: no file, and no temporary file beside it.
        std::fs::remove_file(&path).unwrap();
        let control = Control::new();
        control.cancel();
        let e = build(
            &corpus,
            Tokenizer::Whitespace,
            &BuildOptions::default(),
            &path,
            &control,
        );
        assert!(matches!(e, Err(Error::Cancelled)));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_cancelled_sort_returns_without_waiting_for_it() {
        // libsais cannot be stopped: the caller gets Cancelled at its next
        // look (50 ms), long before 8 M tokens are sorted on one thread.
        let control = Control::new();
        control.cancel();
        let ids: Vec<u32> = (0..8_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 20) % 1000)
            .collect();
        assert!(matches!(
            sort(ids, 1000, false, 1, &control),
            Err(Error::Cancelled)
        ));
        let done = sort(vec![3, 1, 2, SEP], 4, false, 1, &Control::new()).unwrap();
        assert_eq!(done.0, [3, 1, 2, SEP]);
    }

    #[test]
    fn shards_answer_as_one_index() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> = (0..300)
            .map(|i| {
                let words = ["a", "b", "c", "d", "b a", "c c c"];
                (0..1 + i % 7)
                    .map(|j| words[(i * 7 + j * 3) % words.len()])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        for documents in [Documents::Lines, Documents::Files] {
            let corpus = Corpus::from_texts(texts.clone());
            let make = |name: &str, shard_tokens| {
                let options = BuildOptions {
                    documents,
                    shard_tokens,
                    ..BuildOptions::default()
                };
                let path = dir.path().join(name);
                build(
                    &corpus,
                    Tokenizer::Whitespace,
                    &options,
                    &path,
                    &Control::new(),
                )
                .unwrap()
            };
            let one = make("one.idx", None);
            if documents == Documents::Files {
                // One text is one document: too long for small shards.
                let options = BuildOptions {
                    documents,
                    shard_tokens: Some(64),
                    ..BuildOptions::default()
                };
                let e = build(
                    &corpus,
                    Tokenizer::Whitespace,
                    &options,
                    &dir.path().join("x.idx"),
                    &Control::new(),
                );
                assert!(e.is_err());
                continue;
            }
            let many = make("many.idx", Some(64));
            assert!(many.shard_count() > 10, "{}", many.shard_count());
            many.verify().unwrap();
            assert_eq!(many.stream_len(), one.stream_len());
            assert_eq!(many.documents(), one.documents());
            assert_eq!(many.unigram_counts(), one.unigram_counts());
            let phrases: Vec<Vec<u32>> = ["a", "b a", "c c", "c c c c", "a b a b", "d", "zz", ""]
                .iter()
                .map(|p| one.encode(p).unwrap())
                .collect();
            let refs: Vec<&[u32]> = phrases.iter().map(|p| &p[..]).collect();
            for p in &refs {
                assert_eq!(many.count(p), one.count(p), "{p:?}");
                assert_eq!(many.next_counts(p, None), one.next_counts(p, None));
                assert_eq!(many.find(p, usize::MAX), one.find(p, usize::MAX));
                assert_eq!(many.find(p, 3).len(), one.find(p, 3).len());
                assert_eq!(many.infini_gram(p), one.infini_gram(p));
                assert_eq!(many.longest_matches(p), one.longest_matches(p));
            }
            assert_eq!(
                many.count_batch(&refs, 2).unwrap(),
                one.count_batch(&refs, 2).unwrap()
            );
            for hit in one.find(&phrases[1], usize::MAX) {
                assert_eq!(
                    many.kwic(&hit, 2, 3).unwrap(),
                    one.kwic(&hit, 2, 3).unwrap()
                );
            }
            let long = one.encode("c c c a b c c c c d a").unwrap();
            for cut in 0..long.len() {
                assert_eq!(
                    many.infini_gram(&long[..cut]),
                    one.infini_gram(&long[..cut])
                );
            }
        }
    }

    #[test]
    fn counts_and_successors_of_a_small_corpus() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.idx");
        let corpus = Corpus::from_texts(vec!["a b a b c".into(), "b c".into()]);
        let index = build(
            &corpus,
            Tokenizer::Whitespace,
            &BuildOptions::default(),
            &path,
            &Control::new(),
        )
        .unwrap();
        let ids = |s: &str| index.encode(s).unwrap();
        assert_eq!(index.count(&ids("a b")), 2);
        assert_eq!(index.count(&ids("b c")), 2);
        assert_eq!(index.count(&ids("c b")), 0); // would cross a document
        assert_eq!(index.count(&ids("zzz")), 0);
        assert_eq!(index.count(&[]), 11);
        let b = index.vocab().unwrap().id("b");
        let next: Vec<(u32, u64)> = index.next_counts(&[b], None);
        assert_eq!(
            next,
            [
                (index.vocab().unwrap().id("c"), 2),
                (index.vocab().unwrap().id("a"), 1)
            ]
        );
        let p = index.infini_gram(&ids("a b a b"));
        assert_eq!(p.n, 5); // "a b a b" occurs, followed by c
        let phrases = [
            ids("a b"),
            ids("b c"),
            vec![],
            ids("a b"),
            ids("c b"),
            ids("zzz"),
        ];
        let refs: Vec<&[u32]> = phrases.iter().map(|p| &p[..]).collect();
        let want: Vec<u64> = refs.iter().map(|p| index.count(p)).collect();
        assert_eq!(want, [2, 2, 11, 2, 0, 0]);
        assert_eq!(index.count_batch(&refs, 1).unwrap(), want);
        let flat: Vec<u32> = [&phrases[0][..], &phrases[1], &phrases[4]].concat();
        assert_eq!(index.count_rows(&flat, 3, 2, 2).unwrap(), [2, 2, 0]);
        assert!(index.count_rows(&flat, 2, 2, 1).is_err());
        let hits = index.find(&ids("b c"), 10);
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[1].document, hits[1].offset), (1, 1));
        let (l, m, r) = index.kwic(&hits[0], 2, 2).unwrap();
        assert_eq!((l.as_str(), m.as_str(), r.as_str()), ("b a", "b c", "</s>"));
        // Corrupt bytes: a format error at open (header) or at verify (body).
        let mut bytes = std::fs::read(&path).unwrap();
        let last = 130; // in the first shard's tokens
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(CorpusIndex::open(&path, false).is_ok());
        assert!(matches!(
            CorpusIndex::open(&path, true),
            Err(Error::Format { .. })
        ));
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            CorpusIndex::open(&path, false),
            Err(Error::Format { .. })
        ));
    }
}

//! Building an index: the stages wired together.
//!
//! 1. the vocabulary: the tokenizer's own ids when it fixes them (BPE, word
//!    lists), else every word of the corpus by descending count (at most
//!    `max_vocab`, rarer words becoming `<unk>`);
//! 2. the token width: 16 bits when the vocabulary and the separator fit,
//!    else 32; a width asked for that cannot hold the vocabulary is refused
//!    here, before the corpus is encoded;
//! 3. [`super::stream::encode`]: the token stream;
//! 4. the unigram counts, kept in the vocabulary for the empty context;
//! 5. [`super::suffix_array::build`]: the sorted, packed suffix array;
//! 6. [`super::file::write`]: the file, written atomically.
//!
//! Progress is the corpus read (stages 1 and 3, two passes); Ctrl-C stops
//! between stages, between chunks and between the file's sections, leaving no
//! file (the suffix sort itself is one call to libsais, which cannot be
//! interrupted: Ctrl-C during it stops the build when it returns). A memory
//! budget is checked before the sort against [`sort_memory`]: the sort runs
//! in memory, it does not spill to disk.

use std::path::Path;

use super::file::{self, CorpusIndex, Layout};
pub use super::stream::Documents;
use super::{stream, suffix_array, SEP};
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
    /// A budget in bytes for the suffix sort and the write, checked before
    /// the sort (None: no limit).
    pub memory: Option<u64>,
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

/// Build the index of `corpus` into `path` and open it.
pub fn build(
    corpus: &Corpus,
    tokenizer: Tokenizer,
    options: &BuildOptions,
    path: &Path,
    control: &Control,
) -> Result<CorpusIndex> {
    let threads = options.threads;
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
    control.check()?;
    let stream = stream::encode(
        corpus,
        &vocab,
        options.documents,
        options.pad,
        control,
        threads,
    )?;
    let mut unigrams = vec![0u64; vocab.len()];
    for &t in &stream.ids {
        if let Some(c) = unigrams.get_mut(t as usize) {
            *c += 1;
        }
    }
    let mut counted = Vocab::new(vocab.tokenizer().clone());
    for (word, &c) in vocab.words().iter().zip(&unigrams) {
        counted.add(word, c);
    }
    control.check()?;
    let need = sort_memory(stream.ids.len() as u64, wide);
    if let Some(budget) = options.memory.filter(|&b| need > b) {
        return Err(Error::InvalidArgument(format!(
            "sorting the suffixes of {} tokens needs about {} of memory, more than memory={} \
             (the sort runs in memory; index fewer documents or raise the budget)",
            stream.ids.len(),
            gib(need),
            gib(budget)
        )));
    }
    // libsais sorts in one call that cannot be interrupted: Ctrl-C is seen
    // before it and after it.
    let (suffixes, pointer_width) =
        suffix_array::build(&stream.ids, vocab.len() as u32, wide, threads)?;
    control.check()?;
    let layout = Layout {
        documents: options.documents,
        padded: options.pad,
        wide,
        pointer_width,
    };
    file::write(path, &counted, &stream, layout, &suffixes, control)?;
    drop((stream, suffixes));
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
    fn a_memory_budget_is_checked_before_the_sort() {
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
        assert!(e.contains("more than memory="), "{e}");
        assert!(!path.exists());
        assert!(run(&options(1 << 20)).is_ok());
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
        let last = bytes.len() - 20;
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

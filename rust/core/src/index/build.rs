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
//! between stages and between chunks (the suffix sort itself is one call).

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
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            documents: Documents::Lines,
            pad: true,
            token_width: None,
            max_vocab: None,
            threads: 0,
        }
    }
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
    let (suffixes, pointer_width) =
        suffix_array::build(&stream.ids, vocab.len() as u32, wide, threads)?;
    control.check()?;
    let layout = Layout {
        documents: options.documents,
        padded: options.pad,
        wide,
        pointer_width,
    };
    file::write(path, &counted, &stream, layout, &suffixes)?;
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

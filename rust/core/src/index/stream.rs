//! Stage 1: the corpus as one stream of token ids.
//!
//! Input: a corpus, its vocabulary, the document unit and whether sentences
//! are padded. Output: the ids of every document in corpus order, each
//! followed by one [`SEP`], and where each document starts.
//! Invariants: no id in a document is [`SEP`]; the stream ends with [`SEP`];
//! `starts` has one entry per document plus a last one, the stream's length;
//! the same corpus gives the same stream whatever the thread count (pieces are
//! put back in corpus order by their chunk's place).

use super::SEP;
use crate::control::Control;
use crate::corpus::{self, Corpus, CorpusStats};
use crate::tokenize::{Vocab, BOS_ID, EOS_ID};
use crate::{Error, Result};

/// What one document of the index is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Documents {
    /// Every line (sentence; a JSONL record) is a document: matches never
    /// cross sentences, as n-gram counts never do.
    #[default]
    Lines,
    /// Every input file is a document: matches may cross its sentences.
    Files,
}

impl std::str::FromStr for Documents {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "lines" | "line" => Ok(Self::Lines),
            "files" | "file" => Ok(Self::Files),
            other => Err(Error::InvalidArgument(format!(
                "documents must be 'lines' or 'files', not {other:?}"
            ))),
        }
    }
}

impl Documents {
    /// The name saved in the file and shown to users.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lines => "lines",
            Self::Files => "files",
        }
    }
}

/// The token stream of a corpus.
#[derive(Debug, Default)]
pub struct TokenStream {
    /// Every id, documents separated (and ended) by [`SEP`].
    pub ids: Vec<u32>,
    /// Start of each document in `ids`, then `ids.len()`.
    pub starts: Vec<u64>,
    /// What reading saw.
    pub stats: CorpusStats,
}

/// One chunk's sentences: its place in corpus order, ids, sentence lengths.
type Piece = ((usize, u32), Vec<u32>, Vec<u32>);

/// Encode `corpus` with `vocab` (see the module docs).
pub fn encode(
    corpus: &Corpus,
    vocab: &Vocab,
    documents: Documents,
    pad: bool,
    control: &Control,
    threads: usize,
) -> Result<TokenStream> {
    let tokenizer = vocab.tokenizer();
    let fixed = tokenizer.fixed_vocab().is_some();
    let states = corpus::process(
        corpus,
        control,
        threads,
        || (Vec::<Piece>::new(), CorpusStats::default()),
        |(pieces, stats), chunk| {
            let mut ids = Vec::new();
            let mut lens = Vec::new();
            chunk.for_each_sentence(&corpus.options, stats, |s| {
                let start = ids.len();
                if pad {
                    ids.push(BOS_ID);
                }
                // A tokenizer with fixed ids gives them straight (BPE, word lists).
                if !(fixed && tokenizer.encode_ids(s, &mut ids)) {
                    tokenizer.for_each_token(s, |t| ids.push(vocab.id(t)));
                }
                if pad {
                    ids.push(EOS_ID);
                }
                lens.push((ids.len() - start) as u32);
            })?;
            control.add_tokens(ids.len() as u64);
            pieces.push((chunk.seq, ids, lens));
            Ok(())
        },
    )?;
    let mut stats = CorpusStats::default();
    let mut pieces: Vec<Piece> = Vec::new();
    for (p, s) in states {
        stats.merge(&s);
        pieces.extend(p);
    }
    pieces.sort_unstable_by_key(|p| p.0);
    let total: usize = pieces.iter().map(|p| p.1.len() + p.2.len()).sum();
    let mut out = TokenStream {
        ids: Vec::with_capacity(total + 1),
        starts: Vec::new(),
        stats,
    };
    let mut input = None;
    for (seq, ids, lens) in pieces {
        let mut at = 0usize;
        for len in lens {
            let sentence = &ids[at..at + len as usize];
            at += len as usize;
            if sentence.is_empty() {
                continue; // an empty line without padding: no document
            }
            let new_document = match documents {
                Documents::Lines => true,
                Documents::Files => input != Some(seq.0),
            };
            if new_document {
                if !out.starts.is_empty() {
                    out.ids.push(SEP);
                }
                out.starts.push(out.ids.len() as u64);
                input = Some(seq.0);
            }
            out.ids.extend_from_slice(sentence);
        }
    }
    // Blank lines are sentences (`<s> </s>` once padded) but hold no word: a
    // corpus of nothing else has nothing to index.
    let words = out
        .ids
        .iter()
        .filter(|&&id| !(pad && (id == BOS_ID || id == EOS_ID)) && id != SEP)
        .count();
    if words == 0 {
        return Err(Error::EmptyCorpus("the corpus holds no token".into()));
    }
    out.ids.push(SEP);
    out.starts.push(out.ids.len() as u64);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::Tokenizer;

    fn stream(texts: &[&str], documents: Documents, pad: bool) -> TokenStream {
        let corpus = Corpus::from_texts(texts.iter().map(|s| s.to_string()).collect());
        let vocab = Vocab::from_words(["a", "b"], Tokenizer::Whitespace);
        encode(&corpus, &vocab, documents, pad, &Control::new(), 1).unwrap()
    }

    #[test]
    fn documents_are_separated_and_ended() {
        let s = stream(&["a b", "b"], Documents::Lines, true);
        assert_eq!(s.ids, [1, 3, 4, 2, SEP, 1, 4, 2, SEP]);
        assert_eq!(s.starts, [0, 5, 9]);
        let s = stream(&["a b", "b c"], Documents::Files, false);
        assert_eq!(s.ids, [3, 4, 4, 0, SEP]);
        assert_eq!(s.starts, [0, 5]);
    }
}

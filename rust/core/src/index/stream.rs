//! Stage 1: the corpus as streams of token ids, one a shard.
//!
//! Input: a corpus, its vocabulary, the document unit, whether sentences are
//! padded and the most tokens a shard holds. Output, shard by shard: the ids
//! of its documents in corpus order, each followed by one [`SEP`], and where
//! each document starts. Invariants: no id in a document is [`SEP`]; a
//! stream ends with [`SEP`]; `starts` has one entry per document plus a last
//! one, the stream's length; no document is split between shards; the
//! shards' streams, concatenated, are the corpus's stream, the same whatever
//! the thread count (chunks are handed on in corpus order).

use super::SEP;
use crate::control::Control;
use crate::corpus::{Chunk, Corpus, CorpusStats};
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

/// The token stream of a corpus (or of one shard of it).
#[derive(Debug, Default)]
pub struct TokenStream {
    /// Every id, documents separated (and ended) by [`SEP`].
    pub ids: Vec<u32>,
    /// Start of each document in `ids`, then `ids.len()`.
    pub starts: Vec<u64>,
}

/// How a corpus becomes streams.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// What a document is.
    pub documents: Documents,
    /// Pad each sentence with `<s>` and `</s>`.
    pub pad: bool,
    /// The most tokens (separators included) a shard's stream holds.
    pub limit: usize,
}

/// Encode `corpus` with `vocab` into shards: streams of whole documents in
/// corpus order, each at most `shape.limit` tokens, handed to `emit` as each
/// fills (so at most one shard and a few chunks are in memory). A document
/// longer than a shard is an error naming its input.
pub fn encode_shards(
    corpus: &Corpus,
    vocab: &Vocab,
    shape: Shape,
    control: &Control,
    threads: usize,
    emit: impl FnMut(TokenStream) -> Result<()>,
) -> Result<()> {
    let tokenizer = vocab.tokenizer();
    let fixed = tokenizer.fixed_vocab().is_some();
    let inputs = corpus.inputs()?;
    let mut shards = Sharder {
        shape,
        ids: Vec::new(),
        starts: Vec::new(),
        open: None,
        input: None,
        words: 0,
        emit,
    };
    crate::filter::ordered::map_ordered(
        &inputs,
        control,
        threads,
        |chunk| {
            let mut ids = Vec::new();
            let mut lens = Vec::new();
            let mut stats = CorpusStats::default();
            chunk.for_each_sentence(&corpus.options, &mut stats, |s| {
                let start = ids.len();
                if shape.pad {
                    ids.push(BOS_ID);
                }
                // A tokenizer with fixed ids gives them straight (BPE, word lists).
                if !(fixed && tokenizer.encode_ids(s, &mut ids)) {
                    tokenizer.for_each_token(s, |t| ids.push(vocab.id(t)));
                }
                if shape.pad {
                    ids.push(EOS_ID);
                }
                lens.push((ids.len() - start) as u32);
            })?;
            control.add_tokens(ids.len() as u64);
            Ok((ids, lens))
        },
        |chunk, (ids, lens)| {
            let mut at = 0usize;
            for len in lens {
                let sentence = &ids[at..at + len as usize];
                at += len as usize;
                shards.sentence(chunk, sentence)?;
            }
            Ok(true)
        },
    )?;
    shards.finish()
}

/// Cuts the sentences of a corpus, in order, into shards of whole documents.
struct Sharder<F> {
    shape: Shape,
    ids: Vec<u32>,
    starts: Vec<u64>,
    /// Where the document not yet ended starts in `ids`.
    open: Option<usize>,
    /// The input of the last sentence.
    input: Option<usize>,
    /// Tokens other than padding and separators.
    words: u64,
    emit: F,
}

impl<F: FnMut(TokenStream) -> Result<()>> Sharder<F> {
    fn sentence(&mut self, chunk: &Chunk, sentence: &[u32]) -> Result<()> {
        if sentence.is_empty() {
            return Ok(()); // an empty line without padding: no document
        }
        let pad = self.shape.pad;
        self.words += sentence
            .iter()
            .filter(|&&id| !(pad && (id == BOS_ID || id == EOS_ID)))
            .count() as u64;
        let new_document = match self.shape.documents {
            Documents::Lines => true,
            Documents::Files => self.input != Some(chunk.seq.0),
        };
        // The sentence and a separator must fit the shard.
        let limit = self.shape.limit;
        let fits = |ids: &[u32]| ids.len() + sentence.len() < limit;
        if new_document {
            if self.open.take().is_some() {
                self.ids.push(SEP);
            }
            if !fits(&self.ids) && !self.ids.is_empty() {
                self.flush(None)?;
            }
            self.input = Some(chunk.seq.0);
            self.open = Some(self.ids.len());
            self.starts.push(self.ids.len() as u64);
        } else if !fits(&self.ids) {
            // The open document goes on into a new shard, whole.
            let open = self.open.unwrap_or(0);
            if open > 0 {
                self.flush(Some(open))?;
            }
        }
        if !fits(&self.ids) {
            return Err(Error::InvalidArgument(format!(
                "a document in {} (near line {}) holds more than the {} tokens a shard of \
                 this memory budget holds: raise memory, or index one document a line",
                chunk.source,
                chunk.first_line,
                self.shape.limit - 1
            )));
        }
        if self.ids.capacity() == 0 && self.shape.limit < usize::MAX {
            // A whole shard at once: growing by doubling would hold the old
            // and the new buffer together, 3 times a shard at the switch.
            self.ids.reserve_exact(self.shape.limit);
        }
        self.ids.extend_from_slice(sentence);
        Ok(())
    }

    /// Hand the ended documents to `emit`; those from `keep` on (the open
    /// document) start the next shard.
    fn flush(&mut self, keep: Option<usize>) -> Result<()> {
        let mut ids = std::mem::take(&mut self.ids);
        let mut starts = std::mem::take(&mut self.starts);
        if let Some(k) = keep {
            if self.shape.limit < usize::MAX {
                self.ids.reserve_exact(self.shape.limit);
            }
            self.ids.extend_from_slice(&ids[k..]);
            ids.truncate(k);
            starts.pop();
            self.starts.push(0);
            self.open = Some(0);
        }
        starts.push(ids.len() as u64);
        (self.emit)(TokenStream { ids, starts })
    }

    fn finish(mut self) -> Result<()> {
        // Blank lines are sentences (`<s> </s>` once padded) but hold no word: a
        // corpus of nothing else has nothing to index.
        if self.words == 0 {
            return Err(Error::EmptyCorpus("the corpus holds no token".into()));
        }
        if self.open.take().is_some() {
            self.ids.push(SEP);
        }
        self.flush(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::Tokenizer;

    fn stream(texts: &[&str], documents: Documents, pad: bool) -> TokenStream {
        let corpus = Corpus::from_texts(texts.iter().map(|s| s.to_string()).collect());
        let vocab = Vocab::from_words(["a", "b"], Tokenizer::Whitespace);
        let shape = Shape {
            documents,
            pad,
            limit: usize::MAX,
        };
        let mut out = Vec::new();
        encode_shards(&corpus, &vocab, shape, &Control::new(), 1, |s| {
            out.push(s);
            Ok(())
        })
        .unwrap();
        assert_eq!(out.len(), 1, "one shard without a limit");
        out.pop().unwrap()
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

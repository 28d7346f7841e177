//! The vocabulary: token strings <-> `u32` ids.
//!
//! Ids 0, 1, 2 are always `<unk>`, `<s>`, `</s>`. A vocabulary built from a
//! corpus orders the other words by descending count, ties broken by first
//! appearance in the corpus (so ids never depend on thread scheduling or hash
//! order). Counting n-grams gives its table a vocabulary in first-appearance
//! order instead (KenLM's order); both are deterministic.

use std::path::Path;

use hashbrown::HashMap;

use super::record::{read_legacy_spec, read_tokenizer, TokenizerRecord};
use super::word_ids::{hash32, WordIds};
use super::Tokenizer;
use crate::binfmt;
use crate::control::Control;
use crate::corpus::{self, Corpus, CorpusStats};
use crate::{Error, Result};

/// The unknown-word token.
pub const UNK: &str = "<unk>";
/// The sentence-start token.
pub const BOS: &str = "<s>";
/// The sentence-end token.
pub const EOS: &str = "</s>";
/// Id of [`UNK`].
pub const UNK_ID: u32 = 0;
/// Id of [`BOS`].
pub const BOS_ID: u32 = 1;
/// Id of [`EOS`].
pub const EOS_ID: u32 = 2;

const MAGIC: &[u8; 8] = b"NWVOCAB\0";
/// Version 2 holds the tokenizer as a record; version 1 (its spec string) is still read.
const VERSION: u32 = 2;

/// A token <-> id mapping with the tokenizer that produced its tokens.
#[derive(Debug, Clone)]
pub struct Vocab {
    words: Vec<String>,
    counts: Vec<u64>,
    index: WordIds,
    tokenizer: Tokenizer,
}

/// Position of a token in corpus order: (input, chunk, token within chunk).
pub type Position = (usize, u32, u32);

impl Vocab {
    /// A vocabulary holding only the three special tokens.
    pub fn new(tokenizer: Tokenizer) -> Self {
        let mut v = Self {
            words: Vec::new(),
            counts: Vec::new(),
            index: WordIds::default(),
            tokenizer,
        };
        for w in [UNK, BOS, EOS] {
            v.add(w, 0);
        }
        v
    }

    /// A vocabulary of the specials followed by `words` (duplicates and specials ignored).
    pub fn from_words<S: AsRef<str>>(
        words: impl IntoIterator<Item = S>,
        tokenizer: Tokenizer,
    ) -> Self {
        let mut v = Self::new(tokenizer);
        for w in words {
            v.add(w.as_ref(), 0);
        }
        v
    }

    /// The vocabulary of a tokenizer with fixed ids ([`Tokenizer::fixed_vocab`]):
    /// its table in its order, with `counts` by id (missing = 0). None when
    /// the tokenizer has no fixed ids.
    pub fn of_fixed(tokenizer: &Tokenizer, counts: &[u64]) -> Result<Option<Self>> {
        let Some(words) = tokenizer.fixed_vocab() else {
            return Ok(None);
        };
        let mut v = Self::new(tokenizer.clone());
        for (id, word) in words.iter().enumerate() {
            let count = counts.get(id).copied().unwrap_or(0);
            if v.add(word, count) as usize != id {
                return Err(Error::InvalidArgument(format!(
                    "tokenizer {:?}: fixed id {id} ({word:?}) is a duplicate or a misplaced <unk>, <s>, </s>",
                    tokenizer.kind()
                )));
            }
        }
        Ok(Some(v))
    }

    /// Add `word` with `count` (added to an existing word's count); returns its id.
    pub fn add(&mut self, word: &str, count: u64) -> u32 {
        let h = hash32(word);
        if let Some(id) = self.index.get_hashed(&self.words, word, h) {
            self.counts[id as usize] += count;
            return id;
        }
        let id = self.words.len() as u32;
        self.index.insert_hashed(h, id);
        self.words.push(word.to_string());
        self.counts.push(count);
        id
    }

    /// A vocabulary from its parts, moved in as they are: `words[i]` has id
    /// `i` and count `counts[i]`, and `index` maps each word to its id (the
    /// caller's invariant; the specials are `words[..3]`). For a builder that
    /// already holds the words in a table of this kind: no word is copied or
    /// hashed again.
    pub(crate) fn from_parts(
        tokenizer: Tokenizer,
        words: Vec<String>,
        counts: Vec<u64>,
        index: WordIds,
    ) -> Self {
        debug_assert_eq!(words.len(), counts.len());
        debug_assert_eq!(words.len(), index.len());
        debug_assert_eq!(words[..3], [UNK, BOS, EOS]);
        Self {
            words,
            counts,
            index,
            tokenizer,
        }
    }

    /// Replace the counts: `counts[id]` for each word (missing = 0; the
    /// caller gives no more counts than words).
    pub(crate) fn set_counts(&mut self, mut counts: Vec<u64>) {
        debug_assert!(counts.len() <= self.words.len());
        counts.resize(self.words.len(), 0);
        self.counts = counts;
    }

    /// Make room for `additional` more words.
    pub fn reserve(&mut self, additional: usize) {
        self.words.reserve(additional);
        self.counts.reserve(additional);
        self.index.reserve(additional);
    }

    /// Number of entries, specials included.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Always false: the specials are always there.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The id of `word`, if known.
    pub fn get(&self, word: &str) -> Option<u32> {
        self.index.get(&self.words, word)
    }

    /// The id of `word`, or [`UNK_ID`].
    pub fn id(&self, word: &str) -> u32 {
        self.get(word).unwrap_or(UNK_ID)
    }

    /// The word of `id`, if in range.
    pub fn word(&self, id: u32) -> Option<&str> {
        self.words.get(id as usize).map(String::as_str)
    }

    /// All words in id order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Corpus counts in id order (0 for words added without count). A
    /// vocabulary built by [`Vocab::build`] counts only the corpus's own
    /// tokens, so the specials have 0; the vocabulary of an n-gram count table
    /// holds its unigram counts, where `<s>` and `</s>` (when padded) count
    /// the sentences.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The same vocabulary, read with another tokenizer (a model file that
    /// records its tokenizer apart from its words, or a user's override).
    pub fn set_tokenizer(&mut self, tokenizer: Tokenizer) {
        self.tokenizer = tokenizer;
    }

    /// The tokenizer this vocabulary's tokens come from.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Tokenize `text` and map the tokens to ids (unknown words to `<unk>`).
    pub fn encode(&self, text: &str, bos: bool, eos: bool) -> Vec<u32> {
        let mut out = Vec::new();
        if bos {
            out.push(BOS_ID);
        }
        self.tokenizer
            .for_each_token(text, |t| out.push(self.id(t)));
        if eos {
            out.push(EOS_ID);
        }
        out
    }

    /// Map ids back to tokens and join them (space, nothing for characters,
    /// the original bytes for BPE).
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        let mut parts = Vec::with_capacity(ids.len());
        for &id in ids {
            parts.push(self.word(id).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "id {id} out of range for a vocabulary of {}",
                    self.len()
                ))
            })?);
        }
        Ok(self.tokenizer.join_tokens(&parts))
    }

    /// Build a vocabulary from a corpus: words with at least `min_count`
    /// occurrences, at most `max_size` entries in all (specials included),
    /// by descending count, ties by first appearance.
    pub fn build(
        corpus: &Corpus,
        tokenizer: Tokenizer,
        min_count: u64,
        max_size: Option<usize>,
        control: &Control,
        threads: usize,
    ) -> Result<(Self, CorpusStats)> {
        if max_size.is_some_and(|m| m < 3) {
            return Err(Error::InvalidArgument(
                "max_size must be at least 3: <unk>, <s> and </s> always take ids 0, 1, 2".into(),
            ));
        }
        type Local = (HashMap<String, (u64, Position)>, CorpusStats);
        let states = corpus::process(
            corpus,
            control,
            threads,
            Local::default,
            |(seen, stats): &mut Local, chunk| {
                let mut k = 0u32;
                chunk.for_each_sentence(&corpus.options, stats, |s| {
                    tokenizer.for_each_token(s, |t| {
                        let pos = (chunk.seq.0, chunk.seq.1, k);
                        k += 1;
                        match seen.get_mut(t) {
                            Some(e) => {
                                e.0 += 1;
                                e.1 = e.1.min(pos);
                            }
                            None => {
                                seen.insert(t.to_string(), (1, pos));
                            }
                        }
                    });
                })?;
                control.add_tokens(k as u64);
                Ok(())
            },
        )?;
        let mut all: HashMap<String, (u64, Position)> = HashMap::new();
        let mut stats = CorpusStats::default();
        for (seen, s) in states {
            stats.merge(&s);
            for (w, (c, p)) in seen {
                let e = all.entry(w).or_insert((0, p));
                e.0 += c;
                e.1 = e.1.min(p);
            }
        }
        if stats.sentences == 0 {
            return Err(Error::EmptyCorpus("the corpus holds no sentence".into()));
        }
        let mut vocab = Self::new(tokenizer);
        let mut entries: Vec<(String, u64, Position)> = all
            .into_iter()
            .filter(|(w, (c, _))| *c >= min_count && vocab.get(w).is_none())
            .map(|(w, (c, p))| (w, c, p))
            .collect();
        entries.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        if let Some(max) = max_size {
            entries.truncate(max.saturating_sub(3));
        }
        for (w, c, _) in entries {
            vocab.add(&w, c);
        }
        Ok((vocab, stats))
    }

    /// Encode every sentence of a corpus in parallel: all ids in corpus order,
    /// and `offsets` (one more than sentences) where sentence i is
    /// `ids[offsets[i]..offsets[i + 1]]`.
    pub fn encode_corpus(
        &self,
        corpus: &Corpus,
        bos: bool,
        eos: bool,
        control: &Control,
        threads: usize,
    ) -> Result<(Vec<u32>, Vec<u64>, CorpusStats)> {
        type Piece = ((usize, u32), Vec<u32>, Vec<u64>);
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
                    if bos {
                        ids.push(BOS_ID);
                    }
                    self.tokenizer.for_each_token(s, |t| ids.push(self.id(t)));
                    if eos {
                        ids.push(EOS_ID);
                    }
                    lens.push((ids.len() - start) as u64);
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
        let total: usize = pieces.iter().map(|p| p.1.len()).sum();
        let mut ids = Vec::with_capacity(total);
        let mut offsets = vec![0u64];
        for (_, piece_ids, lens) in pieces {
            ids.extend_from_slice(&piece_ids);
            for len in lens {
                let last = offsets[offsets.len() - 1];
                offsets.push(last + len);
            }
        }
        Ok((ids, offsets, stats))
    }

    /// Save to `path` (atomic write, checksummed).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut w = binfmt::Writer::new();
        self.write(&mut w);
        w.save(path, MAGIC, VERSION)
    }

    /// Append this vocabulary (tokenizer record, words, counts) to a payload,
    /// as saved files embed it; [`Vocab::read`] reads it back.
    pub fn write(&self, w: &mut binfmt::Writer) {
        self.tokenizer.to_record().write(w);
        w.u64(self.words.len() as u64);
        for (word, count) in self.words.iter().zip(&self.counts) {
            w.str(word);
            w.u64(*count);
        }
    }

    /// Load a vocabulary saved by [`Vocab::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let (version, payload) = binfmt::load_versions(path, MAGIC, 1..=VERSION, "vocabulary")?;
        let mut r = binfmt::Reader::new(&payload, path);
        let tokenizer = if version == 1 {
            read_legacy_spec(&mut r)?
        } else {
            read_tokenizer(&mut r)?
        };
        let v = Self::read_words(&mut r, tokenizer)?;
        r.finish()?;
        Ok(v)
    }

    /// Read a vocabulary written by [`Vocab::write`] from a payload.
    pub fn read(r: &mut binfmt::Reader<'_>) -> Result<Self> {
        let tokenizer = read_tokenizer(r)?;
        Self::read_words(r, tokenizer)
    }

    /// The counts of a vocabulary written by [`Vocab::write`], read without
    /// building it: the tokenizer record and the words are skipped unparsed
    /// (no allocation but the counts), so this costs a pass over the bytes.
    /// [`Vocab::read`] checks the rest (UTF-8, duplicates, the tokenizer).
    pub fn read_counts(r: &mut binfmt::Reader<'_>) -> Result<Vec<u64>> {
        TokenizerRecord::skip(r)?;
        let n = r.len(9)?;
        let mut counts = Vec::with_capacity(n);
        for _ in 0..n {
            r.bytes()?;
            counts.push(r.u64()?);
        }
        if n < 3 {
            return Err(r.error("the first three entries are not <unk>, <s>, </s>"));
        }
        Ok(counts)
    }

    fn read_words(r: &mut binfmt::Reader<'_>, tokenizer: Tokenizer) -> Result<Self> {
        let n = r.len(9)?;
        let mut v = Self {
            words: Vec::with_capacity(n),
            counts: Vec::with_capacity(n),
            index: WordIds::with_capacity(n),
            tokenizer,
        };
        for _ in 0..n {
            let word = r.str()?;
            let count = r.u64()?;
            if v.get(word).is_some() {
                return Err(r.error(format!("duplicate word {word:?}")));
            }
            v.add(word, count);
        }
        if v.words.len() < 3 || v.words[..3] != [UNK, BOS, EOS] {
            return Err(r.error("the first three entries are not <unk>, <s>, </s>"));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_first_and_round_trip() {
        let v = Vocab::from_words(["b", "a", "b", "<s>"], Tokenizer::Whitespace);
        assert_eq!(v.words(), ["<unk>", "<s>", "</s>", "b", "a"]);
        assert_eq!(v.encode("a zzz b", true, true), [1, 4, 0, 3, 2]);
        assert_eq!(v.decode(&[3, 4]).unwrap(), "b a");
        assert!(v.decode(&[99]).is_err());
    }

    #[test]
    fn build_orders_by_count_then_first_appearance() {
        let corpus = Corpus::from_texts(vec!["c b a".into(), "a b".into(), "d".into()]);
        let (v, stats) =
            Vocab::build(&corpus, Tokenizer::Whitespace, 1, None, &Control::new(), 2).unwrap();
        assert_eq!(&v.words()[3..], ["b", "a", "c", "d"]);
        assert_eq!(stats.sentences, 3);
        let (v, _) = Vocab::build(
            &corpus,
            Tokenizer::Whitespace,
            2,
            Some(4),
            &Control::new(),
            1,
        )
        .unwrap();
        assert_eq!(&v.words()[3..], ["b"]);
    }
}

//! Learning byte-level BPE merges from a corpus.
//!
//! Contract. Input: a corpus (one sentence per line, read under its UTF-8
//! policy), a pre-tokenizer pattern, `vocab_size` (ordinary tokens and
//! specials together), `min_frequency`, special tokens. Output: a
//! [`BpeTokenizer`] whose ids are the 256 bytes in byte order, then one id
//! per merge that made a new byte string, in merge order, then the specials in
//! the order given.
//!
//! 1. Count pre-tokens (in parallel over chunks). Special tokens are cut out of
//!    the text first and not counted. Memory from here on is bounded by the
//!    number of distinct pre-tokens, not by the corpus size.
//! 2. Count adjacent pairs over the distinct pre-tokens, weighted by their
//!    counts, and remember which pre-tokens hold each pair.
//! 3. Repeat: take the most frequent pair; **ties go to the smaller
//!    (left id, right id)**, so the result never depends on hash order or
//!    thread count. Stop when the vocabulary is full or the best pair occurs
//!    fewer than `min_frequency` times. Merge it in the pre-tokens that hold
//!    it (only those are touched), left to right without overlap, and update
//!    the pair counts by the difference before/after in each of them. The best
//!    pair comes from a max-heap with lazy deletion: an entry whose count went
//!    down since it was pushed is pushed back with its current count.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use hashbrown::HashMap;

use super::{BpeModel, BpeTokenizer, Piece, PreTokenizer};
use crate::control::Control;
use crate::corpus::{self, Corpus, CorpusStats};
use crate::{Error, Result};

/// What to learn.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Total number of ids: 256 bytes + merges + special tokens.
    pub vocab_size: usize,
    /// A pair seen fewer times than this is never merged.
    pub min_frequency: u64,
    /// Special tokens (matched whole, never merged), given the last ids.
    pub special_tokens: Vec<String>,
    /// Pre-tokenizer: `gpt2`, `cl100k`, `o200k` or a regex.
    pub pattern: String,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            vocab_size: 8000,
            min_frequency: 2,
            special_tokens: Vec::new(),
            pattern: "gpt2".into(),
        }
    }
}

/// Learn a BPE tokenizer from `corpus`.
///
/// ```
/// use nextword_core::control::Control;
/// use nextword_core::corpus::Corpus;
/// use nextword_core::tokenize::bpe::trainer::{train, TrainOptions};
/// let corpus = Corpus::from_texts(vec!["low lower lowest".into(); 3]);
/// let options = TrainOptions { vocab_size: 260, ..TrainOptions::default() };
/// let (tok, _) = train(&corpus, &options, &Control::new(), 1).unwrap();
/// assert_eq!(tok.vocab_size(), 260);
/// assert_eq!(tok.decode(&tok.encode("lowest")).unwrap(), "lowest");
/// ```
pub fn train(
    corpus: &Corpus,
    options: &TrainOptions,
    control: &Control,
    threads: usize,
) -> Result<(BpeTokenizer, CorpusStats)> {
    let specials = distinct_specials(&options.special_tokens);
    if options.vocab_size < 256 + specials.len() {
        return Err(Error::InvalidArgument(format!(
            "vocab_size {} is below 256 byte tokens + {} special tokens",
            options.vocab_size,
            specials.len()
        )));
    }
    let pre = PreTokenizer::new(&options.pattern, &specials).map_err(Error::InvalidArgument)?;
    let (pieces, stats) = count_pieces(corpus, &pre, control, threads)?;
    if stats.sentences == 0 {
        return Err(Error::EmptyCorpus("the corpus holds no sentence".into()));
    }
    let max_merged = options.vocab_size - 256 - specials.len();
    let (tokens, merges) = learn_merges(pieces, max_merged, options.min_frequency, control)?;
    build(tokens, merges, &specials, &options.pattern).map(|t| (t, stats))
}

fn distinct_specials(specials: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in specials {
        if !s.is_empty() && !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// The tokenizer of learned `tokens` (bytes, then merged) and `merges`, with
/// `specials` appended.
fn build(
    mut tokens: Vec<Vec<u8>>,
    merges: Vec<(u32, u32)>,
    specials: &[String],
    pattern: &str,
) -> Result<BpeTokenizer> {
    let first = tokens.len() as u32;
    tokens.extend(specials.iter().map(|s| s.as_bytes().to_vec()));
    let ids: Vec<u32> = (first..first + specials.len() as u32).collect();
    let model = BpeModel::new(tokens, &ids, merges).map_err(Error::InvalidArgument)?;
    BpeTokenizer::new(model, pattern)
}

/// A distinct pre-token's bytes and its count.
pub type Counted = (Vec<u8>, u64);

/// Step 1: the distinct pre-tokens of the corpus with their counts, sorted by bytes.
fn count_pieces(
    corpus: &Corpus,
    pre: &PreTokenizer,
    control: &Control,
    threads: usize,
) -> Result<(Vec<Counted>, CorpusStats)> {
    type Local = (HashMap<String, u64>, CorpusStats);
    let states = corpus::process(
        corpus,
        control,
        threads,
        Local::default,
        |(seen, stats), chunk| {
            control.check()?;
            let mut n = 0u64;
            chunk.for_each_sentence(&corpus.options, stats, |s| {
                pre.for_each_piece(s, |piece| {
                    if let Piece::Text(t) = piece {
                        n += 1;
                        match seen.get_mut(t) {
                            Some(c) => *c += 1,
                            None => {
                                seen.insert(t.to_string(), 1);
                            }
                        }
                    }
                })
            })?;
            control.add_tokens(n);
            Ok(())
        },
    )?;
    let mut all: HashMap<String, u64> = HashMap::new();
    let mut stats = CorpusStats::default();
    for (seen, s) in states {
        stats.merge(&s);
        for (piece, c) in seen {
            *all.entry(piece).or_insert(0) += c;
        }
    }
    let mut pieces: Vec<(Vec<u8>, u64)> =
        all.into_iter().map(|(p, c)| (p.into_bytes(), c)).collect();
    pieces.sort_unstable();
    Ok((pieces, stats))
}

type Pair = (u32, u32);

/// Steps 2 and 3 on counted pre-tokens: the learned tokens (the 256 bytes
/// first) and the merges in order. At most `max_merged` new tokens.
pub fn learn_merges(
    pieces: Vec<Counted>,
    max_merged: usize,
    min_frequency: u64,
    control: &Control,
) -> Result<(Vec<Vec<u8>>, Vec<Pair>)> {
    let mut tokens: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    let mut index: HashMap<Vec<u8>, u32> = tokens.iter().cloned().zip(0..).collect();
    let mut words: Vec<(Vec<u32>, u64)> = pieces
        .into_iter()
        .filter(|(p, _)| p.len() > 1)
        .map(|(p, c)| (p.into_iter().map(u32::from).collect(), c))
        .collect();
    let mut counts: HashMap<Pair, u64> = HashMap::new();
    let mut holders: HashMap<Pair, Vec<u32>> = HashMap::new();
    for (w, (syms, c)) in words.iter().enumerate() {
        for pair in syms.windows(2).map(|p| (p[0], p[1])) {
            *counts.entry(pair).or_insert(0) += c;
            let list = holders.entry(pair).or_default();
            if list.last() != Some(&(w as u32)) {
                list.push(w as u32);
            }
        }
    }
    let mut heap: BinaryHeap<(u64, Reverse<Pair>)> =
        counts.iter().map(|(&p, &c)| (c, Reverse(p))).collect();
    let mut merges = Vec::new();
    let mut merged = 0;
    control.start_steps(max_merged as u64, "merges");
    // Reused across merges: the pair-count changes of one merge, the pairs that grew.
    let mut delta: HashMap<Pair, i64> = HashMap::new();
    let mut grown: Vec<Pair> = Vec::new();
    while merged < max_merged {
        let Some((count, Reverse(pair))) = heap.pop() else {
            break;
        };
        let now = counts.get(&pair).copied().unwrap_or(0);
        if now != count {
            if now > 0 {
                heap.push((now, Reverse(pair)));
            }
            continue;
        }
        if count < min_frequency.max(1) {
            break;
        }
        control.check()?;
        let joined = [tokens[pair.0 as usize].as_slice(), &tokens[pair.1 as usize]].concat();
        // Two merge paths can spell the same bytes: the later merge reuses the id.
        let new = match index.get(&joined) {
            Some(&id) => id,
            None => {
                let id = tokens.len() as u32;
                index.insert(joined.clone(), id);
                tokens.push(joined);
                merged += 1;
                control.add_steps(1);
                id
            }
        };
        merges.push(pair);
        let mut holding = holders.remove(&pair).unwrap_or_default();
        holding.dedup();
        for w in holding {
            let (syms, c) = &mut words[w as usize];
            if !syms.windows(2).any(|p| (p[0], p[1]) == pair) {
                continue; // merged away since the word was listed
            }
            let c = *c as i64;
            for p in syms.windows(2) {
                *delta.entry((p[0], p[1])).or_insert(0) -= c;
            }
            merge_word(syms, pair, new);
            for p in syms.windows(2) {
                let p = (p[0], p[1]);
                *delta.entry(p).or_insert(0) += c;
                if p.0 == new || p.1 == new {
                    let list = holders.entry(p).or_default();
                    if list.last() != Some(&w) {
                        list.push(w);
                    }
                }
            }
        }
        grown.clear();
        for (p, d) in delta.drain() {
            if d == 0 {
                continue;
            }
            let entry = counts.entry(p).or_insert(0);
            *entry = (*entry as i64 + d).max(0) as u64;
            if *entry == 0 {
                counts.remove(&p);
            } else if d > 0 {
                grown.push(p);
            }
        }
        for &p in &grown {
            if let Some(&c) = counts.get(&p) {
                heap.push((c, Reverse(p)));
            }
        }
    }
    Ok((tokens, merges))
}

/// Replace in `syms` every non-overlapping occurrence of `pair`, left to
/// right, by `new`.
fn merge_word(syms: &mut Vec<u32>, pair: Pair, new: u32) {
    let mut read = 0;
    let mut write = 0;
    while read < syms.len() {
        if read + 1 < syms.len() && (syms[read], syms[read + 1]) == pair {
            syms[write] = new;
            read += 2;
        } else {
            syms[write] = syms[read];
            read += 1;
        }
        write += 1;
    }
    syms.truncate(write);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learn(texts: &[&str], vocab_size: usize, min_frequency: u64) -> Result<BpeTokenizer> {
        let corpus = Corpus::from_texts(texts.iter().map(|s| s.to_string()).collect());
        let options = TrainOptions {
            vocab_size,
            min_frequency,
            special_tokens: vec!["<|end|>".into()],
            ..TrainOptions::default()
        };
        train(&corpus, &options, &Control::new(), 2).map(|(t, _)| t)
    }

    #[test]
    fn merges_most_frequent_pairs_with_ties_by_ids() {
        let tok = learn(&["aaab aab ab", "<|end|> ab"], 260, 1).unwrap();
        let m = tok.model();
        // " ab" x3 and "ab" x0... pieces: "aaab", " aab", " ab", " ab": pair (a,b) x4.
        assert_eq!(m.merges()[0], (97, 98));
        assert_eq!(m.token(256).unwrap(), b"ab");
        assert_eq!(tok.vocab_size(), 260);
        assert_eq!(m.specials(), [("<|end|>".to_string(), 259)]);
        assert_eq!(tok.encode("<|end|>"), [259]);
    }

    #[test]
    fn min_frequency_and_limits() {
        let tok = learn(&["xy xy"], 1000, 3).unwrap();
        assert!(tok.model().merges().is_empty());
        assert_eq!(tok.vocab_size(), 257);
        let e = learn(&["xy"], 256, 1).unwrap_err().to_string();
        assert!(e.contains("below 256 byte tokens + 1 special"), "{e}");
        let e = learn(&[], 300, 1).unwrap_err();
        assert!(matches!(e, Error::EmptyCorpus(_)), "{e}");
    }

    #[test]
    fn overlapping_runs_count_right() {
        let tok = learn(&["aaaa aaaa aaaa"], 300, 1).unwrap();
        // Every merge leaves counts consistent: encoding reproduces training.
        for s in ["aaaa", " aaaa", "aaaaaaa", "a"] {
            assert_eq!(tok.decode(&tok.encode(s)).unwrap(), s);
        }
        assert_eq!(tok.encode(" aaaa").len(), 1);
    }

    #[test]
    fn merge_phase_counts_steps_and_stops_on_cancel() {
        let pieces: Vec<Counted> = vec![(b"abcabc".to_vec(), 5), (b"xyz".to_vec(), 3)];
        let control = Control::new();
        let (tokens, merges) = learn_merges(pieces.clone(), 10, 1, &control).unwrap();
        assert!(!merges.is_empty());
        assert_eq!(control.steps(), Some((10, "merges")));
        let done = control
            .steps_done
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(done, (tokens.len() - 256) as u64);
        let cancelled = Control::new();
        cancelled.cancel();
        let e = learn_merges(pieces, 10, 1, &cancelled).unwrap_err();
        assert!(matches!(e, Error::Cancelled));
    }

    #[test]
    fn cancel_stops_training() {
        let corpus = Corpus::from_texts(vec!["abc abd abe".into()]);
        let control = Control::new();
        control.cancel();
        let e = train(&corpus, &TrainOptions::default(), &control, 1).unwrap_err();
        assert!(matches!(e, Error::Cancelled));
    }
}

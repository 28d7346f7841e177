//! The trie layout: KenLM's sorted-trie idea, read forwards. Order k keeps,
//! for each k-gram in sorted order, only its last word id (bit-packed), its
//! log10 probability and backoff (as f32 bits, or quantized to q bits: see
//! [`super::quantize`]) and a bit-packed pointer to its first child in order
//! k+1 (the child range of entry i ends where entry i+1's begins). Full keys
//! are never stored: a context's children are found from its entry, and a
//! query carries the entries of its context's suffixes in its
//! [`super::State`], so each order costs one search among siblings.
//!
//! Siblings are sorted by word id, so a lookup is a search of a short sorted
//! run. The exact top-k and sampling queries walk a run by probability:
//! unigrams keep that order stored, as the hash layout does, and so do the
//! long runs of higher orders, compactly ([`super::ranking`]); short runs
//! are sorted when a query needs them.
//!
//! Every read is bounds-checked: a corrupt pointer gives a clamped (possibly
//! empty) range and a corrupt code a value from the table, never a crash.

use super::array::Array;
use super::level::Level;
use super::packed::{bits_for, Packed, PackedView, Pointers};
use super::quantize::Bins;
use super::ranking::{self, Rankings};
use super::slots::SlotTable;
use crate::{Error, Result};
use std::sync::Arc;

/// How one kind of value (probabilities or backoffs) of one order is stored.
#[derive(Debug, Clone, Default)]
pub enum Values {
    /// No values (backoffs of the highest order).
    #[default]
    Absent,
    /// f32 bit patterns, packed; when every value has its sign bit set the
    /// bit is dropped (31 bits) and `sign` puts it back.
    Raw {
        /// The bit patterns.
        bits: Packed,
        /// ORed into each pattern read.
        sign: u32,
    },
    /// Codes into a table of `2^q` centres.
    Quantized {
        /// One code per entry.
        codes: Packed,
        /// The centres.
        centers: Array<f32>,
    },
    /// In the order's [`SlotTable`] (the hash layout): each entry's record.
    Slotted {
        /// One record number per entry.
        at: Packed,
        /// The table.
        table: Arc<SlotTable>,
        /// 0: probabilities, 1: backoffs.
        field: u8,
    },
}

/// Runs longer than this are searched by interpolation first.
const INTERPOLATE_ABOVE: usize = 16;

/// Where [`Trie::search_start`] left a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// The entry holding the word.
    Found(usize),
    /// The word can only be among these entries.
    Within(usize, usize),
}

impl Values {
    fn raw(values: &[f32]) -> Self {
        let all_negative = !values.is_empty() && values.iter().all(|v| v.is_sign_negative());
        let (width, sign) = if all_negative {
            (31, 0x8000_0000u32)
        } else {
            (32, 0)
        };
        let bits = Packed::new(values.iter().map(|v| u64::from(v.to_bits() & !sign)), width);
        Values::Raw { bits, sign }
    }

    fn quantized(values: &[f32], q: u8, keep_zero: bool) -> Result<Self> {
        let bins = Bins::train(values, q, keep_zero)?;
        let codes = Packed::new(values.iter().map(|&v| bins.encode(v)), q);
        Ok(Values::Quantized {
            codes,
            centers: bins.centers.into(),
        })
    }

    /// Start loading value `i` (a hint).
    #[inline(always)]
    pub fn prefetch(&self, i: usize) {
        match self {
            Values::Absent => {}
            Values::Raw { bits, .. } => bits.prefetch(i),
            Values::Quantized { codes, .. } => codes.prefetch(i),
            Values::Slotted { at, table, .. } => table.prefetch_record(at.get(i) as usize),
        }
    }

    /// The packed codes or bits, borrowed for a run of prefetches (none for
    /// absent values or values in a slot table).
    #[inline(always)]
    pub fn packed_view(&self) -> Option<PackedView<'_>> {
        match self {
            Values::Raw { bits, .. } => Some(bits.view()),
            Values::Quantized { codes, .. } => Some(codes.view()),
            _ => None,
        }
    }

    /// Value `i` (0 when absent or out of range).
    #[inline(always)]
    pub fn get(&self, i: usize) -> f32 {
        match self {
            Values::Absent => 0.0,
            Values::Raw { bits, sign } => f32::from_bits(bits.get(i) as u32 | sign),
            Values::Quantized { codes, centers } => {
                centers.get(codes.get(i) as usize).copied().unwrap_or(0.0)
            }
            Values::Slotted { at, table, field } => {
                f32::from_bits(table.value(at.get(i) as usize, *field))
            }
        }
    }

    /// Bytes of storage.
    pub fn bytes(&self) -> usize {
        match self {
            Values::Absent => 0,
            Values::Raw { bits, .. } => bits.bytes(),
            Values::Quantized { codes, centers } => codes.bytes() + centers.len() * 4,
            // The table is counted by its order (see `Trie::bytes`).
            Values::Slotted { at, .. } => at.bytes(),
        }
    }
}

/// One order of a trie.
#[derive(Debug, Clone, Default)]
pub struct TrieLevel {
    /// Number of entries.
    pub len: usize,
    /// Last word id of each entry.
    pub words: Packed,
    /// log10 probabilities.
    pub probs: Values,
    /// log10 backoffs ([`Values::Absent`] for the highest order).
    pub backoffs: Values,
    /// `len + 1` child pointers into the next order (empty for the highest).
    pub next: Pointers,
    /// Unigrams only: entries by descending probability, and the cumulative
    /// probability along that order (what the hash layout stores for every order).
    pub by_prob: Array<u32>,
    /// See `by_prob`.
    pub cum: Array<f32>,
    /// Orders 2 and up: the stored rankings of long sibling ranges (see
    /// [`super::ranking`]).
    pub rankings: Rankings,
    /// The hash layout, orders 2 and up: the table holding the values, which
    /// scoring probes by n-gram hash (see [`super::slots`]).
    pub slots: Option<Arc<SlotTable>>,
}

/// A model's n-grams in the trie layout: `levels[k]` holds the (k+1)-grams.
#[derive(Debug, Clone, Default)]
pub struct Trie {
    /// One per order.
    pub levels: Vec<TrieLevel>,
    /// The hash layout: values of orders 2 and up in [`SlotTable`]s, probed
    /// by n-gram hash when scoring.
    pub hashed: bool,
}

impl Trie {
    /// The trie of linked hash-layout levels, with probabilities and backoffs
    /// of orders 2 and up quantized to `quantize` bits when given (unigrams
    /// stay exact, as in KenLM). Refuses levels with an n-gram whose context is
    /// missing (it would have no parent to hang from).
    pub fn from_levels(levels: &[Level], quantize: Option<u8>) -> Result<Self> {
        Self::from_levels_ranked(levels, quantize, ranking::STORED_FROM)
    }

    /// [`Trie::from_levels`], storing the rankings of sibling ranges of at
    /// least `stored_from` entries (tests store short ones too).
    pub fn from_levels_ranked(
        levels: &[Level],
        quantize: Option<u8>,
        stored_from: usize,
    ) -> Result<Self> {
        if let Some(q) = quantize {
            super::quantize::check_bits(q)?;
        }
        let top = levels.len();
        let max_word = levels
            .iter()
            .flat_map(|l| (0..l.len()).map(move |i| l.keys[i * l.n + l.n - 1]))
            .max()
            .unwrap_or(0);
        let word_bits = bits_for(u64::from(max_word));
        let mut out = Vec::with_capacity(top);
        for (k, level) in levels.iter().enumerate() {
            let m = level.len();
            let n = level.n;
            let words = Packed::new(
                (0..m).map(|i| u64::from(level.keys[i * n + n - 1])),
                word_bits,
            );
            let q = quantize.filter(|_| k > 0);
            let probs = match q {
                Some(q) => Values::quantized(&level.logprob, q, false)?,
                None => Values::raw(&level.logprob),
            };
            let (backoffs, next) = if k + 1 < top {
                let backoffs = match q {
                    Some(q) => Values::quantized(&level.backoff, q, true)?,
                    None => Values::raw(&level.backoff),
                };
                let next_len = levels[k + 1].len();
                let pointers = contiguous_pointers(level, next_len).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "order {} holds n-grams whose context is not in order {n}: \
                         the trie layout needs every context (save with layout=\"hash\")",
                        n + 1
                    ))
                })?;
                (backoffs, Pointers::new(&pointers, next_len as u32))
            } else {
                (Values::Absent, Pointers::default())
            };
            let (by_prob, cum) = if k == 0 {
                (level.by_prob.clone(), level.cum.clone())
            } else {
                (Array::default(), Array::default())
            };
            out.push(TrieLevel {
                len: m,
                words,
                probs,
                backoffs,
                next,
                by_prob,
                cum,
                rankings: Rankings::default(),
                slots: None,
            });
        }
        let mut trie = Self {
            levels: out,
            hashed: false,
        };
        // The orders' rankings in parallel; a linked level's own ranking
        // (by the same probabilities unless they are quantized) is reused.
        let rankings: Vec<Rankings> = {
            use rayon::prelude::*;
            (1..top)
                .into_par_iter()
                .map(|k| {
                    let ranges = (0..trie.len(k - 1)).map(|p| trie.children(k - 1, p));
                    let ranked: &[u32] = match quantize {
                        None => &levels[k].by_prob,
                        Some(_) => &[],
                    };
                    let level = &trie.levels[k];
                    let every = (stored_from, ranking::CUM_EVERY);
                    Rankings::build(&level.probs, ranges, level.len, every, ranked)
                })
                .collect()
        };
        for (k, r) in (1..top).zip(rankings) {
            trie.levels[k].rankings = r;
        }
        Ok(trie)
    }

    /// The hash layout of linked levels: their exact trie, with the values of
    /// orders 2 and up moved into [`SlotTable`]s keyed by n-gram hash. Refuses
    /// what [`Trie::from_levels`] refuses.
    pub fn hashed_from_levels(levels: &[Level], stored_from: usize) -> Result<Self> {
        let mut trace = super::kneser_ney::stream::Trace::new();
        let mut trie = Self::from_levels_ranked(levels, None, stored_from)?;
        trace.lap("the trie and its rankings");
        let top = levels.len();
        // The orders' tables in parallel (each is filled by one thread).
        let built: Vec<(SlotTable, Vec<u32>)> = {
            use rayon::prelude::*;
            levels
                .par_iter()
                .enumerate()
                .skip(1)
                .map(|(k, level)| {
                    SlotTable::build(
                        |i| super::level::key_hash(level.key(i)),
                        &level.logprob,
                        &level.backoff,
                        k + 1 < top,
                    )
                })
                .collect::<Result<_>>()?
        };
        for (k, (table, at)) in (1..top).zip(built) {
            let with_backoff = k + 1 < top;
            let width = bits_for(table.cap as u64 - 1);
            let at = Packed::new(at.iter().map(|&s| u64::from(s)), width);
            let table = Arc::new(table);
            let t = &mut trie.levels[k];
            // Bigrams keep their probabilities in the trie too: top-k,
            // sampling and top-p read many of them per query, in sibling
            // order, where the table would cost a cache miss each.
            if k > 1 {
                t.probs = Values::Slotted {
                    at: at.clone(),
                    table: table.clone(),
                    field: 0,
                };
            }
            if with_backoff {
                t.backoffs = Values::Slotted {
                    at,
                    table: table.clone(),
                    field: 1,
                };
            }
            t.slots = Some(table);
        }
        trace.lap("the hash tables");
        trie.hashed = true;
        Ok(trie)
    }

    /// The probability and backoff bits of the n-gram of `len + 1` words
    /// with `hash` (the hash layout, `len` >= 1), as a layout-0 slot.
    #[inline(always)]
    pub fn find_hashed(&self, len: usize, hash: u64) -> Option<super::level::Slot> {
        let table = self.levels.get(len)?.slots.as_ref()?;
        table.find(hash).map(|(p, b)| [0, u32::MAX, p, b, 0])
    }

    /// Start loading what [`Trie::find_hashed`] reads first.
    #[inline(always)]
    pub fn prefetch_hashed(&self, len: usize, hash: u64) {
        if let Some(table) = self.levels.get(len).and_then(|l| l.slots.as_ref()) {
            table.prefetch(hash);
        }
    }

    /// The hash-layout levels holding the same n-grams and values (unlinked:
    /// `NGramModel::from_levels` links them).
    pub fn to_levels(&self) -> Vec<Level> {
        let mut out: Vec<Level> = Vec::with_capacity(self.levels.len());
        for (k, level) in self.levels.iter().enumerate() {
            let n = k + 1;
            let m = level.len;
            let mut keys = Vec::with_capacity(m * n);
            if k == 0 {
                keys.extend((0..m).map(|i| level.words.get(i) as u32));
            } else {
                let parent = &out[k - 1];
                for p in 0..parent.len() {
                    let (s, e) = self.children(k - 1, p);
                    for j in s..e {
                        keys.extend_from_slice(parent.key(p));
                        keys.push(level.words.get(j) as u32);
                    }
                }
                // A corrupt file can leave entries no parent reaches.
                keys.resize(m * n, 0);
            }
            let logprob = (0..m).map(|i| level.probs.get(i)).collect();
            let backoff = (0..m).map(|i| level.backoffs.get(i)).collect();
            out.push(Level::new(n, keys, logprob, backoff));
        }
        out
    }

    /// Entries of order `k` (0-based).
    #[inline]
    pub fn len(&self, k: usize) -> usize {
        self.levels.get(k).map_or(0, |l| l.len)
    }

    /// Whether the trie has no order.
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// Last word of entry `i` of order `k` (`u32::MAX` when out of range).
    #[inline]
    pub fn word(&self, k: usize, i: usize) -> u32 {
        match self.levels.get(k) {
            Some(l) if i < l.len => l.words.get(i) as u32,
            _ => u32::MAX,
        }
    }

    /// The child range of entry `i` of order `k` in order `k + 1`, clamped to it.
    #[inline]
    pub fn children(&self, k: usize, i: usize) -> (usize, usize) {
        self.child_ranges(k).range(i)
    }

    /// The child ranges of order `k`'s entries, borrowed for a run of reads.
    #[inline]
    pub fn child_ranges(&self, k: usize) -> ChildRanges<'_> {
        let (parents, pointers) = match self.levels.get(k) {
            Some(l) if !l.next.is_empty() => (l.len, l.next.view()),
            _ => (0, Default::default()),
        };
        ChildRanges {
            pointers,
            parents,
            children: self.len(k + 1),
        }
    }

    /// The entry of order `k` whose last word is `word` among the children of
    /// entry `parent` of order `k - 1` (for `k == 0`, among all unigrams).
    #[inline]
    pub fn find_child(&self, k: usize, parent: usize, word: u32) -> Option<usize> {
        let range = if k == 0 {
            (0, self.len(0))
        } else {
            self.children(k - 1, parent)
        };
        match self.search_start(k, range, word)? {
            Search::Found(e) => Some(e),
            Search::Within(lo, hi) => self.search_finish(k, lo, hi, word),
        }
    }

    /// Start loading what [`Trie::children`] of entry `i` of order `k` reads
    /// (a hint: scoring knows the next token's parents a token ahead).
    #[inline]
    pub fn prefetch_children(&self, k: usize, i: usize) {
        if let Some(l) = self.levels.get(k) {
            l.next.prefetch(i);
        }
    }

    /// Start loading the ends of the sibling range `(lo, hi)` of order `k`,
    /// what [`Trie::search_start`] reads.
    #[inline]
    pub fn prefetch_range(&self, k: usize, (lo, hi): (usize, usize)) {
        if let Some(l) = self.levels.get(k) {
            if hi.saturating_sub(lo) > INTERPOLATE_ABOVE {
                l.words.prefetch(lo);
                l.words.prefetch(hi - 1);
            } else {
                self.prefetch_middle(k, (lo, hi));
            }
        }
    }

    /// Start loading the middle of `(lo, hi)` in order `k`, where
    /// [`Trie::search_finish`] looks first.
    #[inline]
    pub fn prefetch_middle(&self, k: usize, (lo, hi): (usize, usize)) {
        if let (Some(l), true) = (self.levels.get(k), hi > lo) {
            l.words.prefetch(lo + (hi - lo) / 2);
        }
    }

    /// Start loading entry `e`'s probability and backoff in order `k`.
    #[inline]
    pub fn prefetch_values(&self, k: usize, e: usize) {
        if let Some(l) = self.levels.get(k) {
            l.probs.prefetch(e);
            l.backoffs.prefetch(e);
        }
    }

    /// The first step of the search for `word` among the entries `lo..hi` of
    /// order `k` (sorted by last word): in a long run, whose ids spread
    /// evenly, the interpolated guess narrows it; `None` when `word` cannot be
    /// there. What is left is to [`Trie::search_finish`]; splitting the two
    /// lets scoring start the searches of every order before finishing any.
    #[inline]
    pub fn search_start(&self, k: usize, range: (usize, usize), word: u32) -> Option<Search> {
        search_start(self.levels.get(k)?.words.view(), range, word)
    }

    /// Bisect `lo..hi` of order `k` for `word` (see [`Trie::search_start`]).
    #[inline]
    pub fn search_finish(
        &self,
        k: usize,
        mut lo: usize,
        mut hi: usize,
        word: u32,
    ) -> Option<usize> {
        let words = &self.levels.get(k)?.words;
        let word = u64::from(word);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let w = words.get(mid);
            if w < word {
                lo = mid + 1;
            } else if w > word {
                hi = mid;
            } else {
                return Some(mid);
            }
        }
        None
    }

    /// Check what opening a file can check in one pass: child pointers that
    /// never decrease, start at 0 and end at the next order's size.
    pub fn validate(&self) -> std::result::Result<(), String> {
        for (k, level) in self.levels.iter().enumerate() {
            if level.next.is_empty() {
                continue;
            }
            let next_len = self.len(k + 1) as u64;
            let mut prev = 0u64;
            let mut bad = None;
            level.next.for_each(|i, p| {
                if p < prev || p > next_len || (i == 0 && p != 0) {
                    bad = Some((i, p));
                    return false;
                }
                prev = p;
                true
            });
            if let Some((i, p)) = bad {
                return Err(format!(
                    "order {}: child pointer {i} is {p} (previous {prev}, order {} has {next_len})",
                    k + 1,
                    k + 2
                ));
            }
            if prev != next_len {
                return Err(format!(
                    "order {}: child pointers end at {prev}, not at {next_len}",
                    k + 1
                ));
            }
        }
        Ok(())
    }

    /// Bytes of storage.
    pub fn bytes(&self) -> usize {
        self.levels
            .iter()
            .map(|l| {
                // Backoffs in a slot table share the probabilities' record numbers.
                let shared = matches!(
                    (&l.probs, &l.backoffs),
                    (Values::Slotted { .. }, Values::Slotted { .. })
                );
                l.words.bytes()
                    + l.probs.bytes()
                    + if shared { 0 } else { l.backoffs.bytes() }
                    + l.next.bytes()
                    + l.by_prob.len() * 4
                    + l.cum.len() * 4
                    + l.rankings.bytes()
                    + l.slots.as_ref().map_or(0, |t| t.size())
            })
            .sum()
    }
}

/// [`Trie::search_start`] in an order's word ids.
#[inline(always)]
pub fn search_start(words: PackedView<'_>, (lo, hi): (usize, usize), word: u32) -> Option<Search> {
    let word = u64::from(word);
    if hi.saturating_sub(lo) > INTERPOLATE_ABOVE {
        let (a, b) = (words.get(lo), words.get(hi - 1));
        if word < a || word > b {
            return None;
        }
        if b > a {
            // Ids are at most 32 bits and a range under 2^32 entries, so
            // the product fits 64 bits.
            let span = (hi - 1 - lo) as u64;
            let guess = (lo + ((word - a).wrapping_mul(span) / (b - a)) as usize).min(hi - 1);
            let g = words.get(guess);
            if g == word {
                return Some(Search::Found(guess));
            }
            return Some(if g < word {
                Search::Within(guess + 1, hi)
            } else {
                Search::Within(lo, guess)
            });
        }
    }
    Some(Search::Within(lo, hi))
}

/// The child ranges of one trie order (see [`Trie::child_ranges`]).
#[derive(Clone, Copy)]
pub struct ChildRanges<'a> {
    pointers: super::packed::PointersView<'a>,
    /// Entries of the order (0 when it has no children).
    parents: usize,
    /// Entries of the next order.
    children: usize,
}

impl ChildRanges<'_> {
    /// The child range of entry `i`, clamped to the next order (empty for an
    /// entry out of range).
    #[inline(always)]
    pub fn range(&self, i: usize) -> (usize, usize) {
        if i >= self.parents {
            return (0, 0);
        }
        let (s, e) = self.pointers.pair(i);
        let s = (s as usize).min(self.children);
        let e = (e as usize).min(self.children).max(s);
        (s, e)
    }

    /// Start loading what [`ChildRanges::range`] of `i` reads (a hint).
    #[inline(always)]
    pub fn prefetch(&self, i: usize) {
        self.pointers.prefetch(i);
    }
}

/// The `m + 1` child pointers of a linked level whose children form one
/// contiguous run per entry covering the whole next order, else None.
fn contiguous_pointers(level: &Level, next_len: usize) -> Option<Vec<u32>> {
    let m = level.len();
    let mut pointers = Vec::with_capacity(m + 1);
    let mut at = 0u32;
    for i in 0..m {
        let s = *level.child_start.get(i)?;
        let e = *level.child_end.get(i)?;
        if s != at || e < s {
            return None;
        }
        pointers.push(s);
        at = e;
    }
    if at as usize != next_len {
        return None;
    }
    pointers.push(at);
    Some(pointers)
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::control::Control;
    use crate::corpus::Corpus;
    use crate::count::{count_ngrams, CountOptions};
    use crate::lm::kneser_ney::KneserNeyOptions;
    use crate::lm::{binary, fit, Layout, NGramModel, Smoothing};
    use crate::sample::{Rng, SamplingParams};

    fn model(order: usize) -> NGramModel {
        model_with(order, Smoothing::KneserNey(KneserNeyOptions::default()))
    }

    /// A small model of a made-up corpus (other modules' tests use it too).
    pub(crate) fn model_with(order: usize, smoothing: Smoothing) -> NGramModel {
        let texts: Vec<String> = (0..60)
            .map(|i| {
                let words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far"];
                (0..8 + i % 5)
                    .map(|j| words[(i * 7 + j * j * 3 + j) % words.len()])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let options = CountOptions {
            order,
            ..Default::default()
        };
        let counts = count_ngrams(&Corpus::from_texts(texts), &options, &Control::new()).unwrap();
        fit(&counts, &smoothing).unwrap()
    }

    /// `m` saved in `layout` and opened again (other modules' tests use it too).
    pub(crate) fn through_file(m: &NGramModel, layout: Layout) -> NGramModel {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.nwlm");
        binary::save_layout(m, &path, layout).unwrap();
        binary::load(&path, true).unwrap()
    }

    /// `m` saved as a trie in format `version` storing the rankings of ranges
    /// of at least `stored_from` entries, and opened again (other modules'
    /// tests use it too).
    pub(crate) fn through_ranked_file(
        m: &NGramModel,
        quantize: Option<u8>,
        stored_from: usize,
        version: u32,
    ) -> NGramModel {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.nwlm");
        let control = crate::control::Control::new();
        binary::save_trie(m, &path, quantize, stored_from, version, &control).unwrap();
        binary::load(&path, true).unwrap()
    }

    #[test]
    fn trie_answers_every_query_as_the_hash_layout() {
        let hash = model(4);
        for stored_from in [crate::lm::ranking::STORED_FROM, 2] {
            let trie = through_ranked_file(&hash, None, stored_from, 8);
            same_answers(&hash, &trie);
        }
        // A version 7 trie (no stored rankings) answers the same too.
        same_answers(&hash, &through_ranked_file(&hash, None, 2, 7));
    }

    fn same_answers(hash: &NGramModel, trie: &NGramModel) {
        assert!(trie.trie.is_some() && trie.levels.is_empty());
        assert_eq!(trie.sizes(), hash.sizes());
        let ids: Vec<u32> = (0..hash.vocab.len() as u32).chain([999]).collect();
        for start in 0..ids.len() {
            let sentence: Vec<u32> = ids
                .iter()
                .cycle()
                .skip(start)
                .step_by(3)
                .take(12)
                .copied()
                .collect();
            assert_eq!(
                trie.score_ids(&sentence, true, true),
                hash.score_ids(&sentence, true, true)
            );
            for cut in 0..4 {
                let (a, b) = (
                    hash.state_after(&sentence[..cut], true),
                    trie.state_after(&sentence[..cut], true),
                );
                assert_eq!(a, b);
                assert_eq!(hash.distribution(&a), trie.distribution(&b));
                assert_eq!(hash.top_k(&a, 5), trie.top_k(&b, 5));
                for params in [
                    SamplingParams::default(),
                    SamplingParams {
                        top_p: Some(0.8),
                        ..Default::default()
                    },
                    SamplingParams {
                        top_k: Some(2),
                        ..Default::default()
                    },
                ] {
                    let (mut r1, mut r2) = (Rng::new(cut as u64), Rng::new(cut as u64));
                    for _ in 0..5 {
                        assert_eq!(
                            hash.sample_next(&a, &params, &[], &mut r1),
                            trie.sample_next(&b, &params, &[], &mut r2)
                        );
                    }
                }
            }
        }
        // Back to the hash layout: the same arrays.
        let again = trie.hash_layout();
        for (x, y) in again.levels.iter().zip(&hash.levels) {
            assert_eq!(&x.keys[..], &y.keys[..]);
            assert_eq!(&x.logprob[..], &y.logprob[..]);
            assert_eq!(&x.backoff[..], &y.backoff[..]);
        }
    }

    #[test]
    fn hash_files_are_version_9_and_tries_version_8() {
        let hash = model(3);
        let dir = tempfile::tempdir().unwrap();
        let version = |m: &NGramModel, layout| {
            let path = dir.path().join("v.nwlm");
            binary::save_layout(m, &path, layout).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]])
        };
        assert_eq!(version(&hash, Layout::Hash), 9);
        assert_eq!(version(&hash, Layout::Trie { quantize: None }), 8);
        // A model with an n-gram whose context is missing stays in layout 0
        // (version 7), which holds any set of n-grams.
        let mut levels = hash.hash_layout().levels.clone();
        let context = levels[2].key(0)[..2].to_vec();
        let b = &levels[1];
        let keep: Vec<usize> = (0..b.len()).filter(|&i| b.key(i) != &context[..]).collect();
        let keys = keep.iter().flat_map(|&i| b.key(i).to_vec()).collect();
        let logprob = keep.iter().map(|&i| b.logprob[i]).collect();
        let backoff = keep.iter().map(|&i| b.backoff[i]).collect();
        levels[1] = crate::lm::level::Level::new(2, keys, logprob, backoff);
        let gappy = NGramModel::from_levels(
            hash.vocab.clone(),
            levels,
            hash.remainder,
            &hash.smoothing,
            hash.normalized,
        );
        assert_eq!(version(&gappy, Layout::Hash), 7);
        let back = binary::load(&dir.path().join("v.nwlm"), true).unwrap();
        assert!(back.trie.is_none() && back.sizes() == gappy.sizes());
    }

    #[test]
    fn the_hash_layout_is_a_trie_with_its_values_in_slot_tables() {
        let hash = model(4);
        let file = through_file(&hash, Layout::Hash);
        let trie = file.trie.as_ref().unwrap();
        assert!(trie.hashed);
        assert!(trie.levels[0].slots.is_none());
        for (k, level) in trie.levels.iter().enumerate().skip(1) {
            // Bigrams keep their probabilities in the trie (queries walk them).
            let slotted = matches!(level.probs, super::Values::Slotted { field: 0, .. });
            assert_eq!(slotted, k > 1);
            let last = k + 1 == trie.levels.len();
            assert_eq!(
                matches!(level.backoffs, super::Values::Slotted { field: 1, .. }),
                !last
            );
            assert!(level.slots.is_some());
        }
        same_answers(&hash, &file);
        // Saved again, it is written as it is, byte for byte.
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.nwlm"), dir.path().join("b.nwlm"));
        binary::save_layout(&hash, &a, Layout::Hash).unwrap();
        binary::save_layout(&file, &b, Layout::Hash).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        // Bulk scoring probes the tables by hash and agrees with stepping.
        for text in ["the cat sat on a mat", "dog ran far far away the"] {
            assert_eq!(
                file.score_text(text, true, true),
                hash.score_text(text, true, true)
            );
        }
    }

    #[test]
    fn version_6_files_still_load() {
        let hash = model(3);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.nwlm");
        binary::save_version(&hash, &path, 6).unwrap();
        let old = binary::load(&path, true).unwrap();
        let s: Vec<u32> = vec![3, 4, 5, 6, 7, 3];
        assert_eq!(
            old.score_ids(&s, true, true),
            hash.score_ids(&s, true, true)
        );
    }

    #[test]
    fn quantized_trie_has_few_distinct_values_and_stays_close() {
        let hash = model(3);
        let q = through_file(&hash, Layout::Trie { quantize: Some(3) });
        let t = q.trie.as_ref().unwrap();
        let distinct: std::collections::BTreeSet<u32> = (0..t.len(1))
            .map(|i| t.levels[1].probs.get(i).to_bits())
            .collect();
        assert!(distinct.len() <= 8, "{}", distinct.len());
        // Unigrams stay exact.
        assert_eq!(t.levels[0].probs.get(3), hash.levels[0].logprob[3]);
        let s: Vec<u32> = vec![3, 4, 5, 6, 7];
        let (a, b) = (hash.score_ids(&s, true, true), q.score_ids(&s, true, true));
        for (x, y) in a.iter().zip(&b) {
            assert!((x.logprob - y.logprob).abs() < 0.5, "{x:?} {y:?}");
        }
        assert!(binary::save_layout(
            &hash,
            std::path::Path::new("/nonexistent/x"),
            Layout::Trie { quantize: Some(0) }
        )
        .is_err());
    }
}

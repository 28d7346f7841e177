//! [`NGramModel`]: the query structure every n-gram estimator produces.
//!
//! A model is stored in backoff form, as in an ARPA file: for each n-gram its
//! log10 probability, and for each context its log10 backoff weight. Then
//! `log10 p(w | h) = logprob(h_k w) + sum of backoff(h_j) for j > k`, where
//! `h_k w` is the longest n-gram in the model ending the history with `w`.
//! Interpolated Kneser-Ney and Witten-Bell (probabilities stored already
//! interpolated, backoff = interpolation weight), MLE and stupid backoff all
//! fit this form; add-k uses a uniform remainder instead of lower orders.

// Index loops mirror the formulas (and lmplz) more plainly than iterator chains here.
#![allow(clippy::needless_range_loop)]

use super::level::{self, Level};
use super::nucleus::NucleusCache;
use super::orders::Orders;
use super::trie::{self, Trie};
use super::word_index::WordIndex;
use crate::tokenize::{Vocab, BOS_ID, UNK_ID};

/// How a model distributes the mass it does not give to seen n-grams.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Remainder {
    /// ARPA semantics: back off to the next lower order. `unseen_context` is the
    /// log10 backoff charged for a context the model does not hold (0 for
    /// probabilistic models; log10 alpha for stupid backoff).
    LowerOrder {
        /// log10 weight for a context missing from the model.
        unseen_context: f32,
    },
    /// Add-k: an unseen word in a seen context h gets `backoff(h)` (a log10
    /// probability); in an unseen context every word gets `1 / predictable`.
    Uniform {
        /// log10 probability of a word never seen at the unigram level.
        unseen_unigram: f32,
        /// log10 (1 / number of predictable words).
        uniform: f32,
    },
}

/// An n-gram language model ready to answer queries.
#[derive(Debug, Clone)]
pub struct NGramModel {
    /// Token <-> id map.
    pub vocab: Vocab,
    /// `levels[k - 1]` holds the k-grams (the hash layout; empty when the
    /// model is held as a trie).
    pub levels: Vec<Level>,
    /// The n-grams in the trie layout (a model opened from a trie file).
    pub trie: Option<Trie>,
    /// How unseen events are scored.
    pub remainder: Remainder,
    /// Name of the estimator (`kneser-ney`, `mle`, ...).
    pub smoothing: String,
    /// Whether the model's values are probabilities (false for stupid backoff).
    pub normalized: bool,
    /// Discounts D1, D2, D3+ per order (Kneser-Ney), for reports.
    pub discounts: Vec<[f32; 3]>,
    /// Warnings raised while estimating (discount fallbacks).
    pub warnings: Vec<String>,
    /// `unigram[id]` = entry of `id` in level 1, or `u32::MAX`.
    unigram: Vec<u32>,
    /// The vocabulary lookup of bulk scoring, built on first use.
    word_index: std::sync::OnceLock<WordIndex>,
    /// `[log10 p, log10 backoff]` of every id's unigram (`[-inf, 0]` for an
    /// id without one), for bulk scoring; built on first use.
    unigram_values: std::sync::OnceLock<Vec<[f32; 2]>>,
    /// Top-p nuclei computed so far (see [`super::nucleus`]).
    pub(crate) nuclei: NucleusCache,
}

/// The part of the history a model still needs: ids of the last words (most
/// recent last) and backoffs of the n-grams ending there that the model holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// Up to order-1 last ids, most recent last.
    pub words: Vec<u32>,
    /// `backoff[j]` = log10 backoff of the last `j + 1` words, for every suffix
    /// the model holds (suffixes are closed: if a longer one is held, so are shorter ones).
    pub backoff: Vec<f32>,
    /// `entries[j]`: the entry of those last `j + 1` words in order `j + 1`
    /// (beside `backoff`), so that queries extend a context without finding it again.
    pub entries: Vec<u32>,
}

/// The lookup of one n-gram in its order's hash index, made ahead of scoring
/// (hash layout; see [`NGramModel::score_word_hashed`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) enum Lookup {
    /// Not made: scoring makes it if it needs it.
    #[default]
    Pending,
    /// The n-gram is absent.
    Missing,
    /// The n-gram's slot.
    Found(level::Slot),
}

/// One scored token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenScore {
    /// log10 p(word | history).
    pub logprob: f32,
    /// Length of the longest n-gram the model matched (1 = unigram, 0 = none).
    pub ngram_len: usize,
    /// Whether the word is out of the vocabulary.
    pub oov: bool,
}

impl NGramModel {
    /// Assemble a model from its levels (sorted keys and values), linking them.
    pub fn from_levels(
        vocab: Vocab,
        mut levels: Vec<Level>,
        remainder: Remainder,
        smoothing: &str,
        normalized: bool,
    ) -> Self {
        use rayon::prelude::*;
        levels.par_iter_mut().for_each(Level::refresh_index_values);
        let ranges: Vec<(Vec<u32>, Vec<u32>)> = (0..levels.len().saturating_sub(1))
            .into_par_iter()
            .map(|k| levels[k].child_ranges(&levels[k + 1]))
            .collect();
        levels.par_iter_mut().enumerate().for_each(|(k, level)| {
            let parent = k
                .checked_sub(1)
                .map(|p| (&ranges[p].0[..], &ranges[p].1[..]));
            level.order_by_prob(parent);
        });
        for (level, (starts, ends)) in levels.iter_mut().zip(ranges) {
            level.set_children(starts, ends);
        }
        Self::from_linked(vocab, levels, remainder, smoothing, normalized)
    }

    /// Assemble a model from levels already linked (read from a model file).
    pub fn from_linked(
        vocab: Vocab,
        levels: Vec<Level>,
        remainder: Remainder,
        smoothing: &str,
        normalized: bool,
    ) -> Self {
        let mut unigram = vec![u32::MAX; vocab.len()];
        if let Some(first) = levels.first() {
            for i in 0..first.len() {
                if let Some(slot) = unigram.get_mut(first.keys[i] as usize) {
                    *slot = i as u32;
                }
            }
        }
        Self {
            vocab,
            levels,
            trie: None,
            remainder,
            smoothing: smoothing.to_string(),
            normalized,
            discounts: Vec::new(),
            warnings: Vec::new(),
            unigram,
            word_index: std::sync::OnceLock::new(),
            unigram_values: std::sync::OnceLock::new(),
            nuclei: NucleusCache::default(),
        }
    }

    /// Assemble a model held as a trie (read from a trie file).
    pub fn from_trie(
        vocab: Vocab,
        trie: Trie,
        remainder: Remainder,
        smoothing: &str,
        normalized: bool,
    ) -> Self {
        let mut model = Self::from_linked(vocab, Vec::new(), remainder, smoothing, normalized);
        if let Some(first) = trie.levels.first() {
            for i in 0..first.len {
                let w = first.words.get(i) as usize;
                if let Some(slot) = model.unigram.get_mut(w) {
                    *slot = i as u32;
                }
            }
        }
        model.trie = Some(trie);
        model
    }

    /// The same model in the hash layout: itself, or a trie decoded.
    pub fn hash_layout(&self) -> std::borrow::Cow<'_, NGramModel> {
        let Some(trie) = &self.trie else {
            return std::borrow::Cow::Borrowed(self);
        };
        let mut model = NGramModel::from_levels(
            self.vocab.clone(),
            trie.to_levels(),
            self.remainder,
            &self.smoothing,
            self.normalized,
        );
        model.discounts = self.discounts.clone();
        model.warnings = self.warnings.clone();
        std::borrow::Cow::Owned(model)
    }

    /// The n-grams, whichever layout holds them.
    #[inline]
    pub(crate) fn orders(&self) -> Orders<'_> {
        match &self.trie {
            Some(t) => Orders::Trie(t),
            None => Orders::Hash(&self.levels),
        }
    }

    /// The order N.
    pub fn order(&self) -> usize {
        match &self.trie {
            Some(t) => t.levels.len(),
            None => self.levels.len(),
        }
    }

    /// Number of n-grams of each order.
    pub fn sizes(&self) -> Vec<usize> {
        (0..self.order()).map(|k| self.orders().len(k)).collect()
    }

    /// The state before the first word of a sentence: `<s>` (or nothing).
    pub fn begin_state(&self, bos: bool) -> State {
        let mut state = State::default();
        if bos {
            state.words.push(BOS_ID);
            if let Some(i) = self.unigram_entry(BOS_ID) {
                state.backoff.push(self.orders().backoff(0, i));
                state.entries.push(i as u32);
            }
        }
        state
    }

    #[inline]
    pub(crate) fn unigram_entry(&self, id: u32) -> Option<usize> {
        match self.unigram.get(id as usize) {
            Some(&i) if i != u32::MAX => Some(i as usize),
            _ => None,
        }
    }

    /// Start loading the unigram entry of `id` (a hint).
    #[inline]
    pub(crate) fn prefetch_unigram(&self, id: u32) {
        level::prefetch(&self.unigram, id as usize);
    }

    /// The id scoring uses for `id`: itself, or `<unk>`'s when the model holds
    /// no unigram of it (what [`NGramModel::score_word`] does to it).
    #[inline]
    pub fn scoring_id(&self, id: u32) -> u32 {
        if self.unigram_entry(id).is_some() {
            id
        } else {
            UNK_ID
        }
    }

    /// The vocabulary lookup of bulk scoring (see [`WordIndex`]): token hash
    /// to [`NGramModel::scoring_id`].
    pub fn word_index(&self) -> &WordIndex {
        self.word_index.get_or_init(|| {
            WordIndex::new(self.vocab.words().iter().map(String::as_str), |i| {
                self.scoring_id(i)
            })
        })
    }

    /// `[log10 p, log10 backoff]` of the unigram of every id (`[-inf, 0]`
    /// where the model holds none): one read per token for bulk scoring.
    pub(crate) fn unigram_values(&self) -> &[[f32; 2]] {
        self.unigram_values.get_or_init(|| {
            let o = self.orders();
            (0..self.unigram.len() as u32)
                .map(|id| match self.unigram_entry(id) {
                    Some(i) => [o.logprob(0, i), o.backoff(0, i)],
                    None => [f32::NEG_INFINITY, 0.0],
                })
                .collect()
        })
    }

    /// Start loading the slots that scoring `word` after `history` (ids, most
    /// recent last) will read, so a scoring loop can overlap the memory
    /// latency of the next token with the work on this one.
    #[inline]
    pub fn prefetch(&self, history: &[u32], word: u32) {
        if self.trie.as_ref().is_some_and(|t| !t.hashed) {
            return;
        }
        let n = self.order();
        let mut running = level::start(word);
        for len in 1..n.min(history.len() + 1) {
            running = level::extend(running, history[history.len() - len]);
            self.prefetch_hashed(len, level::finish(running, len + 1));
        }
    }

    /// The lookup of the n-gram of `len + 1` words with `hash` in the hash
    /// layout (layout 0's levels, or layout 2's slot tables).
    #[inline(always)]
    pub(crate) fn find_hashed(&self, len: usize, hash: u64) -> Option<level::Slot> {
        match &self.trie {
            Some(t) => t.find_hashed(len, hash),
            None => self.levels[len].find_trusted(hash),
        }
    }

    /// Start loading what [`NGramModel::find_hashed`] reads first.
    #[inline(always)]
    pub(crate) fn prefetch_hashed(&self, len: usize, hash: u64) {
        match &self.trie {
            Some(t) => t.prefetch_hashed(len, hash),
            None => self.levels[len].prefetch(hash),
        }
    }

    /// Score `word` after `state` and advance the state.
    pub fn score_word(&self, state: &State, word: u32, next: &mut State) -> TokenScore {
        self.score_word_hashed(state, word, None, &[], next)
    }

    /// [`NGramModel::score_word`], given (when `hashes` is Some, hash layout
    /// only) `hashes[len]` = the [`level`] hash of `word` after the last `len`
    /// words of the state, for every `len` up to `min(state.words.len(), order - 1)`:
    /// bulk scoring computes and prefetches them a sentence ahead. Where
    /// `looked[len]` is not [`Lookup::Pending`], it is that n-gram's lookup,
    /// already made (bulk scoring makes them order by order, see
    /// `evaluate_sentence`).
    #[inline]
    pub(crate) fn score_word_hashed(
        &self,
        state: &State,
        word: u32,
        hashes: Option<&[u64]>,
        looked: &[Lookup],
        next: &mut State,
    ) -> TokenScore {
        let unigram = self.unigram_entry(word);
        let oov = word == UNK_ID || unigram.is_none();
        let (word, unigram) = match unigram {
            Some(i) => (word, Some(i)),
            None => (UNK_ID, self.unigram_entry(UNK_ID)),
        };
        let n = self.order();
        next.words.clear();
        next.backoff.clear();
        next.entries.clear();

        // Longest match, growing from the unigram: by suffix closure, once an
        // n-gram is missing, no longer one can be present.
        let (mut logprob, mut matched) = match unigram {
            Some(i) => {
                let o = self.orders();
                if n > 1 {
                    next.backoff.push(o.backoff(0, i));
                    next.entries.push(i as u32);
                }
                (o.logprob(0, i), 1)
            }
            None => (f32::NEG_INFINITY, 0),
        };
        // The hash layout held as a trie (layout 2) scores by hash when bulk
        // scoring gives the hashes (its states are never queried further);
        // stepping by `score_word` keeps the trie's entries in the state. A
        // trie given `hashes` reads the lookups bulk scoring made in `looked`
        // (every one it needs: see `look_up_by_order`).
        let by_hash = hashes.is_some() && self.trie.as_ref().is_some_and(|t| t.hashed);
        if let (1, Some(trie), None) = (matched, &self.trie, hashes) {
            // The trie: each longer n-gram is a child of the context entry the
            // state carries, found by a search among its siblings. The searches
            // of the orders are independent (their parents come from the
            // state), so they go in rounds, each starting the loads of every
            // order before reading any: the memory waits overlap instead of
            // adding up (KenLM's query reads them one after the other).
            const M: usize = crate::count::MAX_ORDER;
            let held = state
                .backoff
                .len()
                .min(n - 1)
                .min(state.entries.len())
                .min(M - 1);
            let parents = &state.entries[..held];
            let mut searches = [None; M];
            for (k, &parent) in parents.iter().enumerate() {
                let range = trie.children(k, parent as usize);
                trie.prefetch_range(k + 1, range);
                searches[k + 1] = Some(trie::Search::Within(range.0, range.1));
            }
            for (len, search) in searches.iter_mut().enumerate().take(held + 1).skip(1) {
                if let Some(trie::Search::Within(lo, hi)) = *search {
                    *search = trie.search_start(len, (lo, hi), word);
                    if let Some(trie::Search::Within(lo, hi)) = *search {
                        trie.prefetch_middle(len, (lo, hi));
                    }
                }
            }
            // By suffix closure the match ends at the first order missing.
            let mut found = [0usize; M];
            let mut top = 0;
            for (len, search) in searches.iter().enumerate().take(held + 1).skip(1) {
                let e = match *search {
                    Some(trie::Search::Found(e)) => Some(e),
                    Some(trie::Search::Within(lo, hi)) => trie.search_finish(len, lo, hi, word),
                    None => None,
                };
                let Some(e) = e else { break };
                trie.prefetch_values(len, e);
                found[len] = e;
                top = len;
            }
            if top > 0 {
                logprob = trie.levels[top].probs.get(found[top]);
                matched = top + 1;
            }
            for (len, &e) in found.iter().enumerate().take((top + 1).min(n - 1)).skip(1) {
                next.backoff.push(trie.levels[len].backoffs.get(e));
                next.entries.push(e as u32);
            }
            // The next token searches among the children of these entries.
            for (k, &e) in next.entries.iter().enumerate() {
                trie.prefetch_children(k, e as usize);
            }
        } else if matched == 1 {
            let words = &state.words;
            let wl = words.len();
            let held = state.backoff.len().min(n - 1);
            // Hashes of every candidate n-gram first, prefetching their slots,
            // so the cache misses of all orders overlap.
            let mut local = [0u64; crate::count::MAX_ORDER];
            let hashes = match hashes {
                Some(h) if h.len() > held => h,
                _ => {
                    let mut running = level::start(word);
                    for len in 1..=held {
                        running = level::extend(running, words[wl - len]);
                        local[len] = level::finish(running, len + 1);
                        self.prefetch_hashed(len, local[len]);
                    }
                    &local[..]
                }
            };
            for len in 1..=held {
                let found = match looked.get(len) {
                    Some(Lookup::Found(slot)) => Some(*slot),
                    Some(Lookup::Missing) => None,
                    _ => {
                        debug_assert!(self.trie.as_ref().is_none_or(|t| t.hashed));
                        self.find_hashed(len, hashes[len])
                    }
                };
                match found {
                    Some(slot) => {
                        logprob = f32::from_bits(slot[2]);
                        matched = len + 1;
                        if len + 1 < n {
                            next.backoff.push(f32::from_bits(slot[3]));
                            if !by_hash {
                                next.entries.push(slot[1]);
                            }
                        }
                    }
                    None => break,
                }
            }
        }
        let context_len = state.words.len().min(n - 1);
        match self.remainder {
            Remainder::LowerOrder { unseen_context } => {
                // Charge the backoff of every context longer than the match.
                for j in matched.saturating_sub(1)..context_len {
                    logprob += state.backoff.get(j).copied().unwrap_or(unseen_context);
                }
                if matched == 0 {
                    logprob = f32::NEG_INFINITY;
                }
            }
            Remainder::Uniform {
                unseen_unigram,
                uniform,
            } => {
                // Add-k uses only the longest context.
                if matched < context_len + 1 {
                    logprob = if context_len == 0 {
                        unseen_unigram
                    } else if let Some(&bo) = state.backoff.get(context_len - 1) {
                        bo
                    } else {
                        uniform
                    };
                }
            }
        }
        next.words.extend_from_slice(
            &state.words[state.words.len().saturating_sub(n.saturating_sub(2))..],
        );
        if n > 1 {
            next.words.push(word);
        }
        // No truncation: the pushes above stop below the top order, so the
        // next state holds a backoff for exactly the suffixes of its words
        // the model holds (at most n - 1; tests check the shape).
        TokenScore {
            logprob,
            ngram_len: matched,
            oov,
        }
    }

    /// Per-token scores of one sentence of ids (with `</s>` scored at the end
    /// when `eos`), starting after `<s>` when `bos`.
    pub fn score_ids(&self, ids: &[u32], bos: bool, eos: bool) -> Vec<TokenScore> {
        let mut state = self.begin_state(bos);
        let mut next = State::default();
        let mut out = Vec::with_capacity(ids.len() + 1);
        // The whole sequence, so each step can prefetch the next one's lookups.
        let mut seq = Vec::with_capacity(ids.len() + 2);
        if bos {
            seq.push(crate::tokenize::BOS_ID);
        }
        let first = seq.len();
        seq.extend_from_slice(ids);
        if eos {
            seq.push(crate::tokenize::EOS_ID);
        }
        // Layout 2 scores by hash (given no hashes, the lookup makes its own):
        // the states here are never queried further.
        let by_hash: Option<&[u64]> = match &self.trie {
            Some(t) if t.hashed => Some(&[]),
            _ => None,
        };
        for j in first..seq.len() {
            if j + 1 < seq.len() {
                self.prefetch(&seq[..j + 1], seq[j + 1]);
            }
            out.push(self.score_word_hashed(&state, seq[j], by_hash, &[], &mut next));
            std::mem::swap(&mut state, &mut next);
        }
        out
    }

    /// The state after reading `context` (ids), starting from `<s>` when `bos`.
    pub fn state_after(&self, context: &[u32], bos: bool) -> State {
        let mut state = self.begin_state(bos);
        let mut next = State::default();
        for &w in context {
            self.score_word(&state, w, &mut next);
            std::mem::swap(&mut state, &mut next);
        }
        state
    }

    /// log10 p of a word the model matched with a context of length `m`: its
    /// stored value plus the backoffs of every longer context of the history.
    pub(crate) fn charge(&self, state: &State, logprob: f32, m: usize) -> f32 {
        let context_len = state.words.len().min(self.order() - 1);
        match self.remainder {
            Remainder::LowerOrder { unseen_context } => {
                // One by one, in the order score_word adds them, so that prob()
                // and the distributions agree to the last bit.
                let mut v = logprob;
                for j in m..context_len {
                    v += state.backoff.get(j).copied().unwrap_or(unseen_context);
                }
                v
            }
            Remainder::Uniform { .. } => logprob,
        }
    }

    /// Entry of the context of length `len` (the last `len` words) in level `len`.
    pub(crate) fn context_entry(&self, state: &State, len: usize) -> Option<usize> {
        if len == 0 || len > state.words.len() || len >= self.order() {
            return None;
        }
        state.entries.get(len - 1).map(|&e| e as usize)
    }

    /// log10 p(w | state) for every id (dense); `<s>` gets -inf (never predicted).
    pub fn distribution(&self, state: &State) -> Vec<f32> {
        let v = self.vocab.len();
        let held = state.backoff.len().min(self.order() - 1);
        let mut dist = match self.remainder {
            Remainder::LowerOrder { .. } => {
                let mut d = vec![f32::NEG_INFINITY; v];
                let o = self.orders();
                for i in 0..o.len(0) {
                    if let Some(slot) = d.get_mut(o.word(0, i) as usize) {
                        *slot = self.charge(state, o.logprob(0, i), 0);
                    }
                }
                for m in 1..=held {
                    let Some(c) = self.context_entry(state, m) else {
                        break;
                    };
                    self.overwrite_children(&mut d, state, m, c);
                }
                d
            }
            Remainder::Uniform {
                unseen_unigram,
                uniform,
            } => {
                let context_len = state.words.len().min(self.order() - 1);
                if context_len == 0 {
                    let mut d = vec![unseen_unigram; v];
                    let o = self.orders();
                    for i in 0..o.len(0) {
                        if let Some(slot) = d.get_mut(o.word(0, i) as usize) {
                            *slot = o.logprob(0, i);
                        }
                    }
                    d
                } else if let Some(c) = self.context_entry(state, context_len) {
                    let bo = self.orders().backoff(context_len - 1, c);
                    let mut d = vec![bo; v];
                    self.overwrite_children(&mut d, state, context_len, c);
                    d
                } else {
                    vec![uniform; v]
                }
            }
        };
        if let Some(slot) = dist.get_mut(BOS_ID as usize) {
            *slot = f32::NEG_INFINITY;
        }
        dist
    }

    fn overwrite_children(&self, d: &mut [f32], state: &State, m: usize, context: usize) {
        let o = self.orders();
        let (s, e) = o.children(m - 1, context);
        for j in s..e {
            if let Some(slot) = d.get_mut(o.word(m, j) as usize) {
                *slot = self.charge(state, o.logprob(m, j), m);
            }
        }
    }

    /// The `k` most probable next words after `state`: (id, log10 p), best
    /// first, ties by id. Exact: see [`NGramModel::for_each_candidate`].
    pub fn top_k(&self, state: &State, k: usize) -> Vec<(u32, f32)> {
        let mut out = Vec::with_capacity(k.min(1024));
        if k == 0 {
            return out;
        }
        self.for_each_candidate(state, |w, lp| {
            // No valid model gives log10 p > 0; only a corrupt array read
            // unverified does, and callers exponentiate the value.
            out.push((w, lp.min(0.0)));
            out.len() < k
        });
        out
    }

    /// Call `f(id, log10 p)` on next words in descending probability (ties by
    /// id) until it returns false. Candidates stream from each order's
    /// successor list in probability order, a word being taken from the longest
    /// context that holds it, so the order is exact and the whole vocabulary is
    /// scored only if `f` asks for all of it.
    pub fn for_each_candidate(&self, state: &State, mut f: impl FnMut(u32, f32) -> bool) {
        if let Remainder::Uniform { .. } = self.remainder {
            // Add-k: seen successors, then every other word at the same value.
            let dist = self.distribution(state);
            let mut ids: Vec<u32> = (0..dist.len() as u32).filter(|&i| i != BOS_ID).collect();
            ids.sort_unstable_by(|a, b| {
                dist[*b as usize]
                    .total_cmp(&dist[*a as usize])
                    .then(a.cmp(b))
            });
            for i in ids {
                if !f(i, dist[i as usize]) {
                    return;
                }
            }
            return;
        }
        let held = state.backoff.len().min(self.order() - 1);
        let o = self.orders();
        // A stream walks one context's ranking. Charging the backoff (an f32
        // sum) can make neighbours in that ranking equal, so a stream's head
        // is the whole run of equal charged values, handed out by lower id.
        struct Stream<'a> {
            m: usize,
            pos: usize,
            ranked: super::ranking::Ranking<'a>,
            value: f32,
            /// Words of the head's tie run, highest id first (`pop` takes the lowest).
            ties: Vec<u32>,
            /// Shadow checks made so far, and once there were many, the
            /// words of the next longer context as a bit set (see below).
            checks: u32,
            shadow: Vec<u64>,
            gathered: bool,
        }
        let mut streams = Vec::with_capacity(held + 1);
        let open = |m: usize, ranked| Stream {
            m,
            pos: 0,
            ranked,
            value: f32::NEG_INFINITY,
            ties: Vec::new(),
            checks: 0,
            shadow: Vec::new(),
            gathered: false,
        };
        streams.push(open(0, o.ranking(0, 0, o.len(0))));
        for m in 1..=held {
            let Some(c) = self.context_entry(state, m) else {
                break;
            };
            let (s, e) = o.children(m - 1, c);
            streams.push(open(m, o.ranking(m, s, e)));
        }
        let top = streams.len() - 1;
        let charged = |st: &Stream, i: usize| -> Option<(f32, u32)> {
            let e = st.ranked.entry(i)?;
            let w = o.word(st.m, e);
            if w == u32::MAX {
                return None;
            }
            Some((self.charge(state, o.logprob(st.m, e), st.m), w))
        };
        // The next tie run of a stream whose run is used up (none at its end).
        let refill = |st: &mut Stream| {
            let Some((v, w)) = charged(st, st.pos) else {
                return;
            };
            st.value = v;
            st.ties.push(w);
            st.pos += 1;
            while let Some((next, w)) = charged(st, st.pos) {
                if next != v {
                    break;
                }
                st.ties.push(w);
                st.pos += 1;
            }
            st.ties.sort_unstable_by(|a, b| b.cmp(a));
        };
        for st in streams.iter_mut() {
            refill(st);
        }
        // At most `order` streams: a linear scan of their heads beats a heap.
        loop {
            let mut best: Option<(usize, f32, u32)> = None;
            for (si, st) in streams.iter().enumerate() {
                if let Some(&w) = st.ties.last() {
                    let v = st.value;
                    let better = match best {
                        None => true,
                        Some((_, bv, bw)) => v > bv || (v == bv && w < bw),
                    };
                    if better {
                        best = Some((si, v, w));
                    }
                }
            }
            let Some((si, v, w)) = best else {
                return;
            };
            let st = &mut streams[si];
            let m = st.m;
            // Held by a longer context? Then that stream reports it.
            let shadowed = m < top && {
                let len = m + 1;
                let parent = self.context_entry(state, len).unwrap_or(usize::MAX);
                st.checks += 1;
                // Gathering costs a pass over the shadowing context's words:
                // worth it once the checks are a fair share of them.
                if st.checks >= SHADOW_SET_AFTER && st.shadow.is_empty() && !st.gathered {
                    let (s, e) = o.children(m, parent);
                    if st.checks as usize * 16 >= e - s {
                        st.shadow = child_set(o, len, parent, self.vocab.len());
                        st.gathered = true;
                    }
                }
                match st.shadow.get(w as usize / 64) {
                    Some(bits) => (bits >> (w % 64)) & 1 == 1,
                    // Hashed lookup, as in scoring (the trie searches the siblings).
                    None => {
                        let words = &state.words;
                        o.extend(len, parent, &words[words.len() - len..], w)
                            .is_some()
                    }
                }
            };
            if !shadowed && w != BOS_ID && v > f32::NEG_INFINITY && !f(w, v) {
                return;
            }
            st.ties.pop();
            if st.ties.is_empty() {
                refill(st);
            }
        }
    }
}

/// Shadow checks a stream makes one lookup each before the words of the
/// context that shadows it may be gathered into a bit set (once the checks
/// are at least 1/16 of those words): a stream read deep (a flat context)
/// then pays one pass over those words instead of a random memory access per
/// candidate, and a short read (top-k) pays neither.
const SHADOW_SET_AFTER: u32 = 32;

/// The last words of the children of entry `parent` of order `len` as a bit
/// set over the vocabulary, words outside it left out (empty for a
/// vocabulary too large for a set to pay).
fn child_set(o: Orders<'_>, len: usize, parent: usize, vocab: usize) -> Vec<u64> {
    if vocab > 1 << 24 {
        return Vec::new();
    }
    let mut bits = vec![0u64; vocab.div_ceil(64)];
    let (s, e) = o.children(len - 1, parent);
    for j in s..e {
        let w = o.word(len, j) as usize;
        if let Some(b) = bits.get_mut(w / 64) {
            *b |= 1 << (w % 64);
        }
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Control;
    use crate::corpus::Corpus;
    use crate::count::{count_ngrams, CountOptions};
    use crate::lm::{fit, Smoothing};

    fn order_3() -> NGramModel {
        let corpus = Corpus::from_texts(vec!["a b c".to_string(), "b c a".to_string()]);
        let options = CountOptions {
            order: 3,
            pad: true,
            threads: 1,
            ..Default::default()
        };
        let counts = count_ngrams(&corpus, &options, &Control::new()).expect("counted");
        fit(&counts, &Smoothing::WittenBell).expect("fitted")
    }

    #[test]
    fn context_entry_gives_only_held_contexts_shorter_than_the_order() {
        let model = order_3();
        let ids: Vec<u32> = ["a", "b"]
            .iter()
            .map(|w| model.vocab.get(w).unwrap())
            .collect();
        let state = model.state_after(&ids, true);
        assert_eq!(state.words.len(), 2);
        assert_eq!(state.entries.len(), 2);
        assert_eq!(
            model.context_entry(&state, 1),
            Some(state.entries[0] as usize)
        );
        assert_eq!(
            model.context_entry(&state, 2),
            Some(state.entries[1] as usize)
        );
        // No context of length 0 (the unigrams have none).
        assert_eq!(model.context_entry(&state, 0), None);
        // Not longer than the state's words, even when it carries entries
        // (a state built by hand: its fields are public).
        let no_words = State {
            words: Vec::new(),
            ..state.clone()
        };
        assert_eq!(model.context_entry(&no_words, 1), None);
        // Not as long as the order: order 3 has no 3-word contexts.
        let mut longer = state.clone();
        longer.words.insert(0, ids[0]);
        longer.entries.push(0);
        assert_eq!(model.context_entry(&longer, 3), None);
    }

    #[test]
    fn too_few_precomputed_hashes_are_not_used() {
        // Bulk scoring passes hashes[len] for len = 0..=held; fewer than that
        // (here none, or one short) must be ignored, not indexed past.
        let model = order_3();
        let ids: Vec<u32> = ["a", "b", "c"]
            .iter()
            .map(|w| model.vocab.get(w).unwrap())
            .collect();
        let state = model.state_after(&ids[..2], true);
        let (mut expected, mut next) = (State::default(), State::default());
        let score = model.score_word(&state, ids[2], &mut expected);
        let held = state.backoff.len().min(2);
        assert_eq!(held, 2);
        for hashes in [&[][..], &[0u64; 2][..]] {
            let got = model.score_word_hashed(&state, ids[2], Some(hashes), &[], &mut next);
            assert_eq!((got, &next), (score, &expected), "{} hashes", hashes.len());
        }
    }
}

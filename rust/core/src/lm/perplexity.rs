//! Scoring whole corpora in parallel: perplexity as KenLM's `query` reports it,
//! and per-sentence scores (JSONL records: [`super::annotate`]).
//!
//! Each sentence is scored from `<s>` and its `</s>` counts as a token. An
//! out-of-vocabulary word is scored as `<unk>`; "excluding OOVs" leaves those
//! tokens and their log-probabilities out. Sums are kept in f64.

use super::model::{Lookup, NGramModel, Remainder, State};
use crate::control::Control;
use crate::corpus::{self, Corpus};
use crate::{Error, Result};

/// Totals of a scored corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evaluation {
    /// Sum of log10 probabilities of every token (OOVs included).
    pub logprob: f64,
    /// Sum of log10 probabilities of the OOV tokens.
    pub oov_logprob: f64,
    /// Sum of log10 probabilities of the in-vocabulary tokens (kept apart so
    /// "excluding OOVs" stays finite when an OOV scores -inf, as under MLE).
    pub iv_logprob: f64,
    /// Out-of-vocabulary tokens.
    pub oovs: u64,
    /// Tokens scored (words plus one `</s>` per sentence).
    pub tokens: u64,
    /// Sentences scored.
    pub sentences: u64,
}

impl Evaluation {
    /// Perplexity including OOVs: 10^(-logprob / tokens) (NaN without tokens).
    pub fn perplexity(&self) -> f64 {
        if self.tokens == 0 {
            return f64::NAN;
        }
        10f64.powf(-self.logprob / self.tokens as f64)
    }

    /// Perplexity excluding OOVs: KenLM's subtraction when it is finite (when
    /// an OOV scores -inf, as under MLE, the in-vocabulary sum); NaN when every
    /// token is an OOV.
    pub fn perplexity_excluding_oovs(&self) -> f64 {
        if self.tokens <= self.oovs {
            return f64::NAN;
        }
        let iv = if self.oov_logprob.is_finite() {
            self.logprob - self.oov_logprob
        } else {
            self.iv_logprob
        };
        10f64.powf(-iv / (self.tokens - self.oovs) as f64)
    }

    /// Add another evaluation into this one.
    pub fn add(&mut self, other: &Evaluation) {
        self.logprob += other.logprob;
        self.oov_logprob += other.oov_logprob;
        self.iv_logprob += other.iv_logprob;
        self.oovs += other.oovs;
        self.tokens += other.tokens;
        self.sentences += other.sentences;
    }
}

/// Tokens queued before a batch of sentences is scored (see
/// [`NGramModel::flush_batch`]): enough that each pass keeps many loads in
/// flight, few enough that the batch's lookups stay in the L2 cache.
const BATCH_TOKENS: usize = 384;
/// How many lookups ahead of the one it reads a pass starts loading: enough
/// to keep the core's outstanding misses busy, few enough that the loads do
/// not queue behind each other (16 measured best among 2 to 64 on the PTB
/// 5-gram; all at once, as before, was 6 % slower).
const PREFETCH_AHEAD: usize = 16;
/// [`PREFETCH_AHEAD`] for a table larger than [`FAR_TABLE`] bytes, whose
/// records come from memory rather than the last-level cache.
const PREFETCH_AHEAD_FAR: usize = 32;
/// See [`PREFETCH_AHEAD_FAR`].
const FAR_TABLE: usize = 64 << 20;

/// A sentence queued for scoring: its word hashes in `Scratch::words`, then
/// (once the batch is flushed) its tokens in `Scratch::ids`.
#[derive(Clone, Copy, Default)]
struct Queued {
    /// Its word hashes: `words[hashes.0..hashes.1]`.
    hashes: (usize, usize),
    bos: bool,
    eos: bool,
    /// Its tokens: `ids[start..end]`, `<s>` included, the scored ones from `first`.
    start: usize,
    first: usize,
    end: usize,
}

/// Buffers reused from batch to batch while scoring.
#[derive(Default)]
pub(crate) struct Scratch {
    queued: Vec<Queued>,
    ids: Vec<u32>,
    words: Vec<u64>,
    hashes: Vec<u64>,
    looked: Vec<Lookup>,
    /// Per token: the longest n-gram found so far (0: the unigram), or
    /// `NONE` when the token has no unigram (or is a sentence's `<s>`).
    top: Vec<u8>,
    /// Per token: [`NOT_FIRST`], or for the first token a sentence scores,
    /// how many context backoffs the state holds before it.
    lead: Vec<u8>,
    /// The trie searches of one pass.
    searches: Vec<TrieSearch>,
    /// The searches still open in a round of bisection; on the hash
    /// layouts, the tokens a pass looks up.
    open: Vec<u32>,
    /// The tokens a pass found (hash layouts).
    found: Vec<u32>,
    /// `values[j * n + len]`: the log10 probability and backoff of the
    /// n-gram `looked[j * n + len]` found, written for every n-gram found
    /// (what [`NGramModel::score_looked`] reads).
    values: Vec<[f32; 2]>,
    /// Per token: the running hash of it and the words before it that the
    /// passes so far looked up (hash layouts; see [`super::level::extend`]).
    running: Vec<u64>,
    /// Bigram searches of the trie layout resolved before (see
    /// [`BigramCache`]).
    bigrams: BigramCache,
    state: State,
    next: State,
}

/// The outcomes of recent bigram searches in a trie, by (context's unigram
/// entry, word): a direct-mapped table of [`BigramCache::SLOTS`] entries,
/// each `[entry, word, bigram entry or u32::MAX]`. A bigram search, among
/// all the children of a unigram, is the longest a token makes, and running
/// text repeats its bigrams: the table answers 38% of the bigram searches
/// of the PTB 5-gram on ptb.test and 30% of the Gutenberg 5-gram's on its
/// held-out lines. A pass fills it as its searches end, so it answers
/// the repeats of later batches. Filled for one model: a scratch's first
/// trie pass claims it (`owner`), and one for another model starts it afresh.
#[derive(Default)]
pub(crate) struct BigramCache {
    slots: Vec<[u32; 3]>,
    owner: usize,
    /// A pass's searches the table answered: (token, bigram entry or
    /// `u32::MAX`), recorded once the pass has chosen all its searches.
    hits: Vec<(u32, u32)>,
}

impl BigramCache {
    /// Entries in the table.
    const SLOTS: usize = 1 << 14;

    /// The cache for a pass of `tokens` tokens in `trie`, emptied unless it
    /// was filled for `trie`; none for a short batch in a fresh scratch (one
    /// sentence scored alone would pay more to clear the table than the
    /// table could save it).
    fn claim(&mut self, trie: &super::trie::Trie, tokens: usize) -> Option<&mut Self> {
        let owner = trie as *const _ as usize;
        if self.owner != owner || self.slots.len() != Self::SLOTS {
            if tokens < Self::SLOTS / 64 {
                return None;
            }
            self.slots.clear();
            self.slots.resize(Self::SLOTS, [u32::MAX; 3]);
            self.owner = owner;
        }
        self.hits.clear();
        Some(self)
    }

    /// The slot of (`parent`, `word`).
    #[inline(always)]
    fn slot(parent: u32, word: u32) -> usize {
        let key = (u64::from(parent) << 32) | u64::from(word);
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - 14)) as usize
    }

    /// The bigram entry (or `u32::MAX`: none) of `word` after the unigram
    /// entry `parent`, if the table holds it.
    #[inline(always)]
    fn get(&self, parent: u32, word: u32) -> Option<u32> {
        let [p, w, found] = self.slots[Self::slot(parent, word)];
        (p == parent && w == word).then_some(found)
    }

    /// Remember the outcome of a search.
    #[inline(always)]
    fn put(&mut self, parent: u32, word: u32, found: u32) {
        self.slots[Self::slot(parent, word)] = [parent, word, found];
    }
}

/// One search of a trie pass ([`NGramModel::search_trie_pass`]): the token
/// whose n-gram it looks for, the entries left to search, and the entry found
/// (`u32::MAX`: none, yet or at all). A trie order's entries are counted in
/// `u32`s (its child pointers are).
#[derive(Clone, Copy)]
pub(crate) struct TrieSearch {
    token: u32,
    lo: u32,
    hi: u32,
    found: u32,
}

impl Default for TrieSearch {
    fn default() -> Self {
        Self {
            token: 0,
            lo: 0,
            hi: 0,
            found: u32::MAX,
        }
    }
}

/// `top` of a token with no unigram.
const NONE: u8 = u8::MAX;
/// `lead` of a token that does not begin its sentence.
const NOT_FIRST: u8 = u8::MAX;

impl Scratch {
    /// Tokens queued so far.
    fn queued_tokens(&self) -> usize {
        self.words.len() + 2 * self.queued.len()
    }
}

impl NGramModel {
    /// Score one sentence of text into an evaluation (a batch of one; see
    /// [`NGramModel::queue_sentence`] for the bulk path).
    pub(crate) fn evaluate_sentence(
        &self,
        text: &str,
        bos: bool,
        eos: bool,
        scratch: &mut Scratch,
    ) -> Evaluation {
        debug_assert!(scratch.queued.is_empty());
        self.queue_sentence(text, bos, eos, scratch);
        let mut out = Evaluation::default();
        self.flush_batch(scratch, |e, _| out = *e);
        out
    }

    /// Queue one sentence of text for [`NGramModel::flush_batch`]: its words
    /// are hashed now and their vocabulary slots prefetched.
    pub(crate) fn queue_sentence(&self, text: &str, bos: bool, eos: bool, scratch: &mut Scratch) {
        let index = self.word_index();
        let words = &mut scratch.words;
        let begin = words.len();
        self.vocab.tokenizer().for_each_token(text, |t| {
            let h = super::word_index::WordIndex::hash(t);
            index.prefetch(h);
            words.push(h);
        });
        scratch.queued.push(Queued {
            hashes: (begin, words.len()),
            bos,
            eos,
            ..Default::default()
        });
    }

    /// [`NGramModel::queue_sentence`], then score the batch once it holds
    /// [`BATCH_TOKENS`] (the bulk loops' step; they flush the rest at the end).
    fn queue_in_batch(
        &self,
        text: &str,
        bos: bool,
        eos: bool,
        scratch: &mut Scratch,
        out: impl FnMut(&Evaluation, bool),
    ) {
        self.queue_sentence(text, bos, eos, scratch);
        if scratch.queued_tokens() >= BATCH_TOKENS {
            self.flush_batch(scratch, out);
        }
    }

    /// Score every queued sentence, in order, handing each one's evaluation
    /// and its `eos` to `out`; the queue is then empty.
    ///
    /// Scoring is bound by memory latency: each token reads a vocabulary slot
    /// and one entry per order, at random over the model. So the batch goes
    /// in passes, each starting every load of the next one before any is
    /// needed (KenLM's `query` reads them one after the other): the words'
    /// vocabulary slots were prefetched when queued; read the ids; then look
    /// up every n-gram the scoring will ask for, order by order over the whole
    /// batch ([`NGramModel::look_up_by_order`]); then score, with the lookups
    /// already made (for a model that backs off to lower orders, straight
    /// from them: [`NGramModel::score_looked`]). A batch of several sentences
    /// keeps more loads in flight than one sentence would.
    pub(crate) fn flush_batch(
        &self,
        scratch: &mut Scratch,
        mut out: impl FnMut(&Evaluation, bool),
    ) {
        let index = self.word_index();
        let n = self.order();
        let ahead = n > 1;
        // Scored straight from the lookups (see `score_looked`), or stepping
        // through states.
        let lean = match self.remainder {
            Remainder::LowerOrder { unseen_context } if ahead => Some(unseen_context),
            _ => None,
        };
        let unigrams = lean.map(|_| self.unigram_values());
        let eos_id = self.scoring_id(crate::tokenize::EOS_ID);
        scratch.ids.clear();
        for q in scratch.queued.iter_mut() {
            let ids = &mut scratch.ids;
            q.start = ids.len();
            if q.bos {
                ids.push(crate::tokenize::BOS_ID);
            }
            q.first = ids.len();
            ids.extend(scratch.words[q.hashes.0..q.hashes.1].iter().map(|&h| {
                let id = index.id(h);
                // Scoring reads the token's unigram entry (and, in the trie,
                // searches its children) and, straight from the lookups, its
                // unigram's values: start those loads now.
                self.prefetch_unigram(id);
                if let Some(unigrams) = unigrams {
                    super::level::prefetch(unigrams, id as usize);
                }
                id
            }));
            if q.eos {
                ids.push(eos_id);
            }
            q.end = ids.len();
        }
        // Ids are already what scoring uses (`scoring_id`), so the n-gram
        // lookups below are the ones `score_word` would make.
        if ahead {
            self.look_up_by_order(scratch, lean.is_none());
        }
        match lean {
            Some(unseen_context) => self.score_looked(scratch, unseen_context, &mut out),
            None => self.score_stepping(scratch, ahead, &mut out),
        }
        scratch.queued.clear();
        scratch.words.clear();
    }

    /// Score the queued sentences word by word through [`State`]s (what
    /// [`NGramModel::score_word_hashed`] does for one word), with the
    /// lookups made ahead when `ahead`.
    fn score_stepping(
        &self,
        scratch: &mut Scratch,
        ahead: bool,
        out: &mut impl FnMut(&Evaluation, bool),
    ) {
        let n = self.order();
        let Scratch {
            queued,
            ids,
            hashes,
            looked,
            state,
            next,
            ..
        } = scratch;
        for q in queued.iter() {
            *state = self.begin_state(q.bos);
            let mut e = Evaluation {
                sentences: 1,
                ..Default::default()
            };
            // Like KenLM's query: a sentence is summed in f32, the corpus in f64.
            let mut sentence = 0f32;
            for j in q.first..q.end {
                let (h, l) = if ahead {
                    let at = j * n..(j + 1) * n;
                    (Some(&hashes[at.clone()]), &looked[at])
                } else {
                    (None, &[][..])
                };
                let s = self.score_word_hashed(state, ids[j], h, l, next);
                std::mem::swap(state, next);
                sentence += s.logprob;
                e.tokens += 1;
                if s.oov {
                    e.oovs += 1;
                    e.oov_logprob += s.logprob as f64;
                } else {
                    e.iv_logprob += s.logprob as f64;
                }
            }
            e.logprob = sentence as f64;
            out(&e, q.eos);
        }
    }

    /// Score the queued sentences from the lookups [`NGramModel::look_up_by_order`]
    /// made (a model that backs off to lower orders): the same sums, in the
    /// same order, as [`NGramModel::score_word_hashed`] makes word by word,
    /// without building a state per word.
    ///
    /// Token `j` scores the probability of its longest match (`top[j]`: the
    /// unigram, or the lookup of that length) plus the backoff of every
    /// context longer than the match, up to the `n - 1` words before it.
    /// Those backoffs are the ones the token before pushed into its state:
    /// its unigram's, then its matches' up to length `n - 1`; a context it
    /// did not match charges `unseen_context`.
    fn score_looked(
        &self,
        scratch: &mut Scratch,
        unseen_context: f32,
        out: &mut impl FnMut(&Evaluation, bool),
    ) {
        let n = self.order();
        let unigrams = self.unigram_values();
        let Scratch {
            queued,
            ids,
            values,
            top,
            ..
        } = scratch;
        // The backoff the state holds before `<s>`'s first word.
        let bos = self
            .unigram_entry(crate::tokenize::BOS_ID)
            .map(|_| unigrams[crate::tokenize::BOS_ID as usize][1]);
        for q in queued.iter() {
            // The backoffs the state holds before token `j`: how many, and
            // the unigram's.
            let (mut held, mut held_unigram) = match (q.bos, bos) {
                (true, Some(b)) => (1, b),
                _ => (0, 0.0),
            };
            let mut e = Evaluation {
                sentences: 1,
                ..Default::default()
            };
            let mut sentence = 0f32;
            for j in q.first..q.end {
                let word = ids[j];
                let [unigram_prob, unigram_backoff] = unigrams
                    .get(word as usize)
                    .copied()
                    .unwrap_or([f32::NEG_INFINITY, 0.0]);
                // Ids are scoring ids: only `<unk>`'s can lack a unigram, and
                // then `top[j]` is `NONE`.
                let context_len = (j - q.start).min(n - 1);
                let (mut logprob, matched) = match top[j] {
                    0 => (unigram_prob, 1),
                    NONE => (f32::NEG_INFINITY, 0),
                    t => (values[j * n + t as usize][0], t as usize + 1),
                };
                for k in matched.saturating_sub(1)..context_len {
                    logprob += if k >= held {
                        unseen_context
                    } else if k == 0 {
                        held_unigram
                    } else {
                        values[(j - 1) * n + k][1]
                    };
                }
                if matched == 0 {
                    logprob = f32::NEG_INFINITY;
                }
                // What this token leaves in the state for the next one.
                (held, held_unigram) = (matched.min(n - 1), unigram_backoff);
                sentence += logprob;
                e.tokens += 1;
                if word == crate::tokenize::UNK_ID || matched == 0 {
                    e.oovs += 1;
                    e.oov_logprob += logprob as f64;
                } else {
                    e.iv_logprob += logprob as f64;
                }
            }
            e.logprob = sentence as f64;
            out(&e, q.eos);
        }
    }

    /// The lookups scoring the queued sentences will make, made ahead, order
    /// by order: `looked[j * n + len]` is the lookup of token `j` after the
    /// `len` before it (and, on the hash layouts, `hashes[j * n + len]` its
    /// hash).
    ///
    /// Scoring token `j` looks up its n-grams of length 2, 3, ... while the
    /// shorter one was found and its context was (the state holds the
    /// context's backoff, that is, token `j - 1` matched that long), and stops
    /// at the first miss (suffix closure). Those conditions, for length
    /// `len + 1`, are known once every lookup of length `len` is: so each pass
    /// makes the lookups of one length for the whole batch, their memory
    /// waits overlapping, and loads nothing scoring would not read. Scoring
    /// then reads the outcomes (see [`NGramModel::score_word_hashed`]), the
    /// same as its own lookups.
    ///
    /// On the hash layouts a lookup is a probe of the order's table by the
    /// n-gram's hash, started [`PREFETCH_AHEAD`] lookups before it is read.
    /// A pass lists only the tokens it looks up: the first one, every token
    /// with a unigram and a context held; each next one, the tokens whose
    /// lookup and whose predecessor's lookup the pass before found. Each
    /// token's hash grows by one word per pass ([`super::level::extend`]).
    /// In the trie the n-gram of length `len + 1` ending at
    /// token `j` is a child of the one of length `len` ending at token `j - 1`,
    /// found by the previous pass: each pass searches among the siblings of
    /// every token at once, one bisection step of each search at a time, so
    /// that those loads overlap too.
    ///
    /// `stepping`: scoring will step through states, which make the lookups
    /// left [`Lookup::Pending`] themselves; otherwise ([`NGramModel::score_looked`])
    /// only the lookups made are read, and `looked` and `hashes` are not
    /// cleared first.
    fn look_up_by_order(&self, scratch: &mut Scratch, stepping: bool) {
        let Scratch {
            queued,
            ids,
            hashes,
            looked,
            top,
            lead,
            searches,
            open,
            found,
            running,
            values,
            bigrams,
            ..
        } = scratch;
        let n = self.order();
        let m = ids.len();
        let trie = self.trie.as_ref().filter(|t| !t.hashed);
        if stepping {
            hashes.clear();
            looked.clear();
        }
        if hashes.len() < m * n {
            hashes.resize(m * n, 0);
            looked.resize(m * n, Lookup::Pending);
            values.resize(m * n, [0.0; 2]);
        }
        top.clear();
        top.resize(m, NONE);
        lead.clear();
        lead.resize(m, NOT_FIRST);
        let unk = self.unigram_entry(crate::tokenize::UNK_ID).is_some();
        // The context backoffs the state holds before a sentence's first token.
        let bos_held = u8::from(self.unigram_entry(crate::tokenize::BOS_ID).is_some());
        for q in queued.iter() {
            if q.first < q.end {
                lead[q.first] = if q.bos { bos_held } else { 0 };
            }
            for j in q.first..q.end {
                // Ids are already what scoring uses (`scoring_id`): any but
                // `<unk>`'s has a unigram, and one without is `<unk>`'s, scored
                // as `score_word_hashed` does.
                debug_assert!(
                    ids[j] == crate::tokenize::UNK_ID || self.unigram_entry(ids[j]).is_some()
                );
                if ids[j] != crate::tokenize::UNK_ID || unk {
                    top[j] = 0;
                }
            }
        }
        // Whether scoring token `j` looks up its n-gram of length `len + 1`.
        let wanted = |top: &[u8], j: usize, len: usize| {
            if top[j] as usize != len - 1 {
                return false;
            }
            let held = match lead[j] {
                NOT_FIRST if top[j - 1] == NONE => 0,
                NOT_FIRST => top[j - 1] as usize + 1,
                start => start as usize,
            };
            held >= len
        };
        if let Some(trie) = trie {
            for len in 1..n {
                let cache = if len == 1 {
                    bigrams.claim(trie, m)
                } else {
                    None
                };
                self.search_trie_pass(
                    trie,
                    len,
                    ids,
                    (looked, values),
                    top,
                    (searches, cache),
                    open,
                    &wanted,
                );
            }
            return;
        }
        // The hash layouts: each token's running hash starts at the token.
        running.clear();
        running.extend(ids.iter().map(|&w| super::level::start(w)));
        // The tokens of the first pass, last first.
        open.clear();
        open.reserve(m);
        for j in (0..m).rev() {
            if wanted(top, j, 1) {
                open.push(j as u32);
            }
        }
        for len in 1..n {
            // Each token's hash of its n-gram of length `len + 1`.
            for &j in open.iter() {
                let j = j as usize;
                running[j] = super::level::extend(running[j], ids[j - len]);
                hashes[j * n + len] = super::level::finish(running[j], len + 1);
            }
            let pass = Pass {
                n,
                len,
                open,
                hashes,
                stepping,
            };
            found.clear();
            let out = Outcomes {
                top,
                found,
                values,
                looked,
            };
            match &self.trie {
                Some(t) => {
                    let table = t.levels.get(len).and_then(|l| l.slots.as_ref());
                    pass.run(table.map(|t| t.view()), out);
                }
                None => pass.run(self.levels.get(len), out),
            }
            // The next pass looks up token `j` when this one found both it
            // and the token before it in its sentence (whose match is then
            // long enough to hold the context's backoff).
            open.clear();
            for w in found.windows(2) {
                if w[1] + 1 == w[0] && lead[w[0] as usize] == NOT_FIRST {
                    open.push(w[0]);
                }
            }
        }
    }

    /// One pass of [`NGramModel::look_up_by_order`] in a trie: every wanted
    /// n-gram of length `len + 1`, searched among the children of its context
    /// (the n-gram of length `len` ending at the token before), the searches
    /// interleaved step by step. A found entry's lookup holds it as a slot of
    /// the hash layout would: `[_, entry, probability bits, backoff bits, _]`.
    #[allow(clippy::too_many_arguments)]
    fn search_trie_pass(
        &self,
        trie: &super::trie::Trie,
        len: usize,
        ids: &[u32],
        (looked, values): (&mut [Lookup], &mut [[f32; 2]]),
        top: &mut [u8],
        (searches, mut cache): (&mut Vec<TrieSearch>, Option<&mut BigramCache>),
        open: &mut Vec<u32>,
        wanted: &impl Fn(&[u8], usize, usize) -> bool,
    ) {
        use super::trie::Search;
        let n = self.order();
        // The context's entry in order `len` (index `len - 1`).
        let parent = |looked: &[Lookup], j: usize| -> usize {
            if len == 1 {
                self.unigram_entry(ids[j - 1]).unwrap_or(usize::MAX)
            } else {
                match looked[(j - 1) * n + len - 1] {
                    Lookup::Found(slot) => slot[1] as usize,
                    _ => usize::MAX,
                }
            }
        };
        let ranges = trie.child_ranges(len - 1);
        // Child ranges are clamped to the order's size, so every entry a
        // search reads is one of it.
        let words = trie.levels[len].words.view();
        // Start loading a found entry's probability and backoff (scoring
        // reads them).
        let (probs, backoffs) = {
            let l = &trie.levels[len];
            (l.probs.packed_view(), l.backoffs.packed_view())
        };
        let prefetch_values = |e: usize| {
            if let Some(p) = probs {
                p.prefetch(e);
            }
            if let Some(b) = backoffs {
                b.prefetch(e);
            }
        };
        // The searches to make; the ones the cache answers are done at once.
        searches.clear();
        for j in 0..ids.len() {
            if wanted(top, j, len) {
                let p = parent(looked, j);
                if let Some(cache) = cache.as_deref_mut() {
                    if let Some(found) = cache.get(p as u32, ids[j]) {
                        if found != u32::MAX {
                            prefetch_values(found as usize);
                        }
                        cache.hits.push((j as u32, found));
                        continue;
                    }
                }
                ranges.prefetch(p);
                searches.push(TrieSearch {
                    token: j as u32,
                    ..TrieSearch::default()
                });
            }
        }
        for s in searches.iter_mut() {
            let (lo, hi) = ranges.range(parent(looked, s.token as usize));
            trie.prefetch_range(len, (lo, hi));
            (s.lo, s.hi) = (lo as u32, hi as u32);
        }
        // The first step (an interpolated guess in a long range), then
        // bisection, one step of every open search per round (the ones still
        // open listed in `open`, in any order).
        open.clear();
        for (i, s) in searches.iter_mut().enumerate() {
            let range = (s.lo as usize, s.hi as usize);
            match super::trie::search_start(words, range, ids[s.token as usize]) {
                Some(Search::Found(e)) => {
                    s.found = e as u32;
                    prefetch_values(e);
                }
                Some(Search::Within(lo, hi)) if lo < hi => {
                    words.prefetch(lo + (hi - lo) / 2);
                    (s.lo, s.hi) = (lo as u32, hi as u32);
                    open.push(i as u32);
                }
                _ => {}
            }
        }
        while !open.is_empty() {
            let mut k = 0;
            while k < open.len() {
                let s = &mut searches[open[k] as usize];
                // Open searches have `lo < hi`.
                let (lo, hi) = (s.lo as usize, s.hi as usize);
                let word = ids[s.token as usize];
                let mid = lo + (hi - lo) / 2;
                let w = words.get(mid) as u32;
                if w == word {
                    s.found = mid as u32;
                    prefetch_values(mid);
                    open.swap_remove(k);
                    continue;
                }
                let (lo, hi) = if w < word { (mid + 1, hi) } else { (lo, mid) };
                if lo >= hi {
                    open.swap_remove(k);
                    continue;
                }
                words.prefetch(lo + (hi - lo) / 2);
                (s.lo, s.hi) = (lo as u32, hi as u32);
                k += 1;
            }
        }
        for s in searches.iter() {
            let j = s.token as usize;
            if let Some(cache) = cache.as_deref_mut() {
                cache.put(parent(looked, j) as u32, ids[j], s.found);
            }
            self.record_trie_search(trie, len, j, s.found, (looked, values), top);
        }
        if let Some(cache) = cache {
            for &(j, found) in cache.hits.iter() {
                self.record_trie_search(trie, len, j as usize, found, (looked, values), top);
            }
        }
    }

    /// Record the outcome of token `j`'s search in order `len` of `trie`
    /// (the entry found, or `u32::MAX`): its lookup, its values, its longest
    /// n-gram found.
    #[inline(always)]
    fn record_trie_search(
        &self,
        trie: &super::trie::Trie,
        len: usize,
        j: usize,
        found: u32,
        (looked, values): (&mut [Lookup], &mut [[f32; 2]]),
        top: &mut [u8],
    ) {
        let n = self.order();
        looked[j * n + len] = if found == u32::MAX {
            Lookup::Missing
        } else {
            let level = &trie.levels[len];
            let e = found as usize;
            top[j] = len as u8;
            let backoff = if len + 1 < n {
                level.backoffs.get(e)
            } else {
                0.0
            };
            let prob = level.probs.get(e);
            values[j * n + len] = [prob, backoff];
            Lookup::Found([0, found, prob.to_bits(), backoff.to_bits(), 0])
        };
    }

    /// Before bulk scoring: the hash indexes the scoring probes go onto huge
    /// pages (once per model; see [`super::level::Level::warm`]).
    fn warm_for_scoring(&self) {
        for level in self.levels.iter().skip(1) {
            level.warm();
        }
        let tables = self.trie.iter().flat_map(|t| &t.levels);
        for table in tables.filter_map(|l| l.slots.as_ref()) {
            table.warm();
        }
    }

    /// log10 probability of one sentence of text, and its evaluation.
    pub fn score_text(&self, text: &str, bos: bool, eos: bool) -> Evaluation {
        self.evaluate_sentence(text, bos, eos, &mut Scratch::default())
    }

    /// Evaluate a corpus in parallel ([`Error::EmptyCorpus`] when it has no token).
    pub fn evaluate(
        &self,
        corpus: &Corpus,
        control: &Control,
        threads: usize,
    ) -> Result<Evaluation> {
        self.warm_for_scoring();
        type Local = (Evaluation, corpus::CorpusStats, Scratch);
        let parts = corpus::process(
            corpus,
            control,
            threads,
            Local::default,
            |(total, stats, scratch): &mut Local, chunk| {
                let before = total.tokens;
                // A file's last line without a newline is scored without
                // `</s>`, as KenLM's `query` does; one without a word is not
                // a sentence.
                let mut add = |e: &Evaluation, ended: bool| {
                    if ended || e.tokens > 0 {
                        total.add(e);
                    }
                };
                chunk.for_each_sentence_ended(&corpus.options, stats, |text, ended| {
                    self.queue_in_batch(text, true, ended, scratch, &mut add);
                })?;
                self.flush_batch(scratch, &mut add);
                control.add_tokens(total.tokens - before);
                Ok(())
            },
        )?;
        let mut total = Evaluation::default();
        for (e, ..) in parts {
            total.add(&e);
        }
        if total.tokens == 0 {
            return Err(Error::EmptyCorpus("no tokens to score".into()));
        }
        Ok(total)
    }

    /// The evaluation of every sentence of a corpus, in corpus order.
    pub fn score_corpus(
        &self,
        corpus: &Corpus,
        bos: bool,
        eos: bool,
        control: &Control,
        threads: usize,
    ) -> Result<Vec<Evaluation>> {
        self.warm_for_scoring();
        type Piece = ((usize, u32), Vec<Evaluation>);
        let parts = corpus::process(
            corpus,
            control,
            threads,
            || {
                (
                    Vec::<Piece>::new(),
                    corpus::CorpusStats::default(),
                    Scratch::default(),
                )
            },
            |(out, stats, scratch), chunk| {
                let mut scores = Vec::new();
                let mut add = |e: &Evaluation, _| scores.push(*e);
                chunk.for_each_sentence(&corpus.options, stats, |text| {
                    self.queue_in_batch(text, bos, eos, scratch, &mut add);
                })?;
                self.flush_batch(scratch, &mut add);
                control.add_tokens(scores.iter().map(|e| e.tokens).sum());
                out.push((chunk.seq, scores));
                Ok(())
            },
        )?;
        let mut pieces: Vec<Piece> = parts.into_iter().flat_map(|(p, ..)| p).collect();
        pieces.sort_by_key(|p| p.0);
        Ok(pieces.into_iter().flat_map(|p| p.1).collect())
    }
}

/// One order's lookups as a pass of [`NGramModel::look_up_by_order`] makes
/// them on the hash layouts, resolved once per pass.
trait Probe {
    /// Start loading what a lookup of `hash` reads first.
    fn prefetch(&self, hash: u64);
    /// The slot of the n-gram with `hash` (values in `[2]` and `[3]`).
    fn find(&self, hash: u64) -> Option<super::level::Slot>;
    /// Bytes of the table probed.
    fn bytes(&self) -> usize;
}

impl Probe for super::slots::SlotView<'_> {
    #[inline(always)]
    fn prefetch(&self, hash: u64) {
        super::slots::SlotView::prefetch(self, hash)
    }
    #[inline(always)]
    fn find(&self, hash: u64) -> Option<super::level::Slot> {
        super::slots::SlotView::find(self, hash).map(|(p, b)| [0, u32::MAX, p, b, 0])
    }
    fn bytes(&self) -> usize {
        self.size()
    }
}

impl Probe for &super::level::Level {
    #[inline(always)]
    fn prefetch(&self, hash: u64) {
        super::level::Level::prefetch(self, hash)
    }
    #[inline(always)]
    fn find(&self, hash: u64) -> Option<super::level::Slot> {
        self.find_trusted(hash)
    }
    fn bytes(&self) -> usize {
        std::mem::size_of_val(self.index())
    }
}

/// An order the model lacks finds nothing.
impl<P: Probe> Probe for Option<P> {
    #[inline(always)]
    fn prefetch(&self, hash: u64) {
        if let Some(p) = self {
            p.prefetch(hash)
        }
    }
    #[inline(always)]
    fn find(&self, hash: u64) -> Option<super::level::Slot> {
        self.as_ref()?.find(hash)
    }
    fn bytes(&self) -> usize {
        self.as_ref().map_or(0, P::bytes)
    }
}

/// The lookups of n-grams of length `len + 1` of the tokens `open`, whose
/// hashes are `hashes[j * n + len]`.
struct Pass<'a> {
    n: usize,
    len: usize,
    open: &'a [u32],
    hashes: &'a [u64],
    /// Whether to record every outcome in `looked` (see `look_up_by_order`).
    stepping: bool,
}

/// Where a [`Pass`] writes its outcomes (the [`Scratch`] fields of those names).
struct Outcomes<'a> {
    top: &'a mut [u8],
    found: &'a mut Vec<u32>,
    values: &'a mut [[f32; 2]],
    looked: &'a mut [Lookup],
}

impl Pass<'_> {
    /// Make the lookups, each started [`PREFETCH_AHEAD`] lookups (or
    /// [`PREFETCH_AHEAD_FAR`]) before it is
    /// read: a token found gets `top[j] = len`, its values, and goes into
    /// `found` (in the order of `open`).
    #[inline(always)]
    fn run(&self, probe: impl Probe, out: Outcomes<'_>) {
        let (n, len, open, hashes) = (self.n, self.len, self.open, self.hashes);
        let ahead = if probe.bytes() > FAR_TABLE {
            PREFETCH_AHEAD_FAR
        } else {
            PREFETCH_AHEAD
        };
        let Outcomes {
            top,
            found,
            values,
            looked,
        } = out;
        for &j in open.iter().take(ahead) {
            probe.prefetch(hashes[j as usize * n + len]);
        }
        for i in 0..open.len() {
            if let Some(&a) = open.get(i + ahead) {
                probe.prefetch(hashes[a as usize * n + len]);
            }
            let j = open[i] as usize;
            let at = j * n + len;
            match probe.find(hashes[at]) {
                Some(slot) => {
                    top[j] = len as u8;
                    found.push(j as u32);
                    values[at] = [f32::from_bits(slot[2]), f32::from_bits(slot[3])];
                    if self.stepping {
                        looked[at] = Lookup::Found(slot);
                    }
                }
                None if self.stepping => looked[at] = Lookup::Missing,
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lm::kneser_ney::KneserNeyOptions;
    use crate::lm::trie::tests::model_with as model;
    use crate::lm::{binary, Layout, Smoothing};

    /// `count` sentences of 0-29 words drawn from `seed`, some of them words
    /// the test models lack (`unseen`, `<unk>`).
    fn sentences(mut seed: u64, count: usize) -> Vec<String> {
        let words = [
            "the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "zebra",
        ];
        (0..count)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let len = (seed >> 59) as usize % 30;
                (0..len)
                    .map(|k| match (seed >> (k % 50)) % 12 {
                        10 => "unseen",
                        11 => "<unk>",
                        w => words[w as usize],
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// Bulk scoring (lookups made ahead, scored straight from them when the
    /// model backs off to lower orders) sums exactly what scoring word by
    /// word through states sums, for every estimator, order and layout, with
    /// and without `<s>` and `</s>`, words the model lacks included.
    #[test]
    fn bulk_scores_are_the_word_by_word_scores() {
        use crate::lm::trie::tests::through_file;
        use crate::tokenize::UNK_ID;
        let texts = sentences(11, 150);
        let smoothings = [
            Smoothing::KneserNey(KneserNeyOptions::default()),
            Smoothing::StupidBackoff(0.4),
            Smoothing::WittenBell,
            Smoothing::Mle,
            Smoothing::AddK(0.5),
        ];
        let mut compared = 0;
        for order in [1, 2, 3, 5] {
            for smoothing in &smoothings {
                let m = model(order, smoothing.clone());
                let models = [
                    through_file(&m, Layout::Hash),
                    through_file(&m, Layout::Trie { quantize: None }),
                    through_file(&m, Layout::Trie { quantize: Some(8) }),
                    m,
                ];
                for model in &models {
                    for (bos, eos) in [(true, true), (true, false), (false, true)] {
                        for text in &texts {
                            let bulk = model.score_text(text, bos, eos);
                            let ids: Vec<u32> = text
                                .split_whitespace()
                                .map(|w| model.vocab.get(w).unwrap_or(UNK_ID))
                                .collect();
                            let steps = model.score_ids(&ids, bos, eos);
                            let sum = steps.iter().fold(0f32, |a, s| a + s.logprob);
                            let oovs = steps.iter().filter(|s| s.oov).count() as u64;
                            let what = format!("order {order} {smoothing:?} {bos}/{eos}: {text:?}");
                            assert_eq!(bulk.logprob.to_bits(), (sum as f64).to_bits(), "{what}");
                            assert_eq!(
                                (bulk.tokens, bulk.oovs),
                                (steps.len() as u64, oovs),
                                "{what}"
                            );
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 4 * 5 * 4 * 3 * 150);
    }

    /// The bigram cache answers repeated bigram searches of a long batch in
    /// a trie, and what it answers is what the searches find.
    #[test]
    fn the_bigram_cache_answers_repeats_exactly() {
        use super::{BigramCache, Scratch};
        let dir = tempfile::tempdir().unwrap();
        let texts = sentences(5, 200);
        let m = model(3, Smoothing::KneserNey(KneserNeyOptions::default()));
        let path = dir.path().join("m.nwlm");
        binary::save_layout(&m, &path, Layout::Trie { quantize: None }).unwrap();
        let model = binary::load(&path, true).unwrap();
        // Batches of 50 sentences: the table is filled as each batch's
        // searches end, and answers the next batches' repeats.
        let mut scratch = Scratch::default();
        let mut got = Vec::new();
        for batch in texts.chunks(50) {
            for text in batch {
                model.queue_sentence(text, true, true, &mut scratch);
            }
            assert!(scratch.queued_tokens() >= BigramCache::SLOTS / 64);
            model.flush_batch(&mut scratch, |e, _| got.push(*e));
        }
        // Ten words make few bigrams: the last batch's were nearly all answered.
        let hits = scratch.bigrams.hits.len();
        assert!(hits > 300, "{hits}");
        let alone: Vec<_> = texts
            .iter()
            .map(|t| model.score_text(t, true, true))
            .collect();
        assert_eq!(got, alone);
        // A single sentence in a fresh scratch does not set the table up.
        let mut fresh = Scratch::default();
        model.queue_sentence(&texts[0], true, true, &mut fresh);
        model.flush_batch(&mut fresh, |_, _| {});
        assert!(fresh.bigrams.slots.is_empty());
    }

    /// Scoring a corpus in batches of many sentences gives, sentence by
    /// sentence, exactly what scoring each sentence alone gives, on every
    /// layout: no lookup crosses a sentence's start, batches end anywhere.
    #[test]
    fn batches_of_sentences_score_as_single_sentences() {
        use crate::control::Control;
        use crate::corpus::Corpus;
        let dir = tempfile::tempdir().unwrap();
        let texts = sentences(7, 400);
        for order in [2, 3, 5] {
            let m = model(order, Smoothing::KneserNey(KneserNeyOptions::default()));
            let path = dir.path().join("m.nwlm");
            let mut models = vec![m.clone()];
            binary::save_layout(&m, &path, Layout::Hash).unwrap();
            models.push(binary::load(&path, true).unwrap());
            binary::save_layout(&m, &path, Layout::Trie { quantize: None }).unwrap();
            models.push(binary::load(&path, true).unwrap());
            for model in &models {
                let corpus = Corpus::from_texts(texts.clone());
                let got = model
                    .score_corpus(&corpus, true, true, &Control::new(), 1)
                    .unwrap();
                let non_blank: Vec<&String> =
                    texts.iter().filter(|t| !t.trim().is_empty()).collect();
                assert_eq!(got.len(), non_blank.len());
                let mut total = super::Evaluation::default();
                for (e, text) in got.iter().zip(&non_blank) {
                    let alone = model.score_text(text, true, true);
                    assert_eq!(e, &alone, "order {order}: {text:?}");
                    total.add(&alone);
                }
                let all = model.evaluate(&corpus, &Control::new(), 1).unwrap();
                assert_eq!(all, total, "order {order}");
            }
        }
    }

    /// The batched sentence scorer (word index, n-gram hashes a sentence
    /// ahead) gives exactly what scoring token by token gives.
    #[test]
    fn sentence_scoring_matches_token_by_token() {
        let dir = tempfile::tempdir().unwrap();
        let sentences = [
            "the cat sat on a mat",
            "dog ran far far away the zebra",
            "",
            "<s> the </s> cat <unk> mat",
            "far far far far far far far far far far",
            "unknown words only here",
        ];
        for order in 1..=5 {
            for smoothing in [
                Smoothing::KneserNey(KneserNeyOptions::default()),
                Smoothing::StupidBackoff(0.4),
                Smoothing::AddK(0.5),
            ] {
                let m = model(order, smoothing.clone());
                let path = dir.path().join("m.nwlm");
                let mut models = vec![m.clone()];
                binary::save_layout(&m, &path, Layout::Hash).unwrap();
                models.push(binary::load(&path, true).unwrap());
                if let Ok(()) = binary::save_layout(&m, &path, Layout::Trie { quantize: None }) {
                    models.push(binary::load(&path, true).unwrap());
                }
                for model in &models {
                    // And again with the hash indexes copied for bulk scoring.
                    for text in sentences.iter().chain(&sentences) {
                        if std::ptr::eq(text, &sentences[sentences.len() - 1]) {
                            model.warm_for_scoring();
                        }
                        for (bos, eos) in
                            [(true, true), (false, true), (true, false), (false, false)]
                        {
                            let ids: Vec<u32> =
                                text.split_whitespace().map(|t| model.vocab.id(t)).collect();
                            let tokens = model.score_ids(&ids, bos, eos);
                            let e = model.score_text(text, bos, eos);
                            let sum = tokens.iter().fold(0f32, |a, t| a + t.logprob);
                            assert_eq!(
                                e.logprob.to_bits(),
                                (sum as f64).to_bits(),
                                "{text:?} order {order} {smoothing:?} trie {:?} {bos} {eos}",
                                model.trie.as_ref().map(|t| t.hashed)
                            );
                            assert_eq!(e.tokens, tokens.len() as u64);
                            assert_eq!(e.oovs, tokens.iter().filter(|t| t.oov).count() as u64);
                        }
                    }
                }
            }
        }
    }
}

//! Scoring whole corpora in parallel: perplexity as KenLM's `query` reports it,
//! and per-sentence scores (JSONL records: [`super::annotate`]).
//!
//! Each sentence is scored from `<s>` and its `</s>` counts as a token. An
//! out-of-vocabulary word is scored as `<unk>`; "excluding OOVs" leaves those
//! tokens and their log-probabilities out. Sums are kept in f64.

use super::model::{Lookup, NGramModel, State};
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

/// Buffers reused from sentence to sentence while scoring.
#[derive(Default)]
pub(crate) struct Scratch {
    ids: Vec<u32>,
    words: Vec<u64>,
    hashes: Vec<u64>,
    looked: Vec<Lookup>,
    /// Per token: the longest n-gram found so far (0: the unigram), or
    /// `NONE` when the token has no unigram.
    top: Vec<u8>,
    state: State,
    next: State,
}

impl NGramModel {
    /// Score one sentence of text into an evaluation (the one loop that both
    /// [`NGramModel::score_text`] and [`NGramModel::evaluate`] run).
    ///
    /// Scoring is bound by memory latency: each token reads a vocabulary slot
    /// and one hash slot per order, at random over the model. So the sentence
    /// goes in passes, each starting every load of the next one before any is
    /// needed (KenLM's `query` reads them one after the other): hash the
    /// tokens and prefetch their vocabulary slots; read the ids; hash every
    /// n-gram the scoring may ask for and prefetch its slot; then score, with
    /// the slots already in cache.
    pub(crate) fn evaluate_sentence(
        &self,
        text: &str,
        bos: bool,
        eos: bool,
        scratch: &mut Scratch,
    ) -> Evaluation {
        let Scratch {
            ids,
            words,
            hashes,
            looked,
            top,
            state,
            next,
        } = scratch;
        let index = self.word_index();
        words.clear();
        self.vocab.tokenizer().for_each_token(text, |t| {
            let h = super::word_index::WordIndex::hash(t);
            index.prefetch(h);
            words.push(h);
        });
        ids.clear();
        if bos {
            ids.push(crate::tokenize::BOS_ID);
        }
        let first = ids.len();
        ids.extend(words.iter().map(|&h| index.id(h)));
        if eos {
            ids.push(self.scoring_id(crate::tokenize::EOS_ID));
        }
        // Ids are already what scoring uses (`scoring_id`), so the n-gram
        // hashes below are the ones `score_word` would compute.
        let n = self.order();
        let hashed = self.trie.as_ref().is_none_or(|t| t.hashed) && n > 1;
        if hashed {
            self.look_up_by_order(ids, first, bos, hashes, looked, top);
        }
        *state = self.begin_state(bos);
        let mut e = Evaluation {
            sentences: 1,
            ..Default::default()
        };
        // Like KenLM's query: a sentence is summed in f32, the corpus in f64.
        let mut sentence = 0f32;
        for j in first..ids.len() {
            let (h, l) = if hashed {
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
        e
    }

    /// The hash-index lookups scoring the sentence `ids` (from `first`) will
    /// make, made ahead, order by order: `hashes[j * n + len]` is the hash of
    /// token `j` after the `len` before it, `looked[j * n + len]` its lookup.
    ///
    /// Scoring token `j` looks up its n-grams of length 2, 3, ... while the
    /// shorter one was found and its context was (the state holds the
    /// context's backoff, that is, token `j - 1` matched that long), and stops
    /// at the first miss (suffix closure). Those conditions, for length
    /// `len + 1`, are known once every lookup of length `len` is: so each pass
    /// starts the loads of one length for the whole sentence before reading
    /// any (their memory waits overlap), and loads nothing scoring would not
    /// read. Scoring then reads the outcomes (see
    /// [`NGramModel::score_word_hashed`]), the same as its own lookups.
    fn look_up_by_order(
        &self,
        ids: &[u32],
        first: usize,
        bos: bool,
        hashes: &mut Vec<u64>,
        looked: &mut Vec<Lookup>,
        top: &mut Vec<u8>,
    ) {
        const NONE: u8 = u8::MAX;
        let n = self.order();
        let m = ids.len();
        hashes.clear();
        hashes.resize(m * n, 0);
        looked.clear();
        looked.resize(m * n, Lookup::Pending);
        top.clear();
        top.resize(m, NONE);
        let unk = self.unigram_entry(crate::tokenize::UNK_ID).is_some();
        for j in first..m {
            // Ids are already what scoring uses (`scoring_id`): one without a
            // unigram is `<unk>`'s, scored as `score_word_hashed` does.
            if self.unigram_entry(ids[j]).is_some() || (ids[j] == crate::tokenize::UNK_ID && unk) {
                top[j] = 0;
            }
            let mut running = super::level::start(ids[j]);
            for len in 1..n.min(j + 1) {
                running = super::level::extend(running, ids[j - len]);
                hashes[j * n + len] = super::level::finish(running, len + 1);
            }
        }
        // The context backoffs the state holds before token `first`.
        let start = usize::from(bos && self.unigram_entry(crate::tokenize::BOS_ID).is_some());
        // Whether scoring token `j` looks up its n-gram of length `len + 1`.
        let wanted = |top: &[u8], j: usize, len: usize| {
            let held = if j == first {
                start
            } else if top[j - 1] == NONE {
                0
            } else {
                top[j - 1] as usize + 1
            };
            top[j] as usize == len - 1 && held >= len
        };
        for len in 1..n {
            for j in first..m {
                if wanted(top, j, len) {
                    self.prefetch_hashed(len, hashes[j * n + len]);
                }
            }
            // Backwards, so that `top[j - 1]` is still what the pass began with.
            for j in (first..m).rev() {
                if wanted(top, j, len) {
                    looked[j * n + len] = match self.find_hashed(len, hashes[j * n + len]) {
                        Some(slot) => {
                            top[j] = len as u8;
                            Lookup::Found(slot)
                        }
                        None => Lookup::Missing,
                    };
                }
            }
        }
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
                chunk.for_each_sentence_ended(&corpus.options, stats, |text, ended| {
                    // A file's last line without a newline is scored without
                    // `</s>`, as KenLM's `query` does; one without a word is
                    // not a sentence.
                    let e = self.evaluate_sentence(text, true, ended, scratch);
                    if ended || e.tokens > 0 {
                        total.add(&e);
                    }
                })?;
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
                chunk.for_each_sentence(&corpus.options, stats, |text| {
                    scores.push(self.evaluate_sentence(text, bos, eos, scratch));
                })?;
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

#[cfg(test)]
mod tests {
    use crate::lm::kneser_ney::KneserNeyOptions;
    use crate::lm::trie::tests::model_with as model;
    use crate::lm::{binary, Layout, Smoothing};

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
                let m = model(order, smoothing);
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
                            assert_eq!(e.logprob.to_bits(), (sum as f64).to_bits(), "{text:?}");
                            assert_eq!(e.tokens, tokens.len() as u64);
                            assert_eq!(e.oovs, tokens.iter().filter(|t| t.oov).count() as u64);
                        }
                    }
                }
            }
        }
    }
}

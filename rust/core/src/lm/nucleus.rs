//! Top-p nuclei of n-gram contexts, computed once and kept.
//!
//! The nucleus of a context (the smallest most-probable set of candidates
//! whose mass reaches p, ties by lower id) depends only on the streams
//! [`NGramModel::for_each_candidate`] merges: the longest context the state
//! holds (every shorter one is its suffix) and the backoffs charged above it.
//! Top-p draws a word from the whole distribution and keeps it when it is in
//! the nucleus ([`NGramModel::nucleus_pick`]). Most draws are decided by a
//! bound: per stream, binary search in the context's precomputed ranking and
//! running sums gives the mass ranked before the word (shadowed words counted
//! twice), and a bound below p means inside. Most of the rest are decided
//! from the same sums with each stream's shadowed words taken off and a
//! bound on the rounding (`super::nucleus_mass`), a rejected draw's pick from
//! the nucleus included. What those cannot decide streams candidates down
//! to the word's rank; a rejected draw has streamed the whole nucleus, which
//! is kept per (p, context) (the context's nucleus is then decided by one
//! comparison with its last member in the candidate order) and drawn from by
//! binary search in its running sums, the pick [`crate::sample::draw`] makes.
//! The shadows are kept in the same cache, per context.
//!
//! The cache belongs to the model and assumes its n-grams do not change after
//! the first top-p query (models are built whole, then only read). It is
//! bounded: once it holds [`BUDGET`] candidates it is emptied and refilled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::model::{NGramModel, Remainder, State};
use super::nucleus_mass::{Decision, Shadow, Streams};
use crate::sample::Rng;
use crate::tokenize::BOS_ID;

/// Candidates and shadowed words (summed over kept nuclei and shadows) the
/// cache holds before it is emptied: 12 bytes each, so about 50 MB at most.
pub(crate) const BUDGET: usize = 1 << 22;

/// Successors of a context [`NGramModel::shadowed_mass`] looks up one by one
/// (a context with more is not looked into).
const SHADOW_LOOKUPS: usize = 16;

/// A context's nucleus, in candidate order (descending probability, ties by id).
#[derive(Debug, Default)]
pub(crate) struct Nucleus {
    ids: Vec<u32>,
    /// `cum[i]`: the probabilities of `ids[..=i]` summed in order, in f64.
    cum: Vec<f64>,
    /// Charged log10 probability and id of the last member.
    last: Option<(f32, u32)>,
}

impl Nucleus {
    /// Whether a candidate of charged log10 probability `value` and id `w`
    /// ranks at or before the last member. Only meaningful for words the
    /// candidate stream hands out (not `<s>`, finite value, see `holds`).
    fn ranks_inside(&self, value: f32, w: u32) -> bool {
        match self.last {
            Some((v, id)) => value > v || (value == v && w <= id),
            None => false,
        }
    }

    /// Whether `w`, a word the model gives log10 p = `value` (charged), is in
    /// the nucleus. The candidate stream never hands out `<s>` nor words of
    /// probability 0, so those are never inside.
    pub fn holds(&self, value: f32, w: u32) -> bool {
        w != BOS_ID && value > f32::NEG_INFINITY && self.ranks_inside(value, w)
    }

    /// Draw a member in proportion to its probability (None when empty or
    /// of no mass): the same pick as [`crate::sample::draw`] on the members
    /// and their probabilities, from the same uniform.
    pub fn draw(&self, rng: &mut Rng) -> Option<u32> {
        let total = self.total()?;
        Some(self.draw_at(total, rng.uniform()))
    }

    /// The total mass, when there is a member and it is positive and finite.
    fn total(&self) -> Option<f64> {
        let total = *self.cum.last()?;
        (total > 0.0 && total.is_finite()).then_some(total)
    }

    /// The member `draw` picks with the uniform `u` (`total` from `total`).
    fn draw_at(&self, total: f64, u: f64) -> u32 {
        let target = u * total;
        let j = self.cum.partition_point(|&c| c <= target);
        self.ids[j.min(self.ids.len() - 1)]
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
}

/// What a nucleus depends on: p, the longest held context (its order and
/// entry) and how many unseen contexts above it charge a nonzero weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    p: u64,
    held: usize,
    entry: u32,
    unseen_above: usize,
}

#[derive(Debug, Default)]
struct Kept {
    map: HashMap<Key, Arc<Nucleus>>,
    /// Shadows by the order and entry of the context that casts them.
    shadows: HashMap<(usize, u32), Arc<Shadow>>,
    /// Candidates and shadowed words held, against [`BUDGET`].
    candidates: usize,
}

impl Kept {
    /// Make room for `n` more candidates: empty everything past the budget.
    fn room_for(&mut self, n: usize) {
        if self.candidates + n > BUDGET {
            self.map.clear();
            self.shadows.clear();
            self.candidates = 0;
        }
        self.candidates += n;
    }
}

/// The nuclei a model has computed (see the module docs). Cloning a model
/// starts an empty cache.
#[derive(Default)]
pub struct NucleusCache(Mutex<Kept>);

impl Clone for NucleusCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for NucleusCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NucleusCache { .. }")
    }
}

/// The first index of `lo..hi` where `before` is false (it is true on a
/// prefix), searched from `lo` by doubling steps, then bisection.
fn gallop(mut lo: usize, hi: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut end, mut step) = (lo, 1);
    while end < hi && before(end) {
        lo = end + 1;
        end = lo + step;
        step *= 2;
    }
    let mut hi = end.min(hi);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

impl NGramModel {
    /// The top-p nucleus after `state`, computed by streaming candidates.
    #[cfg(test)]
    pub(crate) fn stream_nucleus(&self, state: &State, p: f64) -> Nucleus {
        let mut out = Nucleus::default();
        let mut mass = 0.0;
        self.for_each_candidate(state, |c, lp| {
            mass += (lp as f64 * std::f64::consts::LN_10).exp();
            out.ids.push(c);
            out.cum.push(mass);
            out.last = Some((lp, c));
            mass < p
        });
        out
    }

    /// An upper bound on the mass of the candidates ranked before a word of
    /// charged log10 probability `value`: per stream (a context's successors,
    /// see [`NGramModel::for_each_candidate`]), the kept running sum of its
    /// successors charged `value` or more, found by binary search, less the
    /// words a longer context shadows when they are few to look up (else they
    /// count twice, which only loosens the bound), times the backoffs charged
    /// above it. The factors cover the f32 roundings of the stored sums and
    /// of the charged values.
    pub(crate) fn mass_before_bound(&self, state: &State, value: f32) -> f64 {
        let Remainder::LowerOrder { unseen_context } = self.remainder else {
            return f64::INFINITY;
        };
        let o = self.orders();
        let held = state.backoff.len().min(self.order() - 1);
        let context_len = state.words.len().min(self.order() - 1);
        let mut total = 0.0;
        for m in 0..=held {
            let (s, e) = if m == 0 {
                (0, o.len(0))
            } else {
                match self.context_entry(state, m) {
                    Some(c) => o.children(m - 1, c),
                    None => break,
                }
            };
            let ranked = o.ranking(m, s, e);
            let before = ranked.partition(|r| self.charge(state, o.logprob(m, r), m) >= value);
            if before == 0 {
                continue;
            }
            let charged: f64 = (m..context_len)
                .map(|j| f64::from(state.backoff.get(j).copied().unwrap_or(unseen_context)))
                .sum();
            let stored = ranked.cum(before - 1).map_or(f64::INFINITY, f64::from);
            // The f32 running sum may sit below the exact one by a rounding.
            let unshadowed = stored * (1.0 + 1e-6) - self.shadowed_mass(state, m, value);
            total += unshadowed.max(0.0) * 10f64.powf(charged);
        }
        total * (1.0 + 1e-3) + 1e-9
    }

    /// The stored probability mass, in stream `m`, of the words the next
    /// longer context holds (so stream `m` skips them) whose charged value is
    /// `value` or more: what [`NGramModel::mass_before_bound`] may take off
    /// stream `m`'s prefix. Computed when that context has few successors
    /// (one lookup each), else 0.
    fn shadowed_mass(&self, state: &State, m: usize, value: f32) -> f64 {
        let o = self.orders();
        let Some(longer) = self.context_entry(state, m + 1) else {
            return 0.0;
        };
        let (s, e) = o.children(m, longer);
        if e - s > SHADOW_LOOKUPS {
            return 0.0;
        }
        // Both contexts' successors are sorted by id: a merge finds them.
        let (mut at, end) = match m {
            0 => (0, 0),
            _ => match self.context_entry(state, m) {
                Some(parent) => o.children(m - 1, parent),
                None => return 0.0,
            },
        };
        let mut mass = 0.0;
        for j in s..e {
            let c = o.word(m + 1, j);
            let entry = match m {
                // The unigram stream leaves `<s>` out of its running sums.
                0 if c == BOS_ID => None,
                0 => self.unigram_entry(c),
                _ => {
                    at = gallop(at, end, |i| o.word(m, i) < c);
                    (at < end && o.word(m, at) == c).then_some(at)
                }
            };
            if let Some(r) = entry {
                let lp = o.logprob(m, r);
                if self.charge(state, lp, m) >= value {
                    mass += 10f64.powf(f64::from(lp));
                }
            }
        }
        mass
    }

    /// What the nucleus after `state` depends on; None for a state whose
    /// contexts are not all held (only a hand-made state), never kept.
    fn nucleus_key(&self, state: &State, p: f64) -> Option<Key> {
        let Remainder::LowerOrder { unseen_context } = self.remainder else {
            return None;
        };
        let held = state.backoff.len().min(self.order() - 1);
        let entry = match held {
            0 => u32::MAX,
            _ => self.context_entry(state, held)? as u32,
        };
        let context_len = state.words.len().min(self.order() - 1);
        // Adding a weight of 0 leaves every charged value as it was.
        let unseen_above = if unseen_context == 0.0 {
            0
        } else {
            context_len.saturating_sub(held)
        };
        Some(Key {
            p: p.to_bits(),
            held,
            entry,
            unseen_above,
        })
    }

    fn kept_nuclei(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.nuclei.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The nucleus kept for `state` and `p`, if any.
    #[cfg(test)]
    pub(crate) fn kept_nucleus(&self, state: &State, p: f64) -> Option<Arc<Nucleus>> {
        let key = self.nucleus_key(state, p)?;
        self.kept_nuclei().map.get(&key).cloned()
    }

    /// The shadow stream `m` has after `state` (see [`Shadow`]): the words
    /// of its context of length `m + 1` with their probabilities in stream
    /// `m`, computed once per context and kept. None when that context is
    /// not held.
    pub(crate) fn shadow(&self, state: &State, m: usize) -> Option<Arc<Shadow>> {
        let longer = self.context_entry(state, m + 1)?;
        let key = (m, longer as u32);
        if let Some(sh) = self.kept_nuclei().shadows.get(&key) {
            return Some(sh.clone());
        }
        let o = self.orders();
        let (s, e) = o.children(m, longer);
        // Both contexts' successors are sorted by id: the longer one's are
        // found among the shorter one's by a merge (galloping), not lookups.
        let (mut at, end) = match m {
            0 => (0, 0),
            _ => o.children(m - 1, self.context_entry(state, m)?),
        };
        let mut logprob = Vec::with_capacity(e - s);
        for j in s..e {
            let c = o.word(m + 1, j);
            // `<s>` is never handed out: the stream's own sums leave it out
            // (unigrams) or `Streams` takes it off (longer contexts).
            let entry = match m {
                _ if c == BOS_ID => None,
                0 => self.unigram_entry(c),
                _ => {
                    at = gallop(at, end, |i| o.word(m, i) < c);
                    (at < end && o.word(m, at) == c).then_some(at)
                }
            };
            if let Some(r) = entry {
                logprob.push(o.logprob(m, r));
            }
        }
        let sh = Arc::new(Shadow::new(logprob));
        let mut kept = self.kept_nuclei();
        kept.room_for(sh.len());
        if let Some(old) = kept.shadows.insert(key, sh.clone()) {
            kept.candidates -= old.len();
        }
        Some(sh)
    }

    fn keep_nucleus(&self, key: Key, n: Arc<Nucleus>) {
        let mut kept = self.kept_nuclei();
        kept.room_for(n.len());
        if let Some(old) = kept.map.insert(key, n) {
            // Another thread kept it meanwhile.
            kept.candidates -= old.len();
        }
    }

    /// Top-p given a draw `w` from the whole distribution, of charged log10
    /// probability `value`: `w` when it is in the nucleus after `state`, else
    /// a draw from the nucleus (None when the nucleus is empty or of no mass).
    /// In order of cost: the mass ranked before `w` is bounded below p (most
    /// draws), the context's nucleus is kept, the running sums decide
    /// (`super::nucleus_mass`: the mass before `w`, and after a rejection the
    /// member the next uniform picks), or, when they are not sure,
    /// candidates are streamed down to `w`'s rank or through the whole
    /// nucleus, which is then kept.
    pub(crate) fn nucleus_pick(
        &self,
        state: &State,
        p: f64,
        w: u32,
        value: f32,
        rng: &mut Rng,
    ) -> Option<u32> {
        let candidate = w != BOS_ID && value > f32::NEG_INFINITY;
        if candidate && self.mass_before_bound(state, value) < p {
            return Some(w);
        }
        let key = self.nucleus_key(state, p);
        if let Some(n) = key.and_then(|k| self.kept_nuclei().map.get(&k).cloned()) {
            return if n.holds(value, w) {
                Some(w)
            } else {
                n.draw(rng)
            };
        }
        // The uniform a draw from the nucleus takes, once taken.
        let mut uniform = None;
        if let Some(streams) = Streams::new(self, state) {
            match streams.decide(p, w, value) {
                Decision::Inside => return Some(w),
                Decision::Outside => {
                    if let Some((lo, hi)) = streams.total(p) {
                        let u = rng.uniform();
                        let lower = u * lo * (1.0 - 1e-12);
                        if let Some(picked) = streams.pick(lower, u * hi * (1.0 + 1e-12)) {
                            return Some(picked);
                        }
                        uniform = Some(u);
                    }
                }
                Decision::Unsure => {}
            }
        }
        let mut n = Nucleus::default();
        let (mut mass, mut inside) = (0.0, false);
        self.for_each_candidate(state, |c, lp| {
            if c == w {
                inside = true;
                return false;
            }
            mass += (lp as f64 * std::f64::consts::LN_10).exp();
            n.ids.push(c);
            n.cum.push(mass);
            n.last = Some((lp, c));
            mass < p
        });
        if inside {
            return Some(w);
        }
        // The stream ran through the whole nucleus: keep it, draw from it
        // (with the uniform already taken, if the sums decided `w` is out).
        let picked = match uniform {
            Some(u) => n.total().map(|total| n.draw_at(total, u)),
            None => n.draw(rng),
        };
        if let Some(key) = key {
            self.keep_nucleus(key, Arc::new(n));
        }
        picked
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::control::Control;
    use crate::corpus::Corpus;
    use crate::count::{count_ngrams, CountOptions};
    use crate::lm::kneser_ney::KneserNeyOptions;
    use crate::lm::nucleus_mass::tests::check_sums;
    use crate::lm::trie::tests::{through_file, through_ranked_file};
    use crate::lm::{fit, Layout, Smoothing};
    use crate::sample::{self, Rng, SamplingParams};

    pub(crate) fn fitted(
        sentences: &[Vec<u8>],
        order: usize,
        smoothing: &Smoothing,
    ) -> Option<NGramModel> {
        let texts = sentences
            .iter()
            .map(|s| {
                s.iter()
                    .map(|w| format!("w{w}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let options = CountOptions {
            order,
            ..Default::default()
        };
        let counts = count_ngrams(&Corpus::from_texts(texts), &options, &Control::new()).ok()?;
        fit(&counts, smoothing).ok()
    }

    /// Whether `w` is in the nucleus after `state`, decided the plain way:
    /// stream candidates until `w` shows up (inside) or their mass reaches p.
    pub(crate) fn streamed_inside(m: &NGramModel, state: &State, p: f64, w: u32) -> bool {
        let (mut mass, mut inside) = (0.0, false);
        m.for_each_candidate(state, |c, lp| {
            if c == w {
                inside = true;
                return false;
            }
            mass += (lp as f64 * std::f64::consts::LN_10).exp();
            mass < p
        });
        inside
    }

    /// The nucleus as (id, probability) pairs, streamed the plain way.
    pub(crate) fn streamed_pairs(m: &NGramModel, state: &State, p: f64) -> Vec<(u32, f64)> {
        let (mut mass, mut out) = (0.0, Vec::new());
        m.for_each_candidate(state, |c, lp| {
            let q = (lp as f64 * std::f64::consts::LN_10).exp();
            out.push((c, q));
            mass += q;
            mass < p
        });
        out
    }

    /// Top-p the way it was done before nuclei were kept: draw from the
    /// mixture, stream down to the draw's rank, else draw from the streamed nucleus.
    fn streamed_top_p(m: &NGramModel, state: &State, p: f64, rng: &mut Rng) -> Option<u32> {
        let held = state.backoff.len().min(m.order() - 1);
        let w = m.draw_mixture(state, held, rng)?.word;
        if streamed_inside(m, state, p, w) {
            return Some(w);
        }
        sample::draw(&streamed_pairs(m, state, p), rng)
    }

    /// p values that put the cutoff exactly on each running mass of the
    /// candidates, one ulp either side, and a few plain ones.
    pub(crate) fn cutoffs(m: &NGramModel, state: &State) -> Vec<f64> {
        let all = m.stream_nucleus(state, f64::INFINITY);
        let mut ps = vec![1e-9, 0.3, 0.9, 1.0];
        for &c in all.cum.iter().take(12) {
            ps.extend([c, c.next_down(), c.next_up()]);
        }
        ps.retain(|p| *p > 0.0 && *p <= 1.0);
        ps
    }

    /// Mass of the candidates ranked before `w`, summed as the stream sums it.
    fn streamed_mass_before(m: &NGramModel, state: &State, w: u32) -> f64 {
        let mut mass = 0.0;
        m.for_each_candidate(state, |c, lp| {
            if c != w {
                mass += (lp as f64 * std::f64::consts::LN_10).exp();
            }
            c != w
        });
        mass
    }

    /// Every word's nucleus decision, the kept nucleus' members and its draws
    /// agree with the plain streamed ones, the bound bounds, and seeded top-p
    /// draws are the ones streaming made, for every state the contexts lead to
    /// and every cutoff of `cutoffs`.
    fn check_against_streaming(m: &NGramModel, contexts: &[Vec<u32>]) {
        for context in contexts {
            for bos in [true, false] {
                let state = m.state_for(context, bos);
                let dist = m.distribution(&state);
                for (w, &value) in dist.iter().enumerate() {
                    if value > f32::NEG_INFINITY && w as u32 != BOS_ID {
                        let before = streamed_mass_before(m, &state, w as u32);
                        assert!(m.mass_before_bound(&state, value) >= before);
                    }
                }
                for p in cutoffs(m, &state) {
                    check_sums(m, &state, p);
                    // Twice: the second time the nucleus may be kept.
                    for round in 0..2 {
                        for (w, &value) in dist.iter().enumerate() {
                            let w = w as u32;
                            let mut rng = Rng::new(w as u64);
                            assert_eq!(
                                m.nucleus_pick(&state, p, w, value, &mut rng) == Some(w),
                                streamed_inside(m, &state, p, w),
                                "word {w} ({value}) after {context:?}, p = {p}, round {round}"
                            );
                        }
                    }
                    let pairs = streamed_pairs(m, &state, p);
                    if let Some(n) = m.kept_nucleus(&state, p) {
                        assert_eq!(n.ids, pairs.iter().map(|c| c.0).collect::<Vec<_>>());
                        for seed in 0..8 {
                            let (mut a, mut b) = (Rng::new(seed), Rng::new(seed));
                            assert_eq!(n.draw(&mut a), sample::draw(&pairs, &mut b));
                        }
                    }
                    let params = SamplingParams {
                        top_p: Some(p),
                        ..Default::default()
                    };
                    for seed in 0..8 {
                        let (mut a, mut b) = (Rng::new(seed), Rng::new(seed));
                        let streamed = streamed_top_p(m, &state, p, &mut b).or_else(|| {
                            // Both fall back to the truncated stream.
                            sample::draw(&m.truncated_candidates(&state, &params), &mut b)
                        });
                        assert_eq!(
                            m.sample_next(&state, &params, &[], &mut a),
                            streamed,
                            "after {context:?}, p = {p}, seed {seed}"
                        );
                    }
                }
            }
        }
    }

    /// A stream read deep gathers its shadowing context's words into a bit
    /// set (after many lookups): the whole candidate stream still equals the
    /// distribution sorted by probability, ties by id, in both layouts.
    #[test]
    fn a_deep_stream_hands_out_the_sorted_distribution() {
        // 256 words; "w0" is followed by 250 of them, so the unigram stream
        // after "w0" checks hundreds of words against its successors.
        let sentences: Vec<Vec<u8>> = (0..900usize)
            .map(|i| {
                let a = (i * 7 % 250) as u8;
                let b = (i * 13 % 256) as u8;
                vec![0, a, (i % 5) as u8, b]
            })
            .collect();
        let hash = fitted(
            &sentences,
            3,
            &Smoothing::KneserNey(KneserNeyOptions::default()),
        )
        .expect("a model");
        let trie = through_file(&hash, Layout::Trie { quantize: None });
        let w0 = hash.vocab.id("w0");
        for m in [&hash, &trie] {
            for context in [vec![w0], vec![w0, hash.vocab.id("w3")], vec![]] {
                let state = m.state_for(&context, true);
                let dist = m.distribution(&state);
                let mut want: Vec<(u32, f32)> = (0..dist.len() as u32)
                    .map(|w| (w, dist[w as usize]))
                    .filter(|&(w, v)| w != BOS_ID && v > f32::NEG_INFINITY)
                    .collect();
                want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let mut got = Vec::new();
                m.for_each_candidate(&state, |w, v| {
                    got.push((w, v));
                    true
                });
                assert!(want.len() > 200);
                assert_eq!(got, want, "after {context:?}");
            }
        }
    }

    fn sentences() -> impl Strategy<Value = Vec<Vec<u8>>> {
        (2u8..7).prop_flat_map(|v| prop::collection::vec(prop::collection::vec(0..v, 1..8), 1..14))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        #[test]
        fn kept_nuclei_decide_as_streaming_does_in_every_layout(
            corpus in sentences(),
            order in 2usize..5,
            which in 0usize..3,
        ) {
            let smoothing = [
                Smoothing::KneserNey(KneserNeyOptions::default()),
                Smoothing::WittenBell,
                Smoothing::Mle,
            ][which].clone();
            let Some(hash) = fitted(&corpus, order, &smoothing) else {
                return Ok(());
            };
            // Contexts: every prefix of every sentence's ids, and an unseen word.
            let ids = |s: &Vec<u8>| -> Vec<u32> {
                s.iter().map(|w| hash.vocab.id(&format!("w{w}"))).collect()
            };
            let mut contexts: Vec<Vec<u32>> = vec![vec![], vec![999]];
            for s in corpus.iter().take(4) {
                let s = ids(s);
                contexts.extend((0..=s.len()).map(|j| s[..j].to_vec()));
            }
            check_against_streaming(&hash, &contexts);
            for layout in [Layout::Trie { quantize: None }, Layout::Trie { quantize: Some(2) }] {
                check_against_streaming(&through_file(&hash, layout), &contexts);
            }
            // Every range with a stored ranking (tiny models have no long ones).
            for quantize in [None, Some(2)] {
                check_against_streaming(&through_ranked_file(&hash, quantize, 2, 8), &contexts);
            }
        }
    }
}

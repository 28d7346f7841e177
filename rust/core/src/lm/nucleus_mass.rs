//! Top-p decided from running sums, without streaming candidates.
//!
//! The candidate stream ([`NGramModel::for_each_candidate`]) merges, by
//! descending charged value (ties by lower id), the successors of each held
//! context, stream `m` skipping the words the next longer context holds (its
//! *shadow*). The mass of the candidates charged above a value `v` is then,
//! per stream, the stored running sum of its successors charged above `v`,
//! less the shadow's words charged above `v` (kept per context, sorted by
//! their probability in stream `m`, with running sums: [`Shadow`]), times the
//! backoffs charged to the stream. Each is an estimate of what the stream
//! adds up, with a bound on the difference (the f32 roundings of the stored
//! sums and of the charged values, the order of the additions): a decision
//! is taken only when the estimate clears the bound, else the caller streams
//! as before, so the words and draws are the stream's bit for bit.
//!
//! - A draw `w` of charged value `v` is in the nucleus when the mass ranked
//!   before it (above `v`, plus the words of its tie run at `v` with a lower
//!   id) is below p, and out of it when that mass is p or more.
//! - A draw from the nucleus (after a rejection) needs the nucleus' total,
//!   the stream's running mass at its last member: it is at least p and
//!   less than p plus that member's probability, which is below `10^v` for
//!   any `v` whose mass above clears p (found by bisection). The uniform
//!   times that range is located among the candidates by bisection on the
//!   value; when the whole range falls within one candidate, that is the draw.

use std::cell::OnceCell;
use std::sync::Arc;

use super::model::{NGramModel, Remainder, State};
use super::ranking::Ranking;
use crate::tokenize::BOS_ID;

/// The words of a context of length `m + 1` (held in order `m + 2`) with
/// their log10 probabilities in the stream of its suffix of length `m`,
/// descending, and the running sums of those probabilities: the mass that
/// stream skips above any value.
#[derive(Debug, Default)]
pub(crate) struct Shadow {
    logprob: Vec<f32>,
    cum: Vec<f64>,
}

impl Shadow {
    /// The shadow of the given stream log10 probabilities (any order).
    pub fn new(mut logprob: Vec<f32>) -> Self {
        logprob.sort_unstable_by(|a, b| b.total_cmp(a));
        let mut acc = 0.0;
        let cum = logprob
            .iter()
            .map(|&lp| {
                acc += 10f64.powf(f64::from(lp));
                acc
            })
            .collect();
        Self { logprob, cum }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.logprob.len()
    }

    /// How many leading words, known to be in `lo..=hi`, have a log10
    /// probability that passes `pass` (true on a prefix), and their mass.
    fn mass(&self, lo: usize, hi: usize, pass: impl Fn(f32) -> bool) -> (usize, f64) {
        let hi = hi.min(self.len());
        let lo = lo.min(hi);
        let n = lo + self.logprob[lo..hi].partition_point(|&lp| pass(lp));
        (n, n.checked_sub(1).map_or(0.0, |i| self.cum[i]))
    }
}

/// One stream of the merge, as the mass estimates read it.
struct Stream<'a> {
    m: usize,
    ranked: Ranking<'a>,
    /// 10^(the backoffs charged to the stream), in f64.
    factor: f64,
    /// How many backoffs are charged (f32 additions per charged value).
    adds: usize,
    /// |charged value of the first word| + 2 x the sum of |backoffs| + 1: with
    /// the value reached, it bounds every partial sum of a charged value.
    magnitude: f64,
    /// The words the next longer context holds (none for the longest).
    shadow: Option<Arc<Shadow>>,
    /// log10 probability and probability of `<s>` in the stream when it holds
    /// it (orders 2 and up: their running sums count it, the stream never
    /// hands it out).
    bos: Option<(f32, f64)>,
}

/// What a mass estimate found: the decision, or not sure (then stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Inside,
    Outside,
    Unsure,
}

/// The streams of one state, for estimates of the mass above a value.
pub(crate) struct Streams<'a> {
    model: &'a NGramModel,
    state: &'a State,
    streams: Vec<Stream<'a>>,
    /// The lowest finite charged value, once asked for.
    lowest: OnceCell<Option<f32>>,
}

/// Where a value falls in one stream: how many of its ranked words and of
/// its shadow's words pass it, and their masses.
#[derive(Debug, Clone, Copy, Default)]
struct Cut {
    ranked: usize,
    shadowed: usize,
    ranked_mass: f64,
    shadowed_mass: f64,
}

/// f32 values in a u32 of the same order (total order, -0 below +0).
fn key(v: f32) -> u32 {
    let b = v.to_bits();
    if b >> 31 == 1 {
        !b
    } else {
        b | 1 << 31
    }
}

fn value(k: u32) -> f32 {
    if k >> 31 == 1 {
        f32::from_bits(k & !(1 << 31))
    } else {
        f32::from_bits(!k)
    }
}

/// The probability the stream adds for a charged value.
fn term(v: f32) -> f64 {
    (f64::from(v) * std::f64::consts::LN_10).exp()
}

/// Relative error of f64 arithmetic the bounds leave room for (sums of up to
/// millions of terms, exp, powf).
const ROUNDING: f64 = 1e-12;

impl<'a> Streams<'a> {
    /// The streams after `state` (as `for_each_candidate` opens them); None
    /// for a model without lower-order streams or when a shadow is unknown.
    pub fn new(model: &'a NGramModel, state: &'a State) -> Option<Self> {
        let Remainder::LowerOrder { unseen_context } = model.remainder else {
            return None;
        };
        let o = model.orders();
        let held = state.backoff.len().min(model.order() - 1);
        let context_len = state.words.len().min(model.order() - 1);
        let mut ranges = vec![(0, o.len(0))];
        for m in 1..=held {
            let Some(c) = model.context_entry(state, m) else {
                break;
            };
            ranges.push(o.children(m - 1, c));
        }
        let top = ranges.len() - 1;
        let mut streams = Vec::with_capacity(ranges.len());
        for (m, &(s, e)) in ranges.iter().enumerate() {
            let ranked = o.ranking(m, s, e);
            let backoffs =
                (m..context_len).map(|j| state.backoff.get(j).copied().unwrap_or(unseen_context));
            let charged: f64 = backoffs.clone().map(f64::from).sum();
            let spread: f64 = backoffs.map(|b| f64::from(b).abs()).sum();
            let first = ranked
                .entry(0)
                .map_or(0.0, |e| model.charge(state, o.logprob(m, e), m));
            if !charged.is_finite() || !spread.is_finite() || !first.is_finite() {
                return None;
            }
            let shadow = if m < top {
                Some(model.shadow(state, m)?)
            } else {
                None
            };
            // Successors are sorted by id, and `<s>` is id 1: near the start.
            let bos = match m {
                0 => None,
                _ => (s..e)
                    .take(2)
                    .find(|&r| o.word(m, r) == BOS_ID)
                    .map(|r| o.logprob(m, r))
                    .map(|lp| (lp, 10f64.powf(f64::from(lp)))),
            };
            streams.push(Stream {
                m,
                ranked,
                factor: 10f64.powf(charged),
                adds: context_len.saturating_sub(m),
                magnitude: f64::from(first).abs() + 2.0 * spread + 1.0,
                shadow,
                bos,
            });
        }
        Some(Self {
            model,
            state,
            streams,
            lowest: OnceCell::new(),
        })
    }

    fn charge(&self, st: &Stream, logprob: f32) -> f32 {
        self.model.charge(self.state, logprob, st.m)
    }

    /// The mass of the candidates charged above `v` (`strict`) or at `v` or
    /// above, as (estimate, bound on its distance from the streamed sum).
    fn mass(&self, v: f32, strict: bool) -> (f64, f64) {
        let mut cuts = Vec::new();
        self.mass_within(v, strict, None, &mut cuts)
    }

    /// [`Streams::mass`], searching each stream only between the cuts
    /// `within` gives (those of a higher and of a lower value: their words
    /// passing, per stream and shadow), and giving the cuts of `v` in `cuts`.
    fn mass_within(
        &self,
        v: f32,
        strict: bool,
        within: Option<(&[Cut], &[Cut])>,
        cuts: &mut Vec<Cut>,
    ) -> (f64, f64) {
        let o = self.model.orders();
        let pass = |c: f32| if strict { c > v } else { c >= v };
        let (mut est, mut err) = (0.0, 0.0);
        cuts.clear();
        for (i, st) in self.streams.iter().enumerate() {
            let (above, below) = match within {
                Some((above, below)) => (above[i], below[i]),
                None => (
                    Cut::default(),
                    Cut {
                        ranked: usize::MAX,
                        shadowed: usize::MAX,
                        ..Cut::default()
                    },
                ),
            };
            // Between two cuts that agree, so does every value's.
            let cut = if above.ranked == below.ranked && above.shadowed == below.shadowed {
                above
            } else {
                let n = st.ranked.partition_in(above.ranked, below.ranked, |e| {
                    pass(self.charge(st, o.logprob(st.m, e)))
                });
                let Some(stored) = n.checked_sub(1).map_or(Some(0.0), |i| st.ranked.cum(i)) else {
                    return (0.0, f64::INFINITY);
                };
                let (shadow_n, shadowed) = st.shadow.as_ref().map_or((0, 0.0), |sh| {
                    sh.mass(above.shadowed, below.shadowed, |lp| {
                        pass(self.charge(st, lp))
                    })
                });
                Cut {
                    ranked: n,
                    shadowed: shadow_n,
                    ranked_mass: f64::from(stored),
                    shadowed_mass: shadowed,
                }
            };
            cuts.push(cut);
            let (stored, shadowed) = (cut.ranked_mass, cut.shadowed_mass);
            let bos = st
                .bos
                .filter(|&(lp, _)| pass(self.charge(st, lp)))
                .map_or(0.0, |(_, mass)| mass);
            // Each charged value is the stored one plus `adds` backoffs in
            // f32, each addition off by at most 2^-24 of a partial sum, which
            // is at most `magnitude` (or |v| below the first word); the term
            // 10^value is then off by ln 10 times the sum of those.
            let reach = st.magnitude + if v < 0.0 { -f64::from(v) } else { 0.0 };
            let charged = 2.31 * st.adds as f64 * reach * f64::from(f32::EPSILON) / 2.0;
            // The f32 running sum is off by half an ulp of itself.
            let relative = charged + 1.2e-7 + ROUNDING;
            est += st.factor * (stored - shadowed - bos);
            err += st.factor * (stored * relative + (shadowed + bos) * ROUNDING);
        }
        (est, err + est.abs() * ROUNDING + 1e-300)
    }

    /// The candidates charged exactly `v`, by id (the stream hands them out
    /// in that order); None when more than a few (then stream).
    fn run_at(&self, v: f32) -> Option<Vec<u32>> {
        const MOST: usize = 64;
        let o = self.model.orders();
        let words = &self.state.words;
        let top = self.streams.len() - 1;
        let mut run = Vec::new();
        for st in &self.streams {
            let value = |e: usize| self.charge(st, o.logprob(st.m, e));
            let from = st.ranked.partition(|e| value(e) > v);
            let to = st.ranked.partition(|e| value(e) >= v);
            if to - from > MOST {
                return None;
            }
            let longer = self.model.context_entry(self.state, st.m + 1);
            for i in from..to {
                let w = o.word(st.m, st.ranked.entry(i)?);
                if w == u32::MAX {
                    return None;
                }
                let shadowed = st.m < top
                    && o.extend(st.m + 1, longer?, &words[words.len() - (st.m + 1)..], w)
                        .is_some();
                if w != BOS_ID && !shadowed {
                    run.push(w);
                }
            }
        }
        if run.len() > MOST {
            return None;
        }
        run.sort_unstable();
        Some(run)
    }

    /// Whether `w`, drawn with charged value `v`, is in the nucleus of mass
    /// `p`: the stream reaches it while its running mass is below p. Words the
    /// stream never hands out (`<s>`, probability 0) are outside.
    pub fn decide(&self, p: f64, w: u32, v: f32) -> Decision {
        if w == BOS_ID || v == f32::NEG_INFINITY {
            return Decision::Outside;
        }
        let (above, err) = self.mass(v, true);
        if above - err >= p {
            return Decision::Outside;
        }
        let Some(run) = self.run_at(v) else {
            // Too many ties to place `w` among: inside if they all fit.
            let (through, err) = self.mass(v, false);
            return match through - term(v) + err < p {
                true => Decision::Inside,
                false => Decision::Unsure,
            };
        };
        let Ok(i) = run.binary_search(&w) else {
            return Decision::Unsure;
        };
        let before = above + i as f64 * term(v);
        let err = err + before * ROUNDING;
        if before + err < p {
            Decision::Inside
        } else if before - err >= p {
            Decision::Outside
        } else {
            Decision::Unsure
        }
    }

    /// The lowest finite charged value of any candidate.
    fn lowest(&self) -> Option<f32> {
        *self.lowest.get_or_init(|| self.find_lowest())
    }

    fn find_lowest(&self) -> Option<f32> {
        let o = self.model.orders();
        let mut low: Option<f32> = None;
        for st in &self.streams {
            let value = |e: usize| self.charge(st, o.logprob(st.m, e));
            let finite = st.ranked.partition(|e| value(e) > f32::NEG_INFINITY);
            if let Some(i) = finite.checked_sub(1) {
                let v = value(st.ranked.entry(i)?);
                low = Some(low.map_or(v, |l| l.min(v)));
            }
        }
        low.filter(|v| v.is_finite())
    }

    /// Bisection on the value, `steps` halvings at most, for where the mass
    /// at or above it (estimate, error) `reaches`: from the lowest value
    /// (which must reach, else None) to +inf (which must not). The final
    /// bracket: a value that reaches and a higher one that does not. Each
    /// step searches the streams only between the bracket's cuts.
    fn bisect(&self, steps: usize, reaches: impl Fn(f64, f64) -> bool) -> Option<(f32, f32)> {
        let low = self.lowest()?;
        let mut below = Vec::new();
        let (m, e) = self.mass_within(low, false, None, &mut below);
        if !reaches(m, e) {
            return None;
        }
        let mut above = vec![Cut::default(); self.streams.len()];
        let mut mid_cuts = Vec::new();
        let (mut lo, mut hi) = (key(low), key(f32::INFINITY));
        for _ in 0..steps {
            if hi - lo <= 1 {
                break;
            }
            let mid = lo + (hi - lo) / 2;
            let (m, e) = self.mass_within(value(mid), false, Some((&above, &below)), &mut mid_cuts);
            if reaches(m, e) {
                lo = mid;
                std::mem::swap(&mut below, &mut mid_cuts);
            } else {
                hi = mid;
                std::mem::swap(&mut above, &mut mid_cuts);
            }
        }
        Some((value(lo), value(hi)))
    }

    /// Bounds on the total of the nucleus of mass `p` (the stream's running
    /// mass at its last member): at least p, less than p plus the last
    /// member's probability. None when the candidates may not reach p.
    pub fn total(&self, p: f64) -> Option<(f64, f64)> {
        let low = self.lowest()?;
        let (all, err) = self.mass(low, false);
        if !(p > 0.0 && all - err >= p) {
            return None;
        }
        // The last member, when the sums place p within one candidate's span:
        // the total is the mass through it.
        if let Some((v, _)) = self.bisect(40, |m, _| m >= p) {
            if let Some((i, run_len, above, err)) = self.place(v, p) {
                let q = term(v);
                let through = above + (i + 1) as f64 * q;
                let err = err + (above + run_len as f64 * q) * ROUNDING;
                if above + i as f64 * q + err < p && through - err >= p {
                    return Some((through - err, through + err));
                }
            }
        }
        // Else: it is charged below any value whose mass above, at its
        // highest, is under p; 16 halvings leave that within 1% of log10.
        let (_, above) = self.bisect(16, |m, e| m + e >= p)?;
        if above == f32::INFINITY {
            return None;
        }
        Some((p, (p + term(above)) * (1.0 + ROUNDING)))
    }

    /// The candidate a draw from the nucleus picks when its target (the
    /// uniform times the nucleus total) lies in `lo..=hi`: the one whose span
    /// of running mass holds the whole range. None when that is not sure.
    pub fn pick(&self, lo: f64, hi: f64) -> Option<u32> {
        let (v, _) = self.bisect(40, |m, _| m > lo)?;
        let run = self.run_at(v)?;
        let (above, err) = self.mass(v, true);
        let q = term(v);
        let err = err + (above + run.len() as f64 * q) * ROUNDING;
        let i = ((lo - above) / q).floor();
        if !(i >= 0.0 && i < run.len() as f64) {
            return None;
        }
        let before = above + i * q;
        let through = above + (i + 1.0) * q;
        (before + err <= lo && through - err > hi).then(|| run[i as usize])
    }

    /// Where mass `t` falls in the tie run at `v`: the member index whose
    /// span holds it by the estimates, with the run's length and the mass
    /// above `v` (estimate, error). None for a run too long to list.
    fn place(&self, v: f32, t: f64) -> Option<(usize, usize, f64, f64)> {
        let run = self.run_at(v)?;
        let (above, err) = self.mass(v, true);
        let i = ((t - above) / term(v)).ceil() - 1.0;
        (i >= 0.0 && i < run.len() as f64).then_some((i as usize, run.len(), above, err))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lm::kneser_ney::KneserNeyOptions;
    use crate::lm::nucleus::tests::{cutoffs, fitted, streamed_inside, streamed_pairs};
    use crate::lm::trie::tests::through_file;
    use crate::lm::{Layout, Smoothing};

    /// Every decision the sums take after `state` for cutoff `p` is the
    /// stream's: whether each word is in the nucleus, the bracket of the
    /// nucleus total, and the member picked for 64 uniforms. Returns how many
    /// words and picks were decided, and of how many.
    pub(crate) fn check_sums(m: &NGramModel, state: &State, p: f64) -> [usize; 4] {
        let mut counts = [0; 4];
        let Some(streams) = Streams::new(m, state) else {
            return counts;
        };
        for (w, &v) in m.distribution(state).iter().enumerate() {
            let w = w as u32;
            let inside = streamed_inside(m, state, p, w);
            counts[1] += 1;
            match streams.decide(p, w, v) {
                Decision::Inside => assert!(inside, "word {w} ({v}), p = {p}"),
                Decision::Outside => assert!(!inside, "word {w} ({v}), p = {p}"),
                Decision::Unsure => continue,
            }
            counts[0] += 1;
        }
        let pairs = streamed_pairs(m, state, p);
        let mut acc = 0.0;
        let cum: Vec<f64> = pairs
            .iter()
            .map(|&(_, q)| {
                acc += q;
                acc
            })
            .collect();
        let Some((lo, hi)) = streams.total(p) else {
            return counts;
        };
        let total = *cum.last().expect("a nucleus reaching p");
        assert!(
            lo <= total && total <= hi,
            "{lo} <= {total} <= {hi}, p = {p}"
        );
        for k in 0..64 {
            let u = (k as f64 + 0.5) / 64.0;
            let target = u * total;
            let j = cum.partition_point(|&c| c <= target).min(pairs.len() - 1);
            counts[3] += 1;
            if let Some(got) = streams.pick(u * lo * (1.0 - 1e-12), u * hi * (1.0 + 1e-12)) {
                assert_eq!(got, pairs[j].0, "u = {u}, p = {p}");
                counts[2] += 1;
            }
        }
        counts
    }

    #[test]
    fn keys_order_values_as_floats_do() {
        let values = [
            f32::NEG_INFINITY,
            f32::MIN,
            -3.5,
            -1e-30,
            -0.0,
            0.0,
            1e-30,
            2.0,
            f32::MAX,
            f32::INFINITY,
        ];
        for pair in values.windows(2) {
            assert!(key(pair[0]) < key(pair[1]), "{pair:?}");
        }
        for v in values {
            assert_eq!(value(key(v)).to_bits(), v.to_bits());
        }
    }

    /// On a model whose contexts have hundreds of candidates (many of them
    /// tied, shadowed or backed off to), in both layouts, the sums decide
    /// almost every word and most picks, each as streaming does.
    #[test]
    fn the_sums_decide_most_draws_as_streaming_does() {
        let sentences: Vec<Vec<u8>> = (0..1500usize)
            .map(|i| {
                let a = (i * 7 % 250) as u8;
                let b = (i * 13 % 256) as u8;
                let c = (i * i % 97) as u8;
                vec![0, a, (i % 5) as u8, b, c]
            })
            .collect();
        let kn = Smoothing::KneserNey(KneserNeyOptions::default());
        let hash = fitted(&sentences, 4, &kn).expect("a model");
        let trie = through_file(&hash, Layout::Trie { quantize: None });
        let id = |w: u8| hash.vocab.id(&format!("w{w}"));
        let contexts = [
            vec![],
            vec![id(0)],
            vec![id(0), id(7)],
            vec![id(0), id(7), id(2)],
            vec![id(3), id(1), id(4)],
            vec![id(250), id(5)],
        ];
        for m in [&hash, &trie] {
            let mut counts = [0; 4];
            for context in &contexts {
                for bos in [true, false] {
                    let state = m.state_for(context, bos);
                    let mut ps = cutoffs(m, &state);
                    ps.extend([0.5, 0.8, 0.95, 0.99]);
                    for p in ps {
                        let c = check_sums(m, &state, p);
                        (0..4).for_each(|i| counts[i] += c[i]);
                    }
                }
            }
            assert!(counts[1] > 10_000, "{counts:?}");
            assert!(counts[0] * 100 >= counts[1] * 95, "{counts:?}");
            assert!(counts[3] > 1_000, "{counts:?}");
            assert!(counts[2] * 100 >= counts[3] * 60, "{counts:?}");
        }
    }
}

//! Per-context rankings of the trie layout: each sibling range (the
//! successors of one context) by descending probability, ties by lower entry,
//! with the running sums of their probabilities along that order. Exact
//! top-k, sampling and top-p read them (`Ranking`), in either layout.
//!
//! The hash layout stores a u32 permutation and an f32 running sum per
//! n-gram (8 bytes). The trie keeps its size goals by storing less (see
//! [`Rankings`]):
//!
//! - Short ranges (fewer than [`STORED_FROM`] successors, most of them in
//!   orders 3 and up) are sorted on the fly into a buffer on the stack.
//! - Longer ranges store their permutation as offsets into the range,
//!   bit-packed at the width the range needs (`bits_for(len - 1)`), found
//!   through a directory of the stored ranges by first entry.
//! - Running sums are kept sparsely: the f64 accumulator after every
//!   [`CUM_EVERY`] ranks and at the range's end. A sum in between is the
//!   previous checkpoint plus at most `CUM_EVERY - 1` terms, added in the
//!   same order and precision as the hash layout adds them, so it comes out
//!   the same f32 bit for bit (and so do samples drawn from it).
//!
//! Reads are bounds-checked: a directory row that does not match its range
//! is ignored (the range is sorted on the fly), and a corrupt offset gives
//! no entry, never a panic.

use super::array::Array;
use super::packed::{bits_at, bits_for, put_bits};
use super::trie::{Trie, Values};

/// Ranges of at least this many entries get a stored ranking (shorter ones
/// cost less to sort than the directory lookup and bits would be worth).
/// Chosen by measurement (`benches/trie_ranges.py`, `benches/ab_generate.py`):
/// storing from 16 with a sum every 16 ranks costs 0.35 bytes per n-gram on
/// the 32 MB Gutenberg slice's 5-gram; from 64 and every 64, 0.16 bytes, but
/// on the PTB 5-gram's trie untruncated generation ran 0.70x and
/// `predict(k=10)` 0.84x as fast (top-p the same), and the size budget
/// (KenLM's trie, about 1.5 bytes per n-gram above ours) has room for 16.
pub const STORED_FROM: usize = 16;

/// A running sum is stored after every this many ranks (see `STORED_FROM`).
pub const CUM_EVERY: usize = 16;

/// A directory row: first entry of the range, index of its first running
/// sum, and the bit offset (low, high 32 bits) of its permutation.
pub type DirRow = [u32; 4];

/// The stored rankings of one trie order (empty for unigrams, which store a
/// full permutation and running sums as the hash layout does, and for files
/// written before format version 8).
#[derive(Debug, Clone, Default)]
pub struct Rankings {
    /// Ranges of at least this many entries are stored (0: none is).
    pub stored_from: u32,
    /// Ranks between stored running sums (at least 1 when any range is stored).
    pub cum_every: u32,
    /// One row per stored range, by first entry, then a closing row whose
    /// sum index and bit offset are the totals.
    pub dir: Array<DirRow>,
    /// The permutations, each value an offset into its range.
    pub ranks: Array<u64>,
    /// The running sums (f64 accumulators), `ceil(len / cum_every)` per range.
    pub sums: Array<f64>,
}

/// 10^logprob, as the hash layout adds it up.
#[inline(always)]
fn mass(probs: &Values, entry: usize) -> f64 {
    10f64.powf(f64::from(probs.get(entry)))
}

/// Offsets `0..len` of the range starting at `s`, sorted by descending
/// probability, ties by lower offset (= lower entry = lower id).
fn sort_offsets(probs: &Values, s: usize, offsets: &mut [u32]) {
    offsets.sort_unstable_by(|&a, &b| {
        let (pa, pb) = (probs.get(s + a as usize), probs.get(s + b as usize));
        pb.total_cmp(&pa).then(a.cmp(&b))
    });
}

/// Whether `given` holds the entries `s..e` in the order [`sort_offsets`]
/// gives them: each one of the range and strictly before the next under that
/// order (which also makes them distinct, so all of the range).
fn ranks_as_probs_do(probs: &Values, s: usize, e: usize, given: &[u32]) -> bool {
    let inside = |&x: &u32| (s..e).contains(&(x as usize));
    given.iter().all(inside)
        && given.windows(2).all(|w| {
            let (pa, pb) = (probs.get(w[0] as usize), probs.get(w[1] as usize));
            pb.total_cmp(&pa).then(w[0].cmp(&w[1])).is_lt()
        })
}

impl Rankings {
    /// The rankings of the sibling ranges `ranges` (as child pointers give
    /// them: in order, not overlapping) of an order whose probabilities are
    /// `probs`: ranges of `stored_from` entries or more are stored, with a
    /// running sum after every `cum_every` ranks. `ranked`, when not empty,
    /// is the order's entries already ranked range by range (a linked
    /// level's `by_prob`); a range it does not rank as `probs` do is sorted.
    pub fn build(
        probs: &Values,
        ranges: impl Iterator<Item = (usize, usize)>,
        level_len: usize,
        (stored_from, cum_every): (usize, usize),
        ranked: &[u32],
    ) -> Self {
        let stored_from = stored_from.max(1);
        let cum_every = cum_every.max(1);
        let (mut dir, mut ranks, mut sums) = (Vec::new(), Vec::new(), Vec::new());
        let mut bit = 0usize;
        let row = |s: usize, sums: usize, bit: usize| -> DirRow {
            [s as u32, sums as u32, bit as u32, (bit >> 32) as u32]
        };
        let mut offsets = Vec::new();
        for (s, e) in ranges {
            let len = e.saturating_sub(s);
            if len < stored_from {
                continue;
            }
            dir.push(row(s, sums.len(), bit));
            offsets.clear();
            match ranked.get(s..e) {
                Some(given) if ranks_as_probs_do(probs, s, e, given) => {
                    offsets.extend(given.iter().map(|&entry| entry - s as u32));
                }
                _ => {
                    offsets.extend(0..len as u32);
                    sort_offsets(probs, s, &mut offsets);
                }
            }
            let width = bits_for(len as u64 - 1);
            let mut acc = 0f64;
            for (t, &off) in offsets.iter().enumerate() {
                put_bits(&mut ranks, bit, u64::from(off), width);
                bit += width as usize;
                acc += mass(probs, s + off as usize);
                if (t + 1).is_multiple_of(cum_every) || t + 1 == len {
                    sums.push(acc);
                }
            }
        }
        dir.push(row(level_len, sums.len(), bit));
        // One spare word, as `Packed` keeps, so reads never straddle the end.
        ranks.resize(bit.div_ceil(64) + 1, 0);
        Self {
            stored_from: stored_from as u32,
            cum_every: cum_every as u32,
            dir: dir.into(),
            ranks: ranks.into(),
            sums: sums.into(),
        }
    }

    /// Bytes of storage.
    pub fn bytes(&self) -> usize {
        self.dir.len() * 16 + self.ranks.len() * 8 + self.sums.len() * 8
    }

    /// The stored ranking of the range `s..e`, if it is stored and its
    /// directory rows agree with its length.
    fn find(&self, s: usize, e: usize) -> Option<StoredAt<'_>> {
        let len = e - s;
        if self.stored_from == 0 || len < self.stored_from as usize || self.cum_every == 0 {
            return None;
        }
        let dir: &[DirRow] = &self.dir;
        let r = dir.partition_point(|row| (row[0] as usize) < s);
        let (row, next) = (dir.get(r)?, dir.get(r + 1)?);
        let at = |row: &DirRow| row[2] as usize | (row[3] as usize) << 32;
        let (bit, end) = (at(row), at(next));
        let width = bits_for(len as u64 - 1);
        let every = self.cum_every as usize;
        let sums = self.sums.get(row[1] as usize..next[1] as usize)?;
        let fits = row[0] as usize == s
            && end.checked_sub(bit) == Some(len * width as usize)
            && end <= self.ranks.len() * 64
            && sums.len() == len.div_ceil(every);
        fits.then_some(StoredAt {
            ranks: &self.ranks,
            bit,
            width,
            every,
            sums,
        })
    }
}

/// A stored ranking, located.
#[derive(Clone, Copy)]
pub(crate) struct StoredAt<'a> {
    ranks: &'a [u64],
    bit: usize,
    width: u8,
    every: usize,
    sums: &'a [f64],
}

/// Entries a short range is sorted into without a heap allocation.
const INLINE: usize = STORED_FROM;

/// A range's entries sorted on the fly.
pub(crate) enum Sorted {
    Inline([u32; INLINE], usize),
    Heap(Vec<u32>),
}

impl Sorted {
    fn as_slice(&self) -> &[u32] {
        match self {
            Sorted::Inline(buf, len) => &buf[..*len],
            Sorted::Heap(v) => v,
        }
    }
}

/// One context's successors by descending probability (ties by lower
/// entry), with the running sums of their probabilities: what exact top-k,
/// sampling and top-p walk.
pub(crate) enum Ranking<'a> {
    /// Stored in full: the hash layout, and the trie's unigrams.
    Slices {
        /// Entries in rank order.
        ranked: &'a [u32],
        /// Running sums along them.
        cum: &'a [f32],
    },
    /// A trie range with a stored ranking.
    Stored {
        /// The order's probabilities.
        probs: &'a Values,
        /// First entry of the range.
        s: usize,
        /// Its length.
        len: usize,
        /// Where its permutation and sums are.
        at: StoredAt<'a>,
    },
    /// A trie range sorted on the fly.
    Sorted {
        /// The order's probabilities.
        probs: &'a Values,
        /// Entries in rank order.
        ranked: Sorted,
    },
}

impl Ranking<'_> {
    /// Number of ranked entries.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Ranking::Slices { ranked, .. } => ranked.len(),
            Ranking::Stored { len, .. } => *len,
            Ranking::Sorted { ranked, .. } => ranked.as_slice().len(),
        }
    }

    /// Whether nothing is ranked.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry ranked `i`-th (None past the end or for a corrupt offset).
    #[inline]
    pub fn entry(&self, i: usize) -> Option<usize> {
        match self {
            Ranking::Slices { ranked, .. } => ranked.get(i).map(|&e| e as usize),
            Ranking::Stored { s, len, at, .. } => {
                if i >= *len {
                    return None;
                }
                let w = at.width as usize;
                let off = bits_at(at.ranks, at.bit + i * w, at.width) as usize;
                (off < *len).then_some(s + off)
            }
            Ranking::Sorted { ranked, .. } => ranked.as_slice().get(i).map(|&e| e as usize),
        }
    }

    /// 10^logprob of the entry ranked `i`-th (0 for none).
    fn term(&self, probs: &Values, i: usize) -> f64 {
        self.entry(i).map_or(0.0, |e| mass(probs, e))
    }

    /// The running sum through rank `i`, as the hash layout stores it.
    pub fn cum(&self, i: usize) -> Option<f32> {
        if i >= self.len() {
            return None;
        }
        match self {
            Ranking::Slices { cum, .. } => cum.get(i).copied(),
            Ranking::Stored { probs, len, at, .. } => {
                let j = i / at.every;
                if (i + 1).is_multiple_of(at.every) || i + 1 == *len {
                    return at.sums.get(j).map(|&c| c as f32);
                }
                let mut acc = if j == 0 { 0.0 } else { at.sums[j - 1] };
                for t in j * at.every..=i {
                    acc += self.term(probs, t);
                }
                Some(acc as f32)
            }
            Ranking::Sorted { probs, .. } => {
                let acc: f64 = (0..=i).fold(0.0, |acc, t| acc + self.term(probs, t));
                Some(acc as f32)
            }
        }
    }

    /// The sum of the whole range (0 when empty).
    pub fn total(&self) -> f32 {
        self.len()
            .checked_sub(1)
            .and_then(|i| self.cum(i))
            .unwrap_or(0.0)
    }

    /// The first rank whose running sum exceeds `target` (the length when
    /// none does): what a draw binary-searches.
    pub fn cum_partition(&self, target: f64) -> usize {
        let above = |acc: f64| f64::from(acc as f32) > target;
        match self {
            Ranking::Slices { cum, .. } => cum.partition_point(|&c| f64::from(c) <= target),
            Ranking::Stored { probs, len, at, .. } => {
                let j = at.sums.partition_point(|&c| !above(c));
                if j >= at.sums.len() {
                    return *len;
                }
                let mut acc = if j == 0 { 0.0 } else { at.sums[j - 1] };
                let end = ((j + 1) * at.every).min(*len);
                for t in j * at.every..end {
                    acc += self.term(probs, t);
                    if above(acc) {
                        return t;
                    }
                }
                end
            }
            Ranking::Sorted { probs, ranked } => {
                let mut acc = 0.0;
                for t in 0..ranked.as_slice().len() {
                    acc += self.term(probs, t);
                    if above(acc) {
                        return t;
                    }
                }
                ranked.as_slice().len()
            }
        }
    }

    /// The number of leading ranks whose entries satisfy `pred` (a predicate
    /// true on a prefix of the ranking, as `slice::partition_point` takes).
    pub fn partition(&self, pred: impl Fn(usize) -> bool) -> usize {
        self.partition_in(0, self.len(), pred)
    }

    /// [`Ranking::partition`] when it is known to lie in `lo..=hi`.
    pub fn partition_in(&self, lo: usize, hi: usize, pred: impl Fn(usize) -> bool) -> usize {
        let (mut lo, mut hi) = (lo, hi.min(self.len()));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entry(mid).is_some_and(&pred) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

impl Trie {
    /// The ranking of entries `s..e` of order `k` (0-based): stored for
    /// unigrams and for long ranges, sorted here for the rest.
    pub(crate) fn ranking(&self, k: usize, s: usize, e: usize) -> Ranking<'_> {
        let Some(level) = self.levels.get(k) else {
            return Ranking::Slices {
                ranked: &[],
                cum: &[],
            };
        };
        if k == 0 {
            return Ranking::Slices {
                ranked: level.by_prob.get(s..e).unwrap_or(&[]),
                cum: level.cum.get(s..e).unwrap_or(&[]),
            };
        }
        let e = e.min(level.len);
        let s = s.min(e);
        let probs = &level.probs;
        if let Some(at) = level.rankings.find(s, e) {
            return Ranking::Stored {
                probs,
                s,
                len: e - s,
                at,
            };
        }
        let len = e - s;
        let ranked = if len <= INLINE {
            let mut buf = [0u32; INLINE];
            for (slot, off) in buf.iter_mut().zip(0..len as u32) {
                *slot = off;
            }
            sort_offsets(probs, s, &mut buf[..len]);
            for slot in &mut buf[..len] {
                *slot += s as u32;
            }
            Sorted::Inline(buf, len)
        } else {
            let mut v: Vec<u32> = (0..len as u32).collect();
            sort_offsets(probs, s, &mut v);
            v.iter_mut().for_each(|x| *x += s as u32);
            Sorted::Heap(v)
        };
        Ranking::Sorted { probs, ranked }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Control;
    use crate::corpus::Corpus;
    use crate::count::{count_ngrams, CountOptions};
    use crate::lm::kneser_ney::KneserNeyOptions;
    use crate::lm::model::NGramModel;
    use crate::lm::trie::tests::through_ranked_file;
    use crate::lm::{binary, fit, Smoothing};
    use crate::sample::{Rng, SamplingParams};

    /// A 3-gram model with long sibling ranges ("w0" is followed by 250
    /// words) and many ties (equal counts).
    fn long_ranges() -> NGramModel {
        let texts: Vec<String> = (0..900usize)
            .map(|i| {
                let (a, b) = (i * 7 % 250, i * 13 % 256);
                format!("w0 w{a} w{} w{b}", i % 5)
            })
            .collect();
        let options = CountOptions {
            order: 3,
            ..Default::default()
        };
        let counts = count_ngrams(&Corpus::from_texts(texts), &options, &Control::new()).unwrap();
        fit(&counts, &Smoothing::KneserNey(KneserNeyOptions::default())).unwrap()
    }

    /// Every sibling range of every order above the unigrams.
    fn ranges(m: &NGramModel) -> Vec<(usize, usize, usize)> {
        let o = m.orders();
        let mut out = Vec::new();
        for k in 1..m.order() {
            for p in 0..o.len(k - 1) {
                let (s, e) = o.children(k - 1, p);
                out.push((k, s, e));
            }
        }
        out
    }

    /// Rankings of the trie equal the hash layout's stored ones: entries,
    /// running sums to the bit, and where a draw of any target lands.
    fn assert_same_rankings(hash: &NGramModel, trie: &NGramModel, stored_from: usize) {
        let (h, t) = (hash.orders(), trie.orders());
        let mut stored = 0;
        for (k, s, e) in ranges(hash) {
            let (a, b) = (h.ranking(k, s, e), t.ranking(k, s, e));
            let is_stored = matches!(b, Ranking::Stored { .. });
            assert_eq!(
                is_stored,
                e - s >= stored_from && stored_from > 0,
                "{k} {s}..{e}"
            );
            stored += is_stored as usize;
            assert_eq!(a.len(), b.len());
            assert_eq!(a.total().to_bits(), b.total().to_bits());
            let mut targets = vec![-1.0, 0.0, 0.5, 1.0, 2.0];
            for i in 0..a.len() {
                assert_eq!(a.entry(i), b.entry(i), "order {k} range {s}..{e} rank {i}");
                let c = a.cum(i).unwrap();
                assert_eq!(c.to_bits(), b.cum(i).unwrap().to_bits(), "rank {i}");
                let c = f64::from(c);
                targets.extend([c, c.next_up(), c.next_down()]);
            }
            assert_eq!((a.cum(a.len()), b.cum(b.len())), (None, None));
            for x in targets {
                assert_eq!(a.cum_partition(x), b.cum_partition(x), "target {x}");
            }
            let cut = |r: usize| hash.orders().logprob(k, r) >= -1.5;
            assert_eq!(a.partition(cut), b.partition(cut));
        }
        if stored_from > 0 {
            assert!(stored > 3, "only {stored} ranges stored");
        }
    }

    #[test]
    fn stored_rankings_match_the_hash_layouts_bit_for_bit() {
        let hash = long_ranges();
        for stored_from in [STORED_FROM, 2, 1] {
            let trie = through_ranked_file(&hash, None, stored_from, 8);
            assert_same_rankings(&hash, &trie, stored_from);
        }
        // Version 7 files store none: every range is sorted on the fly.
        assert_same_rankings(&hash, &through_ranked_file(&hash, None, 2, 7), 0);
    }

    #[test]
    fn quantized_rankings_are_the_sorted_ones() {
        let hash = long_ranges();
        let sorted = through_ranked_file(&hash, Some(4), 2, 7);
        let stored = through_ranked_file(&hash, Some(4), 2, 8);
        let (a, b) = (sorted.orders(), stored.orders());
        for (k, s, e) in ranges(&hash) {
            let (x, y) = (a.ranking(k, s, e), b.ranking(k, s, e));
            for i in 0..x.len() {
                assert_eq!(x.entry(i), y.entry(i));
                assert_eq!(x.cum(i).map(f32::to_bits), y.cum(i).map(f32::to_bits));
            }
        }
    }

    #[test]
    fn stored_rankings_are_small() {
        let hash = long_ranges();
        let trie = through_ranked_file(&hash, None, STORED_FROM, 8);
        let t = trie.trie.as_ref().unwrap();
        let n: usize = (1..3).map(|k| t.len(k)).sum();
        let bytes: usize = t.levels.iter().map(|l| l.rankings.bytes()).sum();
        // The hash layout's by_prob and cum take 8 bytes per n-gram.
        assert!(bytes * 4 < n * 8, "{bytes} bytes for {n} n-grams");
    }

    /// Every query that reads rankings, on several states.
    fn exercise(m: &NGramModel) {
        let w0 = m.vocab.id("w0");
        for context in [vec![w0], vec![w0, m.vocab.id("w3")], vec![], vec![999]] {
            let state = m.state_for(&context, true);
            let _ = m.top_k(&state, 20);
            let mut n = 0;
            m.for_each_candidate(&state, |_, _| {
                n += 1;
                n < 5000
            });
            for params in [
                SamplingParams::default(),
                SamplingParams {
                    top_p: Some(0.9),
                    ..Default::default()
                },
                SamplingParams {
                    top_p: Some(0.3),
                    ..Default::default()
                },
            ] {
                let mut rng = Rng::new(3);
                for _ in 0..20 {
                    let _ = m.sample_next(&state, &params, &[], &mut rng);
                }
            }
        }
    }

    #[test]
    fn corrupt_rankings_give_wrong_answers_never_a_panic() {
        let hash = long_ranges();
        let good = through_ranked_file(&hash, None, 2, 8);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Garbage in the arrays themselves, of every kind.
        for trial in 0..60 {
            let mut m = good.clone();
            let t = m.trie.as_mut().unwrap();
            for level in t.levels.iter_mut().skip(1) {
                let r = &mut level.rankings;
                match trial % 4 {
                    0 => {
                        let mut dir = r.dir.to_vec();
                        for row in dir.iter_mut() {
                            if next() % 3 == 0 {
                                let (at, shift) = (next() % 4, next() % 32);
                                row[at as usize] = next() as u32 >> shift;
                            }
                        }
                        r.dir = dir.into();
                    }
                    1 => {
                        let mut ranks = r.ranks.to_vec();
                        for w in ranks.iter_mut() {
                            if next() % 4 == 0 {
                                *w = next();
                            }
                        }
                        r.ranks = ranks.into();
                    }
                    2 => {
                        let mut sums = r.sums.to_vec();
                        for c in sums.iter_mut() {
                            if next() % 4 == 0 {
                                *c = [f64::NAN, f64::INFINITY, -1.0, 1e300][(next() % 4) as usize];
                            }
                        }
                        r.sums = sums.into();
                    }
                    _ => {
                        r.cum_every = (next() % 40) as u32;
                        r.stored_from = (next() % 40) as u32;
                        let keep = (next() as usize) % (r.dir.len() + 1);
                        r.dir = r.dir[..keep].to_vec().into();
                    }
                }
            }
            exercise(&m);
        }
        // Bytes flipped in the file, opened without the checksums.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.nwlm");
        let control = Control::new();
        binary::save_trie(&hash, &path, None, 2, 8, &control).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let meta_len = u64::from_le_bytes(bytes[16..24].try_into().unwrap()) as usize;
        let start = 24 + meta_len + 4;
        for trial in 0..60 {
            let mut data = bytes.clone();
            for _ in 0..1 + trial % 8 {
                let at = start + (next() as usize) % (data.len() - start);
                data[at] = next() as u8;
            }
            std::fs::write(&path, &data).unwrap();
            if let Ok(m) = binary::load(&path, false) {
                exercise(&m);
            }
        }
    }

    #[test]
    fn a_given_ranking_is_stored_as_is_and_a_wrong_one_is_sorted_instead() {
        let m = long_ranges();
        let trie = Trie::from_levels_ranked(&m.levels, None, 1).unwrap();
        let (k, level) = (2, &trie.levels[2]);
        let build = |ranked: &[u32]| {
            let ranges = (0..trie.len(k - 1)).map(|p| trie.children(k - 1, p));
            Rankings::build(&level.probs, ranges, level.len, (1, 4), ranked)
        };
        let bits = |r: &Rankings| (r.dir.to_vec(), r.ranks.to_vec(), r.sums.to_vec());
        let sorted = bits(&build(&[]));
        // The linked level's own ranking gives the same stored rankings.
        let ranked: Vec<u32> = m.levels[k].by_prob.to_vec();
        assert_eq!(bits(&build(&ranked)), sorted);
        // A range whose ranking is out of order, or an entry outside its
        // range, is sorted instead of trusted.
        let (s, e) = (0..trie.len(k - 1))
            .map(|p| trie.children(k - 1, p))
            .find(|(s, e)| e - s >= 3)
            .unwrap();
        let mut swapped = ranked.clone();
        swapped.swap(s, s + 1);
        assert_ne!(swapped, ranked);
        assert_eq!(bits(&build(&swapped)), sorted);
        let mut outside = ranked.clone();
        outside[s] = e as u32;
        assert_eq!(bits(&build(&outside)), sorted);
    }
}

//! [`Packed`]: unsigned integers of a fixed width of 0 to 32 bits, packed one
//! after another into 64-bit words (what the trie layout stores its word ids,
//! child pointers and quantized values in).
//!
//! Reads are bounds-checked: a value whose bits lie past the stored words
//! reads as 0 (only a corrupt or truncated file has such values), never a panic.

use super::array::Array;

/// Bits needed to store every value in `0..=max`.
pub fn bits_for(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

/// A packed array of `len` values of `bits` bits each.
#[derive(Debug, Clone, Default)]
pub struct Packed {
    /// The 64-bit words (one extra at the end, so a read never straddles the end).
    pub words: Array<u64>,
    /// Width of each value, 0..=32.
    pub bits: u8,
    /// Number of values.
    pub len: usize,
}

impl Packed {
    /// Pack `values`, each `< 2^bits`.
    pub fn new(values: impl ExactSizeIterator<Item = u64>, bits: u8) -> Self {
        let len = values.len();
        let total = len * bits as usize;
        let mut words = vec![0u64; total.div_ceil(64) + 1];
        let mask = mask(bits);
        for (i, v) in values.enumerate() {
            let bit = i * bits as usize;
            let (w, off) = (bit >> 6, bit & 63);
            let v = v & mask;
            words[w] |= v << off;
            if off + bits as usize > 64 {
                words[w + 1] |= v >> (64 - off);
            }
        }
        Self {
            words: words.into(),
            bits,
            len,
        }
    }

    /// A packed array from stored words, checking that they hold `len` values.
    pub fn from_words(words: Array<u64>, bits: u8, len: usize) -> Option<Self> {
        if bits > 32 {
            return None;
        }
        let need = (len.checked_mul(bits as usize)?).div_ceil(64) + 1;
        (words.len() == need).then_some(Self { words, bits, len })
    }

    /// Value `i` (0 when `i` is past the end).
    #[inline(always)]
    pub fn get(&self, i: usize) -> u64 {
        bits_at(&self.words, i.wrapping_mul(self.bits as usize), self.bits)
    }

    /// Bytes of storage.
    pub fn bytes(&self) -> usize {
        self.words.len() * 8
    }

    /// The array borrowed for a run of reads.
    #[inline(always)]
    pub fn view(&self) -> PackedView<'_> {
        PackedView {
            words: &self.words,
            bits: self.bits,
        }
    }

    /// Start loading the word value `i` begins in (a hint: nothing past the end).
    #[inline(always)]
    pub fn prefetch(&self, i: usize) {
        super::level::prefetch(&self.words, i.wrapping_mul(self.bits as usize) >> 6);
    }
}

/// The `width` bits (at most 32) starting at bit `bit` of `words` (bits past
/// the end read as 0).
#[inline(always)]
pub fn bits_at(words: &[u64], bit: usize, width: u8) -> u64 {
    let (w, off) = (bit >> 6, bit & 63);
    // Both words the value may span, with no branch on whether it does (a
    // packed array keeps a spare word at its end, so only a read past the
    // end, or of an array without that word, takes the slow path).
    if let Some(&[a, b]) = words.get(w..w.wrapping_add(2)) {
        return ((a >> off) | ((b << 1) << (63 - off))) & low_mask(width);
    }
    let lo = words.get(w).copied().unwrap_or(0) >> off;
    let v = if off + width as usize > 64 {
        lo | (words.get(w + 1).copied().unwrap_or(0) << (64 - off))
    } else {
        lo
    };
    v & mask(width)
}

/// `mask(width)` for the widths a packed value has (at most 32), without a branch.
#[inline(always)]
fn low_mask(width: u8) -> u64 {
    debug_assert!(width <= 32);
    (1u64 << (width & 63)) - 1
}

/// A [`Packed`] array borrowed for a run of reads: what each read would
/// otherwise look up again (the words' slice, the width) is looked up once.
#[derive(Clone, Copy, Default)]
pub struct PackedView<'a> {
    words: &'a [u64],
    bits: u8,
}

impl PackedView<'_> {
    /// Value `i` (0 when `i` is past the end), as [`Packed::get`].
    #[inline(always)]
    pub fn get(&self, i: usize) -> u64 {
        bits_at(self.words, i.wrapping_mul(self.bits as usize), self.bits)
    }

    /// Start loading the word value `i` begins in, as [`Packed::prefetch`].
    #[inline(always)]
    pub fn prefetch(&self, i: usize) {
        super::level::prefetch(self.words, i.wrapping_mul(self.bits as usize) >> 6);
    }
}

/// Write `v` (at most `width` <= 32 bits) at bit `bit` of `words`, growing
/// them as needed (the bits there must be 0).
pub fn put_bits(words: &mut Vec<u64>, bit: usize, v: u64, width: u8) {
    if width == 0 {
        return;
    }
    let end = (bit + width as usize).div_ceil(64);
    if words.len() < end {
        words.resize(end, 0);
    }
    let (w, off) = (bit >> 6, bit & 63);
    let v = v & mask(width);
    words[w] |= v << off;
    if off + width as usize > 64 {
        words[w + 1] |= v >> (64 - off);
    }
}

#[inline(always)]
fn mask(bits: u8) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_width() {
        for bits in 0..=32u8 {
            let values: Vec<u64> = (0..300u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & mask(bits))
                .collect();
            let p = Packed::new(values.iter().copied(), bits);
            for (i, &v) in values.iter().enumerate() {
                assert_eq!(p.get(i), v, "bits {bits} index {i}");
            }
            let again = Packed::from_words(p.words.clone(), bits, values.len()).unwrap();
            assert_eq!(again.get(299), values[299]);
        }
    }

    #[test]
    fn reads_past_the_end_are_zero_and_sizes_are_checked() {
        let p = Packed::new([5u64, 6, 7].into_iter(), 20);
        assert_eq!(p.get(1_000_000), 0);
        assert!(Packed::from_words(p.words.clone(), 20, 400).is_none());
        assert!(Packed::from_words(p.words.clone(), 40, 3).is_none());
        assert_eq!(bits_for(0), 0);
        assert_eq!(bits_for(1), 1);
        assert_eq!(bits_for(255), 8);
        assert_eq!(bits_for(256), 9);
    }
}

/// Bits each pointer keeps beyond the split that makes the whole smallest:
/// each one halves the table of high parts, which decoding searches at
/// random, so that it stays in cache on large models.
const EXTRA_LOW_BITS: u8 = 3;

/// A non-decreasing sequence (a trie order's child pointers) stored as
/// Raj and Whittaker (2003) store them, the idea KenLM calls Bhiksha: each
/// value keeps only its `low_bits` low bits, packed; its high part `h` is
/// implied by `first[h]`, the index of the first value whose high part is at
/// least `h`. The width of the low part is chosen to make the whole
/// smallest; the high part of value `i` is found from a hint built at load
/// (the high part of every 128th value), a step or two along `first`.
#[derive(Debug, Clone, Default)]
pub struct Pointers {
    /// Low bits of each value.
    pub low: Packed,
    /// `first[h]`: index of the first value with high part >= h; the last
    /// entry is the number of values.
    pub first: Array<u32>,
    /// `hints[b]`: the high part of value `b << HINT_SHIFT`, so that the high
    /// part of any value lies between two neighbouring hints (built from
    /// `first` in one pass when the table is made or loaded, never stored).
    hints: Vec<u32>,
}

/// Values per hint: a value's high part is found between two hints, a few
/// entries of `first` apart, without the mispredicted branches of a search.
const HINT_SHIFT: u32 = 7;

impl Pointers {
    /// Encode `values` (non-decreasing, at most `max`), choosing the split
    /// that takes the fewest bytes.
    pub fn new(values: &[u32], max: u32) -> Self {
        let total = bits_for(u64::from(max));
        let count = values.len() as u64;
        let cost = |low: u8| -> u64 {
            let highs = (u64::from(max) >> low) + 2;
            count * u64::from(low) + highs * 32
        };
        let smallest = (0..=total).min_by_key(|&b| cost(b)).unwrap_or(total);
        let low_bits = (smallest + EXTRA_LOW_BITS).min(total);
        let highs = (u64::from(max) >> low_bits) as usize + 1;
        let mut first = Vec::with_capacity(highs + 1);
        let mut i = 0usize;
        for h in 0..highs {
            while i < values.len() && ((u64::from(values[i]) >> low_bits) as usize) < h {
                i += 1;
            }
            first.push(i as u32);
        }
        first.push(values.len() as u32);
        let mask = (1u64 << low_bits) - 1;
        Self::from_parts(
            Packed::new(values.iter().map(|&v| u64::from(v) & mask), low_bits),
            first.into(),
        )
    }

    /// The table of `low` bits and `first` indexes (as [`Pointers::new`]
    /// makes them, or as a file holds them), with its hints built. A corrupt
    /// `first` gives garbage hints, never a panic.
    pub fn from_parts(low: Packed, first: Array<u32>) -> Self {
        let blocks = low.len.div_ceil(1 << HINT_SHIFT);
        let mut hints = Vec::with_capacity(blocks);
        // hints[b] is the largest h with first[h] <= b << HINT_SHIFT.
        let f: &[u32] = &first;
        let mut h = 0usize;
        for b in 0..blocks {
            let i = b << HINT_SHIFT;
            while h + 2 < f.len() && f[h + 1] as usize <= i {
                h += 1;
            }
            hints.push(h as u32);
        }
        Self { low, first, hints }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.low.len
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.low.len == 0
    }

    /// Start loading what [`Pointers::pair`] of `i` reads first: the low bits
    /// and the hint of its block (a hint).
    #[inline]
    pub fn prefetch(&self, i: usize) {
        self.low.prefetch(i);
        super::level::prefetch(&self.hints, i >> HINT_SHIFT);
    }

    /// The table borrowed for a run of reads.
    #[inline(always)]
    pub fn view(&self) -> PointersView<'_> {
        PointersView {
            low: self.low.view(),
            first: &self.first,
            hints: &self.hints,
        }
    }

    /// Values `i` and `i + 1` (a child range): one search for both.
    #[inline]
    pub fn pair(&self, i: usize) -> (u64, u64) {
        self.view().pair(i)
    }

    /// Value `i` (garbage, never a panic, for a corrupt table).
    #[inline]
    pub fn get(&self, i: usize) -> u64 {
        (self.view().high(i) << self.low.bits) | self.low.get(i)
    }

    /// Every value in order, decoded in one pass over the table (what
    /// checking a whole file does, without a search per value).
    pub fn for_each(&self, mut f: impl FnMut(usize, u64) -> bool) {
        let first: &[u32] = &self.first;
        let mut i = 0usize;
        for (h, pair) in first.windows(2).enumerate() {
            let end = (pair[1] as usize).min(self.len());
            while i < end {
                if !f(i, ((h as u64) << self.low.bits) | self.low.get(i)) {
                    return;
                }
                i += 1;
            }
        }
        // A corrupt table may leave values it never reaches.
        if i < self.len() {
            f(i, u64::MAX);
        }
    }

    /// Bytes of storage.
    pub fn bytes(&self) -> usize {
        self.low.bytes() + self.first.len() * 4
    }
}

/// [`Pointers`] borrowed for a run of reads (what each read would otherwise
/// look up again is looked up once; the default is an empty table).
#[derive(Clone, Copy, Default)]
pub struct PointersView<'a> {
    low: PackedView<'a>,
    first: &'a [u32],
    hints: &'a [u32],
}

impl PointersView<'_> {
    /// Start loading what [`PointersView::pair`] of `i` reads first, as
    /// [`Pointers::prefetch`].
    #[inline(always)]
    pub fn prefetch(&self, i: usize) {
        self.low.prefetch(i);
        super::level::prefetch(self.hints, i >> HINT_SHIFT);
    }

    /// The high part of value `i`: the largest h with `first[h] <= i`. It
    /// lies between the hints of `i`'s block and of the next one: a short
    /// scan of `first` from the first of them, or a bisection where they are
    /// far apart (after a value with many children).
    #[inline(always)]
    fn high(&self, i: usize) -> u64 {
        let f = self.first;
        let n = f.len();
        if n < 2 {
            return 0;
        }
        let b = i >> HINT_SHIFT;
        let at = |h: usize| f.get(h).copied().unwrap_or(u32::MAX);
        // Clamped: hints of a corrupt table may point anywhere.
        let mut lo = (self.hints.get(b).copied().unwrap_or(0) as usize).min(n - 2);
        let hi = self
            .hints
            .get(b + 1)
            .map_or(n - 2, |&h| (h as usize).clamp(lo, n - 2));
        let i = i as u32;
        if hi - lo <= 8 {
            while lo < hi && at(lo + 1) <= i {
                lo += 1;
            }
            return lo as u64;
        }
        // Invariant: first[lo] <= i, and the answer is at most hi.
        let mut hi = hi + 1;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if at(mid) <= i {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo as u64
    }

    /// Values `i` and `i + 1` (a child range): one search for both.
    #[inline(always)]
    pub fn pair(&self, i: usize) -> (u64, u64) {
        let h = self.high(i);
        let first = self.first;
        let mut h2 = h as usize;
        // Bounded: a corrupt table cannot make this run past its end.
        while first.get(h2 + 1).is_some_and(|&f| f as usize <= i + 1) {
            h2 += 1;
        }
        let bits = self.low.bits;
        (
            (h << bits) | self.low.get(i),
            ((h2 as u64) << bits) | self.low.get(i + 1),
        )
    }
}

#[cfg(test)]
mod pointer_tests {
    use super::*;

    /// Every value of `p` is `values`' (`get`), and every pair of neighbours (`pair`).
    fn assert_decodes(p: &Pointers, values: &[u32], what: &str) {
        for (i, &v) in values.iter().enumerate() {
            assert_eq!(p.get(i), u64::from(v), "{what}index {i}");
            if i + 1 < values.len() {
                assert_eq!(p.pair(i), (u64::from(v), u64::from(values[i + 1])));
            }
        }
    }

    #[test]
    fn pointers_round_trip_and_are_small() {
        let mut values = vec![0u32];
        let mut x = 0u32;
        for i in 0..20_000u32 {
            x += (i.wrapping_mul(2_654_435_761) >> 28) % 5 + if i % 997 == 0 { 3000 } else { 0 };
            values.push(x);
        }
        let p = Pointers::new(&values, x);
        assert_decodes(&p, &values, "");
        let mut seen = Vec::new();
        p.for_each(|_, v| {
            seen.push(v as u32);
            true
        });
        assert_eq!(seen, values);
        assert!(p.bytes() * 8 < values.len() * bits_for(u64::from(x)) as usize * 3 / 4);
        // The table of high parts, searched at random by every decode, stays
        // a small fraction of the values (about 1/22 at the smallest split).
        assert!(
            p.first.len() * 100 < values.len(),
            "{} highs",
            p.first.len()
        );
        let empty = Pointers::new(&[0], 0);
        assert_eq!(empty.get(0), 0);
        // A corrupt table gives wrong values, never a panic.
        let mut bad = p.clone();
        bad.first = vec![5u32, 1, 0, 7].into();
        for i in [0usize, 1, 5, 19_999, 1 << 40] {
            let _ = bad.get(i);
        }
        // Hints built from a corrupt table, too.
        let bad = Pointers::from_parts(p.low.clone(), vec![9u32, 3, 3, 40_000, 0, 2].into());
        for i in [0usize, 1, 127, 128, 5_000, 19_999, 20_000, 1 << 40] {
            let _ = bad.pair(i.min(20_000));
            let _ = bad.get(i);
        }
    }

    /// Every value decodes through the hints, whatever the shape: long runs
    /// of equal values (entries without children), single huge jumps (an
    /// entry with most of the next order as children), steady growth.
    #[test]
    fn pointers_decode_through_hints_on_skewed_sequences() {
        let mut seed = 11u64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for shape in 0..7 {
            let len = [1usize, 2, 127, 129, 5_000, 40_000, 40_000][shape];
            let mut values = vec![0u32];
            let mut x = 0u32;
            for k in 1..len {
                x += match (shape, next(100)) {
                    _ if k == len / 2 && len > 2 => 3_000_000,
                    // Mostly no children, now and then very many (shape
                    // 6: one entry has most of them, so that a block of
                    // values spans many high parts).
                    (s, 0) if s < 6 => next(1 << 20) as u32,
                    (_, r) if r < 40 => 0,
                    _ => next(8) as u32,
                };
                values.push(x);
            }
            let p = Pointers::new(&values, x);
            assert_decodes(&p, &values, &format!("shape {shape}, "));
            // The same table rebuilt from its parts (as a file is loaded).
            let q = Pointers::from_parts(p.low.clone(), p.first.clone());
            for (i, &v) in values.iter().enumerate() {
                assert_eq!(q.get(i), u64::from(v), "shape {shape}, index {i}");
            }
        }
    }
}

//! Where each n-gram's suffix sits one order down, by sorting instead of
//! hashing.
//!
//! Kneser-Ney's continuation counts and its interpolation need, for every
//! n-gram `w1 .. wn+1` of an order, the entry of `w2 .. wn+1` in the order
//! below. Looking each one up in a hash index costs two cache misses per
//! n-gram (the slot, then the key to compare) and an index of the lower order
//! built first; on the Gutenberg 5-gram that was the largest stage of fitting.
//!
//! Both orders are sorted, so the lookups can be a join instead: the lower
//! order is cut into buckets of consecutive entries at first-word boundaries
//! (a few thousand entries each, so a bucket's keys stay in cache); the
//! n-grams above are distributed into the buckets by their second word (a
//! parallel pass, then two sequential ones), each bucket's suffixes are
//! copied out, sorted and merged with its slice of the lower order, in
//! parallel over the buckets.
//! Every read of the lower order is sequential, and the reads of the order
//! above are known in advance (prefetched).

use rayon::prelude::*;

use super::level::{prefetch, Level};

/// No entry (the suffix is not in the lower order).
pub const NONE: u32 = u32::MAX;

/// About this many entries of the lower order per bucket.
const BUCKET: usize = 1 << 13;

/// For every n-gram of `above` (one order up from `level`), the entry of
/// `level` holding its last `level.n` ids ([`NONE`] where there is none);
/// and for every entry of `level`, how many n-grams of `above` end with it.
pub fn suffix_entries(level: &Level, above: &Level) -> (Vec<u32>, Vec<u64>) {
    let (n, m, q) = (level.n, level.len(), above.len());
    let mut hits = vec![0u64; m];
    if above.n != n + 1 || m == 0 || q == 0 {
        return (vec![NONE; q], hits);
    }
    let (bucket_of, bounds) = buckets(level);
    let width = above.n;
    // Which bucket each n-gram above goes to (NONE: its second word is past
    // the last first word of `level`), then where each bucket's part starts.
    let home = |j: usize| {
        let second = above.keys[j * width + 1] as usize;
        bucket_of.get(second).copied().unwrap_or(NONE)
    };
    let homes: Vec<u32> = (0..q).into_par_iter().map(home).collect();
    let mut starts = vec![0usize; bounds.len()];
    for &b in &homes {
        if let Some(c) = starts.get_mut(b as usize) {
            *c += 1;
        }
    }
    let mut total = 0;
    for c in &mut starts {
        let len = *c;
        *c = total;
        total += len;
    }
    // The n-grams above, grouped by bucket (ascending within each).
    let mut grouped = vec![0u32; total];
    let mut next = starts.clone();
    for (j, &b) in homes.iter().enumerate() {
        if let Some(at) = next.get_mut(b as usize) {
            grouped[*at] = j as u32;
            *at += 1;
        }
    }
    drop((next, homes));
    // Each bucket: the lower order's entries bounds[b].0..bounds[b].1 and
    // the n-grams above grouped[starts[b]..]; its hits are its own slice.
    let mut found = vec![NONE; total];
    let mut parts = Vec::with_capacity(bounds.len());
    {
        let (mut hits_rest, mut found_rest) = (&mut hits[..], &mut found[..]);
        for (b, &(lo, hi)) in bounds.iter().enumerate() {
            let end = starts.get(b + 1).copied().unwrap_or(total);
            let (h, rest) = std::mem::take(&mut hits_rest).split_at_mut(hi - lo);
            hits_rest = rest;
            let (f, rest) = std::mem::take(&mut found_rest).split_at_mut(end - starts[b]);
            found_rest = rest;
            parts.push((lo, &grouped[starts[b]..end], h, f));
        }
        debug_assert!(hits_rest.is_empty() && found_rest.is_empty());
    }
    parts.into_par_iter().for_each(|(lo, js, hits, found)| {
        join_bucket(level, above, lo, js, hits, found);
    });
    // Back to the order of `above`.
    let mut suffixes = vec![NONE; q];
    for (&j, &i) in grouped.iter().zip(&found) {
        suffixes[j as usize] = i;
    }
    (suffixes, hits)
}

/// Cut `level` into buckets of about [`BUCKET`] consecutive entries, each
/// holding every entry of its first words: the bucket of every word below
/// the last first word, and each bucket's entries (start, end). Words that
/// start no entry belong to the bucket around them.
fn buckets(level: &Level) -> (Vec<u32>, Vec<(usize, usize)>) {
    let (n, m) = (level.n, level.len());
    let words = level.keys[(m - 1) * n] as usize + 1;
    let mut bucket_of = vec![0u32; words];
    let mut bounds = Vec::with_capacity(m / BUCKET + 1);
    let (mut lo, mut i) = (0, 0);
    for (w, slot) in bucket_of.iter_mut().enumerate() {
        while i < m && level.keys[i * n] as usize == w {
            i += 1;
        }
        *slot = bounds.len() as u32;
        if i - lo >= BUCKET || w + 1 == words {
            bounds.push((lo, i));
            lo = i;
        }
    }
    (bucket_of, bounds)
}

/// Join one bucket: `js` are n-grams of `above` whose suffixes can only be
/// among `level`'s entries `lo .. lo + hits.len()`; `found[t]` gets the entry
/// of `js[t]`'s suffix, and `hits` counts the suffixes found per entry.
fn join_bucket(
    level: &Level,
    above: &Level,
    lo: usize,
    js: &[u32],
    hits: &mut [u64],
    found: &mut [u32],
) {
    let n = level.n;
    let keys = &level.keys[lo * n..(lo + hits.len()) * n];
    let entry = |i: usize| &keys[i * n..(i + 1) * n];
    let suffix = |t: usize| {
        let j = js[t] as usize;
        &above.keys[j * above.n + 1..(j + 1) * above.n]
    };
    let pack = |ids: &[u32]| ids.iter().fold(0u128, |k, &w| k << 32 | w as u128);
    let by_packed = |i: usize, want: u128| pack(entry(i)).cmp(&want);
    if n <= 3 {
        // Up to 3 ids and the query's place: one 128-bit integer to sort.
        let mut queries: Vec<u128> = Vec::with_capacity(js.len());
        for t in 0..js.len() {
            prefetch_ahead(above, js, t);
            queries.push(pack(suffix(t)) << 32 | t as u128);
        }
        queries.sort_unstable();
        let sorted = queries.into_iter().map(|q| (q >> 32, q as u32));
        merge_sorted(sorted, by_packed, lo, hits, found);
    } else if n == 4 {
        // 4 ids: one 128-bit integer, compared at once.
        let mut queries: Vec<(u128, u32)> = Vec::with_capacity(js.len());
        for t in 0..js.len() {
            prefetch_ahead(above, js, t);
            queries.push((pack(suffix(t)), t as u32));
        }
        queries.sort_unstable_by_key(|q| q.0);
        merge_sorted(queries, by_packed, lo, hits, found);
    } else {
        let mut rows: Vec<u32> = Vec::with_capacity(js.len() * n);
        for t in 0..js.len() {
            prefetch_ahead(above, js, t);
            rows.extend_from_slice(suffix(t));
        }
        let row = |t: u32| &rows[t as usize * n..(t as usize + 1) * n];
        let mut sorted: Vec<u32> = (0..js.len() as u32).collect();
        sorted.sort_unstable_by(|&a, &b| row(a).cmp(row(b)));
        let sorted = sorted.into_iter().map(|t| (row(t), t));
        merge_sorted(sorted, |i, want| entry(i).cmp(want), lo, hits, found);
    }
}

/// Merge a bucket's queries `(suffix, t)`, in ascending order of suffix, with
/// its entries (`cmp(i, suffix)` compares entry i with a suffix): each query
/// found is counted in `hits` and its entry (from `lo`) put in `found[t]`.
fn merge_sorted<W: Copy>(
    queries: impl IntoIterator<Item = (W, u32)>,
    cmp: impl Fn(usize, W) -> std::cmp::Ordering,
    lo: usize,
    hits: &mut [u64],
    found: &mut [u32],
) {
    use std::cmp::Ordering::{Equal, Less};
    let mut i = 0;
    for (want, t) in queries {
        while i < hits.len() && cmp(i, want) == Less {
            i += 1;
        }
        if i < hits.len() && cmp(i, want) == Equal {
            hits[i] += 1;
            found[t as usize] = (lo + i) as u32;
        }
    }
}

/// Start loading the suffix of the n-gram of `above` a few places after
/// `js[t]`: they are read in `js`'s order, at random.
#[inline(always)]
fn prefetch_ahead(above: &Level, js: &[u32], t: usize) {
    const AHEAD: usize = 16;
    if let Some(&ahead) = js.get(t + AHEAD) {
        prefetch(&above.keys[..], ahead as usize * above.n + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(n: usize, keys: Vec<u32>) -> Level {
        let m = keys.len() / n;
        Level::new(n, keys, vec![0.0; m], vec![0.0; m])
    }

    /// Sorted distinct keys of `n` ids below `ids`, from a simple generator.
    fn random_level(n: usize, count: usize, ids: u32, seed: u64) -> Level {
        let mut state = seed;
        let mut rows: Vec<Vec<u32>> = (0..count)
            .map(|_| {
                (0..n)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        // Skewed: small ids far more often, as words are.
                        let r = (state >> 33) as u32 % ids;
                        r % (1 + (state >> 20) as u32 % ids)
                    })
                    .collect()
            })
            .collect();
        rows.sort();
        rows.dedup();
        level(n, rows.concat())
    }

    /// The answer by hash lookups, one n-gram at a time.
    fn by_find(level: &Level, above: &Level) -> (Vec<u32>, Vec<u64>) {
        let mut hits = vec![0u64; level.len()];
        let suffixes = (0..above.len())
            .map(|j| match level.find(&above.key(j)[1..]) {
                Some(i) => {
                    hits[i] += 1;
                    i as u32
                }
                None => NONE,
            })
            .collect();
        (suffixes, hits)
    }

    #[test]
    fn joins_as_lookups_do_with_present_and_absent_suffixes() {
        // Many buckets (a large level, some words with long spans), queries
        // whose suffixes are partly absent and whose second words are past
        // the lower order's last first word; each width of key.
        for (n, count, ids) in [
            (1, 500, 600),
            (2, 40_000, 3_000),
            (3, 60_000, 200),
            (4, 30_000, 50),
            // Past 4 ids: keys compared as slices.
            (5, 20_000, 12),
            (6, 20_000, 8),
        ] {
            let low = random_level(n, count, ids, 7 + n as u64);
            let up = random_level(n + 1, count, ids + 40, 11 + n as u64);
            let (suffixes, hits) = suffix_entries(&low, &up);
            let (want_suffixes, want_hits) = by_find(&low, &up);
            assert_eq!(suffixes, want_suffixes, "order {n}");
            assert_eq!(hits, want_hits, "order {n}");
            let present = suffixes.iter().filter(|&&s| s != NONE).count();
            assert!(
                present > 0 && present < up.len(),
                "order {n}: {present} of {}",
                up.len()
            );
        }
    }

    #[test]
    fn every_suffix_present_as_counting_gives() {
        // Bigrams and their unigrams, each bigram's suffix a unigram.
        let low = level(1, vec![0, 1, 2, 3, 4]);
        let up = level(2, vec![1, 3, 1, 4, 3, 4, 4, 2, 4, 4]);
        let (suffixes, hits) = suffix_entries(&low, &up);
        assert_eq!(suffixes, [3, 4, 4, 2, 4]);
        assert_eq!(hits, [0, 0, 1, 1, 3]);
    }

    #[test]
    fn empty_and_misshapen_levels_find_nothing() {
        let low = level(1, vec![0, 1]);
        let empty = level(2, vec![]);
        assert_eq!(suffix_entries(&low, &empty), (vec![], vec![0, 0]));
        let up = level(2, vec![0, 1]);
        let none = level(1, vec![]);
        assert_eq!(suffix_entries(&none, &up), (vec![NONE], vec![]));
        // `above` two orders up: not a suffix relation.
        let far = level(3, vec![0, 0, 1]);
        assert_eq!(suffix_entries(&low, &far), (vec![NONE], vec![0, 0]));
    }
}

//! Putting the n-grams of one ARPA section into the order a [`Level`] keeps
//! (lexicographic by ids, oldest word first).
//!
//! Contract: [`sort_section`] returns the keys sorted, duplicates adjacent
//! (ties kept in file order), their values moved along, and the file rank of
//! every entry (None when the file already had them in this order, as
//! nextword's own sorted files or SRILM's can: then nothing moves).
//!
//! lmplz writes each order sorted by its *last* words, not ours, so its files
//! always take the sort. Each n-gram travels as one small array of its ids
//! followed by its rank, so that the parallel sort compares plain integers
//! in place (no key read through a pointer, no comparator that chases the
//! keys array) and ties fall to file order by themselves.
//!
//! [`Level`]: super::level::Level

use rayon::prelude::*;

use super::arpa_read::Section;

/// One order in a level's order; see the module docs.
#[derive(Debug)]
pub(crate) struct Sorted {
    /// The n.
    pub n: usize,
    /// Flat ids, `n` per n-gram, sorted.
    pub keys: Vec<u32>,
    /// log10 probabilities, by sorted position.
    pub logprob: Vec<f32>,
    /// log10 backoffs, by sorted position.
    pub backoff: Vec<f32>,
    /// The rank in the file of each sorted entry; None: the file's order.
    pub ranks: Option<Vec<u32>>,
}

/// Sort records of `S` values (ids, then the rank) as plain arrays.
fn sort_fixed<const S: usize>(records: &mut [u32]) {
    let (records, _) = records.as_chunks_mut::<S>();
    records.par_sort_unstable();
}

/// Sort records of any length (orders above those [`sort_fixed`] serves).
fn sort_any(records: &mut Vec<u32>, stride: usize) {
    let m = records.len() / stride;
    let mut order: Vec<u32> = (0..m as u32).collect();
    let rec = |i: u32| &records[i as usize * stride..(i as usize + 1) * stride];
    order.par_sort_unstable_by(|&a, &b| rec(a).cmp(rec(b)));
    let mut sorted = Vec::with_capacity(records.len());
    for i in order {
        sorted.extend_from_slice(rec(i));
    }
    *records = sorted;
}

/// Sort a section read from a file (see the module docs).
pub(crate) fn sort_section(section: Section) -> Sorted {
    let n = section.n;
    let stride = n + 1;
    let mut records = section.records;
    let m = records.len() / stride;
    let key = |i: usize| i * stride..i * stride + n;
    let in_order = (1..m)
        .into_par_iter()
        .all(|i| records[key(i - 1)] <= records[key(i)]);
    if !in_order {
        match stride {
            2 => sort_fixed::<2>(&mut records),
            3 => sort_fixed::<3>(&mut records),
            4 => sort_fixed::<4>(&mut records),
            5 => sort_fixed::<5>(&mut records),
            6 => sort_fixed::<6>(&mut records),
            7 => sort_fixed::<7>(&mut records),
            8 => sort_fixed::<8>(&mut records),
            _ => sort_any(&mut records, stride),
        }
    }
    // Drop the ranks from the records in place (each record moves down, never
    // over one not yet read), keeping them aside when the order changed.
    let mut ranks = Vec::with_capacity(if in_order { 0 } else { m });
    for i in 0..m {
        if !in_order {
            ranks.push(records[i * stride + n]);
        }
        records.copy_within(key(i), i * n);
    }
    records.truncate(m * n);
    records.shrink_to_fit();
    let (logprob, backoff, ranks) = if in_order {
        (section.logprob, section.backoff, None)
    } else {
        let gather = |values: &[f32]| -> Vec<f32> {
            ranks.par_iter().map(|&r| values[r as usize]).collect()
        };
        let logprob = gather(&section.logprob);
        drop(section.logprob);
        let backoff = gather(&section.backoff);
        (logprob, backoff, Some(ranks))
    };
    Sorted {
        n,
        keys: records,
        logprob,
        backoff,
        ranks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(n: usize, keys: &[&[u32]]) -> Section {
        let mut records = Vec::new();
        for (rank, key) in keys.iter().enumerate() {
            records.extend_from_slice(key);
            records.push(rank as u32);
        }
        Section {
            n,
            records,
            logprob: (0..keys.len()).map(|i| -(i as f32)).collect(),
            backoff: (0..keys.len()).map(|i| i as f32 / 10.0).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn sorts_and_carries_values_and_ranks() {
        for n in [1usize, 2, 3, 8, 9] {
            // Keys by their last word first (lmplz's order), then a duplicate.
            let keys: Vec<Vec<u32>> = [[3u32, 1], [2, 1], [1, 2], [3, 2], [2, 1]]
                .iter()
                .map(|k| {
                    let mut key = vec![7u32; n.saturating_sub(2)];
                    key.extend_from_slice(&k[2 - n.min(2)..]);
                    key
                })
                .collect();
            let refs: Vec<&[u32]> = keys.iter().map(Vec::as_slice).collect();
            let sorted = sort_section(section(n, &refs));
            let mut expected: Vec<(Vec<u32>, usize)> = keys
                .iter()
                .cloned()
                .enumerate()
                .map(|(r, k)| (k, r))
                .collect();
            expected.sort();
            let ranks = sorted.ranks.clone().expect("the order changed");
            for (i, (key, rank)) in expected.iter().enumerate() {
                assert_eq!(&sorted.keys[i * n..(i + 1) * n], key.as_slice(), "n={n}");
                assert_eq!(ranks[i] as usize, *rank);
                assert_eq!(sorted.logprob[i], -(*rank as f32));
                assert_eq!(sorted.backoff[i], *rank as f32 / 10.0);
            }
        }
    }

    #[test]
    fn a_sorted_file_keeps_its_order() {
        let sorted = sort_section(section(2, &[&[1, 2], &[1, 3], &[2, 0]]));
        assert!(sorted.ranks.is_none());
        assert_eq!(sorted.keys, vec![1, 2, 1, 3, 2, 0]);
        assert_eq!(sorted.logprob, vec![0.0, -1.0, -2.0]);
    }
}

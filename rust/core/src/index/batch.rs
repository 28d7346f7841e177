//! Counting many phrases at once, the batch behind `count_many`.
//!
//! A count is two binary searches over the suffix array: the first row not
//! below the phrase, and the first row not below the phrase with its last
//! token raised by one (the end of its rows). On a large index nearly every
//! probe of a search is two cache misses (the suffix array's entry, then the
//! token it points to), and one search's probes depend on one another, so a
//! search waits for one miss after another. Three things cut that wait:
//!
//! - each search starts in the rows of the phrase's first token (a table
//!   from the unigram counts), some log2(vocabulary) fewer probes;
//! - the phrases are searched in sorted order, so neighbouring searches
//!   probe the same rows first and find them in cache;
//! - the searches of a group advance in lockstep: each round loads every
//!   search's next suffix position and prefetches the token it will compare,
//!   then compares, so the group's misses overlap instead of queueing.
//!
//! Contract: the counts are exactly those of [`CorpusIndex::count`]; the
//! arrays are read through checked accessors, as everywhere in the index.

use super::file::CorpusIndex;
use super::search::{in_pool, with_view, Token, View};
use crate::{Error, Result};

/// One binary search of a group: the first row of `base..base + n` whose
/// suffix is not below `phrase` (with its last token raised by one when
/// `bump`), comparing from token `from` on (the rows share the tokens before).
#[derive(Debug, Clone, Copy)]
struct Search<'p> {
    phrase: &'p [u32],
    bump: bool,
    from: usize,
    base: usize,
    n: usize,
    pos: usize,
}

/// Phrases a lockstep group: 2 searches each, enough misses in flight to
/// keep the memory system busy.
const GROUP: usize = 16;
/// Phrases a parallel task: enough that sorted neighbours share their probes.
const TASK: usize = 4096;

impl<T: Token> View<'_, T> {
    /// Whether the suffix at `pos` sorts below the search's key.
    #[inline]
    fn below(&self, pos: usize, s: &Search<'_>) -> bool {
        let last = s.phrase.len() - 1;
        for (j, &p) in s.phrase.iter().enumerate().skip(s.from) {
            let key = p + u32::from(s.bump && j == last);
            let t = self.at(pos.saturating_add(j));
            if t != key {
                return t < key;
            }
        }
        false
    }

    /// Run the searches of a group to their end, in lockstep (std's
    /// `partition_point` loop, one round for all).
    fn lower_bounds(&self, group: &mut [Search<'_>]) {
        loop {
            let mut active = false;
            for s in group.iter_mut().filter(|s| s.n > 1) {
                active = true;
                s.pos = self.suffix(s.base + s.n / 2);
                self.prefetch(s.pos.saturating_add(s.from));
            }
            if !active {
                break;
            }
            for s in group.iter_mut().filter(|s| s.n > 1) {
                let half = s.n / 2;
                if self.below(s.pos, s) {
                    s.base += half;
                }
                s.n -= half;
            }
        }
        for s in group.iter_mut().filter(|s| s.n == 1) {
            if self.below(self.suffix(s.base), s) {
                s.base += 1;
            }
        }
    }

    /// The counts of `phrases`, in lexicographic order, into `out`: `empty`
    /// for the empty phrase, 0 for a phrase with an id from `vocab_len` on.
    fn count_sorted(&self, phrases: &[&[u32]], out: &mut [u64], vocab_len: u32, empty: u64) {
        let mut group = Vec::with_capacity(2 * GROUP);
        let mut slots = Vec::with_capacity(GROUP);
        for (phrases, out) in phrases.chunks(GROUP).zip(out.chunks_mut(GROUP)) {
            group.clear();
            slots.clear();
            for (i, (&phrase, out)) in phrases.iter().zip(out.iter_mut()).enumerate() {
                if phrase.is_empty() {
                    *out = empty;
                    continue;
                }
                if phrase.iter().any(|&t| t >= vocab_len) {
                    *out = 0;
                    continue;
                }
                let (rows, from) = match self.first_rows(phrase[0]) {
                    Some(rows) if phrase.len() == 1 => {
                        *out = rows.len() as u64;
                        continue;
                    }
                    Some(rows) => (rows, 1),
                    None => (0..self.rows, 0),
                };
                let search = Search {
                    phrase,
                    bump: false,
                    from,
                    base: rows.start,
                    n: rows.len(),
                    pos: 0,
                };
                group.extend([
                    search,
                    Search {
                        bump: true,
                        ..search
                    },
                ]);
                slots.push(i);
            }
            self.lower_bounds(&mut group);
            for (pair, &i) in group.chunks_exact(2).zip(&slots) {
                out[i] = pair[1].base.saturating_sub(pair[0].base) as u64;
            }
        }
    }
}

impl CorpusIndex {
    /// [`CorpusIndex::count`] of many phrases, on `threads` threads (0: all).
    pub fn count_batch(&self, phrases: &[&[u32]], threads: usize) -> Result<Vec<u64>> {
        use rayon::prelude::*;
        let vocab_len = self.vocab_len() as u32;
        let empty = self.tokens();
        in_pool(threads, || {
            let mut order: Vec<usize> = (0..phrases.len()).collect();
            order.par_sort_unstable_by(|&a, &b| phrases[a].cmp(phrases[b]));
            let sorted: Vec<&[u32]> = order.iter().map(|&i| phrases[i]).collect();
            let mut counts_sorted = vec![0u64; phrases.len()];
            counts_sorted
                .par_chunks_mut(TASK)
                .zip(sorted.par_chunks(TASK))
                .for_each(|(out, task)| {
                    // Counts add over shards; the empty phrase counts once.
                    let mut part = Vec::new();
                    for (i, shard) in self.shards().enumerate() {
                        if i == 0 {
                            with_view!(shard, v => v.count_sorted(task, out, vocab_len, empty));
                            continue;
                        }
                        part.resize(out.len(), 0);
                        with_view!(shard, v => v.count_sorted(task, &mut part, vocab_len, 0));
                        out.iter_mut().zip(&part).for_each(|(o, p)| *o += p);
                    }
                });
            let mut counts = vec![0u64; phrases.len()];
            for (&i, c) in order.iter().zip(counts_sorted) {
                counts[i] = c;
            }
            counts
        })
    }

    /// [`CorpusIndex::count_batch`] of the rows of a row-major matrix of ids
    /// (`rows` of `width` ids).
    pub fn count_rows(
        &self,
        ids: &[u32],
        rows: usize,
        width: usize,
        threads: usize,
    ) -> Result<Vec<u64>> {
        if rows.checked_mul(width) != Some(ids.len()) {
            return Err(Error::InvalidArgument(format!(
                "{} ids do not make {rows} rows of {width}",
                ids.len()
            )));
        }
        let phrases: Vec<&[u32]> = if width == 0 {
            vec![&[]; rows]
        } else {
            ids.chunks_exact(width).collect()
        };
        self.count_batch(&phrases, threads)
    }
}

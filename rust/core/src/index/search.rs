//! Queries on the suffix array: the range of suffixes that start with a
//! phrase (two binary searches), narrowing a range by one more token,
//! the distinct successors of a phrase, and the longest match at every
//! position of a text.
//!
//! Contract: every query reads the mapped arrays through checked accessors
//! (a corrupt file gives wrong answers, never a panic); a range `lo..hi` of
//! suffix-array rows holds exactly the suffixes that start with the phrase,
//! so its length is the phrase's count; phrases never hold [`SEP`], so no
//! match crosses a document boundary.

use std::cmp::Ordering;
use std::ops::Range;

use super::file::{CorpusIndex, Shard};
use super::SEP;
use crate::tokenize::BOS_ID;
use crate::{Error, Result};

/// A stored token: 16 or 32 bits.
pub trait Token: Copy + Send + Sync {
    /// The token as a `u32` id ([`SEP`] for the separator).
    fn id(self) -> u32;
}

impl Token for u16 {
    #[inline]
    fn id(self) -> u32 {
        if self == u16::MAX {
            SEP
        } else {
            self as u32
        }
    }
}

impl Token for u32 {
    #[inline]
    fn id(self) -> u32 {
        self
    }
}

/// The mapped token stream and suffix array, typed.
pub struct View<'a, T> {
    tokens: &'a [T],
    suffixes: &'a [u8],
    width: usize,
    mask: u64,
    // The first row of each first token's suffixes (see
    // `CorpusIndex::first_token_rows`); empty when unknown.
    starts: &'a [u64],
    /// Number of suffix-array rows (the stream's length).
    pub rows: usize,
}

impl<'a, T: Token> View<'a, T> {
    fn new(tokens: &'a [T], suffixes: &'a [u8], width: u8, starts: &'a [u64]) -> Self {
        let width = width as usize;
        Self {
            tokens,
            suffixes,
            width,
            mask: u64::MAX >> (64 - 8 * width as u32),
            starts,
            rows: tokens.len(),
        }
    }

    /// The rows whose suffixes start with `token`, when the table knows them.
    #[inline]
    pub(crate) fn first_rows(&self, token: u32) -> Option<Range<usize>> {
        let t = token as usize;
        let (lo, hi) = (*self.starts.get(t)?, *self.starts.get(t + 1)?);
        Some((lo as usize).min(self.rows)..(hi as usize).min(self.rows))
    }

    /// The stream position of suffix-array row `row`.
    #[inline]
    pub fn suffix(&self, row: usize) -> usize {
        let at = row * self.width;
        match self.suffixes.get(at..at + 8) {
            // One unaligned 8-byte read, masked to the entry's width (the
            // section ends with 8 bytes of padding, so the last entry has them).
            Some(b) => (u64::from_le_bytes(b.try_into().unwrap_or_default()) & self.mask) as usize,
            None => usize::MAX,
        }
    }

    /// The token at stream position `pos` ([`SEP`] past the end).
    #[inline]
    pub fn at(&self, pos: usize) -> u32 {
        self.tokens.get(pos).map_or(SEP, |t| t.id())
    }

    /// Start loading the token at stream position `pos` into the cache.
    #[inline]
    pub(crate) fn prefetch(&self, pos: usize) {
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = self.tokens.get(pos) {
            let ptr = (t as *const T).cast::<i8>();
            // SAFETY: prefetching is a hint; the address lies inside the stream.
            unsafe { std::arch::x86_64::_mm_prefetch(ptr, std::arch::x86_64::_MM_HINT_T0) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = pos;
    }

    /// The `len` tokens at `pos` (fewer at the end of the stream).
    pub fn slice(&self, pos: usize, len: usize) -> Vec<u32> {
        let end = pos.saturating_add(len).min(self.tokens.len());
        let start = pos.min(end);
        self.tokens[start..end].iter().map(|t| t.id()).collect()
    }

    /// The suffix at `pos`, cut to `phrase.len()` tokens, against `phrase`,
    /// from token `from` on (the tokens before it are known to be equal).
    #[inline]
    pub(crate) fn compare(&self, pos: usize, phrase: &[u32], from: usize) -> Ordering {
        for (j, &p) in phrase.iter().enumerate().skip(from) {
            let t = match pos.checked_add(j).and_then(|i| self.tokens.get(i)) {
                Some(t) => t.id(),
                // A suffix that ends first sorts first.
                None => return Ordering::Less,
            };
            match t.cmp(&p) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        Ordering::Equal
    }

    /// The rows whose suffixes start with `phrase` (all rows for an empty one).
    pub fn range(&self, phrase: &[u32]) -> Range<usize> {
        match phrase.first().and_then(|&t| self.first_rows(t)) {
            // Start in the first token's rows: ~log2(vocabulary) fewer probes,
            // each of them a likely cache miss on a large index.
            Some(rows) => self.range_in(rows, phrase, 1),
            None => self.range_in(0..self.rows, phrase, 0),
        }
    }

    /// Of the rows `rows`, whose suffixes share `phrase[..from]` and hold
    /// every suffix that starts with `phrase`, those that do.
    fn range_in(&self, rows: Range<usize>, phrase: &[u32], from: usize) -> Range<usize> {
        let (mut lo, mut hi) = (rows.start, rows.end);
        let cmp = |row: usize| self.compare(self.suffix(row), phrase, from);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match cmp(mid) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => {
                    // Split: the first match in lo..=mid, the end in mid+1..hi.
                    let first = lo + partition(mid - lo, |i| cmp(lo + i) == Ordering::Less);
                    let end =
                        mid + 1 + partition(hi - mid - 1, |i| cmp(mid + 1 + i) == Ordering::Equal);
                    return first..end;
                }
            }
        }
        lo..lo
    }

    /// Of the rows `range` (suffixes sharing their first `depth` tokens), those
    /// whose token at `depth` is `token`.
    pub fn narrow(&self, range: Range<usize>, depth: usize, token: u32) -> Range<usize> {
        let next = |row: usize| self.at(self.suffix(row).saturating_add(depth));
        let lo = range.start + partition(range.len(), |i| next(range.start + i) < token);
        let hi = lo + partition(range.end - lo, |i| next(lo + i) <= token);
        lo..hi
    }

    /// The distinct tokens at `depth` in the rows `range` with their counts,
    /// in id order, the separator left out (one binary search per distinct token).
    pub fn successors(&self, range: Range<usize>, depth: usize) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut row = range.start;
        while row < range.end {
            let token = self.at(self.suffix(row).saturating_add(depth));
            if token == SEP {
                break; // the separator sorts last
            }
            let group = self.narrow(row..range.end, depth, token);
            let end = group.end.max(row + 1);
            out.push((token, (end - row) as u64));
            row = end;
        }
        out
    }

    /// How many rows of `range` are followed at `depth` by a token other than
    /// the separator (and other than `<s>` when `skip_bos`).
    pub fn followed(&self, range: Range<usize>, depth: usize, skip_bos: bool) -> u64 {
        let seps = self.narrow(range.clone(), depth, SEP).len();
        let bos = if skip_bos {
            self.narrow(range.clone(), depth, BOS_ID).len()
        } else {
            0
        };
        (range.len() - seps - bos) as u64
    }

    /// For every position of `ids`, the length of the longest span starting
    /// there that occurs in the corpus. Uses that a match at `i` of length
    /// `m` implies one of `m - 1` at `i + 1`: that span is found with one
    /// search, then extended token by token.
    pub fn longest_matches(&self, ids: &[u32], vocab_len: u32) -> Vec<u32> {
        let mut out = Vec::with_capacity(ids.len());
        let mut known = 0usize;
        for i in 0..ids.len() {
            let mut len = known;
            let mut range = self.range(&ids[i..i + len]);
            while i + len < ids.len() && ids[i + len] < vocab_len {
                let next = self.narrow(range.clone(), len, ids[i + len]);
                if next.is_empty() {
                    break;
                }
                range = next;
                len += 1;
            }
            out.push(len as u32);
            known = len.saturating_sub(1);
        }
        out
    }
}

/// Per-shard (token, count) lists in id order, summed into one in id order.
pub(crate) fn merge_counts(lists: impl Iterator<Item = Vec<(u32, u64)>>) -> Vec<(u32, u64)> {
    let mut all: Vec<(u32, u64)> = Vec::new();
    let mut lists = lists.peekable();
    let Some(first) = lists.next() else {
        return all;
    };
    if lists.peek().is_none() {
        return first;
    }
    all.extend(first);
    lists.for_each(|l| all.extend(l));
    all.sort_unstable_by_key(|c| c.0);
    let mut out: Vec<(u32, u64)> = Vec::with_capacity(all.len());
    for (t, c) in all {
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 += c,
            _ => out.push((t, c)),
        }
    }
    out
}

/// The number of leading `0..n` for which `pred` holds (`pred` true then false).
#[inline]
pub(crate) fn partition(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Run `$body` with `$view` bound to a shard's typed [`View`].
macro_rules! with_view {
    ($shard:expr, $view:ident => $body:expr) => {
        match $shard.token_array() {
            $crate::index::file::Tokens::Narrow(t) => {
                let $view = $crate::index::search::View::of(&$shard, t);
                $body
            }
            $crate::index::file::Tokens::Wide(t) => {
                let $view = $crate::index::search::View::of(&$shard, t);
                $body
            }
        }
    };
}
pub(crate) use with_view;

impl<'a, T: Token> View<'a, T> {
    /// The view of a shard of an open index over its typed tokens.
    pub fn of(shard: &Shard<'a>, tokens: &'a [T]) -> Self {
        Self::new(
            tokens,
            shard.suffix_bytes(),
            shard.pointer_width(),
            shard.first_token_starts(),
        )
    }
}

/// Run `f` on a pool of `threads` threads (0: rayon's global pool).
pub fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    if threads == 0 {
        return Ok(f());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot start {threads} threads: {e}")))?;
    Ok(pool.install(f))
}

/// One occurrence of a phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Position in the token stream.
    pub position: u64,
    /// Document number (0-based, in corpus order).
    pub document: u64,
    /// Token offset within the document.
    pub offset: u64,
}

impl CorpusIndex {
    /// The ids of `tokens`; a word not in the vocabulary is [`super::ABSENT`].
    pub fn ids_of<S: AsRef<str>>(&self, tokens: &[S]) -> Result<Vec<u32>> {
        let vocab = self.vocab()?;
        Ok(tokens
            .iter()
            .map(|t| vocab.get(t.as_ref()).unwrap_or(super::ABSENT))
            .collect())
    }

    /// The ids of `text`'s tokens (the index's tokenizer, no padding); a word
    /// not in the vocabulary is [`super::ABSENT`].
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let vocab = self.vocab()?;
        let mut out = Vec::new();
        vocab
            .tokenizer()
            .for_each_token(text, |t| out.push(vocab.get(t).unwrap_or(super::ABSENT)));
        Ok(out)
    }

    pub(crate) fn known(&self, ids: &[u32]) -> bool {
        let n = self.vocab_len() as u32;
        ids.iter().all(|&i| i < n)
    }

    /// How often `ids` occurs; an empty phrase counts the corpus's tokens, a
    /// phrase with an unknown id counts 0.
    pub fn count(&self, ids: &[u32]) -> u64 {
        if ids.is_empty() {
            return self.tokens();
        }
        if !self.known(ids) {
            return 0;
        }
        self.shards()
            .map(|shard| with_view!(shard, v => v.range(ids).len() as u64))
            .sum()
    }

    /// The tokens that follow `ids` with their counts, most frequent first
    /// (ties by lower id), at most `k`. The empty phrase is followed by every
    /// token (the unigram counts).
    pub fn next_counts(&self, ids: &[u32], k: Option<usize>) -> Vec<(u32, u64)> {
        let mut out = if ids.is_empty() {
            let counts = self.unigram_counts();
            (0..counts.len() as u32)
                .zip(counts.iter().copied())
                .filter(|&(_, c)| c > 0)
                .collect()
        } else if !self.known(ids) {
            Vec::new()
        } else {
            merge_counts(
                self.shards()
                    .map(|shard| with_view!(shard, v => v.successors(v.range(ids), ids.len()))),
            )
        };
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(k.unwrap_or(usize::MAX));
        out
    }

    /// Up to `limit` occurrences of `ids`, sorted by position: the first
    /// `limit` in suffix order (by what follows them) of the first shard,
    /// then of the next shards while fewer were found. Unsharded, or with
    /// `limit` at least the count, these are the phrase's occurrences.
    pub fn find(&self, ids: &[u32], limit: usize) -> Vec<Hit> {
        if ids.is_empty() || !self.known(ids) {
            return Vec::new();
        }
        let mut positions: Vec<u64> = Vec::new();
        for shard in self.shards() {
            let want = limit - positions.len();
            if want == 0 {
                break;
            }
            let at = shard.token_offset();
            with_view!(shard, v => {
                let r = v.range(ids);
                let rows = r.start..r.end.min(r.start.saturating_add(want));
                positions.extend(rows.map(|row| v.suffix(row) as u64 + at));
            });
        }
        positions.sort_unstable();
        positions
            .into_iter()
            .map(|position| {
                let (document, start, _) = self.document_of(position);
                Hit {
                    position,
                    document,
                    offset: position - start,
                }
            })
            .collect()
    }

    /// Keyword in context: up to `window` tokens before a hit of `len`
    /// tokens, the hit, and up to `window` after, within its document, as text.
    pub fn kwic(&self, hit: &Hit, len: usize, window: usize) -> Result<(String, String, String)> {
        let (_, start, end) = self.document_of(hit.position);
        let pos = hit.position;
        let left = pos.saturating_sub(window as u64).max(start);
        let stop = (pos + len as u64).min(end);
        let right = stop.saturating_add(window as u64).min(end);
        // A document lies in one shard.
        let shard = self.shard_at(pos);
        let at = shard.token_offset();
        let take = |a: u64, b: u64| {
            let (a, b) = (a.saturating_sub(at), b.saturating_sub(at));
            with_view!(shard, v => v.slice(a as usize, (b - a.min(b)) as usize))
        };
        let vocab = self.vocab()?;
        // The stream holds only the vocabulary's ids: another is corruption.
        let decode = |ids: Vec<u32>| {
            vocab
                .decode(&ids)
                .map_err(|e| Error::format(self.path(), format!("corrupt token stream: {e}")))
        };
        Ok((
            decode(take(left, pos))?,
            decode(take(pos, stop))?,
            decode(take(stop, right))?,
        ))
    }

    /// For every position of `ids`, the longest span starting there that
    /// occurs in the corpus (0 at an unknown word).
    pub fn longest_matches(&self, ids: &[u32]) -> Vec<u32> {
        // A span occurs in the corpus when it occurs in some shard.
        let n = self.vocab_len() as u32;
        let mut longest = vec![0u32; ids.len()];
        for shard in self.shards() {
            let found = with_view!(shard, v => v.longest_matches(ids, n));
            longest
                .iter_mut()
                .zip(found)
                .for_each(|(l, f)| *l = (*l).max(f));
        }
        longest
    }

    /// Whether `<s>` is left out of predictions (the index is padded).
    pub(crate) fn skip_bos(&self) -> bool {
        self.padded()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_narrow_on_a_tiny_stream() {
        // stream: 3 4 3 4 5 SEP
        let tokens: Vec<u32> = vec![3, 4, 3, 4, 5, SEP];
        let (sa, w) = super::super::suffix_array::build(&tokens, 6, true, 1).unwrap();
        let v = View::new(&tokens[..], &sa, w, &[]);
        assert_eq!(v.range(&[3, 4]).len(), 2);
        assert_eq!(v.range(&[4]).len(), 2);
        assert_eq!(v.range(&[4, 5]).len(), 1);
        assert_eq!(v.range(&[5, 3]).len(), 0);
        assert_eq!(v.range(&[]).len(), 6);
        let r = v.range(&[4]);
        assert_eq!(v.successors(r.clone(), 1), [(3, 1), (5, 1)]);
        assert_eq!(v.narrow(r, 1, 5).len(), 1);
        assert_eq!(v.longest_matches(&[3, 4, 5, 9, 4], 6), [3, 2, 1, 0, 1]);
    }
}

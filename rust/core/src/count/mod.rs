//! Counting n-grams of every order 1..=N over a corpus, in parallel.
//!
//! Pipeline: the corpus reader cuts inputs into chunks of lines; each worker
//! tokenizes its chunk's sentences, maps tokens to ids through a cached
//! [`intern::Interner`] and pads each sentence with `<s>` and `</s>`. A
//! chunk's new words get their final ids (first-appearance order) when the
//! chunk commits, in corpus order, and whichever worker commits a chunk
//! counts it: orders 2 to 6 as packed integer keys
//! that it sorts into sorted runs ([`sorted`]), and higher orders into
//! private per-shard batches that are inserted into the shared [`table`]s
//! once per chunk. Only the top order takes every window of a sentence; a
//! lower order takes its last window alone, and the rest of its counts come
//! from the order above at the end ([`lower_order`]); unigrams likewise
//! come from the bigrams, plus each sentence's last token, which a worker
//! counts in a dense private array ([`unigrams_from_bigrams`]; all tokens
//! there when the top order is 1). At the end each order's
//! runs merge as they are (their ids are final), so the result never depends
//! on the number of threads.
//!
//! A tokenizer with its own fixed ids ([`Tokenizer::fixed_vocab`]) skips
//! interning: its ids go straight into the counts, and the table's vocabulary
//! is the tokenizer's.

pub mod counts;
pub mod file;
pub mod intern;
pub mod runs;
pub mod sorted;
pub mod spill;
mod spill_sorted;
pub mod table;

pub use counts::{NGramCounts, OrderCounts};
pub use table::MAX_ORDER;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rayon::prelude::*;

use crate::control::Control;
use crate::corpus::{self, Corpus, CorpusStats};
use crate::tokenize::{Tokenizer, Vocab, BOS_ID, EOS_ID};
use crate::{Error, Result};
use intern::{Interner, LocalInterner, Tokenized};
use sorted::{PackedBatch, PackedOrder};
use table::{table_for, OrderBatch, OrderTable};

/// Options of [`count_ngrams`].
#[derive(Debug, Clone)]
pub struct CountOptions {
    /// Highest order, 1..=[`MAX_ORDER`].
    pub order: usize,
    /// The tokenizer.
    pub tokenizer: Tokenizer,
    /// Pad each sentence with `<s>` and `</s>` (default true).
    pub pad: bool,
    /// Worker threads (0 = one per core).
    pub threads: usize,
}

impl Default for CountOptions {
    fn default() -> Self {
        Self {
            order: 3,
            tokenizer: Tokenizer::Whitespace,
            pad: true,
            threads: 0,
        }
    }
}

struct Worker {
    local: LocalInterner,
    counter: Counter,
    /// Chunks back from the interner, to count.
    ready: Vec<Tokenized>,
    /// Buffers of counted chunks, for the next ones.
    spare: Vec<Tokenized>,
    stats: CorpusStats,
    tokens: u64,
}

/// What a worker counts into.
struct Counter {
    /// Counts by id: of every token when the top order is 1, else of each
    /// sentence's last token only (the rest of the unigram counts come from
    /// the bigrams at the end, [`unigrams_from_bigrams`]).
    unigrams: Vec<u64>,
    /// The highest id counted.
    max_id: u32,
    batches: Vec<Box<dyn OrderBatch>>,
    sorted: Vec<Box<dyn PackedBatch>>,
}

impl Counter {
    /// Count the sentences of `chunk` (every id final): unigrams, the top
    /// order's every window and the lower orders' last one.
    fn count(&mut self, chunk: &Tokenized, top: usize, packed: &[usize], tables: &[usize]) {
        let mut start = 0;
        let unigrams = &mut self.unigrams;
        let chunk_max = chunk.ids.iter().copied().max().unwrap_or(0);
        self.max_id = self.max_id.max(chunk_max);
        if chunk_max as usize >= unigrams.len() {
            unigrams.resize((chunk_max as usize + 1).max(unigrams.len() * 2), 0);
        }
        // A sentence's own largest id decides whether it packs only when
        // the chunk's does not (a vocabulary past 2^21 words or so).
        let packs_all = self.sorted.iter().all(|b| u64::from(chunk_max) < b.limit());
        for &end in &chunk.ends {
            let sentence = &chunk.ids[start..end as usize];
            start = end as usize;
            let max_id = if packs_all {
                chunk_max
            } else {
                sentence.iter().copied().max().unwrap_or(0)
            };
            if top == 1 {
                for &id in sentence {
                    unigrams[id as usize] += 1;
                }
            } else if let Some(&last) = sentence.last() {
                // Every other token is the first of a bigram.
                unigrams[last as usize] += 1;
            }
            // The top order takes every window; a lower order n only the
            // sentence's last, the one window no (n+1)-gram starts with:
            // the rest of its counts are the top order's, summed over
            // the last word ([`lower_order`]).
            let len = sentence.len();
            for (batch, &n) in self.sorted.iter_mut().zip(packed) {
                if n == top {
                    batch.add_windows(sentence, max_id);
                } else if len >= n {
                    batch.add_windows(&sentence[len - n..], max_id);
                }
            }
            for (batch, &n) in self.batches.iter_mut().zip(tables) {
                if n == top {
                    batch.add_windows(sentence);
                } else if len >= n {
                    batch.add_windows(&sentence[len - n..]);
                }
            }
        }
    }
}

impl Worker {
    /// Count the chunks back from the interner, each one's windows sorted
    /// into a run once a batch is full (a buffer of keys has room for one
    /// chunk past its batch).
    fn count_ready(&mut self, top: usize, packed: &[usize], tables: &[usize]) {
        for chunk in std::mem::take(&mut self.ready) {
            self.counter.count(&chunk, top, packed, tables);
            for batch in self.counter.sorted.iter_mut() {
                batch.flush();
            }
            for batch in self.counter.batches.iter_mut() {
                batch.flush();
            }
            self.spare.push(chunk);
        }
    }
}

/// Count every n-gram of orders 1..=`options.order` in `corpus`.
///
/// ```
/// use nextword_core::control::Control;
/// use nextword_core::corpus::Corpus;
/// use nextword_core::count::{count_ngrams, CountOptions};
/// let corpus = Corpus::from_texts(vec!["a b a b".into()]);
/// let counts = count_ngrams(&corpus, &CountOptions::default(), &Control::new()).unwrap();
/// assert_eq!(counts.count(&["a", "b"]), 2);
/// assert_eq!(counts.count(&["<s>", "a", "b"]), 1);
/// ```
pub fn count_ngrams(
    corpus: &Corpus,
    options: &CountOptions,
    control: &Control,
) -> Result<NGramCounts> {
    if options.order == 0 || options.order > MAX_ORDER {
        return Err(Error::InvalidArgument(format!(
            "order must be in 1..={MAX_ORDER}, not {}",
            options.order
        )));
    }
    let t_start = std::time::Instant::now();
    // Counting writes its memory once, mostly in order: small pages fault in
    // faster on a VM (see `SmallPages`).
    let _small_pages = crate::alloc::SmallPages::begin();
    let interner = Interner::new();
    let workers = match options.threads {
        0 => corpus::parallel::default_threads(),
        t => t,
    };
    // Orders 2 to 6 count by sorting packed keys, higher ones in hash tables.
    let top = options.order;
    let (packed_orders, table_orders): (Vec<usize>, Vec<usize>) =
        (2..=top).partition(|&n| sorted::packs(n));
    let packed: Vec<Arc<dyn PackedOrder>> = packed_orders
        .iter()
        .map(|&n| sorted::order_for(n, workers, n == top))
        .collect();
    let tables: Vec<Arc<dyn OrderTable>> = table_orders.iter().map(|&n| table_for(n)).collect();
    let tokenizer = &options.tokenizer;
    // Decided once per corpus: a fixed-id tokenizer bypasses the interner.
    let fixed_ids = tokenizer.fixed_vocab().is_some();

    let numbered = std::sync::atomic::AtomicUsize::new(0);
    let mut workers = corpus::process(
        corpus,
        control,
        options.threads,
        || Worker {
            local: LocalInterner::for_worker(numbered.fetch_add(1, Ordering::Relaxed)),
            counter: Counter {
                unigrams: Vec::new(),
                max_id: 0,
                batches: tables.iter().map(|t| t.clone().batch()).collect(),
                sorted: packed.iter().map(|o| o.clone().batch()).collect(),
            },
            ready: Vec::new(),
            spare: Vec::new(),
            stats: CorpusStats::default(),
            tokens: 0,
        },
        |w, chunk| {
            control.check()?;
            let mut k = 0u32;
            let before = w.tokens;
            let mut held = w.spare.pop().unwrap_or_default();
            held.ordinal = chunk.ordinal;
            held.ids.clear();
            held.ends.clear();
            let Tokenized { ids, ends, .. } = &mut held;
            let local = &mut w.local;
            let mut unended_blank = 0;
            let read =
                chunk.for_each_sentence_ended(&corpus.options, &mut w.stats, |text, ended| {
                    let begin = ids.len();
                    if options.pad {
                        ids.push(BOS_ID);
                    }
                    let start = ids.len();
                    if fixed_ids {
                        tokenizer.encode_ids(text, ids);
                    } else {
                        tokenizer.for_each_token(text, |t| local.push_id(t, ids));
                    }
                    k += (ids.len() - start) as u32;
                    // A file's last line without a newline: its words without
                    // `</s>`, and nothing at all when it has none (lmplz's rule).
                    if !ended && ids.len() == start {
                        unended_blank += 1;
                        ids.truncate(begin);
                        return;
                    }
                    if options.pad && ended {
                        ids.push(EOS_ID);
                    }
                    ends.push(ids.len() as u32);
                });
            // Lookups still waiting write into this chunk's ids (see
            // `LocalInterner::push_id`): resolved before it is handed on,
            // or dropped on an error.
            w.local.flush(&mut held.ids);
            read?;
            w.stats.sentences -= unended_blank;
            w.tokens += k as u64;
            interner.submit(&mut w.local, held, &mut w.ready);
            w.count_ready(top, &packed_orders, &table_orders);
            control.add_tokens(w.tokens - before);
            Ok(())
        },
    )?;
    if interner.waiting() > 0 {
        // A chunk before them never came (only a stopped count skips one).
        control.check()?;
        return Err(Error::InvalidArgument(
            "internal: a chunk of the corpus was never counted".into(),
        ));
    }

    let t_count = std::time::Instant::now();
    let mut stats = CorpusStats::default();
    let mut tokens = 0;
    let mut unigram_counts: Vec<u64> = Vec::new();
    let mut max_id = 0;
    // The workers' last buffers sort in parallel.
    workers
        .par_iter_mut()
        .flat_map(|w| w.counter.sorted.par_iter_mut())
        .for_each(|b| b.finish());
    // NEXTWORD_TRACE=1 prints where the time of the final phase goes (profiling aid).
    let trace = std::env::var_os("NEXTWORD_TRACE").is_some();
    if trace {
        eprintln!("[trace] chunks counted in {:?}", t_count - t_start);
        eprintln!("[trace] last buffers sorted {:?}", t_count.elapsed());
    }
    for w in workers {
        stats.merge(&w.stats);
        tokens += w.tokens;
        max_id = max_id.max(w.counter.max_id);
        if unigram_counts.len() < w.counter.unigrams.len() {
            unigram_counts.resize(w.counter.unigrams.len(), 0);
        }
        for (total, c) in unigram_counts.iter_mut().zip(&w.counter.unigrams) {
            *total += c;
        }
        // w.batches drop here, releasing their handles on the tables.
    }
    if stats.sentences == 0 {
        return Err(Error::EmptyCorpus(
            "the corpus holds no sentence (every line was blank or skipped)".into(),
        ));
    }

    // The vocabulary's words now, its counts once the unigrams are known.
    let mut vocab = match Vocab::of_fixed(tokenizer, &[])? {
        Some(vocab) => vocab,
        None => interner.into_vocab(tokenizer.clone()),
    };
    // Ids are final as counted (see [`intern`]): the orders map them through
    // the identity.
    let remap: Vec<u32> = (0..vocab.len() as u32).collect();
    // The vocabulary's words were allocated by the workers, in their malloc
    // arenas, and stay alive there: the batches freed around them would stay
    // resident (not returned, not reused by the big arrays below, which come
    // from fresh mappings) and add a gigabyte to the peak on the Gutenberg set.
    runs::release_freed_memory();
    if max_id as usize >= vocab.len() {
        return Err(Error::InvalidArgument(format!(
            "tokenizer {:?} gave an id beyond its vocabulary of {}",
            tokenizer.kind(),
            vocab.len()
        )));
    }
    if trace {
        eprintln!("[trace] merge+vocab {:?}", t_count.elapsed());
    }
    // Each order's own windows, sorted when asked for: orders 2 to 6 from
    // their packed runs, higher ones from their tables.
    let remap = &remap;
    type Sort<'a> = Box<dyn FnOnce() -> Result<(Vec<u32>, Vec<u64>)> + 'a>;
    let mut own: Vec<Sort<'_>> = Vec::new();
    for o in packed {
        own.push(Box::new(move || o.into_sorted(remap, control)));
    }
    for t in tables {
        own.push(Box::new(move || t.into_sorted(remap, control)));
    }
    // The top order first, then each lower one from the one above it.
    let mut higher: Vec<OrderCounts> = Vec::new();
    for n in (2..=top).rev() {
        let t = std::time::Instant::now();
        control.check()?;
        let Some(sort) = own.pop() else { break };
        let (keys, counts) = sort()?;
        // The order's runs or table are gone: hand their memory back before
        // the next order's arrays are allocated.
        runs::release_freed_memory();
        if trace {
            eprintln!(
                "[trace] order {n}'s own windows sorted in {:?}",
                t.elapsed()
            );
        }
        let counted = match higher.last() {
            Some(upper) => lower_order(upper, &keys, &counts),
            None => OrderCounts { n, keys, counts },
        };
        higher.push(counted);
        if trace {
            eprintln!("[trace] order {n} sorted in {:?}", t.elapsed());
        }
    }
    let t = std::time::Instant::now();
    unigram_counts.resize(vocab.len(), 0);
    if let Some(bigrams) = higher.last() {
        unigrams_from_bigrams(bigrams, &mut unigram_counts);
    }
    let mut unigrams = OrderCounts {
        n: 1,
        ..Default::default()
    };
    for (id, &c) in unigram_counts.iter().enumerate() {
        if c > 0 {
            unigrams.keys.push(id as u32);
            unigrams.counts.push(c);
        }
    }
    vocab.set_counts(unigram_counts);
    if trace {
        eprintln!("[trace] order 1 in {:?}", t.elapsed());
    }
    let mut orders = vec![unigrams];
    orders.extend(higher.into_iter().rev());
    Ok(NGramCounts {
        vocab,
        orders,
        padded: options.pad,
        stats,
        tokens,
    })
}

/// Add to `counts` (by id; each sentence's last token counted already) the
/// unigram counts the bigrams hold: every other token is the first of the
/// bigram it starts. One pass in key order (`bigrams` is sorted by first id,
/// so the writes go forward); on the Gutenberg set this replaced a random
/// increment per token, a tenth of counting's CPU.
fn unigrams_from_bigrams(bigrams: &OrderCounts, counts: &mut [u64]) {
    debug_assert_eq!(bigrams.n, 2);
    for (key, &c) in bigrams.keys.chunks_exact(2).zip(&bigrams.counts) {
        counts[key[0] as usize] += c;
    }
}

/// The `n - 1`-grams of a corpus from its `n`-grams (`upper`) and the
/// `n - 1`-grams no `n`-gram extends (`tails`: each sentence's last, sorted,
/// flat keys and counts): an `n - 1`-gram's count is the sum of the counts of
/// the `n`-grams it starts, plus its count as a tail. Both inputs are sorted,
/// so the `n`-grams sharing a prefix are adjacent and the result comes out
/// sorted: one merge, in parallel over parts of `upper` cut between prefixes,
/// counted first so that the result is written in place.
fn lower_order(upper: &OrderCounts, tails: &[u32], tail_counts: &[u64]) -> OrderCounts {
    fn fixed<const M: usize>(s: &[u32]) -> [u32; M] {
        std::array::from_fn(|j| s[j])
    }
    // `upper` is order 3 or more. Prefixes compared as arrays where they are
    // short (no call to memcmp).
    let m = upper.n - 1;
    match m {
        2 => lower_order_with(upper, tails, tail_counts, fixed::<2>),
        3 => lower_order_with(upper, tails, tail_counts, fixed::<3>),
        4 => lower_order_with(upper, tails, tail_counts, fixed::<4>),
        5 => lower_order_with(upper, tails, tail_counts, fixed::<5>),
        _ => lower_order_with(upper, tails, tail_counts, |s| &s[..m]),
    }
}

/// [`lower_order`] with keys read as `K` by `read` (from a slice that
/// starts with the key).
fn lower_order_with<'a, K: Ord + Copy + AsRef<[u32]> + Send + Sync>(
    upper: &'a OrderCounts,
    tails: &'a [u32],
    tail_counts: &'a [u64],
    read: impl Fn(&'a [u32]) -> K + Sync,
) -> OrderCounts {
    let n = upper.n;
    let m = n - 1;
    let prefix = |i: usize| read(&upper.keys[i * n..]);
    let tail = |j: usize| read(&tails[j * m..]);
    // Cut points in `upper` at prefix boundaries, and where each cut falls in
    // the tails (a tail equal to a part's first prefix belongs to that part).
    let parts = rayon::current_num_threads() * 4;
    let mut cuts = vec![(0, 0)];
    for p in 1..parts {
        let mut i = (upper.len() * p / parts).max(cuts[cuts.len() - 1].0);
        while i > 0 && i < upper.len() && prefix(i) == prefix(i - 1) {
            i += 1;
        }
        if i >= upper.len() || i == cuts[cuts.len() - 1].0 {
            continue;
        }
        let j = crate::index::search::partition(tail_counts.len(), |j| tail(j) < prefix(i));
        cuts.push((i, j));
    }
    cuts.push((upper.len(), tail_counts.len()));
    // Merge part `r`, giving every (n-1)-gram and its count to `emit`.
    let walk = |r: usize, emit: &mut dyn FnMut(K, u64)| {
        let ((mut i, mut j), (i_end, j_end)) = (cuts[r], cuts[r + 1]);
        while i < i_end {
            let key = prefix(i);
            let mut c = 0;
            while i < i_end && prefix(i) == key {
                c += upper.counts[i];
                i += 1;
            }
            while j < j_end && tail(j) < key {
                emit(tail(j), tail_counts[j]);
                j += 1;
            }
            if j < j_end && tail(j) == key {
                c += tail_counts[j];
                j += 1;
            }
            emit(key, c);
        }
        while j < j_end {
            emit(tail(j), tail_counts[j]);
            j += 1;
        }
    };
    let sizes: Vec<usize> = (0..cuts.len() - 1)
        .into_par_iter()
        .map(|r| {
            let mut len = 0;
            walk(r, &mut |_, _| len += 1);
            len
        })
        .collect();
    let (keys, counts) = sorted::fill_rows(m, &sizes, |r, rows| {
        walk(r, &mut |key, c| rows.push(key.as_ref(), c));
    });
    OrderCounts { n: m, keys, counts }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unigram counts derived from the bigrams (any top order past 1) equal
    /// those counted token by token (top order 1), with and without
    /// padding, over sentences of one token, blank lines and a file's last
    /// line without a newline, on one thread and several; the vocabulary's
    /// counts are the unigram counts.
    #[test]
    fn unigrams_from_bigrams_match_the_direct_count() {
        let texts: Vec<String> = vec![
            "a b a\nc\n\nb b b c a\nd".into(),
            "e\n\na a\n".into(),
            "c d e f g h i j\nj\n".into(),
            "\n\n".into(),
        ];
        let corpus = Corpus::from_texts(texts);
        let control = Control::new();
        for pad in [true, false] {
            let count = |order: usize, threads: usize| {
                let options = CountOptions {
                    order,
                    pad,
                    threads,
                    ..CountOptions::default()
                };
                count_ngrams(&corpus, &options, &control).unwrap()
            };
            let direct = count(1, 1);
            let unigrams = |c: &NGramCounts| -> Vec<(String, u64)> {
                let o = &c.orders[0];
                o.keys
                    .iter()
                    .zip(&o.counts)
                    .map(|(&id, &n)| (c.vocab.word(id).unwrap().to_string(), n))
                    .collect()
            };
            let want = unigrams(&direct);
            // "a" 5 times, "j" twice; the specials once a sentence when padded.
            assert!(want.contains(&("a".to_string(), 5)), "{want:?}");
            assert!(want.contains(&("j".to_string(), 2)), "{want:?}");
            assert_eq!(
                want.iter()
                    .any(|(w, _)| w == crate::tokenize::BOS || w == crate::tokenize::EOS),
                pad,
                "{want:?}"
            );
            for order in [2, 3, 5, 7] {
                for threads in [1, 3] {
                    let c = count(order, threads);
                    assert_eq!(unigrams(&c), want, "order {order}, pad {pad}");
                    let by_vocab: Vec<u64> = c.orders[0]
                        .keys
                        .iter()
                        .map(|&id| c.vocab.counts()[id as usize])
                        .collect();
                    assert_eq!(by_vocab, c.orders[0].counts, "order {order}, pad {pad}");
                    assert_eq!(
                        c.vocab.counts().iter().sum::<u64>(),
                        c.orders[0].counts.iter().sum::<u64>()
                    );
                }
            }
        }
    }

    /// Order 2 from order 3 and the sentences' last bigrams, against a sum
    /// done by hand: tails before, between, equal to and after the prefixes,
    /// with enough prefixes that the parts cut between them.
    #[test]
    fn lower_orders_sum_the_upper_prefixes_and_the_tails() {
        let mut upper = OrderCounts {
            n: 3,
            ..Default::default()
        };
        let mut want: std::collections::BTreeMap<[u32; 2], u64> = Default::default();
        for a in 1..40u32 {
            for b in (0..a % 5).map(|b| b * 3) {
                for c in 0..(a + b) % 4 {
                    let count = u64::from(a * 7 + b + c) % 5 + 1;
                    upper.keys.extend([a, b, c]);
                    upper.counts.push(count);
                    *want.entry([a, b]).or_insert(0) += count;
                }
            }
        }
        let tails: Vec<[u32; 2]> = vec![[0, 0], [1, 0], [2, 1], [3, 3], [20, 4], [39, 9], [40, 0]];
        for (i, t) in tails.iter().enumerate() {
            *want.entry(*t).or_insert(0) += i as u64 + 1;
        }
        let flat: Vec<u32> = tails.iter().flatten().copied().collect();
        let counts: Vec<u64> = (1..=tails.len() as u64).collect();
        let got = lower_order(&upper, &flat, &counts);
        assert_eq!(got.n, 2);
        let pairs: Vec<([u32; 2], u64)> = (0..got.len())
            .map(|i| ([got.key(i)[0], got.key(i)[1]], got.counts[i]))
            .collect();
        assert_eq!(pairs, want.into_iter().collect::<Vec<_>>());
        // No upper n-grams at all (every sentence shorter than the top order).
        let empty = OrderCounts {
            n: 3,
            ..Default::default()
        };
        let only_tails = lower_order(&empty, &flat, &counts);
        assert_eq!((only_tails.keys, only_tails.counts), (flat, counts));
    }
}

//! Counting within a memory budget: sorted runs spill to disk.
//!
//! Two passes over the corpus. The first counts unigrams, which fixes the
//! vocabulary in first-appearance order (KenLM's ids) in memory proportional to
//! the number of types. The second counts orders 2..N with those final ids
//! ([`super::spill_sorted`]: packed keys sorted into runs, or hash tables for
//! windows too wide to pack); whenever what is held exceeds the budget, one
//! worker writes each order's n-grams as a run sorted in lmplz's suffix order
//! (ids reversed) while the others go on counting. Counts are sums, so however
//! the runs are cut, merging them with equal keys summed gives exactly the
//! in-memory counts. Only the top order takes every window; the lower orders
//! take each sentence's first and are completed from the top order's runs in
//! one pass at the end ([`derive_lower_orders`]).

use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::runs::{
    release_freed_memory, resident_bytes, unused_budget, Merge, Run, RunWriter, Spill, Stream,
};
use super::spill_sorted::{packing, spill_order_for, SpillBatch, SpillOrder};
use super::{count_ngrams, CountOptions, MAX_ORDER};
use crate::control::Control;
use crate::corpus::{self, Corpus, CorpusStats};
use crate::tokenize::{Vocab, BOS_ID, EOS_ID, UNK_ID};
use crate::{Error, Result};

/// Counts of orders 1..N, the higher orders as sorted runs on disk.
pub struct SpilledCounts {
    /// The vocabulary (first-appearance order) with unigram counts.
    pub vocab: Vocab,
    /// Raw count of every id (`<s>` and `</s>` included; 0 for `<unk>` when unseen).
    pub unigrams: Vec<u64>,
    /// `runs[k - 2]`: the runs of order k (ids reversed, sorted).
    pub runs: Vec<Vec<Run>>,
    /// What reading the corpus saw.
    pub stats: CorpusStats,
    /// Tokens read (before padding).
    pub tokens: u64,
}

impl SpilledCounts {
    /// The highest order.
    pub fn order(&self) -> usize {
        self.runs.len() + 1
    }

    /// The n-grams of order `k` (1-based), ids reversed, in suffix order, each
    /// once with its count. Unigrams are every id seen, and `<unk>`.
    pub fn stream(&self, k: usize) -> Result<Box<dyn Stream + Send>> {
        if k == 1 {
            let mut keys = Vec::new();
            let mut values = Vec::new();
            for (id, &c) in self.unigrams.iter().enumerate() {
                if c > 0 || id as u32 == UNK_ID {
                    keys.push(id as u32);
                    values.push(c);
                }
            }
            return Ok(Box::new(Listed {
                keys,
                values,
                at: 0,
            }));
        }
        Ok(Box::new(merged(&self.runs[k - 2], k)?))
    }
}

/// Unigrams as a stream.
struct Listed {
    keys: Vec<u32>,
    values: Vec<u64>,
    at: usize,
}

impl Stream for Listed {
    fn next_record(&mut self) -> Result<Option<(&[u32], u64)>> {
        let i = self.at;
        if i >= self.keys.len() {
            return Ok(None);
        }
        self.at += 1;
        Ok(Some((&self.keys[i..i + 1], self.values[i])))
    }
}

struct Worker {
    batches: Vec<Box<dyn SpillBatch>>,
}

/// Count orders 1..=`options.order` of `corpus` (padded) holding at most about
/// `memory` bytes of tables, spilling sorted runs to `spill`.
pub fn count_spilled(
    corpus: &Corpus,
    options: &CountOptions,
    memory: usize,
    spill: &Arc<Spill>,
    control: &Control,
) -> Result<SpilledCounts> {
    count_spilled_with(corpus, options, memory, spill, control, true)
}

/// [`count_spilled`], with the hash tables for every order when `packed` is
/// false (tests compare the two).
fn count_spilled_with(
    corpus: &Corpus,
    options: &CountOptions,
    memory: usize,
    spill: &Arc<Spill>,
    control: &Control,
    packed: bool,
) -> Result<SpilledCounts> {
    // Within a budget: the allocator's pool starts empty (see `alloc`).
    crate::alloc::begin_budget();
    if options.order < 2 || options.order > MAX_ORDER {
        return Err(Error::InvalidArgument(format!(
            "the memory-bounded pipeline needs an order in 2..={MAX_ORDER}, not {}",
            options.order
        )));
    }
    if !options.pad {
        return Err(Error::InvalidArgument(
            "the memory-bounded pipeline counts padded sentences (pad=True)".into(),
        ));
    }
    control
        .passes
        .store(2, std::sync::atomic::Ordering::Relaxed);
    // Pass 1: the vocabulary and the unigram counts.
    let unigram_options = CountOptions {
        order: 1,
        ..options.clone()
    };
    let first = count_ngrams(corpus, &unigram_options, control)?;
    let vocab = first.vocab;
    let mut unigrams = vec![0u64; vocab.len()];
    for (&id, &c) in first.orders[0].keys.iter().zip(&first.orders[0].counts) {
        unigrams[id as usize] = c;
    }
    drop(first.orders);
    release_freed_memory();

    // Pass 2: orders 2..N with final ids, spilling when the tables are full.
    // (The progress bar goes on from where pass 1 ended: two passes, one bar.)
    // The budget is for the whole process: what the vocabulary and the
    // interpreter already hold is not the counters'. The workers' unsorted
    // buffers take a quarter of what is left, the sorted runs (or hash
    // tables) a third; spilling writes them out beside the buffers while the
    // other workers go on counting, and a hash table's real size strays from
    // the estimate by up to half, so the resident size is watched too.
    let budget = unused_budget(memory);
    let workers = match options.threads {
        0 => corpus::parallel::default_threads(),
        t => t,
    };
    let key_bytes: usize = (2..=options.order)
        .filter_map(|n| packing(n, vocab.len()).filter(|_| packed))
        .map(|(_, bytes)| bytes)
        .sum();
    let batch = (budget / 4 / (workers * key_bytes).max(1)).clamp(1 << 12, 1 << 23);
    let orders: Vec<Arc<dyn SpillOrder>> = (2..=options.order)
        .map(|n| spill_order_for(n, vocab.len(), batch, packed, n == options.order))
        .collect();
    let runs: Vec<Mutex<Vec<Run>>> = orders.iter().map(|_| Mutex::new(Vec::new())).collect();
    let limit = budget / 3;
    let over_budget = || resident_bytes().is_some_and(|r| r > memory - memory / 4);
    let spilling = Mutex::new(());
    let spill_one = |order: &Arc<dyn SpillOrder>, runs: &Mutex<Vec<Run>>| -> Result<()> {
        control.check()?;
        if let Some(run) = order.spill(spill)? {
            runs.lock().unwrap_or_else(|p| p.into_inner()).push(run);
        }
        Ok(())
    };
    let spill_all = || -> Result<()> {
        for (order, runs) in orders.iter().zip(&runs) {
            spill_one(order, runs)?;
        }
        release_freed_memory();
        Ok(())
    };
    let top = options.order;
    let held = || -> usize { orders.iter().map(|o| o.held_bytes()).sum() };
    let tokenizer = &options.tokenizer;
    let fixed_ids = tokenizer.fixed_vocab().is_some();
    let mut workers = corpus::process(
        corpus,
        control,
        options.threads,
        || Worker {
            batches: orders.iter().map(|o| o.clone().batch()).collect(),
        },
        |w, chunk| {
            control.check()?;
            let mut sentence: Vec<u32> = Vec::with_capacity(256);
            let mut stats = CorpusStats::default();
            chunk.for_each_sentence_ended(&corpus.options, &mut stats, |text, ended| {
                sentence.clear();
                sentence.push(BOS_ID);
                if fixed_ids {
                    tokenizer.encode_ids(text, &mut sentence);
                } else {
                    tokenizer
                        .for_each_token(text, |t| sentence.push(vocab.get(t).unwrap_or(UNK_ID)));
                }
                // lmplz's rule for a file's last line without a newline (as
                // `count_ngrams`): no `</s>`, and nothing when it has no word.
                if !ended && sentence.len() == 1 {
                    return;
                }
                if ended {
                    sentence.push(EOS_ID);
                }
                // The top order takes every window; a lower order n only the
                // sentence's first, the one window that is no (n+1)-gram's
                // suffix: the rest of its counts come from the top order
                // ([`derive_lower_orders`]).
                let len = sentence.len();
                for (batch, n) in w.batches.iter_mut().zip(2..) {
                    if n == top {
                        batch.add_windows(&sentence);
                    } else if len >= n {
                        batch.add_windows(&sentence[..n]);
                    }
                }
            })?;
            for batch in w.batches.iter_mut() {
                batch.flush();
            }
            let bytes = held();
            if bytes > limit || (bytes > limit / 4 && over_budget()) {
                if let Ok(_turn) = spilling.try_lock() {
                    spill_all()?;
                }
            }
            Ok(())
        },
    )?;
    // The workers' last buffers sort in parallel, then every order spills
    // what it holds, in parallel.
    workers.par_iter_mut().for_each(|w| {
        for batch in w.batches.iter_mut() {
            batch.finish();
        }
    });
    drop(workers);
    orders
        .par_iter()
        .zip(&runs)
        .try_for_each(|(order, runs)| spill_one(order, runs))?;
    release_freed_memory();
    let mut runs: Vec<Vec<Run>> = runs
        .into_iter()
        .map(|r| r.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect();
    derive_lower_orders(&mut runs, spill, control)?;
    Ok(SpilledCounts {
        vocab,
        unigrams,
        runs,
        stats: first.stats,
        tokens: first.tokens,
    })
}

/// The streams of every run of an order (`k` ids reversed), merged.
fn merged(runs: &[Run], k: usize) -> Result<Merge> {
    let readers = runs
        .iter()
        .map(|r| r.reader().map(|r| Box::new(r) as Box<dyn Stream + Send>))
        .collect::<Result<Vec<_>>>()?;
    Merge::new(k, readers, true)
}

/// Complete the lower orders in one pass over the top order. `runs[k - 2]`
/// holds order k's n-grams, ids reversed and sorted (suffix order): the top
/// order's every one, a lower order's only the sentences' first windows (the
/// only k-grams that no (k+1)-gram ends with). Every other k-gram's count is
/// the sum of the counts of the (k+1)-grams ending with it; and so, down the
/// orders, a k-gram's count is the sum over the top order's n-grams and the
/// first windows of orders k..N-1 that end with it. Reversed, "ending with"
/// is "starting with": sorted streams of every length, merged (a key before
/// every longer key it starts), give each order's groups one after another,
/// so one pass sums them all and writes each lower order as one sorted run.
fn derive_lower_orders(runs: &mut [Vec<Run>], spill: &Arc<Spill>, control: &Control) -> Result<()> {
    let top = runs.len() + 1;
    if top <= 2 {
        return Ok(());
    }
    // Source i holds order i + 2; the top order is the last.
    let mut sources: Vec<Merge> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| merged(r, i + 2))
        .collect::<Result<_>>()?;
    let mut heads: Vec<Option<u64>> = vec![None; sources.len()];
    let mut keys = vec![[0u32; MAX_ORDER]; sources.len()];
    for (i, s) in sources.iter_mut().enumerate() {
        heads[i] = s.next_into(&mut keys[i])?;
    }
    // Per lower order k (index k - 2): the group being summed, and its run.
    let mut sums: Vec<Option<([u32; MAX_ORDER], u64)>> = vec![None; top - 2];
    let mut writers = (2..top)
        .map(|k| RunWriter::create(spill, "derived", k))
        .collect::<Result<Vec<_>>>()?;
    let mut records = 0u64;
    loop {
        // The smallest current key; of two where one starts the other, the shorter.
        let mut best: Option<usize> = None;
        for i in 0..sources.len() {
            if heads[i].is_none() {
                continue;
            }
            best = match best {
                Some(b) if keys[b][..b + 2] <= keys[i][..i + 2] => Some(b),
                _ => Some(i),
            };
        }
        let Some(i) = best else { break };
        let len = i + 2;
        let key = keys[i];
        let count = heads[i].unwrap_or(0);
        for k in 2..=len.min(top - 1) {
            let sum = &mut sums[k - 2];
            match sum {
                Some((at, c)) if at[..k] == key[..k] => *c += count,
                _ => {
                    if let Some((at, c)) = sum.replace((key, count)) {
                        writers[k - 2].push(&at[..k], c)?;
                    }
                }
            }
        }
        heads[i] = sources[i].next_into(&mut keys[i])?;
        records += 1;
        if records.is_multiple_of(1 << 20) {
            control.check()?;
        }
    }
    for (k, (sum, mut writer)) in (2..).zip(sums.into_iter().zip(writers)) {
        if let Some((at, c)) = sum {
            writer.push(&at[..k], c)?;
        }
        runs[k - 2] = vec![writer.finish()?];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::count::NGramCounts;

    /// Counting through many spilled runs gives exactly the in-memory counts.
    #[test]
    fn spilled_counts_equal_in_memory_counts() {
        // Its runs depend on the chunk, batch and packing settings.
        let _settings = crate::corpus::read::settings_lock();
        let texts: Vec<String> = (0..40_000)
            .map(|i| {
                let words: Vec<String> = (0..(i % 13 + 1))
                    .map(|j| format!("w{}", (i * 7 + j * j) % 31))
                    .collect();
                words.join(" ")
            })
            .chain(["".to_string(), "x".to_string()])
            .collect();
        let corpus = Corpus::from_texts(texts);
        let control = Control::new();
        let spill = Spill::new(None).unwrap();
        for (top, packed) in [(4, true), (4, false), (2, true), (3, true), (7, true)] {
            let options = CountOptions {
                order: top,
                threads: 2,
                ..Default::default()
            };
            let expected: NGramCounts = count_ngrams(&corpus, &options, &control).unwrap();
            // A tiny budget: a spill after nearly every chunk; packed keys and
            // the hash tables alike.
            let spilled =
                count_spilled_with(&corpus, &options, 1, &spill, &control, packed).unwrap();
            assert_eq!(spilled.vocab.words(), expected.vocab.words());
            // The top order spilled many runs; each lower one is the run
            // derived from it and from the sentences' first windows.
            assert!(spilled.runs[top - 2].len() > 1, "order {top}: one run");
            for k in 2..=top {
                assert!(k == top || spilled.runs[k - 2].len() == 1, "order {k}");
                let order = &expected.orders[k - 1];
                let mut want: Vec<(Vec<u32>, u64)> = (0..order.len())
                    .map(|i| {
                        let mut key = order.key(i).to_vec();
                        key.reverse();
                        (key, order.counts[i])
                    })
                    .collect();
                want.sort();
                let mut got = Vec::new();
                let mut stream = spilled.stream(k).unwrap();
                while let Some((key, c)) = stream.next_record().unwrap() {
                    got.push((key.to_vec(), c));
                }
                assert_eq!(got, want, "order {k} of {top}, packed {packed}");
            }
        }
    }
}

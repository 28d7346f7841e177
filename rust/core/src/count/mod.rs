//! Counting n-grams of every order 1..=N over a corpus, in parallel.
//!
//! Pipeline: the corpus reader cuts inputs into chunks of lines; each worker
//! tokenizes its chunk's sentences, maps tokens to temporary ids through a
//! cached [`intern::Interner`], pads each sentence with `<s>` and `</s>`, counts
//! unigrams in a dense private array, orders 2 to 6 as packed integer keys
//! that it sorts into sorted runs ([`sorted`]), and higher orders into
//! private per-shard batches that are inserted into the shared [`table`]s
//! once per chunk. At the end, temporary ids are remapped to first-appearance
//! order and each order is sorted, so the result never depends on the number
//! of threads.
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

use std::sync::Arc;

use rayon::prelude::*;

use crate::control::Control;
use crate::corpus::{self, Corpus, CorpusStats};
use crate::tokenize::{Tokenizer, Vocab, BOS_ID, EOS_ID};
use crate::{Error, Result};
use intern::{Interner, LocalInterner};
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
    unigrams: Vec<u64>,
    batches: Vec<Box<dyn OrderBatch>>,
    sorted: Vec<Box<dyn PackedBatch>>,
    sentence: Vec<u32>,
    stats: CorpusStats,
    tokens: u64,
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
    let interner = Interner::new();
    let workers = match options.threads {
        0 => corpus::parallel::default_threads(),
        t => t,
    };
    // Orders 2 to 6 count by sorting packed keys, higher ones in hash tables.
    let packed: Vec<Arc<dyn PackedOrder>> = (2..=options.order)
        .filter(|&n| sorted::packs(n))
        .map(|n| sorted::order_for(n, workers))
        .collect();
    let tables: Vec<Arc<dyn OrderTable>> = (2..=options.order)
        .filter(|&n| !sorted::packs(n))
        .map(table_for)
        .collect();
    let tokenizer = &options.tokenizer;
    // Decided once per corpus: a fixed-id tokenizer bypasses the interner.
    let fixed_ids = tokenizer.fixed_vocab().is_some();

    let mut workers = corpus::process(
        corpus,
        control,
        options.threads,
        || Worker {
            local: LocalInterner::default(),
            unigrams: Vec::new(),
            batches: tables.iter().map(|t| t.clone().batch()).collect(),
            sorted: packed.iter().map(|o| o.clone().batch()).collect(),
            sentence: Vec::with_capacity(256),
            stats: CorpusStats::default(),
            tokens: 0,
        },
        |w, chunk| {
            control.check()?;
            let mut k = 0u32;
            let before = w.tokens;
            let Worker {
                local,
                unigrams,
                batches,
                sorted,
                sentence,
                stats,
                tokens,
            } = w;
            let mut unended_blank = 0;
            chunk.for_each_sentence_ended(&corpus.options, stats, |text, ended| {
                sentence.clear();
                if options.pad {
                    sentence.push(BOS_ID);
                }
                let start = sentence.len();
                if fixed_ids {
                    tokenizer.encode_ids(text, sentence);
                    k += (sentence.len() - start) as u32;
                } else {
                    tokenizer.for_each_token(text, |t| {
                        sentence.push(interner.intern(local, t, (chunk.seq.0, chunk.seq.1, k)));
                        k += 1;
                    });
                }
                // A file's last line without a newline: its words without
                // `</s>`, and nothing at all when it has none (lmplz's rule).
                if !ended && sentence.len() == start {
                    unended_blank += 1;
                    return;
                }
                if options.pad && ended {
                    sentence.push(EOS_ID);
                }
                let mut max_id = 0;
                for &id in sentence.iter() {
                    max_id = max_id.max(id);
                    let id = id as usize;
                    if id >= unigrams.len() {
                        unigrams.resize((id + 1).max(unigrams.len() * 2), 0);
                    }
                    unigrams[id] += 1;
                }
                for batch in sorted.iter_mut() {
                    batch.add_windows(sentence, max_id);
                }
                for batch in batches.iter_mut() {
                    batch.add_windows(sentence);
                }
            })?;
            stats.sentences -= unended_blank;
            *tokens += k as u64;
            for batch in sorted.iter_mut() {
                batch.flush();
            }
            for batch in batches.iter_mut() {
                batch.flush();
            }
            control.add_tokens(*tokens - before);
            Ok(())
        },
    )?;

    let t_count = std::time::Instant::now();
    let mut stats = CorpusStats::default();
    let mut tokens = 0;
    let mut unigram_counts: Vec<u64> = Vec::new();
    // The workers' last buffers sort in parallel.
    workers
        .par_iter_mut()
        .flat_map(|w| w.sorted.par_iter_mut())
        .for_each(|b| b.finish());
    // NEXTWORD_TRACE=1 prints where the time of the final phase goes (profiling aid).
    let trace = std::env::var_os("NEXTWORD_TRACE").is_some();
    if trace {
        eprintln!("[trace] last buffers sorted {:?}", t_count.elapsed());
    }
    for w in workers {
        stats.merge(&w.stats);
        tokens += w.tokens;
        if unigram_counts.len() < w.unigrams.len() {
            unigram_counts.resize(w.unigrams.len(), 0);
        }
        for (total, c) in unigram_counts.iter_mut().zip(&w.unigrams) {
            *total += c;
        }
        // w.batches drop here, releasing their handles on the tables.
    }
    if stats.sentences == 0 {
        return Err(Error::EmptyCorpus(
            "the corpus holds no sentence (every line was blank or skipped)".into(),
        ));
    }

    let (vocab, remap) = match Vocab::of_fixed(tokenizer, &unigram_counts)? {
        Some(vocab) => {
            let identity = (0..vocab.len() as u32).collect();
            (vocab, identity)
        }
        None => interner.into_vocab(tokenizer.clone(), &unigram_counts),
    };
    // The vocabulary's words were allocated by the workers, in their malloc
    // arenas, and stay alive there: the batches freed around them would stay
    // resident (not returned, not reused by the big arrays below, which come
    // from fresh mappings) and add a gigabyte to the peak on the Gutenberg set.
    runs::release_freed_memory();
    if unigram_counts.iter().skip(vocab.len()).any(|&c| c > 0) {
        return Err(Error::InvalidArgument(format!(
            "tokenizer {:?} gave an id beyond its vocabulary of {}",
            tokenizer.kind(),
            vocab.len()
        )));
    }
    let mut unigrams = OrderCounts {
        n: 1,
        ..Default::default()
    };
    // Final ids are a permutation of temporary ones: invert to walk in final order.
    let mut by_final = vec![0u64; vocab.len()];
    for (&c, &id) in unigram_counts.iter().zip(&remap) {
        by_final[id as usize] += c;
    }
    for (id, &c) in by_final.iter().enumerate() {
        if c > 0 {
            unigrams.keys.push(id as u32);
            unigrams.counts.push(c);
        }
    }
    let mut orders = vec![unigrams];
    if trace {
        eprintln!("[trace] merge+vocab {:?}", t_count.elapsed());
    }
    // Orders 2.. in order: the packed ones (2 to 6) first, then the tables;
    // each is sorted when the loop asks for it.
    let mut sorted = packed
        .into_iter()
        .map(|o| o.into_sorted(&remap, control))
        .chain(tables.into_iter().map(|t| t.into_sorted(&remap, control)));
    for n in 2..=options.order {
        let t = std::time::Instant::now();
        control.check()?;
        let Some(result) = sorted.next() else { break };
        let (keys, counts) = result?;
        orders.push(OrderCounts { n, keys, counts });
        // The order's table or runs are gone: hand their memory back before
        // the next order's arrays are allocated.
        runs::release_freed_memory();
        if trace {
            eprintln!("[trace] order {n} sorted in {:?}", t.elapsed());
        }
    }
    Ok(NGramCounts {
        vocab,
        orders,
        padded: options.pad,
        stats,
        tokens,
    })
}

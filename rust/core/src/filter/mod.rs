//! Cleaning training text: perplexity filtering and deduplication.
//!
//! CCNet, RedPajama and datatrove score every document with a KenLM model and
//! keep the low-perplexity part; Lee et al. (2022) remove repeated text. Each
//! step is one file, reading the corpus through [`documents`] (what a
//! document is, the `errors=` policy) and streaming through [`ordered`]
//! (parallel work, output in input order, memory flat in the corpus size):
//!
//! - [`perplexity`]: score each document with an n-gram model, bucket it by
//!   perplexity (a threshold, or CCNet's percentile cutoffs), keep or drop;
//! - [`exact`]: drop documents or lines whose normal form ([`normalize`]) was
//!   seen before (the set of what was seen: [`seen`]);
//! - [`spans`]: drop runs of at least N tokens that occurred before, found with
//!   the corpus index ([`crate::index`]).

pub mod documents;
pub mod exact;
pub mod normalize;
pub mod ordered;
pub mod perplexity;
pub mod seen;
pub mod spans;

pub use documents::{ReadCounts, Unit};
pub use exact::{dedup_exact, DedupOptions, DedupSummary, DedupUnit};
pub use perplexity::{percentile_cutoffs, Bucketing, FilterOptions, FilterSummary};
pub use spans::{dedup_spans, SpanOptions, SpanSummary};

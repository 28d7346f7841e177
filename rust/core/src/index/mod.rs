//! A suffix-array index of a tokenized corpus: counts of phrases of any
//! length, their successors, where they occur, the ∞-gram model, and how much
//! of a text is found in the corpus.
//!
//! The pipeline, one stage per file, wired in [`build::build`]:
//! [`stream`] turns a corpus into one array of token ids, documents separated
//! by [`SEP`] (so that no match crosses a document boundary); [`suffix_array`]
//! sorts its suffixes in linear time (SA-IS, by libsais) and packs the
//! positions into as few bytes as the corpus length needs; [`file`] writes the
//! versioned, checksummed file and memory-maps it back as a [`CorpusIndex`].
//! Queries ([`search`], [`infini_gram`], [`novelty`]) read the mapped arrays
//! only: nothing proportional to the corpus is on the heap.

pub mod batch;
pub mod build;
pub mod file;
pub mod infini_gram;
pub mod novelty;
pub mod search;
pub mod stream;
pub mod suffix_array;

pub use build::{build, BuildOptions, Documents};
pub use file::CorpusIndex;
pub use infini_gram::Prediction;
pub use novelty::Novelty;

/// The document separator in the token stream, as a `u32` id: larger than
/// every token id, never part of a phrase. Stored as `u16::MAX` in 16-bit
/// indexes.
pub const SEP: u32 = u32::MAX;

/// The id a query gives a word that is not in the index's vocabulary: it
/// matches nothing (a literal `<unk>` in the corpus is id 0 and matches `<unk>`).
pub const ABSENT: u32 = u32::MAX - 1;

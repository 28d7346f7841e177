//! `nextword-core`: the algorithms of nextword, with no Python in sight.
//!
//! Data flows one way: [`corpus`] reads sources into chunks of lines,
//! [`tokenize`] turns lines into tokens and ids, [`count`] counts n-grams,
//! [`lm`] estimates n-gram models from the counts (Kneser-Ney as lmplz, MLE,
//! add-k, Witten-Bell, stupid backoff), reads and writes ARPA and binary model
//! files and answers queries, [`generate`] is the one generation loop of every
//! model over the one seeded sampler, [`sample`]; [`embed`] trains word2vec
//! embeddings; [`index`] is a suffix-array index of a corpus (counts of any
//! length, search, novelty, the ∞-gram model). The Python bindings
//! (`rust/python`) only convert types and map errors.

pub mod alloc;
pub mod binfmt;
pub mod control;
pub mod corpus;
pub mod count;
pub mod embed;
pub mod error;
pub mod filter;
pub mod generate;
pub mod index;
pub mod lm;
pub mod sample;
pub mod tokenize;

pub use error::{Error, Location, Result};
